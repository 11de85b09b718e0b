"""The stored counts (maps.CellCount and maps.CategoryCellCount, kept by triggers) equal the live count of the reports
after every kind of write, for every filter they serve; the other filters still count the reports."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.geo import H3_RESOLUTIONS, h3_cells, h3_field
from geo_siac.maps import selectors
from geo_siac.maps.heatmap import map_html
from geo_siac.maps.models import CategoryCellCount, CellCount
from geo_siac.maps.selectors import (
    STORED_RESOLUTIONS,
    CellFilters,
    cell_counts,
    cell_counts_by_group,
    cell_table,
    counts_are_stored,
    filtered_reports,
)
from geo_siac.maps.tests.conftest import import_synthetic
from geo_siac.reports.importers import bulk_mode, importer
from geo_siac.reports.models import Report, SuspendedSchemaObject
from geo_siac.reports.services import (
    EXPLAINED_BY_CALLER,
    create,
    report_change_status,
    report_merge_duplicate,
    report_reclassify,
)
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE
from geo_siac.zones.models import Commune

SANTIAGO = ZoneInfo("America/Santiago")
OLD = 2019


def stored_filters() -> dict[str, CellFilters]:
    """Every kind of filter the stored counts answer: none, comunas by code, the viewer's comunas, and both."""
    ids = dict(Commune.objects.values_list("cut", "pk"))
    return {
        "none": CellFilters(),
        "comuna": CellFilters(communes=("13201",)),
        "both comunas": CellFilters(communes=("13201", "13122")),
        "a planner of one comuna": CellFilters(communes=("13122",), within=frozenset({ids["13122"]})),
        "a planner of both, no choice": CellFilters(within=frozenset(ids.values())),
        "a comuna outside the planner's": CellFilters(communes=("13201",), within=frozenset({ids["13122"]})),
        "an account without comunas": CellFilters(within=frozenset()),
        "a category": CellFilters(categories=("bache",)),
        "two categories in a comuna": CellFilters(categories=("bache", "grafiti"), communes=("13201",)),
        "a group, for a planner of one comuna": CellFilters(groups=("aseo-ornato",), within=frozenset({ids["13122"]})),
        "a group and a category of another": CellFilters(groups=("aseo-ornato",), categories=("bache",)),
        "a group and one of its categories": CellFilters(groups=("aseo-ornato",), categories=("grafiti", "bache")),
        "a category nobody reported": CellFilters(categories=("ruidos-molestos",)),
        "an unknown category": CellFilters(categories=("no-existe",)),
    }


def live_counts(res: int, filters: CellFilters) -> dict[int, int]:
    column = h3_field(res)
    return dict(filtered_reports(filters).order_by().values_list(column).annotate(n=Count("*")))


def live_counts_by_group(res: int, filters: CellFilters) -> dict[str, dict[int, int]]:
    by_group = {}
    rows = (
        filtered_reports(filters).order_by().values_list("category__group__code", h3_field(res)).annotate(n=Count("*"))
    )
    for group, cell, n in rows:
        by_group.setdefault(group, {})[cell] = n
    return by_group


def recount(*columns: str) -> set[tuple]:
    """(res, *columns, cell, reports) of every report with a place, counted now."""
    return {
        (res, *key, n)
        for res in STORED_RESOLUTIONS
        for *key, n in Report.objects.filter(h3_res9__isnull=False)
        .order_by()
        .values_list(*columns, h3_field(res))
        .annotate(n=Count("*"))
    }


def assert_stored_counts_are_live() -> None:
    """Row by row (every resolution, comuna and cell, zero rows left out), and through cell_counts for each filter
    and resolution."""
    stored = set(CellCount.objects.filter(reports__gt=0).values_list("res", "commune_id", "cell", "reports"))
    assert stored == recount("commune_id")
    per_category = CategoryCellCount.objects.filter(reports__gt=0)
    assert set(per_category.values_list("res", "commune_id", "category_id", "cell", "reports")) == recount(
        "commune_id", "category_id"
    )
    assert not CellCount.objects.filter(reports__lt=0).exists()
    assert not CategoryCellCount.objects.filter(reports__lt=0).exists()
    for name, filters in stored_filters().items():
        for res in H3_RESOLUTIONS:
            assert cell_counts(res, filters) == live_counts(res, filters), f"{name} at res {res}"
            assert cell_counts_by_group(res, filters) == live_counts_by_group(res, filters), f"{name} at res {res}"


