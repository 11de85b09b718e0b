"""CPU per request of one production gunicorn worker, per endpoint (issue #23): the figure that decides how many
requests the load bench's workers can serve, and much less disturbed by other work on the machine than req/s.

    GEO_SIAC_BENCH_DB=geo_siac_bench_load1m .venv/bin/python bench/worker_cpu.py [--requests 400] [--warmup 30]
    GEO_SIAC_BENCH_DB=<a copy of it> .venv/bin/python bench/worker_cpu.py --writes [--only-writes]
    GEO_SIAC_BENCH_DB=<a copy of it> .venv/bin/python bench/worker_cpu.py --crew

Starts gunicorn as bench/load.py does (bench/production_server.py) with one worker on the bench database, then per
endpoint sends `--warmup` requests, reads the worker's utime+stime from /proc, sends `--requests` more one after
another (a new connection each, as the load generator's users open theirs) and prints the CPU per request. Reads
only, unless `--writes`: then it also files what bench/load.py's citizens file (a service request by the web form and
by Open311, a reclamo by its form, a suggestion box's sugerencia), after bench/load.py's own setup (a crew, the box,
an API key), so run it on a copy of the bench database (`createdb -T`), never on the one others measure. With
`--crew` (also a copy): bench/load.py's crew member's pages, logged in as it logs in, after filing by the web form
the reports they take (into the run's own crew's queue): the queue, a report's page, and its status update (each
POST on a report of its own, moved to "en ejecución" with a note, as bench/load.py's crew member does).
"""

import argparse
import http.cookiejar
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import prepare_database  # noqa: E402  (sets PGDATABASE from GEO_SIAC_BENCH_DB)
from load import CREW_PASSWORD, CSRF, NEIGHBOURHOOD, SETUP, jitter  # noqa: E402
from production_server import free_port, manage, psql, server_environment, start_server  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a submission's 302 is its answer: the confirmation page is not what is measured


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url: str, post: dict | None = None, headers: dict | None = None, expect: int = 200) -> None:
    """GET `url`, or POST `post` form-encoded as a browser sends it; anything but `expect` stops the run."""
    data = urllib.parse.urlencode(post).encode() if post is not None else None
    try:
        with OPENER.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=30) as answer:
            answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        error.read()
        status = error.code
    if status != expect:
        raise SystemExit(f"{url} answered {status}, not {expect}")


def submissions(env: dict, base: str) -> dict:
    """bench/load.py's ways of filing, each a function that files one: its setup first (crew, box, API key), then
    the form's CSRF cookie and token as a browser has them from the page."""
    box_id, api_key = manage(env, "shell", "-c", SETUP).split()[-2:]
    with urllib.request.urlopen(base + "/", timeout=30) as page:
        token = CSRF.search(page.read().decode()).group(1)
        cookie = page.headers["Set-Cookie"].split(";", 1)[0]
    counter = iter(range(10**9))

    def form(path: str, **data):
        n = next(counter)
        fields = {"token": f"cpu-{n}-{random.random()}", "description": f"Prueba {n}", "csrfmiddlewaretoken": token}
        headers = {"Cookie": cookie, "Referer": base + path}
        fetch(base + path, {**fields, **data}, headers, expect=302)

    def web_form():
        lat, lng = jitter()
        form("/", service_code="retiro-escombros", lat=lat, long=lng)

    def open311():
        lat, lng = jitter()
        data = {"api_key": api_key, "jurisdiction_id": "puente-alto", "service_code": "retiro-escombros"}
        fetch(
            f"{base}/open311/v2/requests.json", {**data, "lat": lat, "long": lng, "description": "Prueba"}, expect=201
        )

    return {
        "web form (service request)": web_form,
        "Open311 POST": open311,
        "reclamo (/solicitud/reclamo/)": lambda: form(
            "/solicitud/reclamo/", service_code="reclamo-servicio", commune="13201"
        ),
        "suggestion box (/buzon/<id>/)": lambda: form(f"/buzon/{box_id}/", service_code="sugerencia"),
    }


