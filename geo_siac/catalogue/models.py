"""The service catalogue: the categories citizens report under, their groups, and the municipal departments
that answer them. The ground floor under zones and reports (docs/architecture.md, "Layers"); the tables keep the
names they had when categories lived in reports and departments in zones."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.attributes import DATATYPES, validate_attribute_definitions
from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.terms import MAX_RESPONSE_DAYS, MIN_RESPONSE_DAYS, days_in_range, terms_errors


def localized(obj, field: str) -> str:
    """The Spanish or English variant of a bilingual field, following the active language."""
    return localized_value(getattr(obj, f"{field}_es"), getattr(obj, f"{field}_en"))


def localized_value(spanish: str, english: str, in_english: bool | None = None) -> str:
    """English when it is the active language (`in_english`, when the caller has already asked) and there is an
    English text; Spanish otherwise."""
    if in_english is None:
        in_english = english_active()
    return english if in_english and english else spanish


def english_active() -> bool:
    """Whether the active language is English. A thread-local lookup: a list asks once, not once per row."""
    return (translation.get_language() or "es").split("-")[0] == "en"


class Department(models.Model):
    """The municipal unit that must answer a report, e.g. "Dirección de Medio Ambiente, Aseo y Ornato"."""

    name = models.CharField(_("nombre"), max_length=200, unique=True)

    class Meta:
        db_table = "zones_department"
        verbose_name = _("dirección municipal")
        verbose_name_plural = _("direcciones municipales")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


SLUG_HELP = _("Solo minúsculas, números y guiones, sin tildes ni espacios (p. ej. arbol-caido).")
SLUG_INVALID = _("Use solo minúsculas, números y guiones, sin tildes ni espacios (p. ej. arbol-caido).")
# Narrower than Django's slug (which takes capitals and underscores): a code is typed into addresses and Open311.
LOWERCASE_SLUG = RegexValidator(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z", SLUG_INVALID, code="invalid")


class CategoryGroup(models.Model):
    code = models.SlugField(_("código"), max_length=50, unique=True, help_text=SLUG_HELP, validators=[LOWERCASE_SLUG])
    name_es = models.CharField(_("nombre (español)"), max_length=100)
    name_en = models.CharField(_("nombre (inglés)"), max_length=100, blank=True)
    order = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        db_table = "reports_categorygroup"
        verbose_name = _("grupo de categorías")
        verbose_name_plural = _("grupos de categorías")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")


class CategoryQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_active=True, is_public=True)


class Category(models.Model):
    """A kind of problem citizens report (an Open311 service), or the topic of a request of another kind (a
    reclamo, a consulta...): `kind` says which, and routing sends it to the topic's department."""

    service_code = models.SlugField(
        _("código de servicio"),
        max_length=50,
        unique=True,
        validators=[LOWERCASE_SLUG],
        help_text=_(
            "Identifica la categoría en la dirección web y en Open311. Solo minúsculas, números y guiones, sin tildes "
            "ni espacios (p. ej. arbol-caido)."
        ),
    )
    kind = models.CharField(
        _("tipo de solicitud"),
        max_length=24,
        choices=RequestKind.choices,
        default=RequestKind.SERVICE_REQUEST,
        db_default=RequestKind.SERVICE_REQUEST,
    )
    group = models.ForeignKey(
        CategoryGroup, verbose_name=_("grupo"), on_delete=models.PROTECT, related_name="categories"
    )
    name_es = models.CharField(_("nombre (español)"), max_length=120)
    name_en = models.CharField(_("nombre (inglés)"), max_length=120, blank=True)
    description_es = models.TextField(_("descripción (español)"), blank=True)
    description_en = models.TextField(_("descripción (inglés)"), blank=True)
    keywords = models.CharField(_("palabras clave"), max_length=300, blank=True, help_text=_("Separadas por coma."))
    response_days = models.PositiveSmallIntegerField(
        _("plazo de respuesta (días hábiles)"),
        default=10,
        help_text=format_lazy(
            _("De {min} a {max} días hábiles; los reclamos, las consultas y la Ley 20.285 tienen su plazo legal."),
            min=MIN_RESPONSE_DAYS,
            max=MAX_RESPONSE_DAYS,
        ),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="categories",
        verbose_name=_("unidad responsable"),
    )
    is_public = models.BooleanField(_("visible para la ciudadanía"), default=True)
    is_active = models.BooleanField(_("activa"), default=True)
    duplicate_radius_m = models.PositiveIntegerField(_("radio de posibles duplicados (m)"), default=50)
    attributes = models.JSONField(
        _("preguntas adicionales"),
        default=list,
        blank=True,
        help_text=format_lazy(
            _(
                'Una lista JSON de preguntas (atributos Open311), o [] sin preguntas. Por ejemplo: [{{"code": "riesgo", '
                '"datatype": "singlevaluelist", "required": true, "order": 1, "description": "¿Hay riesgo inmediato?", '
                '"values": [{{"key": "si", "name": "Sí"}}, {{"key": "no", "name": "No"}}]}}]. Tipos: {types}.'
            ),
            types=", ".join(sorted(DATATYPES)),
        ),
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        db_table = "reports_category"
        verbose_name = _("categoría")
        verbose_name_plural = _("categorías")
        ordering = ["group__order", "name_es"]
        constraints = [models.CheckConstraint(condition=days_in_range(), name="category_response_days_in_range")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localized(self, "name")

    @property
    def description(self) -> str:
        return localized(self, "description")

    @property
    def department_name(self) -> str:
        """The department's name as the citizen and Open311 read it; empty when the category names none."""
        return self.department.name if self.department else ""

    def terms_errors(self) -> dict[str, str]:
        """What catalogue.terms refuses in this category (its clean, and the check catalogue.W001)."""
        return terms_errors(
            kind=self.kind,
            response_days=self.response_days,
            has_department=self.department_id is not None,
            offered=self.is_public and self.is_active,
            offered_by=str(self._meta.get_field("is_public").verbose_name),
        )

    def clean(self):
        errors = self.terms_errors()
        try:
            validate_attribute_definitions(self.attributes)
        except ValidationError as invalid:
            errors |= invalid.message_dict
        if errors:
            raise ValidationError(errors)


class Institution(models.Model):
    """Another public body a request may be referred to ("derivar"): its name, web site and how a resident reaches
    it, told to the citizen with the referral. Kept in the admin; a body no longer used is made inactive, not
    deleted, since referred requests keep pointing at it."""

    name = models.CharField(_("nombre"), max_length=200, unique=True)
    website = models.URLField(_("sitio web"), blank=True)
    contact = models.TextField(
        _("cómo contactar"), blank=True, help_text=_("Teléfono, oficinas o trámite en línea, en una o dos frases.")
    )
    is_active = models.BooleanField(_("se ofrece para derivar"), default=True)

    class Meta:
        verbose_name = _("organismo para derivar")
        verbose_name_plural = _("organismos para derivar")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
