import time

from django.core.management.base import BaseCommand

from geo_siac.webhooks.services import webhook_deliveries_send_due


class Command(BaseCommand):
    help = "Send the due webhook deliveries (once, for a timer, or --loop as a worker); safe to run concurrently."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, checking every --interval seconds.")
        parser.add_argument("--interval", type=float, default=10.0)
        parser.add_argument("--limit", type=int, default=200, help="At most this many per round.")

    def handle(self, *args, loop, interval, limit, **options):
        while True:
            summary = webhook_deliveries_send_due(limit=limit)
            self.stdout.write(
                f"entregados {summary.delivered}, reintentos {summary.retried}, "
                f"fallidos {summary.failed}, omitidos {summary.skipped}"
            )
            if not loop:
                return
            time.sleep(interval)
