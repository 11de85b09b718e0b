"""Load test: citizens filing requests (service requests by the web form and Open311; reclamos, consultas,
sugerencias, felicitaciones and access-to-information requests by the web page's form without a place and a service
point's suggestion box), tracking lookups, public map views and crew updates, against a gunicorn server in production mode that this script starts on 127.0.0.1 and stops afterwards.

    .venv/bin/python bench/load.py --seconds 60 --users 60 --workers 3 [--rate 100] [--reports 1000000]
    .venv/bin/python bench/load.py --seconds 60 --users 20 --workers 3 --submissions-only
    .venv/bin/python bench/load.py --seconds 20 --users 20 --ceiling
    .venv/bin/python bench/load.py --seconds 60 --users 60 --workers 3 --request-cpu /tmp/cpu [--request-profile 30]

Without --rate every citizen goes as fast as 0.05-0.2 s of thinking allows (the machine saturates); with
--rate N the citizens offer N submissions per second and the rest of the mix in proportion, so latency is
measured at a stated load. The first --warmup seconds (10) are not counted. Runs against its own database (GEO_SIAC_BENCH_DB, default geo_siac_bench, as bench/ingest.py; created and
migrated if missing). With --reports N it first tops the table up to N synthetic reports through the bulk
importer, then places them in public as the refresh timer would (their k-anonymous cells), so the public map and the
GeoJSON API are measured at that size. Bounded: at most 300 s and 400 users, and only 127.0.0.1.
The load generator is locust (FastHttpUser, geventhttpclient) in this process, on the same 2 cores as the
server and PostgreSQL.
With --request-cpu DIR the workers time every request (bench/request_cpu.py) and the run ends with their CPU per
request type, weighted by the mix; --request-profile N adds a cProfile per type.

The submissions' mix (SUBMISSIONS, per 1,000): in Peñalolén complaints and suggestions are 17.4% of what comes in
(issue #23), so 174 of every 1,000 are requests without a place, as a citizen files them: the web page's form of
the kind (`/solicitud/<kind>/`, 149: reclamo 70, sugerencia 35, consulta 25, felicitación 10, acceso a información
9, with name, email and consent as the law asks) and the suggestion box of a service point (`/buzon/<id>/`, a
sugerencia, 25). The other 826 are service requests at a point, half by the web form and half by Open311. The rest
of the mix keeps its proportion to the submissions: per 1,000 submissions, 250 tracking pages, 250 public map
views (page and cells) and 125 GeoJSON API reads.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import collections  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gevent  # noqa: E402
from ingest import prepare_database  # noqa: E402  (sets PGDATABASE from GEO_SIAC_BENCH_DB, like this script)
from locust import FastHttpUser, between, constant_throughput, task  # noqa: E402
from locust.env import Environment  # noqa: E402
from production_server import (  # noqa: E402
    LOAD_ZONE_BOX,
    free_port,
    manage,
    server_environment,
    start_server,
    stored_reports,
    top_up,
)

# About 1 km x 1 km of north-east Puente Alto, holding the density of the 1M synthetic base data (7,600 reports
# at 1.1M). The reports this script files land in its own crew zone, 3 km away, so runs do not pile into it
# (the box the first runs used, next to the zone, had collected 93,000).
NEIGHBOURHOOD = "-70.541,-33.596,-70.531,-33.587"
CREW_PASSWORD = "carga-" + "x" * 20
counter = itertools.count()
tracking_codes: list[str] = []
to_update: collections.deque = collections.deque(maxlen=10_000)  # filed by the web form, for the crew to take
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def jitter() -> tuple[float, float]:
    """A point in the load test's crew zone, in the part of it inside Puente Alto (about 2.8 km x 1.7 km)."""
    return round(random.uniform(-33.615, -33.600), 6), round(random.uniform(-70.59, -70.56), 6)


