from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.zones.models import Commune
from geo_siac.zones.tenancy import TenantQuerySet


class IndicatorSnapshot(models.Model):
    """The indicators of one published period (a relative one of selectors.PUBLISHED, or a named year "2024" or
    month "2024-03"), computed by `manage.py refresh_indicators`, so the public pages and exports read one row
    instead of aggregating every report on request."""

    period = models.CharField(_("periodo"), max_length=32, unique=True)
    start = models.DateField(_("desde"))
    end = models.DateField(_("hasta (sin incluir)"))
    as_of = models.DateTimeField(_("calculados al"))
    results = models.JSONField(_("indicadores"))  # selectors.encode_results

    class Meta:
        verbose_name = _("indicadores publicados")
        verbose_name_plural = _("indicadores publicados")

    def __str__(self) -> str:
        return f"{self.period} {self.as_of:%Y-%m-%d %H:%M}"


class CommitmentCharterQuerySet(TenantQuerySet):
    pass


class CommitmentCharter(models.Model):
    """A comuna's Carta de Compromisos as its municipality publishes it: what it promises its residents, since when,
    and who signs. The table of response times under it is computed from the categories (transparency.views)."""

    commune = models.OneToOneField(
        Commune, verbose_name=_("comuna"), on_delete=models.CASCADE, related_name="commitment_charter"
    )
    commitments = models.TextField(
        _("compromisos"), help_text=_("Un compromiso por línea; la página los muestra como lista.")
    )
    published_on = models.DateField(_("publicada el"))
    signed_by = models.CharField(
        _("firmada por"), max_length=200, help_text=_("Nombre y cargo, por ejemplo: Ana Pérez Soto, Alcaldesa.")
    )
    updated_at = models.DateTimeField(_("actualizada"), auto_now=True)

    objects = CommitmentCharterQuerySet.as_manager()

    class Meta:
        verbose_name = _("Carta de Compromisos")
        verbose_name_plural = _("Cartas de Compromisos")
        ordering = ["commune__name"]

    def __str__(self) -> str:
        return f"{self.commune.name} {self.published_on:%Y-%m-%d}"

    def commitment_lines(self) -> list[str]:
        return [line.strip() for line in self.commitments.splitlines() if line.strip()]
