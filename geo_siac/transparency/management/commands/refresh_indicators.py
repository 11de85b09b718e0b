import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from geo_siac.reports.services import business_calendar_sync
from geo_siac.transparency.selectors import PUBLISHED, decode_results, incomplete_snapshots, local_midnight
from geo_siac.transparency.services import RefreshRunning, indicator_snapshots_refresh


def past_day(value: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--as-of debe ser una fecha AAAA-MM-DD, por ejemplo 2025-12-31, y no {value!r}") from exc
    if day > timezone.localdate():
        raise CommandError(f"--as-of {value} es una fecha futura")
    return day


# Named snapshots mended per timer run, oldest first: each is a full computation of its period (a year at 20 million
# reports takes minutes), so a new dimension reaches years of history over a few runs instead of one very long one.
MENDED_PER_RUN = 2


class Command(BaseCommand):
    help = (
        "Compute the indicators the public pages and exports show and store them. With no option: the relative "
        "periods (the last 365 days, the last month and the last twelve months) as of now; run it so on a timer, "
        "e.g. every 10 minutes (docs/deployment.md). Named periods (a year, 2025, or a month, 2025-03) are stored "
        "when asked for, and the public pages then offer them; the run with no option also stores again, at its own "
        f"as-of, up to {MENDED_PER_RUN} named ones lacking a dimension the pages need. Waits for a run already "
        "computing. Also brings the business-day calendar up to date."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--period",
            action="append",
            help=f"only this period (repeatable): {', '.join(PUBLISHED)}, a year (YYYY) or a month "
            "(YYYY-MM); default: the relative ones, or with --as-of the month and year of that "
            "day",
        )
        parser.add_argument(
            "--as-of",
            help="YYYY-MM-DD: judge the indicators (open, late, ages) at the end of that "
            "day instead of now; for named periods only",
        )

    def handle(self, *args, period, as_of, **options):
        started = time.perf_counter()
        day = past_day(as_of) if as_of else None
        # The end of that day, or now when it is today.
        instant = min(local_midnight(day + timedelta(days=1)), timezone.now()) if day else None
        if day and not period:
            period = [f"{day:%Y-%m}", f"{day:%Y}"]
        if day and day < timezone.localdate() and set(period or ()) & set(PUBLISHED):
            raise CommandError(
                "--as-of de un día pasado no se aplica a los periodos relativos "
                f"({', '.join(PUBLISHED)}): las páginas los muestran tal como son ahora; "
                "indique un año o un mes"
            )
        changed = business_calendar_sync()
        if changed:
            self.stdout.write(f"business-day calendar: {changed} days rewritten")
        snapshots = self.refresh(periods=period, as_of=instant)
        if not period:  # the timer's run: also mend the named snapshots a new dimension left incomplete
            for named, stored_as_of in incomplete_snapshots()[:MENDED_PER_RUN]:
                if named not in PUBLISHED:
                    # never deleted here: a named period found without live reports keeps what was published
                    snapshots += self.refresh(periods=[named], as_of=stored_as_of, keep_without_reports=True)
        for snapshot in snapshots:
            by_first_dimension = next(iter(decode_results(snapshot.results).values()))
            reports = sum(result["volume"] for result in by_first_dimension.values())
            self.stdout.write(
                f"{snapshot.period}: {snapshot.start} to {snapshot.end} (excluded), "
                f"{reports} reports, as of {timezone.localtime(snapshot.as_of):%Y-%m-%d %H:%M:%S}"
            )
        for skipped in sorted(set(period or ()) - {snapshot.period for snapshot in snapshots}):
            self.stdout.write(f"{skipped}: no reports, not published")
        self.stdout.write(f"done in {time.perf_counter() - started:.1f} s")

    def refresh(self, **arguments) -> list:
        try:
            return indicator_snapshots_refresh(**arguments)
        except (ValueError, RefreshRunning) as exc:  # stderr and a failed run, which the timer's journal shows
            raise CommandError(str(exc)) from exc
