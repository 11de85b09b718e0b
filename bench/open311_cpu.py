"""Open311 in process: CPU per request, a profile, and a byte-for-byte sample of answers (issue 27, point 2).

    .venv/bin/python bench/open311_cpu.py cpu [--list 300] [--by-id 2000] [--post 0] [--rounds 10]
    .venv/bin/python bench/open311_cpu.py profile list|by-id|post [--sort tottime] [--top 40]
    .venv/bin/python bench/open311_cpu.py dump answers.json
    .venv/bin/python bench/open311_cpu.py compare before.json after.json

Runs on a database bench/open311.py has loaded (GEO_SIAC_BENCH_DB, default geo_siac_bench_open311) with the
production settings (GEO_SIAC_PRODUCTION=1, DEBUG off, the production middleware), calling the WSGI application as
gunicorn does, one request after another in this process: the bench's list (3 x 3 km box, status=open,
page_size=100), random requests by id and bench/open311.py's POST (a new request in Peñalolén, with a key this
script adds; it writes, so run it on a copy: `createdb -T <bench database> <copy>`). `cpu` prints the CPU per
request of this process (time.process_time) and of its PostgreSQL backend (/proc), which depend much less on the
machine's load than bench/open311.py's rates; `profile` is a cProfile on the same CPU clock.
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
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from production_server import production_settings

ROOT = Path(__file__).resolve().parent.parent
BBOX = "-70.5918,-33.6252,-70.5598,-33.5982"  # bench/open311.py's LIST_BBOX
LIST = f"/open311/v2/requests.json?bbox={BBOX}&status=open&page_size=100"
POST_PATH = "/open311/v2/requests.json"
POST_AREA = ((-33.495, -33.475), (-70.555, -70.525))  # bench/open311.py's, in Peñalolén
TICK = os.sysconf("SC_CLK_TCK")


def setup() -> None:
    os.environ["PGDATABASE"] = os.environ.get("GEO_SIAC_BENCH_DB", "geo_siac_bench_open311")
    os.environ.update(
        production_settings(
            host="127.0.0.1", cache_prefix="geo_siac_open311_cpu_cache_", LOG_LEVEL="ERROR", DB_CONN_MAX_AGE="3600"
        )
    )
    sys.path.insert(0, str(ROOT))


def call(
    application,
    path: str,
    language: str = "es",
    form: dict | None = None,
    accept: str | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> tuple[int, list[tuple[str, str]], bytes]:
    """One GET, or a form-encoded POST of `form` (sent as `content_type`), through the WSGI application, as
    gunicorn's sync worker calls it; with an Accept header when `accept` is given."""
    route, _, query = path.partition("?")
    body = urlencode(form).encode() if form is not None else b""
    environ = {
        "REQUEST_METHOD": "GET" if form is None else "POST",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT_LANGUAGE": language,
        "HTTP_CONNECTION": "close",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if accept is not None:
        environ["HTTP_ACCEPT"] = accept
    if form is not None:
        environ.update(CONTENT_TYPE=content_type, CONTENT_LENGTH=str(len(body)))
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


def post_forms(count: int) -> list[dict]:
    """bench/open311.py's POSTs, with a key of a limit the run cannot reach."""
    from geo_siac.open311.services import api_key_create

    _, raw = api_key_create(name="bench/open311_cpu.py", rate_limit_per_minute=10**9)
    rng = random.Random(311)
    return [
        {
            "api_key": raw,
            "service_code": "bache",
            "lat": f"{rng.uniform(*POST_AREA[0]):.6f}",
            "long": f"{rng.uniform(*POST_AREA[1]):.6f}",
            "description": f"Prueba de rendimiento Open311 {n}",
        }
        for n in range(count)
    ]


def workload(name: str, options) -> list[tuple[str, dict | None]]:
    if name == "list":
        return [(LIST, None)] * options.list
    if name == "by id":
        return [(path, None) for path in by_id_paths(options.by_id)]
    return [(POST_PATH, form) for form in post_forms(options.post)]


def run(application, requests: list[tuple[str, dict | None]]) -> None:
    for path, form in requests:
        status, _, body = call(application, path, form=form)
        if status != (200 if form is None else 201):
            raise SystemExit(f"{path}: {status} {body[:300]!r}")


def backend_cpu() -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(application, options) -> None:
    """Each workload in --rounds batches (its requests split evenly): the least and the median CPU per request of
    the batches, since other work on the machine slows some batches down."""
    for name in ("list", "by id", "post"):
        paths = workload(name, options)
        if not paths:
            continue
        run(application, paths[:50])
        size = -(-len(paths) // options.rounds)
        process, backend, wall = [], [], 0.0
        for start in range(0, len(paths), size):
            batch = paths[start : start + size]
            backend_before, process_before, wall_before = backend_cpu(), time.process_time(), time.perf_counter()
            run(application, batch)
            process.append((time.process_time() - process_before) * 1000 / len(batch))
            backend.append((backend_cpu() - backend_before) * 1000 / len(batch))
            wall += time.perf_counter() - wall_before
        print(
            f"{name}: CPU per request in process {min(process):.3f} ms (median {statistics.median(process):.3f}), "
            f"PostgreSQL backend {min(backend):.3f} ms (median {statistics.median(backend):.3f}), "
            f"wall {wall * 1000 / len(paths):.2f} ms, {len(paths)} requests in {len(process)} batches"
        )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def profile(application, options) -> None:
    paths = workload(options.workload.replace("-", " "), options)
    run(application, paths[:50])
    profiler = cProfile.Profile(time.process_time)
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


# Accept headers a client may send, each with paths with and without a format: the renderer is chosen from both.
ACCEPT_HEADERS = [
    "*/*",
    " */* ",
    "",
    "application/json",
    "text/xml",
    "text/html",
    "application/json; indent=4",
    "text/xml;q=0.5, application/json",
    "*/*;q=0.8",
    "application/*",
]
ACCEPT_PATHS = [
    "/open311/v2/requests",
    "/open311/v2/requests.json?page_size=3",
    "/open311/v2/requests.xml?page_size=3",
    "/open311/v2/requests?format=json&page_size=3",
    "/open311/v2/services",
    "/open311/v2/requests/abc",
    "/open311/v2/requests/999999999.json",
    "/open311/v2/requests/x.yaml",
    "/open311/v2/discovery.json",
]


def dump(application, options) -> None:
    answers = {}
    for language in ("es", "en"):
        for path in sample_paths():
            status, headers, body = call(application, path, language)
            shown = sorted((name, value) for name, value in headers if name.lower() != "date")
            answers[f"{language} {path}"] = [status, shown, body.decode()]
    for accept in ACCEPT_HEADERS:
        for path in ACCEPT_PATHS:
            status, headers, body = call(application, path, accept=accept)
            shown = sorted((name, value) for name, value in headers if name.lower() != "date")
            answers[f"Accept: {accept} {path}"] = [status, shown, body.decode()]
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
    cpu.add_argument("--post", type=int, default=0, help="POSTs (they write: run on a copy of the database)")
    cpu.add_argument("--rounds", type=int, default=10, help="batches per workload")
    prof = commands.add_parser("profile", help="cProfile of one workload, on the CPU clock")
    prof.add_argument("workload", choices=["list", "by-id", "post"])
    prof.add_argument("--list", type=int, default=200)
    prof.add_argument("--by-id", type=int, default=2000)
    prof.add_argument("--post", type=int, default=1000)
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
