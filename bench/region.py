"""Region-scale benchmark (issue #26, point 5): the 52 comunas of the Región Metropolitana with their census
population and N synthetic reports over five years, measured through the production server.

    .venv/bin/python bench/region.py [--reports 20000000] [--db geo_siac_region] [--repeat 20]
        [--load-seconds 60] [--load-users 40] [--no-replica]

Needs ../shared/data (GEO_SIAC_SHARED_DATA): the INE 2017 comunas and the census zones. On its own database (--db,
created and migrated if missing) it loads, through the project's management commands, the 52 comunas
(`load_comunas`), the census population (`load_population`), 4 km crew zones over Puente Alto (`generate_zones`)
with one crew each, then N reports drawn inside the census zones in proportion to their population
(`reports.synthetic`), received over the last 1,825 days, through the bulk importer (`import_reports`), and routes
the open ones as report_create would. A database already holding N reports is reused as it is, so a second run
only measures. Then, with gunicorn in production mode on 127.0.0.1 (bench/production_server.py):

- the planner's heat map (`/mapas/calor/mapa.html`, the map the page shows) at res 9 and 10, without filters and
  with one category, one comuna or the last full month, as a planner of all 52 comunas;
- the public indicators page (`/transparencia/`), its cache emptied before each request, and cached;
- the crew queue (`/cuadrilla/`) of a crew member of Puente Alto;
- submissions per second under bench/load.py's mix (web form, Open311, tracking, public map, API, crew), first
  with every read on the primary, then with a streaming replica made by pg_basebackup
  (`geo_siac.testing.StreamingReplica`, as the replica tests make it) serving the public reads.

Prints p50/p95 next to the targets (every staff and public page p95 < 500 ms; submissions with the replica no
fewer than without), the bytes per report, and an estimate of the time and disk a 20,000,000 load takes.
The machine's load average is printed with each phase: timings on a shared machine are inflated.
At 20M the database takes ~40 GB and the replica copies the whole cluster: on a machine that also runs the suite
(whose replica tests copy the main cluster), give it a cluster of its own, e.g. `pg_createcluster 15 region --port
5433 --start`, the role and template extensions as scripts/setup.sh makes them, then `PGPORT=5433 bench/region.py`.
"""

import argparse
import calendar
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from production_server import LOAD_ZONE_BOX  # noqa: E402  (standard library only)

COMUNAS = "comunas/rm_comunas_ine2017.geojson"
CENSUS = "census/rm_zonas_censales_2017_poblacion.geojson"
SOURCE = "region"
DAYS = 1825
FULL_SIZE = 20_000_000
MUNICIPALITY = "13201"  # Puente Alto: its crew zones, crews and the crew member whose queue is measured
PASSWORD = "region-" + "x" * 20
PLANNER, CREW_MEMBER = "region-planificacion", "region-cuadrilla"
TARGET_MS = 500
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SUBMISSIONS = re.compile(r"submissions \(every kind\): ([\d.]+)/s, (\d+) failed, p99 (\d+) ms")

SETUP = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.db.models.functions import Area
from geo_siac.catalogue.models import Department
from geo_siac.zones.models import Commune, CommuneMembership, Crew, Zone
from geo_siac.zones.roles import CREW_MEMBER
from django.contrib.gis.geos import MultiPolygon, Polygon
from geo_siac.zones.services import zone_assign_crew, zone_save_version

department, _ = Department.objects.get_or_create(name="Dirección de Medio Ambiente, Aseo y Ornato")
commune = Commune.objects.get(cut="@CUT@")
# bench/load.py files into its own zone, whose crew member updates what it files: the grid keeps out of it (on an
# overlap the lowest key routes, and "cuadro-..." sorts before "prueba-carga").
load_zone = Polygon.from_bbox(@LOAD_ZONE_BOX@)
load_zone.srid = 4326
inside = (load_zone, "T********")  # interiors meet: a zone already carved only touches it
for zone in Zone.objects.current().filter(commune=commune, geometry__relate=inside).exclude(key="prueba-carga"):
    rest = zone.geometry.difference(load_zone)
    rest = MultiPolygon(rest, srid=4326) if rest.geom_type == "Polygon" else MultiPolygon(*rest, srid=4326)
    zone_save_version(commune=commune, key=zone.key, name=zone.name, geometry=rest, source=zone.source)
