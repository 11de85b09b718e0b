from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GeocodingConfig(AppConfig):
    name = "geo_siac.geocoding"
    verbose_name = _("búsqueda de direcciones")
