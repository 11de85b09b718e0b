from django.db import models
from django.utils.translation import gettext_lazy as _


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
