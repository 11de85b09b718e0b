"""Load test: citizens filing reports (web form and Open311), tracking lookups and public map reads, against a
gunicorn server in production mode that this script starts on 127.0.0.1 and stops afterwards.

    PGDATABASE=geo_siac .venv/bin/python bench/load.py --seconds 60 --users 40

Uses the database the settings point at (it adds the reports it files). Bounded: at most 300 s and 200 users,
and only 127.0.0.1. Crew updates come with issue 4 (crew workspace) and are not in the mix yet.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import HttpUser, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PUENTE_ALTO = (-33.6117, -70.5758)
BBOX = "-70.62,-33.64,-70.53,-33.57"
counter = itertools.count()
tracking_codes: list[str] = []


def jitter() -> tuple[float, float]:
    lat, lng = PUENTE_ALTO
    return round(lat + random.uniform(-0.005, 0.005), 6), round(lng + random.uniform(-0.005, 0.005), 6)


class Citizen(HttpUser):
    wait_time = between(0.05, 0.2)
    api_key = ""

    def on_start(self):
        self.client.get("/", name="GET / (form)")

    @task(4)
    def web_form(self):
        lat, lng = jitter()
        n = next(counter)
        with self.client.post("/", name="POST / (web form)", allow_redirects=False, catch_response=True,
                              headers={"X-CSRFToken": self.client.cookies.get("csrftoken", "")},
                              data={"service_code": "retiro-escombros", "lat": lat, "long": lng, "token": f"load-{n}",
                                    "description": f"Prueba de carga {n}"}) as response:
            if response.status_code == 302:
                tracking_codes.append(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
                response.success()
            else:
                response.failure(f"status {response.status_code}")

    @task(4)
    def open311(self):
        lat, lng = jitter()
        self.client.post("/open311/v2/requests.json", name="POST open311", data={
            "api_key": self.api_key, "jurisdiction_id": "puente-alto", "service_code": "retiro-escombros",
            "lat": lat, "long": lng, "description": f"Prueba de carga {next(counter)}"})

    @task(2)
    def tracking(self):
        if tracking_codes:
            self.client.get(f"/seguimiento/{random.choice(tracking_codes)}/", name="GET /seguimiento/[code]/")

    @task(3)
    def public_map(self):
        self.client.get("/api/reports/", params={"bbox": BBOX, "page_size": 100}, name="GET /api/reports/?bbox")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(port: int) -> dict:
    return {**os.environ, "GEO_SIAC_PRODUCTION": "1", "SECRET_KEY": "bench-only-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0", "GEO_SIAC_INSECURE_COOKIES": "1",
            "GUNICORN_BIND": f"127.0.0.1:{port}", "LOG_LEVEL": "WARNING",
            "GEO_SIAC_SUBMISSIONS_PER_WINDOW": "100000000"}


def manage(env: dict, *args: str) -> str:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True,
                          text=True).stdout


def start_server(env: dict, base: str) -> subprocess.Popen:
    manage(env, "collectstatic", "--noinput", "-v", "0")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "geo_siac/gunicorn.conf.py",
                                "--access-logfile", "/dev/null", "geo_siac.wsgi"], cwd=ROOT, env=env)
    import requests

    for _ in range(300):
        try:
            if requests.get(base + "/salud/", timeout=5).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("the server did not answer /salud/")


def report(env: Environment, seconds: float, workers: str) -> None:
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; gunicorn workers: {workers}; load generator on the same machine")
    print(f"{'request':34} {'count':>7} {'fail':>5} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}  (ms)")
    for entry in [*sorted(env.stats.entries.values(), key=lambda e: e.name), env.stats.total]:
        print(f"{entry.name:34} {entry.num_requests:7d} {entry.num_failures:5d} {entry.num_requests / seconds:7.1f} "
              f"{entry.get_response_time_percentile(0.5):6.0f} {entry.get_response_time_percentile(0.95):6.0f} "
              f"{entry.get_response_time_percentile(0.99):6.0f} {entry.max_response_time:6.0f}")
    submissions = sum(e.num_requests for e in env.stats.entries.values() if e.method == "POST")
    print(f"submissions per second: {submissions / seconds:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", 0)) or None)
    options = parser.parse_args()
    seconds, users = min(options.seconds, 300), min(options.users, 200)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(port)
    if options.workers:
        env["GUNICORN_WORKERS"] = str(options.workers)
    Citizen.api_key = manage(env, "shell", "-c", "from geo_siac.open311.services import api_key_create;"
                             "print(api_key_create(name='bench/load.py', rate_limit_per_minute=10**9)[1])").split()[-1]
    server = start_server(env, base)
    try:
        load = Environment(user_classes=[Citizen], host=base)
        runner = load.create_local_runner()
        runner.start(users, spawn_rate=users)
        started = time.monotonic()
        gevent.spawn_later(seconds, runner.quit)
        runner.greenlet.join()
        report(load, time.monotonic() - started, env.get("GUNICORN_WORKERS", "default (2 x cores + 1)"))
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
