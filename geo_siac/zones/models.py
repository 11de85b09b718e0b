from django.conf import settings
from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.geo import STORAGE_SRID


class CommuneQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Commune(models.Model):
    """A comuna (municipality), identified by its CUT code. `is_active` marks the ones this installation serves."""

    cut = models.CharField(_("código CUT"), max_length=5, unique=True)
    name = models.CharField(_("nombre"), max_length=100)
    region = models.CharField(_("región"), max_length=100, blank=True)
    region_code = models.CharField(_("código de región"), max_length=2, blank=True)
    province = models.CharField(_("provincia"), max_length=100, blank=True)
    province_code = models.CharField(_("código de provincia"), max_length=3, blank=True)
    geometry = models.MultiPolygonField(_("límite"), srid=STORAGE_SRID)
    jurisdiction_id = models.SlugField(_("jurisdiction_id Open311"), max_length=100, unique=True)
    tracking_prefix = models.CharField(
        _("prefijo de códigos de seguimiento"), max_length=3, help_text=_("Por ejemplo PA para Puente Alto.")
    )
    is_active = models.BooleanField(_("atendida por esta instalación"), default=False)
    source = models.CharField(_("fuente del límite"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        verbose_name = _("comuna")
        verbose_name_plural = _("comunas")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.cut})"


class Department(models.Model):
    """The municipal unit that must answer a report, e.g. "Dirección de Medio Ambiente, Aseo y Ornato"."""

    name = models.CharField(_("nombre"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("dirección municipal")
        verbose_name_plural = _("direcciones municipales")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Crew(models.Model):
    """A department's field team."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="crews")
    name = models.CharField(_("nombre"), max_length=120, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="crews", verbose_name=_("integrantes")
    )
    daily_capacity = models.PositiveSmallIntegerField(_("capacidad diaria (solicitudes)"), default=10)

    class Meta:
        verbose_name = _("cuadrilla")
        verbose_name_plural = _("cuadrillas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ZoneQuerySet(models.QuerySet):
    def current(self):
        return self.filter(retired_at__isnull=True)


class Zone(models.Model):
    """One version of a named crew zone inside a comuna. Redrawing retires this row and adds the next version,
    so a report keeps pointing at the polygon it was routed by."""

    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="zones")
    key = models.SlugField(_("clave"), max_length=80, help_text=_("Igual en todas las versiones de la zona."))
    name = models.CharField(_("nombre"), max_length=120)
    version = models.PositiveIntegerField(_("versión"), default=1)
    geometry = models.MultiPolygonField(_("polígono"), srid=STORAGE_SRID)
    created_at = models.DateTimeField(_("vigente desde"))
    retired_at = models.DateTimeField(_("reemplazada"), null=True, blank=True)
    source = models.CharField(_("origen"), max_length=200, blank=True)

    objects = ZoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("zona")
        verbose_name_plural = _("zonas")
        ordering = ["commune", "key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["commune", "key", "version"], name="zone_unique_version"),
            models.UniqueConstraint(
                fields=["commune", "key"], condition=models.Q(retired_at__isnull=True), name="zone_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ZoneResponsibility(models.Model):
    """Which crew answers a zone's reports: for one category, for a category group, or (neither) for the rest.
    The most specific row wins."""

    zone = models.ForeignKey(Zone, on_delete=models.CASCADE, related_name="responsibilities")
    crew = models.ForeignKey(Crew, on_delete=models.PROTECT, related_name="responsibilities")
    category = models.ForeignKey("reports.Category", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    category_group = models.ForeignKey(
        "reports.CategoryGroup", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("responsabilidad de zona")
        verbose_name_plural = _("responsabilidades de zona")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__isnull=True) | models.Q(category_group__isnull=True),
                name="responsibility_category_or_group",
            ),
            models.UniqueConstraint(
                fields=["zone", "category", "category_group"], nulls_distinct=False, name="responsibility_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone} → {self.crew}"


class ClosedDay(models.Model):
    """A day this installation does not work (a local holiday, a municipal closure): deadlines skip it."""

    day = models.DateField(_("día"), unique=True)
    reason = models.CharField(_("motivo"), max_length=200)

    class Meta:
        verbose_name = _("día inhábil adicional")
        verbose_name_plural = _("días inhábiles adicionales")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.reason}"
