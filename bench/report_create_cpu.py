"""report_create's own CPU, in process (issues #23 and #27 point 4): the pieces docs/performance names, and the call
as a whole, without the request around it.

    .venv/bin/python bench/report_create_cpu.py [--tree PATH] [--count 2000] [--batches 5] [--whole 200]

Imports geo_siac from --tree (default this checkout; another tree, e.g. an export of main, is run with this
script and the same virtualenv, so that the two are measured alike) and runs against the load bench's database
(GEO_SIAC_BENCH_DB, default geo_siac_bench, migrated; bench/load.py's crew zone in Puente Alto is made if missing).
Production settings, DEBUG off. Prints, with the load average:
- each piece's CPU per call (`time.process_time`, the least of --batches batches of --count calls), µs;
- report_create whole, as the Open311 POST calls it and as the web form does (a form token), the least and the
  median of --batches batches of --whole calls, ms, the two ways taking turns batch by batch;
- the Python function calls per report_create (cProfile's count, which load does not move).
Each call of report_create files a report (its rows stay in the bench database).
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

from production_server import production_settings


def setup(tree: Path) -> None:
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    os.environ["PGDATABASE"] = os.environ.get("GEO_SIAC_BENCH_DB", "geo_siac_bench")
    os.environ.update(
        production_settings(
            host="testserver", cache_prefix="geo_siac_report_create_cpu_", DJANGO_SETTINGS_MODULE="geo_siac.settings"
        )
    )
    import django

    django.setup()
    import geo_siac

    assert Path(geo_siac.__file__).resolve().is_relative_to(tree), geo_siac.__file__


def crew_zone(commune) -> None:
    """bench/load.py's crew zone, so that a submission is routed as the load bench's are."""
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from geo_siac.catalogue.models import Department
    from geo_siac.zones.models import Crew
    from geo_siac.zones.services import zone_assign_crew, zone_save_version

    if Crew.objects.filter(commune=commune, name="report_create_cpu crew").exists():
        return
    department, _ = Department.objects.get_or_create(name="Dirección de Medio Ambiente, Aseo y Ornato")
    crew = Crew.objects.create(
        name="report_create_cpu crew", department=department, commune=commune, daily_capacity=1000
    )
    ring = ((-70.59, -33.625), (-70.56, -33.625), (-70.56, -33.60), (-70.59, -33.60), (-70.59, -33.625))
    zone = zone_save_version(
        commune=commune,
        key="prueba-carga",
        name="Zona de la prueba de carga",
        geometry=MultiPolygon(Polygon(ring), srid=4326),
    )
    zone_assign_crew(zone=zone, crew=crew)


def pieces() -> dict:
    """The pieces of a placed submission's report_create, each as this tree's code runs it."""
    from django.contrib.gis.geos import Point
    from django.db.models import Value
    from django.utils import timezone

    from geo_siac.catalogue import kinds
    from geo_siac.db import compiled_insert_sql, default_connection, insert_compiler, typed_values
    from geo_siac.geo import h3_cells
    from geo_siac.reports.models import EventKind, Report, ReportEvent, ReportYearId
    from geo_siac.reports.routing import decide
    from geo_siac.reports.selectors import category_by_code
    from geo_siac.reports.services import create
    from geo_siac.reports.validation import channel_error, coordinate_errors
    from geo_siac.zones.models import Commune
    from geo_siac.zones.selectors import category_terms, loaded, placement

    category = category_by_code("retiro-escombros")
    point = Point(-70.575, -33.61, srid=4326)
    placed = placement(point, category)
    decision = decide(placed, category, category_terms(placed.commune, category))
    now = timezone.now()
    # The id's value as report_create gives it: typed where the tree has reception_time, an untyped Value before.
    id_value = getattr(create, "reception_time", Value)
    report = Report(
        kind="service_request",
        commune=placed.commune,
        category=category,
        location=point,
        description="Prueba",
        attributes={},
        channel="open311",
        created_at=now,
        updated_at=now,
        expected_at=now,
        zone=decision.zone,
        crew=decision.crew,
        department=decision.department,
        **h3_cells(-33.61, -70.575),
    )
    report.tracking_code = "PA-AAAA-BBBB"
    events = [
        ReportEvent(
            report=report, kind=EventKind.CREATED, to_status=report.status, actor_label="Open311", created_at=now
        ),
        ReportEvent(report=report, kind=EventKind.ROUTED, note=decision.reason, is_public=False, created_at=now),
    ]
    known = getattr(kinds, "KIND_VALUES", None)
    compiler, pk = insert_compiler(default_connection(), Report), Report._meta.pk

    def id_sql():
        return compiler.field_as_sql(pk, None, compiler.prepare_value(pk, ReportYearId(id_value(now))))

    def insert_values():
        report.pk = ReportYearId(id_value(now))
        return compiled_insert_sql(report)

    return {
        "report INSERT values (id included)": insert_values,
        "id expression, made and compiled": id_sql,
        "two events' values": lambda: typed_values(events, create.EVENT_FIELDS),
        "kind check": (
            (lambda: "service_request" in kinds.RequestKind.values)
            if known is None
            else (lambda: isinstance("service_request", str) and "service_request" in known)
        ),
        "channel check": lambda: channel_error("open311"),
        "coordinates check": lambda: coordinate_errors(-33.6, -70.57),
        "one loaded instance": lambda: loaded(
            Commune, id=1, cut="13201", name="Puente Alto", tracking_prefix="PA", jurisdiction_id="puente-alto"
        ),
    }


def least_us(function, count: int, batches: int) -> float:
    best = float("inf")
    for _ in range(batches):
        start = time.process_time()
        for _ in range(count):
            function()
        best = min(best, (time.process_time() - start) / count)
    return best * 1e6


def ways(commune) -> dict:
    from geo_siac.reports.services import report_create

    tokens = itertools.count()

    def point():
        return round(random.uniform(-33.615, -33.600), 6), round(random.uniform(-70.59, -70.56), 6)

    def open311():
        lat, lng = point()
        report_create(
            category="retiro-escombros",
            latitude=lat,
            longitude=lng,
            channel="open311",
            description="Prueba",
            within=commune,
        )

    def web():
        lat, lng = point()
        report_create(
            category="retiro-escombros",
            latitude=str(lat),
            longitude=str(lng),
            channel="web",
            description="Prueba",
            submission_token=f"report-create-cpu-{os.getpid()}-{next(tokens)}-{random.random()}",
        )

    return {"open311": open311, "web": web}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--whole", type=int, default=200)
    args = parser.parse_args()
    tree = args.tree.resolve()
    setup(tree)
    from geo_siac.zones.models import Commune

    commune = Commune.objects.get(cut="13201")
    crew_zone(commune)
    print(f"== {tree} {time.strftime('%H:%M:%S', time.gmtime())} UTC, load {open('/proc/loadavg').read().split()[:3]}")
    for name, function in pieces().items():
        print(f"{name:38} {least_us(function, args.count, args.batches):8.1f} µs")
    calls = ways(commune)
    for function in calls.values():  # warm: the first submissions prepare statements and fill caches
        for _ in range(30):
            function()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(args.batches):
        for name, function in calls.items():
            start = time.process_time()
            for _ in range(args.whole):
                function()
            times[name].append((time.process_time() - start) / args.whole * 1000)
    for name, values in times.items():
        print(f"report_create, {name:8} least {min(values):.2f} ms, median {statistics.median(values):.2f} ms")
    for name, function in calls.items():
        profile = cProfile.Profile(time.process_time)
        profile.runcall(lambda f=function: [f() for _ in range(100)])
        print(f"report_create, {name:8} {pstats.Stats(profile).total_calls / 100:.0f} Python calls")
    print(f"load at the end {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
