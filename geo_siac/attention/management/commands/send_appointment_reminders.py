from django.core.management.base import BaseCommand

from geo_siac.attention.services import appointments_remind_due


class Command(BaseCommand):
    help = (
        "Queues a reminder for each booked appointment that starts within 24 hours (once per appointment); "
        "send_notifications sends them. Run it on a timer, e.g. every 15 minutes."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{appointments_remind_due()} recordatorios encolados")
