from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db.models import F, Func, Value
from django.db.models.functions import Collate
from django.utils.translation import gettext_lazy as _

from geo_siac.geo import STORAGE_SRID
from geo_siac.zones.models import Commune


class EntryKind(models.TextChoices):
    STREET = "street", _("calle")
    INTERSECTION = "intersection", _("intersección")
    ADDRESS = "address", _("dirección")
    PLACE = "place", _("lugar")


class Normalised(Func):
    """geocoding_normalise(text), the SQL function (migration 0001) that both indexes and queries go through."""

    function = "geocoding_normalise"
    output_field = models.TextField()


class Words(Func):
    """string_to_array(text, ' '): a normalised text's words, for the exact-word GIN index and its queries."""

    function = "string_to_array"
    output_field = models.TextField()

    def __init__(self, expression, **extra):
        super().__init__(expression, Value(" "), **extra)


class GazetteerName(models.Model):
    """A distinct normalised name of a street or a place (at 1,000,000 entries about 60,000): searched by its words
    first, then the entries that carry it. Kept by services.gazetteer_load alone."""

    text = models.TextField(_("nombre normalizado"), unique=True)

    class Meta:
        verbose_name = _("nombre del nomenclátor")
        verbose_name_plural = _("nombres del nomenclátor")
        indexes = [
            GinIndex(Words(F("text")), name="gazetteer_name_words"),
            GinIndex(OpClass("text", name="gin_trgm_ops"), name="gazetteer_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.text


class GazetteerWord(models.Model):
    """A word of the names (a few hundred to tens of thousands): a query's misspelt word is read as the words within
    its edit budget, by a scan of them all (no index serves an edit distance). Kept by services.gazetteer_load alone."""

    word = models.TextField(_("palabra"), primary_key=True)

    class Meta:
        verbose_name = _("palabra del nomenclátor")
        verbose_name_plural = _("palabras del nomenclátor")

    def __str__(self) -> str:
        return self.word


class GazetteerEntry(models.Model):
    """A place a citizen or an operator can search for: a street, an intersection, a numbered address or a named
    place. `search_text` is the label as the normaliser reads it, kept by PostgreSQL itself."""

    kind = models.CharField(_("tipo"), max_length=12, choices=EntryKind.choices)
    label = models.CharField(_("nombre"), max_length=300)
    search_text = models.GeneratedField(
        expression=Normalised(F("label")), output_field=models.TextField(), db_persist=True
    )
    number = models.PositiveIntegerField(_("número"), null=True, blank=True)
    point = models.PointField(_("ubicación"), srid=STORAGE_SRID)
    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="+", verbose_name=_("comuna"))
    # The street of an address (its text without the number), the name of a street or a place, the first street of
    # an intersection; `cross_name` is an intersection's second street.
    name = models.ForeignKey(GazetteerName, on_delete=models.PROTECT, null=True, related_name="+", db_index=False)
    cross_name = models.ForeignKey(GazetteerName, on_delete=models.PROTECT, null=True, related_name="+")
    source = models.CharField(_("origen"), max_length=40)
    source_id = models.CharField(_("identificador en el origen"), max_length=200)

    class Meta:
        verbose_name = _("entrada del nomenclátor")
        verbose_name_plural = _("nomenclátor")
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], name="gazetteer_unique_source_id")]
        indexes = [
            GinIndex(OpClass("search_text", name="gin_trgm_ops"), name="gazetteer_search_trgm"),
            models.Index(Collate(F("search_text"), "C"), name="gazetteer_search_prefix"),
            models.Index(fields=["name", "cross_name"], name="gazetteer_entry_names"),
        ]

    def __str__(self) -> str:
        return self.label
