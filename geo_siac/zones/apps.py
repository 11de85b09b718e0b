from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ZonesConfig(AppConfig):
    name = "geo_siac.zones"
    verbose_name = _("Territorio")
