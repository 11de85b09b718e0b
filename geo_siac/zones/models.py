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