def moved_to(report: Report, lat: float, lng: float, cut: str) -> None:
    """A relocation as an administrator's edit writes it (no service moves a report): place, cells and comuna."""
    Report.objects.filter(pk=report.pk).update(
        location=Point(lng, lat, srid=4326), commune=Commune.objects.get(cut=cut), **h3_cells(lat, lng)
    )


def test_stored_counts_follow_every_kind_of_write(make_report, crews, communes):
    first = make_report(point=PUENTE_ALTO_CENTRE, category="bache")
    second = make_report(point=PUENTE_ALTO_CENTRE, category="bache")
    third = make_report(point=PENALOLEN_CENTRE, category="grafiti")
    placeless = make_report(
        kind=RequestKind.SUGGESTION, category="sugerencia", commune=communes["13201"], latitude=None, longitude=None
    )
    assert placeless.h3_res9 is None
    assert sum(cell_counts(9).values()) == 3
    assert_stored_counts_are_live()

    report_change_status(public_note=EXPLAINED_BY_CALLER, report=first, status="in_progress", actor_label="Prueba")
    report_reclassify(report=second, category="grafiti", reason="Es un rayado.")
    assert_stored_counts_are_live()

    report_merge_duplicate(duplicate=second, original=first, by=crews["supervisor"])
    assert Report.objects.get(pk=second.pk).duplicate_of_id == first.pk
    assert_stored_counts_are_live()

    moved_to(third, *PUENTE_ALTO_CENTRE, "13201")  # into the other comuna and a cell with reports
    assert sum(cell_counts(9, CellFilters(communes=("13122",))).values()) == 0
    assert_stored_counts_are_live()
    moved_to(placeless, *PENALOLEN_CENTRE, "13122")  # a suggestion given a place, then without one again
    assert sum(cell_counts(9, CellFilters(communes=("13122",))).values()) == 1
    assert_stored_counts_are_live()
    Report.objects.filter(pk=placeless.pk).update(location=None, **{f"h3_res{r}": None for r in H3_RESOLUTIONS})
    assert_stored_counts_are_live()

    Report.objects.filter(pk__in=[second.pk, placeless.pk]).delete()
    assert sum(cell_counts(9).values()) == 2
    assert_stored_counts_are_live()


def test_truncating_the_reports_empties_the_counts(make_report):
    make_report(point=PUENTE_ALTO_CENTRE, category="bache")
    make_report(point=PENALOLEN_CENTRE, category="grafiti")
    assert CategoryCellCount.objects.filter(reports__gt=0).count() == 4  # two cells (res 9 and 10) each
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction holds deferred key checks
        cursor.execute("TRUNCATE reports_report CASCADE")
    assert not CellCount.objects.exists() and not CategoryCellCount.objects.exists()
    make_report(point=PENALOLEN_CENTRE, category="bache")
    assert_stored_counts_are_live()


def test_a_write_that_rolls_back_leaves_the_counts_as_they_were(make_report):
    kept = make_report(point=PUENTE_ALTO_CENTRE)
    before = cell_counts(10)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_report(point=PENALOLEN_CENTRE)
        moved_to(kept, *PENALOLEN_CENTRE, "13122")
        raise RuntimeError("rolled back")
    assert cell_counts(10) == before
    assert_stored_counts_are_live()


def test_the_bulk_import_and_an_incremental_import_are_counted(communes, tmp_path):
    assert import_synthetic(tmp_path, 1500, seed=1) == 1500  # into an empty table: bulk mode, indexes dropped
    assert_stored_counts_are_live()
    assert import_synthetic(tmp_path, 800, seed=2) == 800  # into a loaded one: indexes kept
    assert_stored_counts_are_live()
    assert sum(cell_counts(8).values()) == 2300


def test_archiving_a_year_takes_its_reports_off_the_counts(make_report, monkeypatch):
    call_command("add_year_partitions", "--year", str(OLD), stdout=StringIO())
    with monkeypatch.context() as patched:
        patched.setattr(create.timezone, "now", lambda: datetime(OLD, 5, 4, 10, tzinfo=SANTIAGO))
        old = [make_report(point=point) for point in (PUENTE_ALTO_CENTRE, PENALOLEN_CENTRE, PENALOLEN_CENTRE)]
    current = make_report(point=PENALOLEN_CENTRE)
    for report in old:
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved", actor_label="Prueba")
    Report.objects.filter(pk__in=[r.pk for r in old]).update(closed_at=datetime(OLD, 6, 3, 12, tzinfo=SANTIAGO))
    from geo_siac.notifications.models import Delivery, Notification

    Notification.objects.filter(report__in=old).update(delivery=Delivery.SENT)
    assert sum(cell_counts(9).values()) == 4

    call_command("archive_year", "--year", str(OLD), "--commit", stdout=StringIO())

    assert list(Report.objects.values_list("pk", flat=True)) == [current.pk]
    assert cell_counts(9) == {current.h3_res9: 1}
    assert_stored_counts_are_live()


