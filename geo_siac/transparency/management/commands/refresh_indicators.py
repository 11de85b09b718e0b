import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from geo_siac.reports.services import business_calendar_sync
from geo_siac.transparency.selectors import PUBLISHED, decode_results
from geo_siac.transparency.services import indicator_snapshots_refresh


class Command(BaseCommand):
    help = ("Compute the indicators the public pages and exports show and store them (run it on a timer, e.g. "
            "every 10 minutes; see docs/deployment.md). Also brings the business-day calendar up to date.")

    def add_arguments(self, parser):
        parser.add_argument("--period", action="append", choices=list(PUBLISHED),
                            help="only this period (repeatable); default: all")

    def handle(self, *args, period, **options):
        started = time.perf_counter()
        changed = business_calendar_sync()
        if changed:
            self.stdout.write(f"business-day calendar: {changed} days rewritten")
        for snapshot in indicator_snapshots_refresh(periods=period):
            by_first_dimension = next(iter(decode_results(snapshot.results).values()))
            reports = sum(result["volume"] for result in by_first_dimension.values())
            self.stdout.write(f"{snapshot.period}: {snapshot.start} to {snapshot.end} (excluded), "
                              f"{reports} reports, as of {timezone.localtime(snapshot.as_of):%Y-%m-%d %H:%M:%S}")
        self.stdout.write(f"done in {time.perf_counter() - started:.1f} s")
