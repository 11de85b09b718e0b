"""Ingest benchmark (issues 2 and 27): the bulk path against its physical floor, and report_create, with peak memory.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--single 10000] [--incremental 100000] [--first-refresh]

The floor is measured in the same run, right after the bulk path: the rows it stored are copied out, then a plain
COPY of them into scratch tables of the same shape and the build of the same indexes is timed (and the scratch
tables dropped). The ratio printed is floor / bulk path: 1.0 would be a bulk path as fast as the bare COPY. It is
printed twice: for the bulk path with its placing of the reports in public (issue 26) and without it (issue 27's end
state, which had no published cells).

Runs against its own database (PGDATABASE=geo_siac_bench, created if missing) so the demo is untouched.
Synthetic reports are spread over Puente Alto and Peñalolén; the CSV is written by a child process so the
peak memory printed is the importer's own.
"""

import argparse
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
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


FLOOR_PREFIX = "floor_"


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def cpu_seconds() -> float:
    """CPU seconds used so far by this process (every thread) and by its PostgreSQL backend, read from /proc: the
    server runs on this machine. What the machine's load does not inflate much, unlike wall time; the parallel
    workers of an index build are not counted (on either side of the ratio)."""
    return time.process_time() + process_cpu(backend_pid())


class OtherBackendsCpu:
    """CPU seconds of this database's other PostgreSQL backends while it runs (the importer's restore builds GiST
    indexes on a second connection), read from /proc every 0.2 s by a thread with its own connection: a backend's
    last reading counts, so up to 0.2 s of each one's CPU is missed."""

    def __init__(self, *, main: int):
        self.main = main  # the bench's own backend, counted by cpu_seconds
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def sample(self) -> None:
        from django.db import connection

        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                own = cursor.fetchone()[0]
                while not self.stop.wait(0.2):
                    cursor.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid NOT IN (%s, %s) AND backend_type = 'client backend'",
                        [own, self.main],
                    )
                    for (pid,) in cursor.fetchall():
                        if (seconds := process_cpu(pid)) is not None:
                            self.last[pid] = seconds
        finally:
            connection.close()

    @property
    def seconds(self) -> float:
        return sum(self.last.values())


def process_cpu(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def physical_floor(tables: tuple[str, ...], folder: str) -> tuple[float, float, float]:
    """The physical floor of the bulk path's end state (issue 27): the rows now stored in `tables` copied out to
    files, then a plain COPY of them into scratch tables of the same shape (columns, defaults, CHECK constraints,
    the same partitions) and the build of the same indexes, with the importer's maintenance_work_mem. The scratch
    tables are dropped afterwards. Returns (COPY seconds, index seconds, CPU seconds of both)."""
    from django.db import connection

    quote = connection.ops.quote_name
    copied = indexed = cpu = 0.0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        files = {}
        for table in tables:
            files[table] = os.path.join(folder, f"{table}.copy")
            with open(files[table], "wb") as out:
                raw.copy_expert(f"COPY (SELECT * FROM {quote(table)}) TO STDOUT", out)
        try:
            cursor.execute("SET maintenance_work_mem TO '256MB'")
            for table in tables:
                scratch = quote(FLOOR_PREFIX + table)
                cursor.execute("SELECT pg_get_partkeydef(%s::regclass)", [table])
                partition_key = cursor.fetchone()[0]
                cursor.execute(
                    f"CREATE TABLE {scratch} (LIKE {quote(table)} INCLUDING DEFAULTS INCLUDING IDENTITY "
                    f"INCLUDING CONSTRAINTS INCLUDING STORAGE)"
                    + (f" PARTITION BY {partition_key}" if partition_key else "")
                )
                cursor.execute(
                    "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                    "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
                    [table],
                )
                for name, bound in cursor.fetchall():
                    cursor.execute(f"CREATE TABLE {quote(FLOOR_PREFIX + name)} PARTITION OF {scratch} {bound}")
            cursor.execute(
                "SELECT t.relname, i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = "
                "x.indexrelid JOIN pg_class t ON t.oid = x.indrelid WHERE x.indrelid = ANY(%s::regclass[])",
                [list(tables)],
            )
            definitions = [
                re.sub(
                    r"^CREATE (UNIQUE )?INDEX (\S+) ON (ONLY )?(\S+) ",
                    lambda m, t=t, i=i: (
                        f"CREATE {m[1] or ''}INDEX {quote(FLOOR_PREFIX + i)} ON {quote(FLOOR_PREFIX + t)} "
                    ),
                    d,
                )
                for t, i, d in cursor.fetchall()
            ]
            started, cpu_started = time.perf_counter(), cpu_seconds()
            for table in tables:
                with open(files[table], "rb") as source:
                    raw.copy_expert(f"COPY {quote(FLOOR_PREFIX + table)} FROM STDIN", source)
                os.remove(files[table])
            copied = time.perf_counter() - started
            started = time.perf_counter()
            for definition in definitions:
                cursor.execute(definition)
            indexed = time.perf_counter() - started
            cpu = cpu_seconds() - cpu_started
        finally:
            for table in tables:
                cursor.execute(f"DROP TABLE IF EXISTS {quote(FLOOR_PREFIX + table)}")
    return copied, indexed, cpu


def report_sizes() -> tuple[int, int]:
    """Bytes of the reports' heap (TOAST included) and of their indexes, every partition counted."""
    from django.db import connection

    from geo_siac.reports.models import Report

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_table_size(relid)), 0)::bigint, coalesce(sum(pg_indexes_size(relid)), 0)::bigint "
            "FROM pg_partition_tree(%s::regclass)",
            [Report._meta.db_table],
        )
        return cursor.fetchone()


