"""The mix's GeoJSON API read and Open311 POST in process: CPU per request, a profile, and their answers byte for byte
(issues #23 and #27 point 4).

    GEO_SIAC_BENCH_DB=<a copy> .venv/bin/python bench/api_cpu.py cpu [--geojson 300] [--post 600] [--rounds 10]
    GEO_SIAC_BENCH_DB=<a copy> .venv/bin/python bench/api_cpu.py profile geojson|post [--sort tottime] [--top 40]
    GEO_SIAC_BENCH_DB=<a copy> .venv/bin/python bench/api_cpu.py dump answers.json
    .venv/bin/python bench/api_cpu.py compare before.json after.json

bench/open311_cpu.py's harness (production settings, the WSGI application called as gunicorn's sync worker calls it)
with bench/load.py's requests: the GeoJSON API's page of 100 in its 1 km box, and the Open311 POST as its client
sends it (form-encoded, `charset=utf-8` in the Content-Type, a point in its crew zone). The POST writes: run on a
copy of a bench database (`createdb -T`). `dump` writes the answers of GeoJSON API lists (boxes, filters, pages,
errors, Spanish and English) and of Open311 POSTs (JSON and XML, accepted and refused) with their headers but Date;
a POST's new request number differs between runs, so `compare` reads it as `<id>`.
"""

import argparse
import cProfile
import json
import os
import pstats
import random
import re
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from open311_cpu import backend_cpu, call, compare, setup  # noqa: E402

POST_PATH = "/open311/v2/requests.json"
# What bench/load.py's client (geventhttpclient) sends.
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
NEIGHBOURHOOD = "-70.541,-33.596,-70.531,-33.587"  # bench/load.py's (importing it would patch with gevent)
CREW_ZONE = ((-33.615, -33.600), (-70.59, -70.56))  # bench/load.py's jitter()
GEOJSON = "/api/reports/?" + urlencode({"bbox": NEIGHBOURHOOD, "page_size": 100})


def api_key() -> str:
    from geo_siac.open311.services import api_key_create

    return api_key_create(name="bench/api_cpu.py", rate_limit_per_minute=10**9)[1]


def post_form(key: str, rng: random.Random, n: int) -> dict:
    return {
        "api_key": key,
        "jurisdiction_id": "puente-alto",
        "service_code": "retiro-escombros",
        "lat": f"{rng.uniform(*CREW_ZONE[0]):.6f}",
        "long": f"{rng.uniform(*CREW_ZONE[1]):.6f}",
        "description": f"Prueba de carga {n}",
    }


def post(application, form: dict, path: str = POST_PATH, **options):
    return call(application, path, form=form, content_type=CONTENT_TYPE, **options)


def workload(name: str, options) -> list[tuple[str, dict | None]]:
    if name == "geojson":
        return [(GEOJSON, None)] * options.geojson
    key, rng = api_key(), random.Random(23)
    return [(POST_PATH, post_form(key, rng, n)) for n in range(options.post)]


def run(application, requests: list[tuple[str, dict | None]]) -> None:
    for path, form in requests:
        status, _, body = call(application, path) if form is None else post(application, form, path)
        if status != (200 if form is None else 201):
            raise SystemExit(f"{path}: {status} {body[:300]!r}")


