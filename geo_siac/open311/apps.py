from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class Open311Config(AppConfig):
    name = "geo_siac.open311"
    verbose_name = _("API Open311")
