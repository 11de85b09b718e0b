"""A period map reads its period once (period_cell_counts, docs/maps.md "Reads by date"): the same counts, previous
period, group layers and week layers as the four separate reads, and the same map page."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import h3.api.basic_int as h3i
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geo_siac.catalogue.models import Category
from geo_siac.maps import heatmap
from geo_siac.maps.heatmap import WEEK_LAYERS, map_html
from geo_siac.maps.models import CellCount
from geo_siac.maps.selectors import (
    CellFilters,
    cell_counts,
    cell_counts_by_group,
    cell_counts_by_week,
    cells_may_exceed,
    h3_parent_bits,
    period_cell_counts,
    reads_period_once,
)
from geo_siac.reports.models import Report
from geo_siac.zones.models import Commune

SANTIAGO = ZoneInfo("America/Santiago")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SANTIAGO)


@pytest.fixture
def varied_reports(synthetic_reports):
    """The synthetic reports (120 days to 2026-11-01 UTC), with reports moved onto the edges of weeks and months in
    Santiago time (a Monday's midnight and the instant before it, the first of October's and November's midnights,
    both sides of the change to summer time on 2026-09-06), some without a place, and a hidden category."""
    reports = list(Report.objects.filter(h3_res9__isnull=False).order_by("id").values_list("id", flat=True)[:400])
    edges = [
        local(2026, 10, 1),
        local(2026, 10, 1) - timedelta(microseconds=1),
        local(2026, 10, 26),  # a Monday
        local(2026, 10, 26) - timedelta(microseconds=1),
        local(2026, 10, 19),
        local(2026, 9, 1),
        local(2026, 9, 1) - timedelta(microseconds=1),
        local(2026, 9, 7),  # the Monday after the change to summer time
        local(2026, 9, 7) - timedelta(microseconds=1),
        local(2026, 10, 31, 23, 59, 59),
        datetime(2026, 11, 1, 3, tzinfo=ZoneInfo("UTC")),  # November's local midnight
    ]
    for i, pk in enumerate(reports[:220]):
        Report.objects.filter(pk=pk).update(created_at=edges[i % len(edges)])
    no_place = {f"h3_res{res}": None for res in range(6, 11)}
    Report.objects.filter(pk__in=reports[220:300]).update(kind="complaint", location=None, **no_place)
    hidden = Report.objects.filter(pk__in=reports[300:]).values_list("category", flat=True).first()
    Category.objects.filter(pk=hidden).update(is_public=False, is_active=False)
    return synthetic_reports


def _separate(res: int, filters: CellFilters) -> tuple:
    return (
        cell_counts(res, filters),
        cell_counts(res, filters.previous_period()),
        cell_counts_by_group(res, filters),
        cell_counts_by_week(res, filters, last=WEEK_LAYERS),
    )


PERIODS = [
    (local(2026, 10, 1), local(2026, 11, 1)),  # October, the previous period from 2026-08-31
    (local(2026, 10, 19), local(2026, 10, 26)),  # one week, Monday to Monday
    (local(2026, 9, 1), local(2026, 11, 1)),  # 61 days over the change to summer time: 9 to 10 weeks, 8 kept
    (local(2026, 10, 25), local(2026, 10, 28)),  # three days across a week's edge
]


@pytest.mark.parametrize("res", [7, 9, 10])
def test_period_read_once_equals_the_separate_reads(varied_reports, res):
    puente_alto = Commune.objects.get(cut="13201")
    bache = Category.objects.filter(reports__isnull=False).order_by("service_code").first().service_code
    for since, until in PERIODS:
        for extra in [
            {},
            {"communes": ("13201",)},
            {"within": frozenset({puente_alto.pk})},
            {"categories": (bache,)},
            {"statuses": ("recibida", "en_proceso")},
            {"communes": ("99999",)},  # no such comuna: nothing
        ]:
            filters = CellFilters(since=since, until=until, **extra)
            assert reads_period_once(res, filters)
            with CaptureQueriesContext(connection) as queries:
                once = period_cell_counts(res, filters, last=WEEK_LAYERS)
            assert sum("GROUPING SETS" in query["sql"] for query in queries.captured_queries) == 1
            assert not [query for query in queries.captured_queries if "MAX(" in query["sql"]]
            counts, previous, groups, weeks = _separate(res, filters)
            assert once.counts == counts, (since, extra)
            assert once.previous == previous, (since, extra)
            assert list(once.by_group.items()) == list(groups.items()), (since, extra)
            assert [(w, list(c.items())) for w, c in once.by_week.items()] == [
                (w, list(c.items())) for w, c in weeks.items()
            ], (since, extra)
            assert all(w.tzinfo is not None for w in once.by_week)
    # The data set reaches every kind of answer checked: a month with a previous period, group and week layers.
    october = period_cell_counts(res, CellFilters(since=PERIODS[0][0], until=PERIODS[0][1]), last=WEEK_LAYERS)
    assert october.counts and october.previous and len(october.by_group) > 1 and len(october.by_week) == 5


def test_no_period_or_a_long_one_reads_apart():
    assert not reads_period_once(9, CellFilters())
    assert not reads_period_once(9, CellFilters(since=local(2026, 10, 1)))
    assert not reads_period_once(9, CellFilters(since=local(2026, 1, 1), until=local(2026, 11, 1)))
    with pytest.raises(ValueError, match="closed period"):
        period_cell_counts(9, CellFilters(since=local(2026, 10, 1)), last=8)


@pytest.mark.parametrize("res", [9, 10])
def test_the_period_map_is_the_same_read_once_or_apart(varied_reports, monkeypatch, res):
    for since, until in PERIODS[:3]:
        for filters in [
            CellFilters(since=since, until=until),
            CellFilters(since=since, until=until, communes=("13201",)),
        ]:
            with CaptureQueriesContext(connection) as queries:
                once = map_html(res, filters)
            reads = [q["sql"] for q in queries.captured_queries if '"reports_report"' in q["sql"]]
            assert sum("GROUPING SETS" in sql for sql in reads) == 1 and len(reads) == 1
            with monkeypatch.context() as patched:
                patched.setattr(heatmap, "reads_period_once", lambda res, filters: False)
                apart = map_html(res, filters)
            assert _without_ids(once) == _without_ids(apart)
            assert "Semana del" in once


def _without_ids(page: str) -> str:
    """folium names each element with a random hex id."""
    return re.sub(r"[0-9a-f]{32}", "id", page)


@pytest.mark.parametrize("res", [8, 10])
def test_a_period_of_too_many_cells_reads_the_period_once_and_not_the_previous(varied_reports, monkeypatch, res):
    """A page that only says there are too many cells reads the period's counts, not the previous period, the
    groups and the weeks: the stored counts' bound says it may exceed, so it is counted first, alone."""
    since, until = PERIODS[0]
    filters = CellFilters(since=since, until=until)
    monkeypatch.setattr(heatmap, "MAX_MAP_CELLS", 1)
    with CaptureQueriesContext(connection) as queries:
        page = map_html(res, filters)
    reads = [q for q in queries.captured_queries if '"reports_report"' in q["sql"]]
    assert len(reads) == 1 and "GROUPING SETS" not in reads[0]["sql"]
    assert "Demasiadas celdas" in page and "Semana del" not in page
    with monkeypatch.context() as patched:
        patched.setattr(heatmap, "reads_period_once", lambda res, filters: False)
        assert _without_ids(map_html(res, filters)) == _without_ids(page)


