from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttentionConfig(AppConfig):
    name = "geo_siac.attention"
    verbose_name = _("Atención presencial")
