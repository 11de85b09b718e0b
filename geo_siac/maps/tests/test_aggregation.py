from collections import Counter
from datetime import timedelta

import h3
import pytest
import shapely
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import F, FloatField, Func
from django.test.utils import CaptureQueriesContext

from geo_siac.catalogue.models import Category
from geo_siac.geo import H3_RESOLUTIONS
from geo_siac.maps.selectors import (
    CellFilters,
    cell_counts,
    cell_counts_by_group,
    cell_counts_by_week,
    cell_table,
    weekly_counts_by_category,
)
from geo_siac.maps.tests.conftest import SYNTHETIC_END
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE

INSIDE_PUENTE_ALTO = (-33.59731, -70.56012)

FILTER_COMBINATIONS = {
    "none": (CellFilters(), lambda r: True),
    "comuna": (CellFilters(communes=("13201",)), lambda r: r["cut"] == "13201"),
    "group and open statuses": (
        CellFilters(groups=("aseo-ornato",), statuses=("submitted", "acknowledged", "in_progress")),
        lambda r: r["group"] == "aseo-ornato" and r["status"] in {"submitted", "acknowledged", "in_progress"},
    ),
    "category, channel and 30 days": (
        CellFilters(
            categories=("bache", "grafiti"),
            channels=("web", "phone"),
            since=SYNTHETIC_END - timedelta(days=30),
            until=SYNTHETIC_END,
        ),
        lambda r: (
            r["code"] in {"bache", "grafiti"}
            and r["channel"] in {"web", "phone"}
            and SYNTHETIC_END - timedelta(days=30) <= r["created_at"] < SYNTHETIC_END
        ),
    ),
}


def zone_filter_combinations(zones) -> dict:
    """Zone filters alone and combined with the others; membership is recounted with shapely on the polygons."""
    arrow, triangle = (shapely.from_wkb(bytes(zones[key].geometry.wkb)) for key in ("arrow", "triangle"))
    open_statuses = {"submitted", "acknowledged", "in_progress"}

    def inside(shape):
        return lambda r: shapely.intersects_xy(shape, r["lng"], r["lat"])

    in_arrow, in_either = inside(arrow), inside(shapely.union(arrow, triangle))
    return {
        "zone": (CellFilters(zones=(zones["arrow"].pk,)), in_arrow),
        "two zones and categories": (
            CellFilters(
                zones=(zones["arrow"].pk, zones["triangle"].pk), categories=("bache", "grafiti", "retiro-escombros")
            ),
            lambda r: in_either(r) and r["code"] in {"bache", "grafiti", "retiro-escombros"},
        ),
        "zone, comuna, open statuses and 60 days": (
            CellFilters(
                zones=(zones["arrow"].pk,),
                communes=("13201",),
                statuses=tuple(open_statuses),
                since=SYNTHETIC_END - timedelta(days=60),
                until=SYNTHETIC_END,
            ),
            lambda r: (
                in_arrow(r)
                and r["cut"] == "13201"
                and r["status"] in open_statuses
                and SYNTHETIC_END - timedelta(days=60) <= r["created_at"] < SYNTHETIC_END
            ),
        ),
    }


def raw_reports() -> list[dict]:
    return list(
        Report.objects.annotate(
            lat=Func("location", function="ST_Y", output_field=FloatField()),
            lng=Func("location", function="ST_X", output_field=FloatField()),
            cut=F("commune__cut"),
            code=F("category__service_code"),
            group=F("category__group__code"),
        ).values("lat", "lng", "cut", "code", "group", "status", "channel", "created_at")
    )


def recount(res: int, keep, reports: list[dict] | None = None) -> dict[int, int]:
    """Independent of the stored cells: bins the raw points with h3.latlng_to_cell."""
    rows = raw_reports() if reports is None else reports
    return dict(Counter(h3.str_to_int(h3.latlng_to_cell(r["lat"], r["lng"], res)) for r in rows if keep(r)))


