from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MapsConfig(AppConfig):
    name = "geo_siac.maps"
    verbose_name = _("Mapas")
