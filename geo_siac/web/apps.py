from django.apps import AppConfig


class WebConfig(AppConfig):
    """The request-level concerns every app shares (security headers, staff login, health, rate counters). An app
    only because the rate counters need a table; nothing of it appears in the admin."""

    name = "geo_siac.web"
