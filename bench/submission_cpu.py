"""CPU and queries per submission, in process (issue #27 point 4): where a filed request's time goes in Django.

    .venv/bin/python bench/submission_cpu.py [--count 100] [--batches 5] [--profile web|open311|reclamo|buzon]
        [--backend-cpu]

Runs each way a citizen files in bench/load.py's mix through Django's test client (CSRF checked, production
settings, DEBUG off) against the load bench's database (GEO_SIAC_BENCH_DB, default geo_siac_bench, created and
migrated if missing), and prints per way: CPU per submission (`time.process_time`, this process only), the least
and the median of its batches (the ways take turns, batch by batch, so other work on the machine falls on all of
them; it still slows a process down, and the least is the figure it disturbs least), wall time, and the SQL
statements one submission sends. With --profile it
then prints the cProfile entries of that way that take the most time. On a shared machine req/s is noise; CPU per
request is not, or much less.

With --backend-cpu it also prints the CPU per submission of the PostgreSQL server process of its session (user plus
system time from /proc/PID/stat, so PostgreSQL must run on this machine), least and median of the same batches: read
in clock ticks (10 ms), so a batch needs a few hundred milliseconds of it to say anything.
"""

import argparse
import cProfile
import itertools
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import production_server

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import prepare_database  # noqa: E402  (sets PGDATABASE from GEO_SIAC_BENCH_DB)

counter = itertools.count()


def production_settings() -> None:
    os.environ.update(
        production_server.production_settings(
            host="testserver",
            cache_prefix="geo_siac_submission_cpu_",
            GEO_SIAC_SUBMISSIONS_PER_WINDOW="100000000",
            GEO_SIAC_FORM_POSTS_PER_WINDOW="100000000",
            DJANGO_SETTINGS_MODULE="geo_siac.settings",
        )
    )


def point() -> tuple[float, float]:
    """A point of bench/load.py's crew zone in Puente Alto."""
    return round(random.uniform(-33.615, -33.600), 6), round(random.uniform(-70.59, -70.56), 6)


def ways(client, api_key: str, box_id: int) -> dict:
    """Each way of filing: a function that files one request and returns the response."""

    def post(path: str, data: dict):
        # Form-encoded, as a browser's form and bench/load.py send it (the test client's default is multipart).
        return client.post(path, urlencode(data), content_type="application/x-www-form-urlencoded")

    def token() -> str:
        return f"cpu-{next(counter)}-{random.random()}"

    def csrf() -> str:
        return client.cookies["csrftoken"].value

    def web():
        lat, lng = point()
        return post(
            "/",
            {"service_code": "retiro-escombros", "lat": lat, "long": lng, "token": token(), "description": "Prueba",
             "csrfmiddlewaretoken": csrf()},
        )  # fmt: skip

    def open311():
        lat, lng = point()
        return post(
            "/open311/v2/requests.json",
            {"api_key": api_key, "jurisdiction_id": "puente-alto", "service_code": "retiro-escombros", "lat": lat,
             "long": lng, "description": "Prueba"},
        )  # fmt: skip

    def reclamo():
        return post(
            "/solicitud/reclamo/",
            {"service_code": "reclamo-servicio", "commune": "13201", "token": token(), "description": "Prueba",
             "csrfmiddlewaretoken": csrf()},
        )  # fmt: skip

    def buzon():
        return post(
            f"/buzon/{box_id}/",
            {"service_code": "sugerencia", "token": token(), "description": "Prueba", "csrfmiddlewaretoken": csrf()},
        )

    return {"web": (web, 302), "open311": (open311, 201), "reclamo": (reclamo, 302), "buzon": (buzon, 302)}


def fixtures() -> tuple[str, int]:
    """An Open311 key with no reachable limit and bench/load.py's service point (the same get_or_create)."""
    from django.contrib.gis.geos import Point

    from geo_siac.open311.services import api_key_create
    from geo_siac.zones.models import Commune, ServicePoint

    commune = Commune.objects.get(cut="13201")
    box, _ = ServicePoint.objects.get_or_create(
        commune=commune,
        source="bench/load.py",
        source_id="buzon",
        defaults={
            "name": "Atención nocturna (prueba de carga)",
            "kind": "night_service",
            "point": Point(-70.575, -33.61, srid=4326),
        },
    )
    return api_key_create(name="bench/submission_cpu.py", rate_limit_per_minute=10**9)[1], box.pk


def backend_cpu(connection):
    """A clock of the CPU seconds the session's PostgreSQL server process has used. The session must stay the same
    one throughout (production settings keep it open): the clock refuses to read another process's."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]

    def read() -> float:
        if connection.connection.info.backend_pid != pid:
            raise RuntimeError("the database session changed during the batches")
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100, help="submissions per batch and way (after 30 uncounted)")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--profile", choices=["web", "open311", "reclamo", "buzon"])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--backend-cpu", action="store_true", help="the PostgreSQL session's CPU per submission too")
    options = parser.parse_args()
    prepare_database()
    production_settings()
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(enforce_csrf_checks=True)
    client.get("/")  # the CSRF cookie, as a browser has it from the form's page
    api_key, box_id = fixtures()
    filing = ways(client, api_key, box_id)
    print(f"load average at the start: {open('/proc/loadavg').read().strip()}")
    backend = backend_cpu(connection) if options.backend_cpu else lambda: 0.0
    batches = {name: [] for name in filing}
    queries = {}
    for name, (file, status) in filing.items():
        for _ in range(30):
            assert file().status_code == status, name
        with CaptureQueriesContext(connection) as captured:
            file()
        queries[name] = list(captured)  # copied now: the next request's start empties the connection's log
    # Batches of every way in turn, so that what else the machine does falls on all of them alike; the least CPU of
    # a way's batches is the figure least disturbed by it.
    for _ in range(options.batches):
        for name, (file, _status) in filing.items():
            cpu, wall, server = time.process_time(), time.perf_counter(), backend()
            for _ in range(options.count):
                file()
            spent = (time.process_time() - cpu, time.perf_counter() - wall, backend() - server)
            batches[name].append([value / options.count for value in spent])
    header = f"{'way':8} {'CPU ms, least':>14} {'CPU ms, median':>15} {'wall ms, median':>16} {'statements':>11}"
    print(header + (f" {'PostgreSQL CPU ms, least':>25} {'median':>7}" if options.backend_cpu else ""))
    for name, measured in batches.items():
        cpu, wall, server = (sorted(column) for column in zip(*measured, strict=True))
        line = (
            f"{name:8} {cpu[0] * 1000:14.2f} {statistics.median(cpu) * 1000:15.2f} "
            f"{statistics.median(wall) * 1000:16.2f} {len(queries[name]):11d}"
        )
        if options.backend_cpu:
            line += f" {server[0] * 1000:25.2f} {statistics.median(server) * 1000:7.2f}"
        print(line)
    if options.profile:
        file = filing[options.profile][0]
        for query in queries[options.profile]:
            print("   ", query["sql"][:160])
        profile = cProfile.Profile(time.process_time)  # CPU: waiting for PostgreSQL is not this process's cost
        profile.runcall(lambda: [file() for _ in range(options.count)])
        pstats.Stats(profile).sort_stats("tottime").print_stats(options.top)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(options.top)
    print(f"load average at the end: {open('/proc/loadavg').read().strip()}")


if __name__ == "__main__":
    main()
