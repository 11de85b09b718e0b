"""CPU per request of one production gunicorn worker, per endpoint (issue #23): the figure that decides how many
requests the load bench's workers can serve, and much less disturbed by other work on the machine than req/s.

    GEO_SIAC_BENCH_DB=geo_siac_bench_load1m .venv/bin/python bench/worker_cpu.py [--requests 400] [--warmup 30]

Starts gunicorn as bench/load.py does (bench/production_server.py) with one worker on the bench database, then per
endpoint sends `--warmup` requests, reads the worker's utime+stime from /proc, sends `--requests` more one after
another (a new connection each, as the load generator's users open theirs) and prints the CPU per request. Reads
only: it writes nothing to the database.
"""

import argparse
import os
import random
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import prepare_database  # noqa: E402  (sets PGDATABASE from GEO_SIAC_BENCH_DB)
from load import NEIGHBOURHOOD  # noqa: E402
from production_server import free_port, psql, server_environment, start_server  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def fetch(url: str) -> None:
    with urllib.request.urlopen(url, timeout=30) as answer:
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"{url} answered {answer.status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=30)
    options = parser.parse_args()
    prepare_database()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = server_environment(port, cache_prefix="geo_siac_worker_cpu_", GUNICORN_WORKERS="1")
    codes = psql(env, "SELECT tracking_code FROM reports_report ORDER BY id DESC LIMIT 500").split()
    endpoints = {
        "/salud/": lambda: "/salud/",
        "tracking page": lambda: f"/seguimiento/{random.choice(codes)}/",
        "GeoJSON API (bbox, 100)": lambda: f"/api/reports/?bbox={NEIGHBOURHOOD}&page_size=100",
        "public map page": lambda: "/transparencia/mapa/",
        "public map cells": lambda: "/transparencia/celdas.geojson",
    }
    server = start_server(env, base)
    try:
        worker = worker_pid(server.pid)
        for name, path in endpoints.items():
            for _ in range(options.warmup):
                fetch(base + path())
            before, started = cpu_seconds(worker), time.monotonic()
            for _ in range(options.requests):
                fetch(base + path())
            spent, wall = cpu_seconds(worker) - before, time.monotonic() - started
            print(f"{name}: {spent / options.requests * 1000:.2f} ms CPU, {wall / options.requests * 1000:.2f} ms wall")
    finally:
        server.terminate()
        server.wait()
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