zones = (Zone.objects.current().filter(commune=commune).exclude(key="prueba-carga").annotate(size=Area("geometry"))
         .order_by("-size", "pk"))
for zone in zones:
    crew, _ = Crew.objects.get_or_create(name=f"Cuadrilla {zone.name}", defaults=dict(
        department=department, commune=commune, daily_capacity=50))
    zone_assign_crew(zone=zone, crew=crew)
User = get_user_model()
planner, _ = User.objects.get_or_create(username="@PLANNER@", defaults=dict(is_staff=True, first_name="Planificación"))
planner.set_password("@PASSWORD@")
planner.save()
for each in Commune.objects.active():
    CommuneMembership.objects.get_or_create(user=planner, commune=each)
member, _ = User.objects.get_or_create(username="@CREW_MEMBER@", defaults=dict(is_staff=True, first_name="Cuadrilla"))
member.set_password("@PASSWORD@")
member.save()
member.groups.add(Group.objects.get_or_create(name=CREW_MEMBER)[0])
CommuneMembership.objects.get_or_create(user=member, commune=commune)
own = Crew.objects.get(name=f"Cuadrilla {zones[0].name}")
own.members.add(member)
for other in Crew.objects.filter(members=member).exclude(pk=own.pk):
    other.members.remove(member)
print(zones.count())
"""
for _key, _value in {
    "CUT": MUNICIPALITY,
    "PLANNER": PLANNER,
    "CREW_MEMBER": CREW_MEMBER,
    "PASSWORD": PASSWORD,
    "LOAD_ZONE_BOX": repr(LOAD_ZONE_BOX),
}.items():
    SETUP = SETUP.replace(f"@{_key}@", _value)

WRITE_CSV = """
import numpy as np, shapely
from pathlib import Path
from geo_siac.reports.synthetic import write_synthetic_csv
from geo_siac.zones.models import CensusZone

zones = list(CensusZone.objects.filter(pob_total__gt=0).order_by("geocodigo").values_list("geometry", "pob_total"))
write_synthetic_csv(Path("@PATH@"), @ROWS@, [shapely.from_wkb(bytes(g.wkb)) for g, _ in zones], seed=26, days=@DAYS@,
                    prefix="@SOURCE@", population=np.array([p for _, p in zones], dtype=float))