def submitted(response, *, crew: bool = False) -> None:
    """A submission answered by the redirect to its confirmation page: its code is kept for the tracking page (and,
    for a service request by the web form, for the crew to take)."""
    if response.status_code == 302:
        code = response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
        tracking_codes.append(code)
        if crew:
            to_update.append(code)
        response.success()
    else:
        response.failure(f"status {response.status_code}")


class Filer(FastHttpUser):
    """What a citizen files, by every kind and channel of the mix; Citizen and Submitter draw from it."""

    abstract = True
    api_key = ""
    box_id = 0

    def on_start(self):
        page = self.client.get("/", name="GET / (form)")
        self.csrf = CSRF.search(page.text).group(1)

    def web_form(self):
        lat, lng = jitter()
        n = next(counter)
        with self.client.post(
            "/",
            name="POST / (web form)",
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.host + "/"},
            data={
                "service_code": "retiro-escombros",
                "lat": lat,
                "long": lng,
                "token": f"load-{n}-{random.random()}",
                "description": f"Prueba de carga {n}",
                "csrfmiddlewaretoken": self.csrf,
            },
        ) as response:
            submitted(response, crew=True)

    def open311(self):
        lat, lng = jitter()
        self.client.post(
            "/open311/v2/requests.json",
            name="POST open311",
            data={
                "api_key": self.api_key,
                "jurisdiction_id": "puente-alto",
                "service_code": "retiro-escombros",
                "lat": lat,
                "long": lng,
                "description": f"Prueba de carga {next(counter)}",
            },
        )

    def placeless(self, slug: str, service_code: str):
        """A request without a place through its kind's form on the web page, in Puente Alto."""
        n = next(counter)
        contact = (
            {"reporter_name": "Vecina de Prueba", "reporter_email": f"carga-{n}@example.org", "consent": "on"}
            if slug == "acceso-informacion"  # Ley 20.285 asks for the requester's name and where to answer
            else {}
        )
        with self.client.post(
            f"/solicitud/{slug}/",
            name=f"POST /solicitud/{slug}/",
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.host + f"/solicitud/{slug}/"},
            data={
                "service_code": service_code,
                "commune": "13201",
                "token": f"load-{n}-{random.random()}",
                "description": f"Prueba de carga {n}",
                "csrfmiddlewaretoken": self.csrf,
                **contact,
            },
        ) as response:
            submitted(response)

    def suggestion_box(self):
        n = next(counter)
        with self.client.post(
            f"/buzon/{self.box_id}/",
            name="POST /buzon/[id]/ (sugerencia)",
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.host + f"/buzon/{self.box_id}/"},
            data={
                "service_code": "sugerencia",
                "token": f"load-{n}-{random.random()}",
                "description": f"Prueba de carga {n}",
                "csrfmiddlewaretoken": self.csrf,
            },
        ) as response:
            submitted(response)


def placeless_task(slug: str, service_code: str):
    def task(user):
        user.placeless(slug, service_code)

    task.__name__ = f"placeless_{slug}"
    return task


# Per 1,000 submissions (the module's docstring gives the reasons).
SUBMISSIONS = {
    Filer.web_form: 413,
    Filer.open311: 413,
    placeless_task("reclamo", "reclamo-servicio"): 70,
    placeless_task("sugerencia", "sugerencia"): 35,
    placeless_task("consulta", "consulta-tramites"): 25,
    placeless_task("felicitacion", "felicitacion"): 10,
    placeless_task("acceso-informacion", "acceso-informacion"): 9,
    Filer.suggestion_box: 25,
}
# What the report counts as a submission: every request filed, of every kind and channel.
SUBMISSION_NAMES = (
    "POST / (web form)",
    "POST open311",
    "POST /buzon/[id]/ (sugerencia)",
    *(
        f"POST /solicitud/{slug}/"
        for slug in ("reclamo", "sugerencia", "consulta", "felicitacion", "acceso-informacion")
    ),
)


