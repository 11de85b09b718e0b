"""Heat-map benchmark (issue 6): counts per H3 cell in the database vs the naive geopandas + h3 way.

    GEO_SIAC_BENCH_DB=geo_siac_bench .venv/bin/python bench/heatmap.py [--rows 1000000] [--repeat 7]

Uses its own database (created and migrated like bench/ingest.py). When it holds fewer than --rows reports it is
emptied and filled with synthetic reports over Puente Alto and Peñalolén through the bulk importer. It also draws
a 4 km grid of crew zones over Puente Alto and, when ../shared/data is there, loads the census population, so the
zone filter and the per-capita rate are timed too.
"""

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PGDATABASE"] = os.environ.get("GEO_SIAC_BENCH_DB", "geo_siac_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geo_siac.settings")

from bench.ingest import GREATER_SANTIAGO, prepare_database  # noqa: E402

RESOLUTIONS = (7, 9, 10)
CENSUS = "census/rm_zonas_censales_2017_poblacion.geojson"  # in settings.GEO_SIAC_SHARED_DATA


def load(rows: int) -> None:
    from django.db import connection

    from geo_siac.reports.importers import CommuneIndex, ReportImporter
    from geo_siac.reports.mappings import NATIVE
    from geo_siac.reports.models import Report
    from geo_siac.reports.synthetic import write_synthetic_csv

    if Report.objects.count() >= rows * 0.999:  # the importer rejects a few synthetic points on the boundary
        return
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE reports_reportevent, reports_report RESTART IDENTITY CASCADE")
    with tempfile.TemporaryDirectory() as folder:
        path = write_synthetic_csv(
            Path(folder) / "heatmap.csv", rows, CommuneIndex.load().geometries, seed=11, prefix="heatmap"
        )
        started = time.perf_counter()
        summary = ReportImporter(mapping=NATIVE, source="bench-heatmap", commit=True).run(path)
    print(f"loaded {summary.inserted:,} reports in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE reports_report")


def prepare_zones_and_population() -> None:
    from django.conf import settings

    from geo_siac.zones.models import PopulationCell, Zone
    from geo_siac.zones.population import import_population
    from geo_siac.zones.zone_importers import generate_zones

    census = settings.GEO_SIAC_SHARED_DATA / CENSUS
    if not Zone.objects.current().filter(commune__cut="13201").exists():
        generate_zones(cut="13201", grid_m=4000, commit=True)
    if census.exists() and not PopulationCell.objects.filter(cut__in=("13201", "13122")).exists():
        import_population(path=census, cuts=["13201", "13122"], commit=True)
    elif not census.exists():
        print(f"no census file at {census}: rates stay null")


def largest_zone():
    """The grid zone of Puente Alto with the largest area (a whole 4 x 4 km square)."""
    from django.contrib.gis.db.models.functions import Area

    from geo_siac.zones.models import Zone

    return Zone.objects.current().filter(commune__cut="13201").annotate(size=Area("geometry")).latest("size")


def median_ms(call, repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def scenarios():
    import shapely

    from geo_siac.maps.selectors import CellFilters
    from geo_siac.reports.models import Report

    latest = Report.objects.latest("created_at").created_at
    since = latest - timedelta(days=30)
    zone = largest_zone()
    shape = shapely.from_wkb(bytes(zone.geometry.wkb))
    return {
        "no filter": (CellFilters(), lambda frame: frame),
        "category bache": (CellFilters(categories=("bache",)), lambda frame: frame[frame["code"] == "bache"]),
        "last 30 days": (CellFilters(since=since), lambda frame: frame[frame["created_at"] >= since]),
        "one 4 km zone": (CellFilters(zones=(zone.pk,)), lambda frame: frame[frame.intersects(shape)]),
    }


def read_points():
    """What a planner would do by hand: every report's point and attributes into a GeoDataFrame."""
    import geopandas as gpd
    from django.db import connection

    sql = (
        "SELECT r.location, c.service_code AS code, r.created_at FROM reports_report r "
        "JOIN reports_category c ON c.id = r.category_id"
    )
    connection.ensure_connection()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas prefers SQLAlchemy; a DBAPI connection works
        return gpd.read_postgis(sql, connection.connection, geom_col="location", crs=4326)


def naive_counts(frame, res: int) -> dict:
    import h3

    cells = [h3.latlng_to_cell(y, x, res) for x, y in zip(frame.geometry.x, frame.geometry.y)]
    return frame.assign(cell=cells).groupby("cell").size().to_dict()


def geojson_sizes(repeat: int) -> None:
    from geo_siac.maps.heatmap import feature_collection
    from geo_siac.maps.selectors import CellFilters, cell_counts, cell_population, cell_table

    zone = largest_zone()
    cases = {
        "comuna 13201": CellFilters(communes=("13201",)),
        "comuna 13122": CellFilters(communes=("13122",)),
        f"zone {zone.name}": CellFilters(zones=(zone.pk,)),
    }
    for name, filters in cases.items():
        started = time.perf_counter()
        body = json.dumps(feature_collection(cell_table(9, filters), 9)).encode()
        elapsed = (time.perf_counter() - started) * 1000
        features = json.loads(body)["features"]
        rated = sum(1 for f in features if f["properties"]["rate"] is not None)
        cells = list(cell_counts(9, filters))
        population_ms = median_ms(lambda cells=cells, filters=filters: cell_population(9, cells, filters), repeat)
        print(
            f"GeoJSON res 9, {name}: {len(features):,} cells ({rated:,} with a rate), {len(body) / 1024:.0f} KB, "
            f"{len(gzip.compress(body)) / 1024:.0f} KB gzipped; counts + population + Gi* + emerging + GeoJSON "
            f"in {elapsed:.0f} ms, of which the population of the cells {population_ms:.0f} ms (median)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--santiago",
        action="store_true",
        help="spread the reports over the 34 comunas of Gran Santiago (use another GEO_SIAC_BENCH_DB)",
    )
    parser.add_argument("--no-naive", action="store_true", help="time the database only (the 10M run)")
    args = parser.parse_args()
    prepare_database(GREATER_SANTIAGO if args.santiago else ("13201", "13122"))

    import django

    django.setup()
    from geo_siac.maps.selectors import cell_counts
    from geo_siac.reports.models import Report

    load(args.rows)
    prepare_zones_and_population()
    print(f"{Report.objects.count():,} reports in {os.environ['PGDATABASE']}")
    if not args.no_naive:
        started = time.perf_counter()
        points = read_points()
        read_ms = (time.perf_counter() - started) * 1000
        print(f"naive: reading every point into geopandas takes {read_ms:,.0f} ms (counted in each naive figure)")
    print(f"{'query':<16} {'res':>3} {'cells':>7} {'database ms':>12} {'naive ms':>10} {'speed-up':>9}")
    for name, (filters, keep) in scenarios().items():
        for res in RESOLUTIONS:
            server = median_ms(lambda res=res, filters=filters: cell_counts(res, filters), args.repeat)
            counts = cell_counts(res, filters)
            if args.no_naive:
                print(f"{name:<16} {res:>3} {len(counts):>7,} {server:>12.1f}")
                continue
            started = time.perf_counter()
            naive = naive_counts(keep(points), res)
            naive_ms = read_ms + (time.perf_counter() - started) * 1000
            assert sum(naive.values()) == sum(counts.values()), "the naive way must count the same reports"
            print(
                f"{name:<16} {res:>3} {len(counts):>7,} {server:>12.1f} {naive_ms:>10,.0f} {naive_ms / server:>8.0f}x"
            )
    geojson_sizes(args.repeat)


if __name__ == "__main__":
    main()