def test_counts_per_cell_equal_a_recount_of_the_raw_points_for_every_filter_and_resolution(
    synthetic_reports, map_zones
):
    assert synthetic_reports > 2900
    reports = raw_reports()
    combinations = FILTER_COMBINATIONS | zone_filter_combinations(map_zones)
    in_zone = sum(1 for r in reports if combinations["zone"][1](r))
    assert 300 < in_zone < synthetic_reports - 300, "the zone must split the reports"
    for name, (filters, keep) in combinations.items():
        for res in H3_RESOLUTIONS:
            expected = recount(res, keep, reports)
            assert expected, f"the filter {name!r} must keep some reports"
            assert cell_counts(res, filters) == expected, f"{name} at res {res}"


def test_counts_follow_creates_status_changes_category_changes_and_deletes(make_report):
    first = make_report(point=PUENTE_ALTO_CENTRE, category="bache")
    second = make_report(point=PENALOLEN_CENTRE, category="bache")
    baches = CellFilters(categories=("bache",))
    open_only = CellFilters(statuses=("submitted",))
    assert cell_counts(9, baches) == recount(9, lambda r: r["code"] == "bache")

    report_change_status(public_note=EXPLAINED_BY_CALLER, report=first, status="resolved")
    assert cell_counts(9, open_only) == recount(9, lambda r: r["status"] == "submitted")
    assert sum(cell_counts(9, open_only).values()) == 1

    Report.objects.filter(pk=second.pk).update(category=Category.objects.get(service_code="grafiti"))
    assert sum(cell_counts(9, baches).values()) == 1

    Report.objects.filter(pk=first.pk).delete()
    assert cell_counts(9, baches) == {}
    assert cell_counts(9) == recount(9, lambda r: True)


def test_group_and_week_breakdowns_add_up_to_the_total(synthetic_reports):
    total = cell_counts(8)
    by_group = cell_counts_by_group(8)
    by_week = cell_counts_by_week(8)
    for breakdown in (by_group, by_week):
        summed = Counter()
        for counts in breakdown.values():
            summed.update(counts)
        assert dict(summed) == total
    weeks = list(by_week)
    assert weeks == sorted(weeks) and all(w.weekday() == 0 and w.hour == 0 for w in weeks)
    assert sum(row["count"] for row in weekly_counts_by_category()) == synthetic_reports


@pytest.mark.parametrize("filters", [CellFilters(), CellFilters(categories=("bache",), communes=("13201",))])
def test_the_last_weeks_are_the_last_of_every_week_even_across_a_gap(synthetic_reports, filters):
    every = cell_counts_by_week(9, filters)
    assert len(every) > 8
    assert _last_weeks_reads(filters) == (dict(list(every.items())[-8:]), 1)
    # Weeks without any report among the last eight: the eight with reports reach further back, read in a second go.
    newest = list(every)[-1]
    Report.objects.filter(
        created_at__gte=newest - timedelta(weeks=4), created_at__lt=newest - timedelta(weeks=1)
    ).delete()
    every = cell_counts_by_week(9, filters)
    assert list(every)[-3:] == [newest - timedelta(weeks=5), newest - timedelta(weeks=1), newest]
    assert _last_weeks_reads(filters) == (dict(list(every.items())[-8:]), 2)
    assert cell_counts_by_week(9, CellFilters(categories=("no-existe",)), last=8) == {}


def test_a_period_shorter_than_the_last_weeks_is_read_once_with_all_its_weeks(synthetic_reports):
    newest = list(cell_counts_by_week(9))[-1]
    month = CellFilters(since=newest - timedelta(weeks=3), until=newest + timedelta(weeks=1))
    every = cell_counts_by_week(9, month)
    assert len(every) == 4
    assert _last_weeks_reads(month) == (every, 1)


def _last_weeks_reads(filters: CellFilters) -> tuple[dict, int]:
    """The last 8 weeks, and how many times the weeks were read."""
    with CaptureQueriesContext(connection) as queries:
        weeks = cell_counts_by_week(9, filters, last=8)
    return weeks, sum("DATE_TRUNC" in query["sql"] for query in queries.captured_queries)