def test_a_period_that_may_have_too_many_cells_but_has_not_is_drawn_the_same(varied_reports, monkeypatch):
    """The bound is only a bound: over it, the period counted alone and then read once draws the same page."""
    since, until = PERIODS[0]
    filters = CellFilters(since=since, until=until)
    cells = len(cell_counts(9, filters))
    assert cells_may_exceed(9, filters, cells) and not cells_may_exceed(9, filters, 10_000)
    monkeypatch.setattr(heatmap, "MAX_MAP_CELLS", cells)
    with CaptureQueriesContext(connection) as queries:
        page = map_html(9, filters)
    reads = [q["sql"] for q in queries.captured_queries if '"reports_report"' in q["sql"]]
    assert len(reads) == 2 and "GROUPING SETS" in reads[1]
    assert "Demasiadas celdas" not in page and "Semana del" in page
    with monkeypatch.context() as patched:
        patched.setattr(heatmap, "reads_period_once", lambda res, filters: False)
        assert _without_ids(map_html(9, filters)) == _without_ids(page)


@pytest.mark.parametrize("res", [6, 7, 8])
def test_the_coarser_bound_counts_the_parents_of_the_stored_cells(varied_reports, res):
    """Below res 9 the bound is the number of distinct parents of the stored res-9 cells: each is h3's parent."""
    keep, put = h3_parent_bits(res)
    cells = Report.objects.filter(h3_res9__isnull=False).values_list("h3_res9", flat=True)[:50]
    assert {cell & keep | put for cell in cells} == {h3i.cell_to_parent(cell, res) for cell in cells}
    stored = CellCount.objects.filter(res=9, reports__gt=0).values_list("cell", flat=True)
    parents = len({h3i.cell_to_parent(cell, res) for cell in stored})
    assert parents >= len(cell_counts(res, CellFilters()))
    assert cells_may_exceed(res, CellFilters(), parents - 1)
    assert not cells_may_exceed(res, CellFilters(), parents)
