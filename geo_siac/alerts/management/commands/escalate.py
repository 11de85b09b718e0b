import os
import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from geo_siac.alerts.services import alerts_run


class Command(BaseCommand):
    help = (
        "Fire the staff alerts and escalations due now (on a timer, like send_notifications); safe to repeat, "
        "to run in several processes at once and to run again after a crash."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=None, help="Alerts per transaction.")

    def handle(self, *args, batch, **options):
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1.")
        # Only the crash test sets it: a pause after each commit, so it can kill the process between batches.
        pause = float(os.environ.get("GEO_SIAC_ESCALATE_TEST_PAUSE", "0"))
        summary = alerts_run(batch_size=batch, after_batch=(lambda _n: time.sleep(pause)) if pause else None)
        fired = ", ".join(f"{kind} {count}" for kind, count in sorted(summary.fired.items())) or "0"
        self.stdout.write(
            f"{datetime.now().isoformat(timespec='seconds')} avisos: {fired}; bandeja "
            f"{summary.delivered}, correos {summary.emails}, sin destinatario {summary.unaddressed}, "
            f"niveles sin aviso {summary.silent}, "
            f"lotes {summary.batches}"
        )
