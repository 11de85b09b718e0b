from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "geo_siac.messaging"
    verbose_name = _("WhatsApp y SMS")