def measure(application, options) -> None:
    """Each workload in --rounds batches: the least and the median CPU per request of the batches."""
    for name in ("geojson", "post"):
        requests = workload(name, options)
        if not requests:
            continue
        run(application, requests[:50])
        size = -(-len(requests) // options.rounds)
        process, backend = [], []
        for start in range(0, len(requests), size):
            batch = requests[start : start + size]
            backend_before, process_before = backend_cpu(), time.process_time()
            run(application, batch)
            process.append((time.process_time() - process_before) * 1000 / len(batch))
            backend.append((backend_cpu() - backend_before) * 1000 / len(batch))
        print(
            f"{name}: CPU per request in process {min(process):.3f} ms (median {statistics.median(process):.3f}), "
            f"PostgreSQL backend {min(backend):.3f} ms (median {statistics.median(backend):.3f}), "
            f"{len(requests)} requests in {len(process)} batches"
        )
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def profile(application, options) -> None:
    requests = workload(options.workload, options)
    run(application, requests[:50])
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    run(application, requests)
    profiler.disable()
    pstats.Stats(profiler).sort_stats(options.sort).print_stats(options.top)


# The dump's lists and reports are of before this moment, so that the POSTs (this script's and the cpu runs') leave
# them unchanged between the dumps to compare.
BEFORE = "2026-12-04T18:00:00Z"


def geojson_paths() -> list[str]:
    west, south, east, north = NEIGHBOURHOOD.split(",")
    wide = "-70.62,-33.64,-70.50,-33.46"

    def listed(**query) -> str:
        return "/api/reports/?" + urlencode({"created_before": BEFORE, **query}, doseq=True)

    paths = [
        listed(bbox=NEIGHBOURHOOD, page_size=100),
        listed(bbox=NEIGHBOURHOOD, page_size=100, page=2),
        listed(bbox=NEIGHBOURHOOD, page_size=100, page="last"),
        listed(bbox=NEIGHBOURHOOD, page_size=100, page=999),
        listed(bbox=wide, page_size=1000),
        listed(bbox=wide, status=["submitted", "resolved"], page_size=300),
        listed(bbox=wide, status="closed_duplicate"),
        listed(commune="13201", category="bache", page_size=200),
        listed(commune="13122", created_after="2026-01-01T00:00:00-03:00"),
        listed(page_size=1000),
        listed(page_size=1000, page=7),
        listed(bbox=f"{west},{south},{west},{north}"),
        listed(bbox="1,2,3"),
        listed(bbox="-71.5,-34.5,-69.5,-32.5"),
        listed(status="perdida"),
        listed(page="primera"),
        listed(bbox="10,10,11,11"),
    ]
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM reports_report WHERE created_at < %s ORDER BY id DESC LIMIT 30", [BEFORE])
        paths += [f"/api/reports/{pk}/" for (pk,) in cursor.fetchall()]
    return paths


def post_samples(key: str) -> list[tuple[str, dict, str]]:
    rng = random.Random(27)
    good = post_form(key, rng, 0)
    return [
        (POST_PATH, good, CONTENT_TYPE),
        (POST_PATH, good, "application/x-www-form-urlencoded"),
        (POST_PATH.replace(".json", ".xml"), good, CONTENT_TYPE),
        ("/open311/v2/requests", good, CONTENT_TYPE),
        (POST_PATH, good, "application/x-www-form-urlencoded; charset=latin-1"),
        (POST_PATH, good, "Application/X-WWW-Form-Urlencoded ; charset=UTF-8"),
        (POST_PATH, good, "application/json"),
        (POST_PATH, good, "text/plain; charset=utf-8"),
        (POST_PATH, good, ""),
        (POST_PATH, good | {"description": "a\x00b"}, CONTENT_TYPE),
        (POST_PATH, good | {"api_key": "nope"}, CONTENT_TYPE),
        (POST_PATH.replace(".json", ".xml"), good | {"service_code": "nada"}, CONTENT_TYPE),
        (POST_PATH, good | {"lat": "", "long": ""}, CONTENT_TYPE),
        (POST_PATH, good | {"lat": "-20.0", "long": "-70.0"}, CONTENT_TYPE),
        (POST_PATH, good | {"jurisdiction_id": "narnia"}, CONTENT_TYPE),
        (POST_PATH, good | {"media": "x"}, CONTENT_TYPE),
        (POST_PATH, good | {"description": "ñandú áé"}, "application/x-www-form-urlencoded; charset=utf-8"),
    ]


NEW_ID = re.compile(r'(service_request_id"?>?:? ?"?)\d+')


def dump(application, options) -> None:
    answers = {}
    for language in ("es", "en"):
        for path in geojson_paths():
            status, headers, body = call(application, path, language)
            shown = sorted((name, value) for name, value in headers if name.lower() != "date")
            answers[f"{language} {path}"] = [status, shown, body.decode()]
        for n, (path, form, content_type) in enumerate(post_samples(api_key())):
            status, headers, body = call(application, path, language, form=form, content_type=content_type)
            shown = sorted((name, value) for name, value in headers if name.lower() != "date")
            answers[f"{language} POST {n} {path} {content_type}"] = [
                status,
                shown,
                NEW_ID.sub(r"\1<id>", body.decode()),
            ]
    Path(options.file).write_text(json.dumps(answers, indent=0, sort_keys=True))
    print(f"{len(answers)} answers written to {options.file}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    cpu = commands.add_parser("cpu", help="CPU per request of each workload")
    cpu.add_argument("--geojson", type=int, default=300)
    cpu.add_argument("--post", type=int, default=600)
    cpu.add_argument("--rounds", type=int, default=10, help="batches per workload")
    prof = commands.add_parser("profile", help="cProfile of one workload, on the CPU clock")
    prof.add_argument("workload", choices=["geojson", "post"])
    prof.add_argument("--geojson", type=int, default=300)
    prof.add_argument("--post", type=int, default=600)
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
