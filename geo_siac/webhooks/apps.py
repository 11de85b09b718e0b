from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "geo_siac.webhooks"
    verbose_name = _("Webhooks a sistemas internos")

    def ready(self):
        # reports.archive cannot import this app: it asks it about a year's deliveries through its registry.
        from geo_siac.reports.archive import archive_participant_register
        from geo_siac.webhooks.archive import PARTICIPANT

        archive_participant_register(PARTICIPANT)
