from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "geo_siac.alerts"
    verbose_name = _("Avisos y escalamiento")
