from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "geo_siac.alerts"
    verbose_name = _("Avisos y escalamiento")

    def ready(self):
        from django.core import checks

        from geo_siac.alerts.checks import escalation_rules_order

        checks.register(escalation_rules_order, checks.Tags.database)
