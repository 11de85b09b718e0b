"""Ingest benchmark (issue 2): bulk path vs report_create, with peak memory.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--single 10000]

Runs against its own database (PGDATABASE=geo_siac_bench, created if missing) so the demo is untouched.
Synthetic reports are spread over Puente Alto and Peñalolén; the CSV is written by a child process so the
peak memory printed is the importer's own.
"""

import argparse
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PGDATABASE"] = os.environ.get("GEO_SIAC_BENCH_DB", "geo_siac_bench")
for _name, _default in (
    ("PGHOST", "127.0.0.1"),
    ("PGPORT", "5432"),
    ("PGUSER", "geo_siac"),
    ("PGPASSWORD", "geo_siac"),
):
    os.environ.setdefault(_name, _default)  # the same defaults as settings.py, for psql/createdb below
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geo_siac.settings")


GREATER_SANTIAGO = tuple(str(c) for c in range(13101, 13133)) + ("13201", "13401")  # INE's 34 comunas


def prepare_database(cuts: tuple[str, ...] = ("13201", "13122"), boundaries: Path | None = None) -> None:
    """Create and migrate the benchmark database and load the comunas `cuts`, from the `boundaries` file when given
    (every comuna in it, made active, when `cuts` is empty), else from the DPA 2023 shipped with the project."""
    env = dict(os.environ)
    exists = subprocess.run(
        ["psql", "-d", "postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{env['PGDATABASE']}'"],
        capture_output=True,
        text=True,
        env={**env, "PGDATABASE": "postgres"},
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", env["PGDATABASE"]], check=True, env={**env, "PGDATABASE": "postgres"})
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], check=True)
    source = [str(boundaries), "--activate"] if boundaries else []
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "load_comunas",
            *source,
            *(a for c in cuts for a in ("--cut", c)),
            "--commit",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def write_csv(path: str, rows: int, prefix: str = "bench") -> None:
    import django

    django.setup()
    from geo_siac.reports.importers import CommuneIndex
    from geo_siac.reports.synthetic import write_synthetic_csv

    write_synthetic_csv(
        Path(path), rows, CommuneIndex.load().geometries, seed=7 if prefix == "bench" else 8, prefix=prefix
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=10_000)
    parser.add_argument(
        "--incremental", type=int, default=100_000, help="rows imported afterwards into the filled table (no bulk mode)"
    )
    args = parser.parse_args()
    prepare_database()

    import django

    django.setup()
    from django.db import connection

    from geo_siac.reports.importers import ReportImporter
    from geo_siac.reports.mappings import NATIVE
    from geo_siac.reports.services import report_create
    from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE reports_reportevent, reports_report RESTART IDENTITY CASCADE")

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.csv")
        started = time.perf_counter()
        child = multiprocessing.get_context("spawn").Process(target=write_csv, args=(path, args.rows))
        child.start()
        child.join()
        print(
            f"generated {args.rows:,} synthetic rows in {time.perf_counter() - started:.1f} s "
            f"({os.path.getsize(path) / 1e6:.0f} MB CSV)"
        )
        rss_before = peak_rss_mb()
        started = time.perf_counter()
        summary = ReportImporter(mapping=NATIVE, source="bench", commit=True).run(Path(path))
        elapsed = time.perf_counter() - started
    print(
        f"bulk path: {summary.inserted:,} inserted, {summary.rejected:,} rejected in {elapsed:.1f} s = "
        f"{summary.read / elapsed:,.0f} rows/s (commune, H3 res 6-10, deadline, history computed; "
        f"{'bulk mode, of which ' + format(summary.rebuild_seconds, '.1f') + ' s rebuilding indexes and keys' if summary.bulk else 'indexes kept'})"
    )
    print(f"bulk path peak RSS: {peak_rss_mb():.0f} MB (before import: {rss_before:.0f} MB)")

    if args.incremental:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "more.csv")
            child = multiprocessing.get_context("spawn").Process(
                target=write_csv, args=(path, args.incremental, "more")
            )
            child.start()
            child.join()
            started = time.perf_counter()
            more = ReportImporter(mapping=NATIVE, source="bench-more", commit=True).run(Path(path))
            elapsed = time.perf_counter() - started
        print(
            f"incremental: {more.inserted:,} more rows into the table of {summary.inserted:,} in {elapsed:.1f} s = "
            f"{more.read / elapsed:,.0f} rows/s ({'bulk mode' if more.bulk else 'indexes and keys kept'})"
        )

    points = [PUENTE_ALTO_CENTRE, PENALOLEN_CENTRE]
    started = time.perf_counter()
    for i in range(args.single):
        lat, lng = points[i % 2]
        report_create(
            category="bache",
            latitude=lat + (i % 97) * 1e-4,
            longitude=lng + (i % 89) * 1e-4,
            channel="web",
            description="benchmark",
        )
    elapsed = time.perf_counter() - started
    print(f"report_create one by one: {args.single:,} in {elapsed:.1f} s = {args.single / elapsed:,.0f} rows/s")
    print(f"peak RSS overall: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