"""


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def phase(title: str) -> None:
    print(f"\n== {title} (load average {loadavg()}, {time.strftime('%H:%M:%S', time.gmtime())} UTC)", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def prepare(env: dict) -> None:
    from ingest import prepare_database
    from production_server import manage, psql

    data = Path(os.environ.get("GEO_SIAC_SHARED_DATA", ROOT.parent / "shared" / "data"))
    for needed in (COMUNAS, CENSUS):
        if not (data / needed).exists():
            raise SystemExit(f"missing {data / needed}: the region benchmark needs the shared public data")
    prepare_database(cuts=(), boundaries=data / COMUNAS)
    started = time.monotonic()
    manage(env, "load_population", str(data / CENSUS), "--skip-loaded", "--no-progress", "--commit")
    print(f"census population loaded in {time.monotonic() - started:.0f} s (skipped when already there)")
    if (
        psql(
            env,
            f"SELECT count(*) FROM zones_zone z JOIN zones_commune c ON c.id = z.commune_id "
            f"WHERE c.cut = '{MUNICIPALITY}'",
        ).strip()
        == "0"
    ):
        manage(env, "generate_zones", "--commune", MUNICIPALITY, "--grid-m", "4000", "--commit")
    zones = manage(env, "shell", "-c", SETUP).split()[-1]
    communes = psql(env, "SELECT count(*) FROM zones_commune WHERE is_active").strip()
    people = psql(env, "SELECT sum(pob_total) FROM zones_censuszone").strip()
    print(f"{communes} active comunas, {int(people):,} people in census zones, {zones} crew zones in {MUNICIPALITY}")


def load(env: dict, reports: int) -> dict:
    """The reports through the bulk importer, unless the database already holds them. Returns what was measured."""
    from production_server import manage, psql, stored_reports

    stored = stored_reports(env)
    if stored >= reports * 0.999:  # the importer rejects the few points a census zone has outside its comuna
        print(f"{stored:,} reports already stored: reused, the load is not measured again")
        return {}
    if stored:
        psql(env, "TRUNCATE reports_reportevent, reports_report RESTART IDENTITY CASCADE")
    before = int(psql(env, "SELECT pg_database_size(current_database())"))
    folder = Path(tempfile.mkdtemp(prefix="region-"))
    try:
        path = folder / "region.csv"
        started = time.monotonic()
        script = WRITE_CSV
        for key, value in {"PATH": path, "ROWS": reports, "DAYS": DAYS, "SOURCE": SOURCE}.items():
            script = script.replace(f"@{key}@", str(value))
        manage(env, "shell", "-c", script)
        csv_bytes = path.stat().st_size
        print(f"generated {reports:,} rows in {time.monotonic() - started:.0f} s ({csv_bytes / 1e6:,.0f} MB CSV)")
        started = time.monotonic()
        summary = manage(env, "import_reports", str(path), "--commit", "--no-progress", "--source", SOURCE)
        seconds = time.monotonic() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    inserted = stored_reports(env)
    print(summary.strip())
    print(
        f"bulk load: {inserted:,} reports in {seconds:.0f} s = {reports / seconds:,.0f} rows/s (rows read per second)"
    )
    started = time.monotonic()
    routed = manage(
        env,
        "shell",
        "-c",
        f"from geo_siac.reports.services import reports_route_unrouted; print(reports_route_unrouted(source='{SOURCE}'))",
    ).split()[-1]
    route_seconds = time.monotonic() - started
    print(f"routed the {int(routed):,} open reports as report_create would, in {route_seconds:.0f} s")
    started = time.monotonic()
    psql(env, "VACUUM ANALYZE")
    vacuum_seconds = time.monotonic() - started
    after = int(psql(env, "SELECT pg_database_size(current_database())"))
    per_report = (after - before) / inserted
    print(
        f"database grew {(after - before) / 1e9:.2f} GB = {per_report:,.0f} bytes per report (tables, indexes, "
        f"two or three history events each); VACUUM ANALYZE {vacuum_seconds:.0f} s"
    )
    return {
        "reports": reports,
        "rows_per_s": reports / seconds,
        "per_report": per_report,
        "csv_per_row": csv_bytes / reports,
        "open_share": int(routed) / inserted,
        "route_per_s": int(routed) / max(route_seconds, 0.001),
        "vacuum_per_report": vacuum_seconds / inserted,
    }


def refresh_indicators(env: dict) -> None:
    from production_server import manage

    started = time.monotonic()
    manage(env, "refresh_indicators")
    print(
        f"manage.py refresh_indicators (what the public page reads, on its timer): {time.monotonic() - started:.1f} s"
    )


def signed_in(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/cuenta/ingresar/", timeout=60)
    answer = session.post(
        base + "/cuenta/ingresar/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": CSRF.search(page.text)[1]},
        headers={"Referer": base + "/cuenta/ingresar/"},
        allow_redirects=False,
        timeout=60,
    )
    if answer.status_code != 302:
        raise SystemExit(f"{username} could not sign in: {answer.status_code}")
    return session


def timed(
    session: requests.Session, url: str, repeat: int, *, cap_s: float, before=None
) -> tuple[list[float], int | str]:
    """Milliseconds of `repeat` requests after one warm-up (fewer if they pass cap_s), and the last body's bytes.
    A request that fails (gunicorn's worker timeout answers 500, or closes the connection) ends the list with its
    time as a negative figure, and the status instead of the size."""
    times, size, spent = [], 0, 0.0
    for i in range(repeat + 1):
        if before:
            before()
        started = time.perf_counter()
        try:
            answer = session.get(url, timeout=300)
        except requests.RequestException:  # the worker was killed before it answered, or while it sent the page
            return [*times, -(time.perf_counter() - started) * 1000], "no answer"
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            return [*times, -elapsed * 1000], answer.status_code
        size = len(answer.content)
        if i:
            times.append(elapsed * 1000)
            spent += elapsed
            if spent > cap_s:
                break
    return times, size


def line(label: str, times: list[float], size: int | str) -> dict:
    if times[-1] < 0:
        print(f"{label:<58} failed ({size}) after {-times[-1] / 1000:.1f} s (gunicorn's timeout): target NOT met")
        return {"label": label, "failed": size}
    p50, p95 = statistics.median(times), percentile(times, 0.95)
    verdict = "met" if p95 < TARGET_MS else "NOT met"
    print(
        f"{label:<58} {len(times):>3} {p50:>8.0f} {p95:>8.0f} {size / 1024:>8,.0f}  "
        f"target p95 < {TARGET_MS} ms: {verdict}",
        flush=True,
    )
    return {"label": label, "p50": p50, "p95": p95}


def crew_queue_size(env: dict) -> int:
    from production_server import psql

    return int(
        psql(
            env,
            "SELECT count(*) FROM reports_report r JOIN zones_crew_members m ON m.crew_id = r.crew_id "
            f"JOIN auth_user u ON u.id = m.user_id WHERE u.username = '{CREW_MEMBER}' AND r.closed_at IS NULL",
        )
    )


def commune_reports(env: dict) -> int:
    from production_server import psql

    return int(
        psql(
            env,
            "SELECT count(*) FROM reports_report r JOIN zones_commune c ON c.id = r.commune_id "
            f"WHERE c.cut = '{MUNICIPALITY}'",
        )
    )


def last_full_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end.replace(day=calendar.monthrange(end.year, end.month)[1])


def pages(env: dict, port: int, repeat: int, cap_s: float) -> list[dict]:
    from production_server import start_server

    base = f"http://127.0.0.1:{port}"
    server = start_server(env, base)
    rows = []
    try:
        planner, crew = signed_in(base, PLANNER), signed_in(base, CREW_MEMBER)
        since, until = last_full_month(date.today())
        header = f"{'page':<58} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'KB':>8}"
        phase("planner's heat map (/mapas/calor/mapa.html) as a planner of the 52 comunas")
        print(header)
        for res in (9, 10):
            for name, query in (
                ("no filter", ""),
                ("category bache", "&category=bache"),
                (f"comuna {MUNICIPALITY}", f"&comuna={MUNICIPALITY}"),
                (f"period {since:%Y-%m}", f"&since={since}&until={until}"),
            ):
                times, size = timed(planner, f"{base}/mapas/calor/mapa.html?res={res}{query}", repeat, cap_s=cap_s)
                rows.append(line(f"heat map res {res}, {name}", times, size))
        times, size = timed(planner, f"{base}/mapas/calor/?res=9", repeat, cap_s=cap_s)
        rows.append(line("heat map page around the map (/mapas/calor/)", times, size))

        phase("public indicators page and crew queue")
        print(header)
        cache = Path(env["CACHE_LOCATION"])

        def empty_cache() -> None:
            for entry in cache.iterdir():
                entry.unlink(missing_ok=True)

        public = requests.Session()
        times, size = timed(public, f"{base}/transparencia/", repeat, cap_s=cap_s, before=empty_cache)
        rows.append(line("public indicators /transparencia/, cache emptied each time", times, size))
        times, size = timed(public, f"{base}/transparencia/", repeat, cap_s=cap_s)
        rows.append(line("public indicators /transparencia/, cached", times, size))
        times, size = timed(crew, f"{base}/cuadrilla/", repeat, cap_s=cap_s)
        rows.append(line(f"crew queue /cuadrilla/ (a crew member of {MUNICIPALITY})", times, size))
        print(
            f"  the crew holds {crew_queue_size(env):,} open reports; {MUNICIPALITY} has {commune_reports(env):,} in all"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return rows


def submissions(env: dict, seconds: int, users: int, replica_url: str | None) -> float:
    """bench/load.py's mix on this database; returns its report submissions per second."""
    run_env = {**env, "GEO_SIAC_BENCH_DB": env["PGDATABASE"]}
    run_env.pop("DATABASE_REPLICA_URL", None)
    if replica_url:
        run_env["DATABASE_REPLICA_URL"] = replica_url
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--prepared",
            "--seconds",
            str(seconds),
            "--users",
            str(users),
        ],
        cwd=ROOT,
        env=run_env,
        capture_output=True,
        text=True,
    )
    print("    " + result.stdout.strip().replace("\n", "\n    "))
    if result.returncode:
        raise SystemExit(f"bench/load.py failed:\n{result.stderr[-3000:]}")
    return float(SUBMISSIONS.search(result.stdout)[1])