class Citizen(Filer):
    weight = 10
    wait_time = between(0.05, 0.2)

    def tracking(self):
        if tracking_codes:
            self.client.get(f"/seguimiento/{random.choice(tracking_codes)}/", name="GET /seguimiento/[code]/")

    def public_map(self):
        """The public map as a browser loads it: the page (its scripts and styles are static files a browser keeps),
        then its data, every H3 cell of the last year with k or more reports."""
        self.client.get("/transparencia/mapa/", name="GET public map (page)")
        self.client.get("/transparencia/celdas.geojson", name="GET public map (cells)")

    def neighbourhood_api(self):
        """A third-party app or a planner's script reading the GeoJSON API for about 1 km x 1 km, 100 features."""
        self.client.get(
            "/api/reports/", params={"bbox": NEIGHBOURHOOD, "page_size": 100}, name="GET GeoJSON API (bbox, 100)"
        )

    # Per 1,000 submissions, the reads in the same proportion to them as before the kinds without a place.
    tasks = {**SUBMISSIONS, tracking: 250, public_map: 250, neighbourhood_api: 125}


class CrewMember(FastHttpUser):
    """A crew member on a phone: their queue, then a report of it moved to "en ejecución" with a note."""

    weight = 1
    wait_time = between(0.5, 1.5)

    def on_start(self):
        page = self.client.get("/cuenta/ingresar/", name="GET login")
        token = CSRF.search(page.text).group(1)
        self.client.post(
            "/cuenta/ingresar/",
            name="POST login",
            headers={"Referer": self.host + "/cuenta/ingresar/"},
            data={"username": "carga-cuadrilla", "password": CREW_PASSWORD, "csrfmiddlewaretoken": token},
        )

    @task(1)
    def queue(self):
        self.client.get("/cuadrilla/", name="GET /cuadrilla/ (queue)")

    @task(3)
    def update(self):
        if not to_update:
            return
        code = to_update.popleft()
        page = self.client.get(f"/cuadrilla/solicitud/{code}/", name="GET /cuadrilla/solicitud/[code]/")
        match = CSRF.search(page.text)
        if match is None:
            return
        with self.client.post(
            f"/cuadrilla/solicitud/{code}/estado/",
            name="POST crew status update",
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.host + f"/cuadrilla/solicitud/{code}/"},
            data={
                "status": "in_progress",
                "note": "En camino (prueba de carga)",
                "csrfmiddlewaretoken": match.group(1),
            },
        ) as response:
            if response.status_code == 302:
                response.success()
            else:
                response.failure(f"status {response.status_code}")


class Submitter(Filer):
    """--submissions-only: citizens who only file requests (the same kinds and channels in the same proportions),
    without pause, to show the most submissions per second this machine takes when nothing else is served."""

    wait_time = between(0, 0)
    tasks = SUBMISSIONS


class HealthProbe(FastHttpUser):
    """--ceiling: the lightest request the server has (the health check: one `SELECT 1`), as fast as possible,
    to show how many requests per second this machine serves at all with the generator sharing its cores."""

    wait_time = between(0, 0)

    @task
    def health(self):
        self.client.get("/salud/", name="GET /salud/ (ceiling)")


PUBLISH = "from geo_siac.reports.services import report_public_cells_refresh; report_public_cells_refresh()"

SETUP = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from geo_siac.open311.services import api_key_create
from geo_siac.catalogue.models import Department
from geo_siac.zones.models import Commune, CommuneMembership, Crew, ServicePoint, Zone
from geo_siac.zones.roles import CREW_MEMBER
from geo_siac.zones.services import zone_assign_crew, zone_save_version
import time

commune = Commune.objects.get(cut="13201")
department, _ = Department.objects.get_or_create(name="Dirección de Medio Ambiente, Aseo y Ornato")
# A crew of this run's own: the reports earlier runs routed to the zone stay with earlier crews, so the crew's queue
# holds what this run files, not every run's leftovers.
crew = Crew.objects.create(name=f"Cuadrilla prueba de carga {time.time():.0f}", department=department, commune=commune,
                           daily_capacity=1000)