def partial_index_sizes() -> list[tuple[str, int]]:
    """Each partial index of the reports (those bulk mode keeps, and report_public_cell) with its bytes, every
    partition's index counted."""
    from django.db import connection

    from geo_siac.reports.models import Report

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, (SELECT coalesce(sum(pg_relation_size(relid)), 0)::bigint FROM pg_partition_tree(i.oid)) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND x.indpred IS NOT NULL ORDER BY 2 DESC, 1",
            [Report._meta.db_table],
        )
        return cursor.fetchall()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--single", type=int, default=10_000)
    parser.add_argument(
        "--incremental", type=int, default=100_000, help="rows imported afterwards into the filled table (no bulk mode)"
    )
    parser.add_argument(
        "--first-refresh",
        action="store_true",
        help="time the first report_public_cells_refresh after the bulk path, and the reports' size before and after",
    )
    args = parser.parse_args()
    prepare_database()

    import django

    django.setup()
    from django.db import connection

    from geo_siac.reports.importers import ReportImporter
    from geo_siac.reports.mappings import NATIVE
    from geo_siac.reports.models import Report, ReportEvent
    from geo_siac.reports.services import report_create, report_public_cells_refresh
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
        print(f"load average before the bulk path: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        started, cpu_started = time.perf_counter(), cpu_seconds()
        with OtherBackendsCpu(main=backend_pid()) as others:
            summary = ReportImporter(mapping=NATIVE, source="bench", commit=True).run(Path(path))
            elapsed = time.perf_counter() - started
            bulk_cpu = cpu_seconds() - cpu_started
        bulk_cpu += others.seconds
    placing = getattr(summary, "place_seconds", 0.0)  # an importer that does not place (before issue 26) has none
    print(
        f"bulk path: {summary.inserted:,} inserted, {summary.rejected:,} rejected in {elapsed:.1f} s = "
        f"{summary.read / elapsed:,.0f} rows/s (commune, H3 res 6-10, deadline, history computed; "
        f"{'bulk mode, of which ' + format(placing, '.1f') + ' s placing the reports in public and ' + format(summary.rebuild_seconds, '.1f') + ' s rebuilding indexes and keys' if summary.bulk else 'indexes kept'})"
    )
    print(f"bulk path peak RSS: {peak_rss_mb():.0f} MB (before import: {rss_before:.0f} MB)")
    if summary.bulk:
        with tempfile.TemporaryDirectory() as folder:
            copied, indexed, floor_cpu = physical_floor((Report._meta.db_table, ReportEvent._meta.db_table), folder)
        floor = copied + indexed
        # Issue 27's end state had no published cells: the bulk path less its placing is what runs before the
        # placing measured, so both ratios are printed against the same floor.
        print(
            f"floor: COPY of the same rows {copied:.1f} s + the same indexes {indexed:.1f} s = {floor:.1f} s "
            f"(load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})"
        )
        print(f"bulk path with its placing: {elapsed:.1f} s; ratio floor/bulk {floor / elapsed:.2f}x")
        print(
            f"bulk path without its placing: {elapsed - placing:.1f} s; ratio floor/bulk "
            f"{floor / (elapsed - placing):.2f}x"
        )
        print(
            f"CPU seconds (this process and its PostgreSQL backends): floor {floor_cpu:.1f}, bulk path {bulk_cpu:.1f} "
            f"(of which {others.seconds:.1f} on its second connection), ratio {floor_cpu / bulk_cpu:.2f}x"
        )

    if args.first_refresh:
        heap, indexes = report_sizes()
        print(f"load average before the first refresh: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        started = time.perf_counter()
        changed = report_public_cells_refresh()
        elapsed = time.perf_counter() - started
        heap_after, indexes_after = report_sizes()
        print(
            f"first report_public_cells_refresh after the import: {changed:,} reports changed place in {elapsed:.1f} s; "
            f"reports' heap {heap / 1e6:,.0f} -> {heap_after / 1e6:,.0f} MB, "
            f"their indexes {indexes / 1e6:,.0f} -> {indexes_after / 1e6:,.0f} MB"
        )
        sizes = ", ".join(f"{name} {size / 1e6:,.2f}" for name, size in partial_index_sizes())
        print(f"the reports' partial indexes after it (MB): {sizes}")

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
