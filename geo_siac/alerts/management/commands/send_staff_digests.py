from django.core.management.base import BaseCommand

from geo_siac.alerts.services import staff_digests_send


class Command(BaseCommand):
    help = "Send each person who chose the daily digest one email with their alerts not yet sent (once a day)."

    def handle(self, *args, **options):
        summary = staff_digests_send()
        self.stdout.write(f"resúmenes {summary.digests}, avisos {summary.alerts}")
