"""Open311 reads in process: CPU per request, a profile, and a byte-for-byte sample of answers (issue 27, point 2).

    .venv/bin/python bench/open311_cpu.py cpu [--list 300] [--by-id 2000]
    .venv/bin/python bench/open311_cpu.py profile list|by-id [--sort tottime] [--top 40]
    .venv/bin/python bench/open311_cpu.py dump answers.json
    .venv/bin/python bench/open311_cpu.py compare before.json after.json

Runs on a database bench/open311.py has loaded (GEO_SIAC_BENCH_DB, default geo_siac_bench_open311) with the
production settings (GEO_SIAC_PRODUCTION=1, DEBUG off, the production middleware), calling the WSGI application as
gunicorn does, one request after another in this process: the bench's list (3 x 3 km box, status=open,
page_size=100) and random requests by id. `cpu` prints the CPU per request of this process (time.process_time) and
of its PostgreSQL backend (/proc), which depend much less on the machine's load than bench/open311.py's rates.
`dump` writes the status, headers (but Date) and body of a sample of answers - JSON and XML, Spanish and English,
lists by box, radius, ids and status, pages, extensions=true, requests by id with and without a published cell,
unknown and malformed ids - and `compare` says which differ: run `dump` with the code before and after a change.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BBOX = "-70.5918,-33.6252,-70.5598,-33.5982"  # bench/open311.py's LIST_BBOX
LIST = f"/open311/v2/requests.json?bbox={BBOX}&status=open&page_size=100"
TICK = os.sysconf("SC_CLK_TCK")


def setup() -> None:
    os.environ.update(
        {
            "PGDATABASE": os.environ.get("GEO_SIAC_BENCH_DB", "geo_siac_bench_open311"),
            "GEO_SIAC_PRODUCTION": "1",
            "SECRET_KEY": "bench-only-" + "k" * 50,
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "0",
            "GEO_SIAC_INSECURE_COOKIES": "1",
            "LOG_LEVEL": "ERROR",
            "DB_CONN_MAX_AGE": "3600",
            "CACHE_LOCATION": tempfile.mkdtemp(prefix="geo_siac_open311_cpu_cache_"),
        }
    )
    sys.path.insert(0, str(ROOT))


def call(application, path: str, language: str = "es") -> tuple[int, list[tuple[str, str]], bytes]:
    """One GET through the WSGI application, as gunicorn's sync worker calls it."""
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT_LANGUAGE": language,
        "HTTP_CONNECTION": "close",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    started = []

    def start_response(status, headers, exc_info=None):
        started.append((int(status.split(" ", 1)[0]), headers))

    answer = application(environ, start_response)
    try:
        body = b"".join(answer)
    finally:
        getattr(answer, "close", lambda: None)()
    return started[0][0], started[0][1], body


def public_ids() -> list[int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.id FROM reports_report r JOIN reports_category c ON c.id = r.category_id WHERE c.is_public "
            "ORDER BY r.id"
        )
        return [row[0] for row in cursor.fetchall()]


def by_id_paths(count: int) -> list[str]:
    rng = random.Random(311)
    ids = public_ids()
    return [f"/open311/v2/requests/{rng.choice(ids)}.json" for _ in range(count)]


def run(application, paths: list[str]) -> None:
    for path in paths:
        status, _, _ = call(application, path)
        if status != 200:
            raise SystemExit(f"{path}: {status}")


def backend_cpu() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(application, options) -> None:
    for name, paths in (("list", [LIST] * options.list), ("by id", by_id_paths(options.by_id))):
        run(application, paths[:50])
        backend, process, wall = backend_cpu(), time.process_time(), time.perf_counter()
        run(application, paths)
        process, wall = time.process_time() - process, time.perf_counter() - wall
        backend = backend_cpu() - backend
        print(
            f"{name}: {process * 1000 / len(paths):.2f} ms of CPU per request in process, PostgreSQL backend "
            f"{backend * 1000 / len(paths):.2f} ms, wall {wall * 1000 / len(paths):.2f} ms, {len(paths)} requests"
        )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def profile(application, options) -> None:
    paths = [LIST] * options.list if options.workload == "list" else by_id_paths(options.by_id)
    run(application, paths[:50])
    profiler = cProfile.Profile()
    profiler.enable()
    run(application, paths)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(options.sort).print_stats(options.top)


