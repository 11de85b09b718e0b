from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "geo_siac.reports"
    verbose_name = _("Solicitudes ciudadanas")

    def ready(self):
        from django.core import checks

        from geo_siac.reports.checks import suspended_schema

        checks.register(suspended_schema, checks.Tags.database)