zone = Zone.objects.current().filter(commune=commune, key="prueba-carga").first()
if zone is None:
    zone = zone_save_version(commune=commune, key="prueba-carga", name="Zona de la prueba de carga",
                             geometry=MultiPolygon(Polygon.from_bbox(@LOAD_ZONE_BOX@), srid=4326))
zone_assign_crew(zone=zone, crew=crew)
user, _ = get_user_model().objects.get_or_create(username="carga-cuadrilla")
user.set_password("@CREW_PASSWORD@")
user.save()
user.groups.add(Group.objects.get_or_create(name=CREW_MEMBER)[0])
# A crew member sees only the crews of the comunas they work for (zones.tenancy).
CommuneMembership.objects.get_or_create(user=user, commune=commune)
for earlier in Crew.objects.filter(members=user):
    earlier.members.remove(user)
crew.members.add(user)
# The suggestion box of a service point of Puente Alto (the night-service session), the same one every run.
box, _ = ServicePoint.objects.get_or_create(
    commune=commune, source="bench/load.py", source_id="buzon",
    defaults={"name": "Atención nocturna (prueba de carga)", "kind": "night_service",
              "point": Point(-70.575, -33.61, srid=4326)},
)
print(box.pk, api_key_create(name="bench/load.py", rate_limit_per_minute=10**9)[1])
""".replace("@CREW_PASSWORD@", CREW_PASSWORD).replace("@LOAD_ZONE_BOX@", repr(LOAD_ZONE_BOX))


def merged_percentile(entries, q: float) -> float:
    counts = collections.Counter()
    for entry in entries:
        counts.update(entry.response_times)
    total, seen = sum(counts.values()), 0
    for ms in sorted(counts):
        seen += counts[ms]
        if seen >= q * total:
            return ms
    return 0.0


def report(env: Environment, seconds: float, workers: str, stored: int) -> None:
    print(
        f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; gunicorn workers: {workers}; load generator on the same machine; "
        f"{stored:,} reports stored at the start"
    )
    print(f"{'request':38} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}  (ms)")
    for entry in [*sorted(env.stats.entries.values(), key=lambda e: e.name), env.stats.total]:
        print(
            f"{entry.name:38} {entry.num_requests:7d} {entry.num_failures:5d} {entry.num_requests / seconds:7.1f} "
            f"{entry.get_response_time_percentile(0.5):6.0f} {entry.get_response_time_percentile(0.95):6.0f} "
            f"{entry.get_response_time_percentile(0.99):6.0f} {entry.max_response_time:6.0f}"
        )
    submissions = [e for e in env.stats.entries.values() if e.name in SUBMISSION_NAMES]
    maps = [e for e in env.stats.entries.values() if e.name.startswith("GET public map")]
    filed = sum(e.num_requests for e in submissions)
    failed = sum(e.num_failures for e in submissions)
    print(
        f"submissions (every kind): {filed / seconds:.1f}/s, {failed} failed, p99 {merged_percentile(submissions, 0.99):.0f} ms "
        f"(target >= 200/s, 0 errors, p99 <= 250 ms)"
    )
    print(
        f"public map: {sum(e.num_requests for e in maps) / seconds:.1f}/s, p99 {merged_percentile(maps, 0.99):.0f} ms "
        f"(target p99 <= 200 ms at 1,000,000 reports)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10, help="seconds of load before the counted window")
    parser.add_argument("--reports", type=int, default=0, help="top the table up to this many reports first")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", 0)) or None)
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="offer this many report submissions per second (with the rest of the mix in proportion) "
        "instead of letting every citizen go as fast as 0.05-0.2 s of thinking allows",
    )
    parser.add_argument(
        "--prepared",
        action="store_true",
        help="the database is ready (bench/region.py's): neither migrate it nor load the two comunas",
    )
    parser.add_argument("--ceiling", action="store_true", help="only the health check, as fast as possible")
    parser.add_argument(
        "--request-cpu",
        metavar="DIR",
        help="time each request in the workers (bench/request_cpu.py) and print their CPU per request type",
    )
    parser.add_argument(
        "--request-profile",
        type=int,
        default=0,
        metavar="N",
        help="with --request-cpu: also a cProfile per request type (CPU clock), its N top entries printed",
    )
    parser.add_argument(
        "--submissions-only",
        action="store_true",
        help="only submissions (every kind and channel of the mix, in its proportions), as fast as possible",
    )
    options = parser.parse_args()
    seconds, users = min(options.seconds, 300), min(options.users, 400)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(
        port,
        cache_prefix="geo_siac_load_cache_",
        GEO_SIAC_SUBMISSIONS_PER_WINDOW="100000000",
        GEO_SIAC_FORM_POSTS_PER_WINDOW="100000000",
    )
    if options.workers:
        env["GUNICORN_WORKERS"] = str(options.workers)
    if options.request_cpu:
        options.request_cpu = os.path.abspath(options.request_cpu)  # the server runs in the repository
        os.makedirs(options.request_cpu)  # a new directory: the summary reads every file in it
        env["GEO_SIAC_BENCH_REQUEST_CPU"] = options.request_cpu
        env["GEO_SIAC_BENCH_REQUEST_PROFILE"] = "1" if options.request_profile else ""
    if options.rate:
        # Each citizen runs `per_citizen` tasks a second (fewer if a request takes longer than 1/per_citizen s).
        citizens = round(users * Citizen.weight / (Citizen.weight + CrewMember.weight))
        # locust expands the weights: Citizen.tasks holds each task as many times as its weight.
        per_citizen = options.rate * len(Citizen.tasks) / sum(SUBMISSIONS.values()) / citizens
        Citizen.wait_time = constant_throughput(per_citizen)
        print(f"offering {options.rate:.0f} submissions/s: {citizens} citizens at {per_citizen:.2f} tasks/s each")
    if not options.prepared:
        prepare_database()  # bench/ingest.py's: create, migrate, load the two comunas
    if options.reports > stored_reports(env):
        top_up(env, options.reports, source="load")
        # Where production's refresh timer (refresh_indicators) would have placed them in public: without it the
        # GeoJSON API's box and the public map find none of the synthetic reports, and measure empty answers.
        manage(env, "shell", "-c", PUBLISH)
    stored = stored_reports(env)
    box_id, Filer.api_key = manage(env, "shell", "-c", SETUP).split()[-2:]
    Filer.box_id = int(box_id)
    server = start_server(env, base, "bench/request_cpu.py" if options.request_cpu else "geo_siac/gunicorn.conf.py")
    try:
        load = Environment(
            user_classes=(
                [HealthProbe] if options.ceiling else [Submitter] if options.submissions_only else [Citizen, CrewMember]
            ),
            host=base,
        )
        runner = load.create_local_runner()
        runner.start(users, spawn_rate=users)
        # Let every user log in and every worker serve its first requests, then count from zero.
        gevent.sleep(options.warmup)
        load.stats.reset_all()
        if options.request_cpu:
            Path(options.request_cpu, "counting").touch()  # the workers count from their next request on
        started = time.monotonic()
        gevent.spawn_later(seconds, runner.quit)
        runner.greenlet.join()
        report(load, time.monotonic() - started, env.get("GUNICORN_WORKERS", "default (2 x cores + 1)"), stored)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if options.request_cpu:
        from request_cpu import summary  # the workers' hooks; imported here, where they have written their files

        summary(options.request_cpu, SUBMISSION_NAMES, top=options.request_profile)


if __name__ == "__main__":
    main()
