"""Open311 benchmark (issue 27, point 1): the GeoReport v2 server as a third-party client meets it.

    .venv/bin/python bench/open311.py [--list 2000] [--by-id 10000] [--post 5000] [--workers N] [--reports 100000]

Starts gunicorn as production runs it (geo_siac/gunicorn.conf.py, its documented worker count unless --workers)
on 127.0.0.1, on its own database (GEO_SIAC_BENCH_DB, default geo_siac_bench_open311; created, migrated and
topped up to --reports synthetic reports over Puente Alto and Peñalolén through the bulk importer, their public
cells then decided as publish_open_data does). An asyncio client on the same machine keeps 10 requests in flight,
each on a fresh connection, and runs three workloads, each for a fixed count after a few uncounted requests:

- list:  GET requests.json, a bbox of about 3 x 3 km of Puente Alto, status=open, page_size=100;
- by id: GET requests/<id>.json, ids drawn at random among the public reports;
- post:  POST requests.json, a new request in Peñalolén (away from the list's box), with a key whose rate limit
  the run cannot reach.

Per workload it prints `<workload>: N req/s, p50 X ms, p99 Y ms, errors E`, then the CPU per request of the
gunicorn workers and of the bench database's PostgreSQL backends (from /proc), and the load average at the start
and at the end: with other work on the machine the rates say little, CPU per request more.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("GEO_SIAC_BENCH_DB", "geo_siac_bench_open311")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import prepare_database  # noqa: E402  (sets PGDATABASE from GEO_SIAC_BENCH_DB)
from production_server import free_port, manage, psql, server_environment, start_server, stored_reports, top_up  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = 10
# About 3 km x 3 km around the plaza of Puente Alto (0.032 degrees of longitude and 0.027 of latitude there).
LIST_BBOX = "-70.5918,-33.6252,-70.5598,-33.5982"
# Peñalolén, 13 km north of the list's box: the posted requests never join the list's answers.
POST_AREA = ((-33.495, -33.475), (-70.555, -70.525))
TICK = os.sysconf("SC_CLK_TCK")


def top_up_placed(env: dict, reports: int) -> None:
    """Synthetic reports until the table holds `reports`, then their public cells."""
    top_up(env, reports, source="o311-")
    manage(
        env,
        "shell",
        "-c",
        "from geo_siac.reports.services import report_public_cells_refresh;report_public_cells_refresh()",
    )


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """Each process's CPU (user and system) so far."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return used