def replica_comparison(env: dict, seconds: int, users: int, rounds: int) -> None:
    """Runs without and with the replica in turn (`rounds` of each), so the other load on a shared machine falls on
    both alike."""
    import django

    django.setup()
    from geo_siac.testing import StreamingReplica

    database = env["PGDATABASE"]
    phase("making a streaming replica of the cluster with pg_basebackup")
    started = time.monotonic()
    replica = StreamingReplica(env.get("PGPORT", "5432"))
    without, with_replica = [], []
    try:
        replica.create()
        print(f"replica streaming on 127.0.0.1:{replica.port} after {time.monotonic() - started:.0f} s")
        served = f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'"
        url = f"postgres://{env['PGUSER']}:{env['PGPASSWORD']}@127.0.0.1:{replica.port}/{database}"
        for turn in range(1, rounds + 1):
            phase(f"submissions, round {turn}, every read on the primary")
            without.append(submissions(env, seconds, users, None))
            phase(f"submissions, round {turn}, public reads on the replica")
            before = int(replica.sql(served))
            with_replica.append(submissions(env, seconds, users, url))
            print(f"the replica committed {int(replica.sql(served)) - before:,} read transactions of {database}")
    finally:
        replica.remove()
    a, b = statistics.median(without), statistics.median(with_replica)
    verdict = "met" if b >= a else "NOT met"
    print(
        f"\nsubmissions/s, median of {rounds}: {a:.1f} without the replica ({', '.join(f'{x:.1f}' for x in without)}), "
        f"{b:.1f} with it ({', '.join(f'{x:.1f}' for x in with_replica)}), {(b / a - 1) * 100:+.0f}%; "
        f"target: no slower with the replica: {verdict}"
    )


