"""Where the planner's heat-map page spends its time, in process: the view `/mapas/calor/mapa.html` through Django's
test Client with production settings, signed in as bench/region.py's planner of the 52 comunas, under cProfile (on the
process's CPU clock), with each SQL query timed.

    GEO_SIAC_BENCH_DB=geo_siac_region .venv/bin/python bench/heatmap_profile.py "res=9&comuna=13201" [--top 25]

Needs a database loaded by bench/region.py. Prints the request's wall time, the page's size, each query's time and
the functions with the most cumulative time (the stages: counting, population, Gi*, GeoJSON, folium rendering).
"""

import argparse
import cProfile
import gc
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STAGES = (
    "cell_counts",
    "cell_counts_by_group",
    "cell_counts_by_week",
    "cell_population",
    "gi_star",
    "gi_star_arrays",
    "emerging_hotspots",
    "cell_table",
    "cell_layer",
    "geojson_layer",
    "render",
    "map_html",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("query", help='the query string, e.g. "res=9&category=bache"')
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--path", default="/mapas/calor/mapa.html")
    parser.add_argument("--user", default="region-planificacion")
    parser.add_argument(
        "--freeze",
        action="store_true",
        help="gc.freeze() after the warm-up, as gunicorn.conf.py does after preloading: the full collections then "
        "skip what was loaded, as in a worker",
    )
    parser.add_argument(
        "--unprofiled", type=int, default=0, help="then time this many requests without the profiler (CPU and wall)"
    )
    options = parser.parse_args()
    os.environ.setdefault("PGDATABASE", os.environ.get("GEO_SIAC_BENCH_DB", "geo_siac_region"))
    os.environ.setdefault("GEO_SIAC_PRODUCTION", "1")
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "k" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("GEO_SIAC_INSECURE_COOKIES", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geo_siac.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=options.user))
    queries = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - started, sql))

    url = f"{options.path}?{options.query}"
    client.get(url)  # warm-up: imports, the catalogue, PostgreSQL's caches
    if options.freeze:
        gc.collect()
        gc.freeze()
    # The process's CPU clock: on a shared machine, wall time also counts the other processes' turns.
    profile = cProfile.Profile(time.process_time)
    with connection.execute_wrapper(timed):
        started_cpu, started = time.process_time(), time.perf_counter()
        profile.enable()
        response = client.get(url)
        profile.disable()
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    print(f"load average {Path('/proc/loadavg').read_text().strip()}")
    print(
        f"{url}: {response.status_code}, {wall * 1000:,.0f} ms wall, {cpu * 1000:,.0f} ms of this process's CPU, "
        f"{len(response.content) / 1024:,.0f} KB"
    )
    print(f"{len(queries)} queries, {sum(t for t, _ in queries) * 1000:,.0f} ms in all; the slowest:")
    for seconds, sql in sorted(queries, reverse=True)[:8]:
        print(f"  {seconds * 1000:8,.0f} ms  {sql[:150]}")
    stats = pstats.Stats(profile)
    print("stages (cumulative ms, calls):")
    for (filename, _line, function), (_cc, calls, _tt, cumulative, _callers) in sorted(
        stats.stats.items(), key=lambda item: -item[1][3]
    ):
        if function in STAGES and ("geo_siac" in filename or "branca" in filename or "folium" in filename):
            print(f"  {cumulative * 1000:8,.0f} ms {calls:>6}  {function} ({Path(filename).name})")
    stats.sort_stats("tottime").print_stats(options.top)
    for _ in range(options.unprofiled):
        started_cpu, started = time.process_time(), time.perf_counter()
        client.get(url)
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        print(f"without the profiler: {wall * 1000:,.0f} ms wall, {cpu * 1000:,.0f} ms of this process's CPU")


if __name__ == "__main__":
    main()
