from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZonesConfig(AppConfig):
    name = "geo_siac.zones"
    verbose_name = _("Territorio")

    def ready(self):
        from django.core import checks

        from geo_siac.zones.checks import commune_terms_outside_the_rule

        checks.register(commune_terms_outside_the_rule, checks.Tags.database)