def estimate(measured: dict) -> None:
    """What a 20,000,000 load would take at the rates measured here (linear: the index rebuild grows a little
    faster than the rows)."""
    if not measured:
        return
    n = FULL_SIZE
    hours = (
        n / measured["rows_per_s"]
        + n * measured["open_share"] / measured["route_per_s"]
        + n * measured["vacuum_per_report"]
    ) / 3600
    database = n * measured["per_report"] / 1e9
    csv = n * measured["csv_per_row"] / 1e9
    print(
        f"\nestimate for {n:,} reports at these rates: load, routing and VACUUM {hours:.1f} h; database "
        f"{database:.0f} GB, plus {csv:.1f} GB of CSV while it loads, plus the same {database:.0f} GB again on a "
        f"replica's cluster"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=FULL_SIZE)
    parser.add_argument("--db", default="geo_siac_region", help="the benchmark's own database")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per page, after one warm-up")
    parser.add_argument("--cap-seconds", type=float, default=45, help="stop a page's requests after this long")
    parser.add_argument("--load-seconds", type=int, default=60, help="bench/load.py's counted window, each run")
    parser.add_argument("--load-users", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2, help="runs without and with the replica, in turn")
    parser.add_argument("--no-replica", action="store_true", help="skip the submissions with and without replica")
    parser.add_argument(
        "--no-refresh",
        action="store_true",
        help="do not run refresh_indicators first (its first run writes every report's published cell: hours at 20M); "
        "the public indicators page is then measured on whatever snapshot the database holds",
    )
    options = parser.parse_args()
    os.environ["GEO_SIAC_BENCH_DB"] = options.db

    import ingest  # noqa: F401  (sets PGDATABASE and the PG* defaults from GEO_SIAC_BENCH_DB)
    from production_server import free_port, psql, server_environment

    port = free_port()
    env = server_environment(port, cache_prefix="geo_siac_region_cache_")
    phase(f"preparing {options.db}")
    prepare(env)
    phase(f"loading {options.reports:,} reports")
    measured = load(env, options.reports)
    # production's timer keeps a snapshot younger than GEO_SIAC_INDICATORS_MAX_AGE_MINUTES (60 by default)
    recent = "SELECT count(*) FROM transparency_indicatorsnapshot WHERE as_of > now() - interval '50 minutes'"
    if options.no_refresh:
        print(
            f"refresh_indicators not run (--no-refresh); snapshots younger than 50 minutes: {psql(env, recent).strip()}"
        )
    elif measured or not int(psql(env, recent)):
        refresh_indicators(env)
    pages(env, port, options.repeat, options.cap_seconds)
    if not options.no_replica:
        replica_comparison(env, options.load_seconds, options.load_users, options.rounds)
    estimate(measured)
    phase("done")


if __name__ == "__main__":
    main()
