from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "geo_siac.transparency"
    verbose_name = "Transparencia"

    def ready(self):
        from geo_siac.transparency.selectors import indicators_health
        from geo_siac.web.health import register_check

        register_check("indicators", indicators_health)