def crew_pages(env: dict, base: str, reports: int) -> dict:
    """bench/load.py's crew member's three requests, each a function that sends one, after its setup, `reports`
    reports filed by the web form for it to take, and its login through the login form."""
    file = submissions(env, base)["web form (service request)"]  # after the setup: the run's crew, its member
    for _ in range(reports):
        file()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPCookieProcessor(jar))

    def send(path: str, post: dict | None = None, expect: int = 200) -> str:
        data = urllib.parse.urlencode(post).encode() if post is not None else None
        request = urllib.request.Request(base + path, data=data, headers={"Referer": base + path})
        try:
            with opener.open(request, timeout=30) as answer:
                body, status = answer.read().decode(), answer.status
        except urllib.error.HTTPError as error:
            body, status = error.read().decode(), error.code
        if status != expect:
            raise SystemExit(f"{path} answered {status}, not {expect}")
        return body

    token = CSRF.search(send("/cuenta/ingresar/")).group(1)
    send(
        "/cuenta/ingresar/",
        {"username": "carga-cuadrilla", "password": CREW_PASSWORD, "csrfmiddlewaretoken": token},
        expect=302,
    )
    codes = psql(
        env,
        "SELECT tracking_code FROM reports_report r JOIN zones_crew_members m ON m.crew_id = r.crew_id"
        " JOIN auth_user u ON u.id = m.user_id WHERE u.username = 'carga-cuadrilla' AND r.status = 'submitted'",
    ).split()
    if len(codes) < reports:
        raise SystemExit(f"the crew's queue holds {len(codes)} reports, not the {reports} filed")
    shown, to_update = codes[: len(codes) // 2], iter(codes[len(codes) // 2 :])
    page_token = {}

    def update():
        code = next(to_update)
        data = {"status": "in_progress", "note": "En camino (prueba de carga)", **page_token}
        send(f"/cuadrilla/solicitud/{code}/estado/", data, expect=302)

    def page():
        page_token["csrfmiddlewaretoken"] = CSRF.search(send(f"/cuadrilla/solicitud/{random.choice(shown)}/")).group(1)

    return {
        "crew queue (/cuadrilla/)": lambda: send("/cuadrilla/"),
        "crew report page": page,
        "crew status update": update,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--writes", action="store_true", help="also file requests (on a copy of the bench database)")
    parser.add_argument("--only-writes", action="store_true", help="with --writes: only the submissions")
    parser.add_argument("--crew", action="store_true", help="only the crew member's pages (on a copy)")
    options = parser.parse_args()
    prepare_database()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(
        port,
        cache_prefix="geo_siac_worker_cpu_",
        GUNICORN_WORKERS="1",
        GEO_SIAC_SUBMISSIONS_PER_WINDOW="100000000",
        GEO_SIAC_FORM_POSTS_PER_WINDOW="100000000",
    )
    codes = psql(env, "SELECT tracking_code FROM reports_report ORDER BY id DESC LIMIT 500").split()
    endpoints = {
        "/salud/": lambda: fetch(f"{base}/salud/"),
        "tracking page": lambda: fetch(f"{base}/seguimiento/{random.choice(codes)}/"),
        "GeoJSON API (bbox, 100)": lambda: fetch(f"{base}/api/reports/?bbox={NEIGHBOURHOOD}&page_size=100"),
        "public map page": lambda: fetch(f"{base}/transparencia/mapa/"),
        "public map cells": lambda: fetch(f"{base}/transparencia/celdas.geojson"),
    }
    server = start_server(env, base)
    try:
        if options.writes:
            endpoints = {
                **({"/salud/": endpoints["/salud/"]} if options.only_writes else endpoints),
                **submissions(env, base),
            }
        if options.crew:
            endpoints = crew_pages(env, base, 2 * (options.warmup + options.requests))
        worker = worker_pid(server.pid)
        for name, send in endpoints.items():
            for _ in range(options.warmup):
                send()
            before, started = cpu_seconds(worker), time.monotonic()
            for _ in range(options.requests):
                send()
            spent, wall = cpu_seconds(worker) - before, time.monotonic() - started
            print(f"{name}: {spent / options.requests * 1000:.2f} ms CPU, {wall / options.requests * 1000:.2f} ms wall")
    finally:
        server.terminate()
        server.wait()
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
