import time

from django.core.management.base import BaseCommand

from geo_siac.notifications.services import notifications_send_due


class Command(BaseCommand):
    help = "Send the due notifications in the outbox (once, for cron, or --loop as a worker)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, checking every --interval seconds.")
        parser.add_argument("--interval", type=float, default=30.0)
        parser.add_argument("--limit", type=int, default=100, help="At most this many per round.")

    def handle(self, *args, loop, interval, limit, **options):
        while True:
            summary = notifications_send_due(limit=limit)
            # As a worker, a round with nothing to send says nothing: its log holds what was sent, not a line each 10 s.
            if not loop or summary.sent or summary.retried or summary.failed:
                self.stdout.write(f"enviadas {summary.sent}, reintentos {summary.retried}, fallidas {summary.failed}")
            if not loop:
                return
            time.sleep(interval)