def cpu_since(before: dict[int, float], now: dict[int, float]) -> float:
    """CPU used between the two readings; a process that appeared in between used all of its own."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in now.items())


def worker_pids(master: int, env: dict) -> list[int]:
    """The master's workers, once it has started as many as its configuration asks for."""
    expected = subprocess.run(
        [sys.executable, "-c", "import runpy; print(runpy.run_path('geo_siac/gunicorn.conf.py')['workers'])"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for _ in range(300):
        pids = [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
        if len(pids) >= int(expected):
            return pids
        time.sleep(0.1)
    raise SystemExit(f"gunicorn started {len(pids)} workers of {expected.strip()}")


def backend_pids(database: str) -> list[int]:
    """PostgreSQL backends connected to the bench database, by their process title."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres:") and f" {database} " in title:
                found.append(int(entry.name))
    return found


async def fetch(port: int, request: bytes) -> tuple[int, float]:
    """One request on a fresh connection, read to the end: the status and the milliseconds it took."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return int(answer.split(b" ", 2)[1]), (time.perf_counter() - started) * 1000


def http_get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def http_post(path: str, fields: dict) -> bytes:
    body = urllib.parse.urlencode(fields).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def drive(port: int, requests: list[bytes], expected: int) -> tuple[list[float], int, float]:
    """Every request, CONCURRENCY at a time: latencies (ms), errors and the wall time (s)."""
    pending = iter(requests)
    latencies, errors = [], 0

    async def client():
        nonlocal errors
        for request in pending:
            try:
                status, ms = await fetch(port, request)
            except (OSError, IndexError, ValueError):
                errors += 1
                continue
            latencies.append(ms)
            errors += status != expected

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return latencies, errors, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def workloads(env: dict, counts: dict, api_key: str) -> dict:
    rng = random.Random(311)
    ids = [
        int(line)
        for line in psql(
            env, "SELECT r.id FROM reports_report r JOIN reports_category c ON c.id = r.category_id WHERE c.is_public"
        ).split()
    ]
    return {
        "list": [http_get(f"/open311/v2/requests.json?bbox={LIST_BBOX}&status=open&page_size=100")] * counts["list"],
        "by id": [http_get(f"/open311/v2/requests/{rng.choice(ids)}.json") for _ in range(counts["by id"])],
        "post": [
            http_post(
                "/open311/v2/requests.json",
                {
                    "api_key": api_key,
                    "service_code": "bache",
                    "lat": f"{rng.uniform(*POST_AREA[0]):.6f}",
                    "long": f"{rng.uniform(*POST_AREA[1]):.6f}",
                    "description": f"Prueba de rendimiento Open311 {n}",
                },
            )
            for n in range(counts["post"])
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", type=int, default=2000, help="requests of the list workload")
    parser.add_argument("--by-id", type=int, default=10000, help="requests of the by-id workload")
    parser.add_argument("--post", type=int, default=5000, help="requests of the post workload")
    parser.add_argument("--warmup", type=int, default=100, help="uncounted requests before each workload")
    parser.add_argument("--reports", type=int, default=100_000, help="top the table up to this many reports")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", 0)) or None)
    options = parser.parse_args()
    port = free_port()
    # Each worker keeps one backend for the whole run (production reconnects every 60 s), so that the backends' CPU
    # read at the start and at the end of a workload is all of it.
    env = server_environment(port, cache_prefix="geo_siac_open311_cache_", DB_CONN_MAX_AGE="3600")
    if options.workers:
        env["GUNICORN_WORKERS"] = str(options.workers)
    prepare_database()  # bench/ingest.py's: create, migrate, load the two comunas
    top_up_placed(env, options.reports)
    stored = stored_reports(env)
    api_key = manage(
        env,
        "shell",
        "-c",
        "from geo_siac.open311.services import api_key_create;"
        "print(api_key_create(name='bench/open311.py', rate_limit_per_minute=10**9)[1])",
    ).split()[-1]
    counts = {"list": options.list, "by id": options.by_id, "post": options.post}
    planned = workloads(env, {name: count + options.warmup for name, count in counts.items()}, api_key)
    server = start_server(env, f"http://127.0.0.1:{port}")
    try:
        workers = worker_pids(server.pid, env)
        print(
            f"{os.cpu_count()} cores, gunicorn workers: {len(workers)}, {stored:,} reports stored at the start, "
            f"{CONCURRENCY} connections, client on the same machine"
        )
        print(f"load average at the start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        for name, requests in planned.items():
            expected = 201 if name == "post" else 200
            asyncio.run(drive(port, requests[: options.warmup], expected))
            workers_before, backends_before = cpu_seconds(workers), cpu_seconds(backend_pids(env["PGDATABASE"]))
            latencies, errors, seconds = asyncio.run(drive(port, requests[options.warmup :], expected))
            worker_cpu = cpu_since(workers_before, cpu_seconds(workers)) * 1000 / len(latencies)
            backends_now = cpu_seconds(backend_pids(env["PGDATABASE"]))
            backend_cpu = cpu_since(backends_before, backends_now) * 1000 / len(latencies)
            print(
                f"{name}: {len(latencies) / seconds:.0f} req/s, p50 {percentile(latencies, 0.5):.1f} ms, "
                f"p99 {percentile(latencies, 0.99):.1f} ms, errors {errors}"
                f"  (CPU per request: workers {worker_cpu:.2f} ms, PostgreSQL {backend_cpu:.2f} ms)"
            )
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
