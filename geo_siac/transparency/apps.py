from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "geo_siac.transparency"
    verbose_name = "Transparencia"