def sample_paths() -> list[str]:
    rng = random.Random(311)
    sample = rng.sample(public_ids(), 150)
    some = ",".join(map(str, sample[:40]))
    xml = LIST.replace(".json", ".xml")
    paths = [
        LIST,
        xml,
        LIST + "&extensions=true",
        xml + "&extensions=true",
        f"/open311/v2/requests.json?bbox={BBOX}&page_size=100&page=2",
        f"/open311/v2/requests.json?bbox={BBOX}&status=closed&page_size=50",
        f"/open311/v2/requests.xml?bbox={BBOX}&status=open,closed&page_size=100",
        "/open311/v2/requests.json?lat=-33.61&long=-70.575&radius=800&page_size=100",
        "/open311/v2/requests.xml?lat=-33.61&long=-70.575&radius=800&page_size=100&extensions=true",
        f"/open311/v2/requests.json?service_request_id={some}",
        f"/open311/v2/requests.json?service_request_id={some}&extensions=true",
        "/open311/v2/requests.json?page_size=100",
        "/open311/v2/requests.xml?page_size=100&status=open",
        "/open311/v2/requests.json?bbox=-70.5,-33.6,-70.6,-33.5",
        "/open311/v2/requests.json?bbox=1,2,3",
        "/open311/v2/requests.json?status=bogus",
        "/open311/v2/requests.json?page_size=0",
        "/open311/v2/requests/999999999.json",
        "/open311/v2/requests/999999999.xml",
        "/open311/v2/requests/abc.json",
        "/open311/v2/requests/12345678901234567890.json",
    ]
    for pk in sample:
        paths += [
            f"/open311/v2/requests/{pk}.json",
            f"/open311/v2/requests/{pk}.xml",
            f"/open311/v2/requests/{pk}.json?extensions=true",
            f"/open311/v2/requests/{pk}.xml?extensions=true",
        ]
    return paths


def dump(application, options) -> None:
    answers = {}
    for language in ("es", "en"):
        for path in sample_paths():
            status, headers, body = call(application, path, language)
            shown = sorted((name, value) for name, value in headers if name.lower() != "date")
            answers[f"{language} {path}"] = [status, shown, body.decode()]
    Path(options.file).write_text(json.dumps(answers, indent=0, sort_keys=True))
    print(f"{len(answers)} answers written to {options.file}")


def compare(options) -> None:
    before, after = (json.loads(Path(name).read_text()) for name in (options.before, options.after))
    differing = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
    for key in differing[:20]:
        print(f"differs: {key}")
    print(f"{len(before)} answers before, {len(after)} after, {len(differing)} differ")
    raise SystemExit(1 if differing else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cpu = commands.add_parser("cpu", help="CPU per request of the list and by id")
    cpu.add_argument("--list", type=int, default=300)
    cpu.add_argument("--by-id", type=int, default=2000)
    prof = commands.add_parser("profile", help="cProfile of one workload")
    prof.add_argument("workload", choices=["list", "by-id"])
    prof.add_argument("--list", type=int, default=200)
    prof.add_argument("--by-id", type=int, default=2000)
    prof.add_argument("--sort", default="tottime")
    prof.add_argument("--top", type=int, default=40)
    dumped = commands.add_parser("dump", help="write a sample of answers")
    dumped.add_argument("file")
    compared = commands.add_parser("compare", help="which answers of two dumps differ")
    compared.add_argument("before")
    compared.add_argument("after")
    options = parser.parse_args()
    if options.command == "compare":
        return compare(options)
    setup()
    from geo_siac.wsgi import application

    {"cpu": measure, "profile": profile, "dump": dump}[options.command](application, options)


if __name__ == "__main__":
    main()
