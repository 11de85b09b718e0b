from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizensConfig(AppConfig):
    """ "Mis solicitudes": citizens sign in by a one-time link sent to their email (no password, no Django user) and
    act on their reports. Above `reports`, whose services it calls."""

    name = "geo_siac.citizens"
    verbose_name = _("Mis solicitudes")
