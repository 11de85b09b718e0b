from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "geo_siac.catalogue"
    verbose_name = _("Catálogo de servicios")