def test_the_migration_counts_the_reports_already_stored(communes, tmp_path):
    import_synthetic(tmp_path, 600)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate([("maps", None)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('maps_cellcount')")
        assert cursor.fetchone()[0] is None
    migrate(latest)
    assert CellCount.objects.filter(reports__gt=0).exists()
    assert_stored_counts_are_live()


def test_the_category_migration_counts_the_reports_written_before_it(communes, tmp_path):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate([("maps", "0001_cell_counts_kept_by_triggers")])
    import_synthetic(tmp_path, 600)  # counted by 0001's triggers only
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('maps_categorycellcount')")
        assert cursor.fetchone()[0] is None
    migrate(latest)
    assert CategoryCellCount.objects.filter(reports__gt=0).count() > 600  # res 9 and 10 rows of 600 reports
    assert_stored_counts_are_live()


def test_migrating_back_before_0004_runs_the_recount_a_killed_import_left(communes, tmp_path, monkeypatch):
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    with monkeypatch.context() as patched:
        patched.setattr(importer, "restore_suspended", lambda: [])  # the import dies before its end
        import_synthetic(tmp_path, 600)
    assert not CellCount.objects.exists()
    assert SuspendedSchemaObject.objects.filter(kind="recount", name="maps_counts_recount").exists()
    migrate([("maps", "0003_cell_counts_move_in_key_order")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regproc('maps_counts_recount')")
        assert cursor.fetchone()[0] is None
    assert not SuspendedSchemaObject.objects.filter(kind="recount").exists()
    assert CellCount.objects.filter(reports__gt=0).exists()
    assert_stored_counts_are_live()
    assert bulk_mode.restore_suspended()  # the indexes and keys, without the recount now gone
    assert not SuspendedSchemaObject.objects.exists()
    migrate(latest)
    assert_stored_counts_are_live()


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def test_only_the_comunas_and_categories_are_answered_from_the_stored_counts(synthetic_reports, map_zones):
    served = stored_filters().values()
    assert all(counts_are_stored(res, filters) for filters in served for res in STORED_RESOLUTIONS)
    assert not any(counts_are_stored(res, CellFilters()) for res in (6, 7, 8))
    others = [
        CellFilters(statuses=("submitted",)),
        CellFilters(channels=("web",)),
        CellFilters(zones=(map_zones["arrow"].pk,)),
        CellFilters(since=datetime(2026, 10, 1, tzinfo=SANTIAGO)),
        CellFilters(until=datetime(2026, 10, 1, tzinfo=SANTIAGO)),
        CellFilters(categories=("bache",), statuses=("submitted",)),
    ]
    assert not any(counts_are_stored(9, filters) for filters in others)
    for res in (8, 9, 10):
        for filters in [*served, *others]:
            for count, live in ((cell_counts, live_counts), (cell_counts_by_group, live_counts_by_group)):
                with CaptureQueriesContext(connection) as queries:
                    counted = count(res, filters)
                table = "reports_report"
                if counts_are_stored(res, filters):
                    by_category = count is cell_counts_by_group or filters.categories or filters.groups
                    table = "maps_categorycellcount" if by_category else "maps_cellcount"
                counting = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
                assert [f'"{table}"' in sql for sql in counting] == [True], (res, filters, count)
                assert counted == live(res, filters)


@pytest.mark.parametrize(
    "filters",
    [
        CellFilters(communes=("13201", "13122")),
        CellFilters(categories=("bache", "grafiti")),
        CellFilters(groups=("aseo-ornato",), communes=("13201",)),
    ],
    ids=["comunas", "categories", "a group in a comuna"],
)
def test_the_map_and_its_table_are_the_same_from_the_stored_counts(synthetic_reports, monkeypatch, filters):
    stored_table, stored_page = cell_table(9, filters), map_html(9, filters)
    monkeypatch.setattr(selectors, "counts_are_stored", lambda res, filters: False)
    assert cell_table(9, filters) == stored_table
    live_page = map_html(9, filters)
    assert len(stored_table) > 100 and _without_ids(stored_page) == _without_ids(live_page)


def _without_ids(page: str) -> str:
    """folium names each element with a random hex id."""
    import re

    return re.sub(r"[0-9a-f]{32}", "id", page)