@pytest.mark.parametrize(
    "filters",
    [
        CellFilters(communes=("13201",)),
        CellFilters(within=frozenset({1})),  # replaced by Puente Alto's pk below
        CellFilters(communes=("13201",), since=SYNTHETIC_END - timedelta(days=30), until=SYNTHETIC_END),
    ],
    ids=["comuna", "viewer of one comuna", "comuna and a month"],
)
def test_a_comunas_reads_by_date_read_only_that_comunas_entries(synthetic_reports, communes, filters):
    """The week layers (and a period) of one comuna walk report_heatmap_commune over that comuna's reports of the
    weeks read, none of another comuna's: the read grows with one comuna's weeks, not the region's (docs/maps.md)."""
    if filters.within is not None:
        filters = CellFilters(within=frozenset({communes["13201"].pk}))
    with CaptureQueriesContext(connection) as queries:
        weeks = cell_counts_by_week(9, filters, last=8)
    read = [query["sql"] for query in queries.captured_queries if "DATE_TRUNC" in query["sql"]]
    assert weeks and len(read) == 1
    first = min(weeks)
    expected = Report.objects.filter(commune=communes["13201"], h3_res9__isnull=False, created_at__gte=first)
    if filters.until is not None:
        expected = expected.filter(created_at__gte=filters.since, created_at__lt=filters.until)
    # The empty partitions of the coming years are read by whichever index, at no cost.
    scans = [scan for scan in _index_scans(read[0]) if scan["rows"] or scan["removed"]]
    assert {scan["index"] for scan in scans} == {"report_heatmap_commune"}
    assert all(scan["removed"] == 0 for scan in scans)
    # A day before the first week is read too, whatever the offsets (cell_counts_by_week).
    assert expected.count() <= sum(scan["rows"] for scan in scans) <= expected.count() + 50
    assert sum(sum(counts.values()) for counts in weeks.values()) == expected.count()


def _index_scans(sql: str) -> list[dict]:
    """The index scans of `sql`'s plan (run): the parent index each partition's index belongs to, the entries it
    returned and those its filter dropped. Sequential and bitmap scans are turned off: 3,000 reports are too few for
    PostgreSQL to prefer an index, and the question is which index can answer by itself."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE reports_report")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0][0]["Plan"]
        scans, nodes = [], [plan]
        while nodes:
            node = nodes.pop()
            nodes.extend(node.get("Plans", ()))
            if node["Node Type"] in {"Index Only Scan", "Index Scan"}:
                cursor.execute(
                    "SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = %s::regclass",
                    [node["Index Name"]],
                )
                scans.append(
                    {
                        "index": cursor.fetchone()[0],
                        "rows": node["Actual Rows"],
                        "removed": node.get("Rows Removed by Filter", 0),
                    }
                )
    return scans


def test_unknown_resolution_is_rejected():
    with pytest.raises(ValueError, match="resolution"):
        cell_counts(11)


def cell_centres_inside(commune, lat: float, lng: float, k: int) -> list[tuple[float, float]]:
    """Centres of the res-9 cells within k rings of the point that fall inside the comuna."""
    centres = [h3.cell_to_latlng(cell) for cell in h3.grid_disk(h3.latlng_to_cell(lat, lng, 9), k)]
    return [(y, x) for y, x in centres if commune.geometry.contains(Point(x, y, srid=4326))]


def test_planted_cluster_is_a_99_percent_hotspot_and_its_growth_is_emerging(make_report, communes):
    lat, lng = INSIDE_PUENTE_ALTO
    for point in cell_centres_inside(communes["13201"], lat, lng, 5):
        make_report(point=point)
    centre = h3.str_to_int(h3.latlng_to_cell(lat, lng, 9))
    for _ in range(40):
        make_report(point=INSIDE_PUENTE_ALTO)
    rows = {row.cell: row for row in cell_table(9)}
    assert rows[centre].hotspot == 3
    assert sum(1 for row in rows.values() if row.hotspot == 3) <= 7

    now = Report.objects.latest("created_at").created_at
    window = CellFilters(since=now - timedelta(hours=1), until=now + timedelta(seconds=1))
    growing = {row.cell for row in cell_table(9, window) if row.emerging}
    assert centre in growing


def test_uniform_field_has_about_no_hotspots_after_fdr(make_report, communes):
    for point in cell_centres_inside(communes["13201"], *INSIDE_PUENTE_ALTO, 5):
        for _ in range(2):
            make_report(point=point)
    rows = cell_table(9)
    assert sum(1 for row in rows if row.hotspot > 0) == 0
    assert all(row.emerging is None for row in rows)
