"""Indicators benchmark (issue 8): the transparency page's indicators, computed and read from their snapshot.

    .venv/bin/python bench/indicators.py [--rows 50000] [--repeat 3] [--oracle] [--reset]

Runs against its own database (GEO_SIAC_BENCH_DB, default geo_siac_bench), loading synthetic reports over
the last 365 days with the bulk importer (bench/ingest.py's generator) until it holds --rows (--reset empties
it first). Prints, uncached (the page cache is cleared before every request), the median of --repeat runs of:
- the SQL indicators of the page's dimensions, and of every dimension (the exports) plus the total, as a request
  would compute them without a snapshot;
- `manage.py refresh_indicators` (every published period);
- the transparency page, the Carta de Compromisos and the indicator CSV/JSON, served from the snapshots, and
  the page's map cells (counted on request, not from a snapshot);
- the transparency page from a stale snapshot (as after a stopped timer: read, never recomputed).
--oracle also times the previous Python definition (the test oracle) on the page's dimensions and checks
that it gives the same figures.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import prepare_database, write_csv  # noqa: E402  (sets PGDATABASE from GEO_SIAC_BENCH_DB)

PAGE_DIMENSIONS = [None, "department", "category", "zone", "month"]  # as views.index asks


def load(rows: int, reset: bool) -> int:
    from django.db import connection

    from geo_siac.reports.importers import ReportImporter
    from geo_siac.reports.mappings import NATIVE
    from geo_siac.reports.models import Report
    from geo_siac.transparency.models import IndicatorSnapshot

    if reset:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE reports_reportevent, reports_report RESTART IDENTITY CASCADE")
    IndicatorSnapshot.objects.all().delete()
    missing = rows - Report.objects.count()
    if missing > 0:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "bench.csv")
            write_csv(path, missing)
            started = time.perf_counter()
            summary = ReportImporter(mapping=NATIVE, source=f"bench-indicators-{time.time_ns()}", commit=True).run(
                Path(path)
            )
            print(f"loaded {summary.inserted:,} reports in {time.perf_counter() - started:.0f} s")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reports_report")
    return Report.objects.count()


def timed(label: str, repeat: int, function) -> object:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    print(
        f"{label:<66} {statistics.median(times) * 1000:>9.1f} ms  (runs: {', '.join(f'{t * 1000:.0f}' for t in times)})"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--oracle", action="store_true", help="also time the previous Python definition")
    parser.add_argument("--reset", action="store_true", help="empty the benchmark database's reports first")
    args = parser.parse_args()
    prepare_database()

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db.models import F
    from django.test import Client
    from django.utils import timezone

    from geo_siac.transparency.models import IndicatorSnapshot
    from geo_siac.transparency.selectors import DIMENSIONS, compute_published

    total = load(args.rows, args.reset)
    now = timezone.now()
    year = compute_published("trailing_year", [None], as_of=now)
    print(
        f"{total:,} reports in the database, {year.results[None][None]['volume']:,} public ones received "
        f"{year.start} to {year.end} (excluded)\n"
    )

    page = timed(
        "SQL, the page's total and four dimensions (no snapshot)",
        args.repeat,
        lambda: compute_published("trailing_year", PAGE_DIMENSIONS, as_of=now).results,
    )
    timed(
        f"SQL, total + the exports' {len(DIMENSIONS)} dimensions (no snapshot)",
        args.repeat,
        lambda: compute_published("trailing_year", [None, *DIMENSIONS], as_of=now),
    )
    if args.oracle:
        from geo_siac.transparency.selectors import received_between, transparency_reports
        from geo_siac.transparency.tests.test_indicators_sql import oracle

        reports = received_between(transparency_reports(), year.start, year.end)
        expected = timed(
            "previous Python definition, the page's total and four dimensions",
            1,
            lambda: oracle(reports, PAGE_DIMENSIONS, now),
        )
        print(f"{'':<66} {'same figures' if expected == page else 'DIFFERENT FIGURES'}")
    timed(
        "manage.py refresh_indicators (every published period)",
        args.repeat,
        lambda: call_command("refresh_indicators", stdout=io.StringIO()),
    )

    client = Client(HTTP_HOST="127.0.0.1")  # through the middleware: the pages read the request's comuna
    for label, url in [
        ("/transparencia/celdas.geojson (map cells, counted on request)", "/transparencia/celdas.geojson"),
        ("/transparencia/ from the snapshot", "/transparencia/"),
        ("/transparencia/compromisos/ from the snapshots", "/transparencia/compromisos/"),
        ("/transparencia/datos/indicadores.csv from the snapshot", "/transparencia/datos/indicadores.csv"),
        ("/transparencia/datos/indicadores.json from the snapshot", "/transparencia/datos/indicadores.json"),
    ]:

        def request(url=url):
            cache.clear()
            response = client.get(url)
            assert response.status_code == 200
            return b"".join(response.streaming_content) if response.streaming else response.content

        timed(f"{label}, uncached", max(args.repeat, 5), request)

    # A stopped timer: the snapshots two hours old (past GEO_SIAC_INDICATORS_MAX_AGE_MINUTES) are still what a
    # request reads; it never computes them (docs/indicators.md).
    IndicatorSnapshot.objects.update(as_of=F("as_of") - timedelta(hours=2))
    timed(
        "/transparencia/ from a stale snapshot (2 h old), uncached",
        max(args.repeat, 5),
        lambda: request("/transparencia/"),
    )


if __name__ == "__main__":
    main()
