"""Open-data export benchmark (issue 8): generate the anonymised reports CSV/GeoJSON, with rows/s and memory.

    .venv/bin/python bench/export.py [--rows 1000000] [--format csv|geojson]

Runs against its own database (GEO_SIAC_BENCH_DB, default geo_siac_bench_export), loading synthetic reports
with the bulk importer (bench/ingest.py) until it holds --rows. The export runs in a child process from
the pieces `manage.py publish_open_data` writes (transparency.exports.open_data_lines: a download only serves the
file written), so the peak memory printed is the export's own; RSS is also sampled every 100,000 rows to show it
stays flat. This is the cost of one publication per format.
"""

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GEO_SIAC_BENCH_DB", "geo_siac_bench_export")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import prepare_database, write_csv  # noqa: E402  (sets PGDATABASE from GEO_SIAC_BENCH_DB)


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(rows: int) -> None:
    import django

    django.setup()
    from geo_siac.reports.importers import ReportImporter
    from geo_siac.reports.mappings import NATIVE
    from geo_siac.reports.models import Report

    missing = rows - Report.objects.count()
    if missing <= 0:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.csv")
        write_csv(path, missing)
        started = time.perf_counter()
        summary = ReportImporter(mapping=NATIVE, source=f"bench-export-{time.time_ns()}", commit=True).run(Path(path))
        print(f"loaded {summary.inserted:,} reports in {time.perf_counter() - started:.0f} s")


def export(fmt: str) -> None:
    import django

    django.setup()
    from geo_siac.transparency import exports

    name = "solicitudes.csv" if fmt == "csv" else "solicitudes.geojson"
    started = time.perf_counter()
    baseline = rss_mb()
    lines = size = 0
    samples = []
    for chunk in exports.open_data_lines(name):
        size += len(chunk.encode())
        lines += 1
        if lines % 100_000 == 0:
            samples.append(f"{rss_mb():.0f}")
    elapsed = time.perf_counter() - started
    rows = lines - 1 if fmt == "csv" else lines - 2
    print(f"{fmt}: {rows:,} rows, {size / 1e6:.0f} MB in {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s")
    print(f"RSS at start {baseline:.0f} MB; every 100,000 rows: {', '.join(samples)} MB; peak {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--format", choices=["csv", "geojson"], default="csv")
    args = parser.parse_args()
    prepare_database()
    spawn = multiprocessing.get_context("spawn")
    for target, target_args in ((load, (args.rows,)), (export, (args.format,))):
        child = spawn.Process(target=target, args=target_args)
        child.start()
        child.join()
        if child.exitcode:
            sys.exit(child.exitcode)


if __name__ == "__main__":
    main()
