from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "geo_siac.catalogue"
    verbose_name = _("Catálogo de servicios")

    def ready(self):
        from django.core import checks

        from geo_siac.catalogue.checks import terms_outside_the_rule

        checks.register(terms_outside_the_rule, checks.Tags.database)
