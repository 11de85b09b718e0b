from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmailIntakeConfig(AppConfig):
    name = "geo_siac.email_intake"
    verbose_name = _("Solicitudes por correo electrónico")
