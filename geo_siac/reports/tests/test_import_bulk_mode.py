"""Bulk mode of the importer: indexes and foreign keys dropped for the load and rebuilt after, never lost."""

import threading
from io import StringIO

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import OperationalError, connection, transaction

from geo_siac.geo import h3_cells
from geo_siac.reports import tracking
from geo_siac.reports.checks import suspended_schema
from geo_siac.reports.importers import ImportFileError, bulk_mode, importer, suspend_secondary_schema
from geo_siac.reports.importers.bulk_mode import BULK_TABLES
from geo_siac.reports.mappings import load_mapping
from geo_siac.reports.models import Report, SuspendedSchemaObject
from geo_siac.reports.services import report_create

HEADER = "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"


def schema() -> set[tuple[str, str]]:
    """Every index and foreign key of the report tables, with its definition."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [list(BULK_TABLES)])
        indexes = set(cursor.fetchall())
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])",
            [list(BULK_TABLES)],
        )
        return indexes | set(cursor.fetchall())


# The counts kept by triggers over the reports (maps' migrations 0001 and 0002), by their key columns.
COUNTS = {
    "maps_cellcount": ("res, commune_id, cell", "c.res, r.commune_id, c.cell"),
    "maps_categorycellcount": ("res, commune_id, category_id, cell", "c.res, r.commune_id, r.category_id, c.cell"),
}
CELLS = "CROSS JOIN LATERAL (VALUES (9, r.h3_res9), (10, r.h3_res10)) c (res, cell)"


def stored_counts() -> dict[str, set]:
    with connection.cursor() as cursor:
        stored = {}
        for table, (key, _selected) in COUNTS.items():
            cursor.execute(f"SELECT {key}, reports FROM {table} WHERE reports <> 0")
            stored[table] = set(cursor.fetchall())
        return stored


def recounted_counts() -> dict[str, set]:
    """The counts as a live count of the reports stored."""
    with connection.cursor() as cursor:
        recounted = {}
        for table, (_key, selected) in COUNTS.items():
            cursor.execute(
                f"SELECT {selected}, count(*) FROM reports_report r {CELLS} WHERE r.h3_res9 IS NOT NULL "
                f"GROUP BY {selected}"
            )
            recounted[table] = set(cursor.fetchall())
        return recounted


def counted_reports() -> int:
    """Reports counted in maps.CellCount: two cells (res 9 and 10) each."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(sum(reports), 0) FROM maps_cellcount")
        return cursor.fetchone()[0]


def write_csv(path, rows: int, *, start: int = 0):
    lines = [
        f"b{i},2026-10-0{1 + i % 5} 10:00,,bache,web,submitted,{-33.6117 + i * 1e-5},{-70.5758},x\n"
        for i in range(start, start + rows)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def run_import(*args) -> str:
    out = StringIO()
    call_command("import_reports", *args, "--no-progress", stdout=out)
    return out.getvalue()


def test_an_import_into_an_empty_table_runs_in_bulk_mode_and_gives_back_every_index_and_key(communes, tmp_path):
    before = schema()
    assert any("report_heatmap_created" in name for name, _ in before)
    out = run_import(str(write_csv(tmp_path / "a.csv", 120)), "--commit", "--chunk-rows", "50")
    assert "modo masivo" in out and "insertadas: 120" in out
    assert schema() == before
    assert not SuspendedSchemaObject.objects.exists()
    assert Report.objects.count() == 120 and Report.objects.filter(events__kind="created").count() == 120


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_gist_indexes_and_the_recounts_start_on_a_second_connection(
    communes, tmp_path, monkeypatch
):
    before = schema()
    real_restore = bulk_mode.restore_one
    threads = {}

    def restore_one(item):
        threads[item.name] = threading.current_thread().name
        real_restore(item)

    monkeypatch.setattr(bulk_mode, "restore_one", restore_one)
    out = run_import(str(write_csv(tmp_path / "a.csv", 120)), "--commit", "--chunk-rows", "50")
    assert "modo masivo" in out and "insertadas: 120" in out
    assert schema() == before and not SuspendedSchemaObject.objects.exists()
    gist = {name for name, definition in before if " USING gist " in definition}
    beside = gist | {"maps_counts_recount"}
    assert gist and {threads[name] for name in beside} == {"import-restore-beside"}
    assert {thread for name, thread in threads.items() if name not in beside} <= {
        threading.current_thread().name,
        "import-restore-beside",
    }


def table_sizes() -> dict[str, int]:
    """The report tables' sizes, every partition counted."""
    with connection.cursor() as cursor:
        sizes = {}
        for table in BULK_TABLES:
            cursor.execute(
                "SELECT sum(pg_relation_size(oid)) FROM pg_class "
                "WHERE oid = %s::regclass OR oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
                [table, table],
            )
            sizes[table] = cursor.fetchone()[0]
        return sizes


@pytest.mark.django_db(transaction=True)
def test_the_two_connections_share_the_b_trees_the_largest_table_first(communes, tmp_path, monkeypatch):
    run_import(str(write_csv(tmp_path / "a.csv", 120)), "--commit", "--chunk-rows", "50")
    with connection.cursor() as cursor:  # archived keys make the key table, the last by name, the largest
        cursor.execute(
            "INSERT INTO reports_reportkey (key, archived_year) "
            "SELECT 'archived-' || g, 2020 FROM generate_series(1, 5000) g"
        )
    before = schema()
    suspend_secondary_schema()
    sizes = table_sizes()
    assert sizes["reports_reportkey"] > max(sizes["reports_report"], sizes["reports_reportevent"]) > 0
    btrees = {
        o.name: o.table
        for o in SuspendedSchemaObject.objects.filter(kind="index", definition__contains=" USING btree ")
    }
    (slow,) = [name for name, table in btrees.items() if table == "reports_reportkey"]
    real_restore = bulk_mode.restore_one
    taken = []
    beside_took_a_btree = threading.Event()

    def restore_one(item):
        thread = threading.current_thread()
        taken.append((item.name, thread.name))
        if item.name in btrees and thread is not threading.main_thread():
            beside_took_a_btree.set()
        if item.name == slow and thread is threading.main_thread():
            beside_took_a_btree.wait(timeout=20)  # a slow build here: the other connection goes on to the B-trees
        real_restore(item)

    monkeypatch.setattr(bulk_mode, "restore_one", restore_one)
    bulk_mode.restore_suspended()
    assert schema() == before and not SuspendedSchemaObject.objects.exists()
    main = threading.current_thread().name
    on_btrees = [(name, thread) for name, thread in taken if name in btrees]
    assert on_btrees[0] == (slow, main)
    assert any(thread == "import-restore-beside" for _name, thread in on_btrees)
    for thread in (main, "import-restore-beside"):
        taken_sizes = [sizes[btrees[name]] for name, by in on_btrees if by == thread]
        assert taken_sizes == sorted(taken_sizes, reverse=True)


def restore_attempts(monkeypatch, *, failing_on: str = "") -> list[tuple[str, str]]:
    """Spy on restore_one: each object's name and the thread that tried to rebuild it, in order; in the thread
    `failing_on` every build fails. Off the main thread a lock wait fails after 5 s instead of hanging the test."""
    real_restore = bulk_mode.restore_one
    attempts = []

    def restore_one(item):
        thread = threading.current_thread()
        attempts.append((item.name, thread.name))
        if thread.name == failing_on:
            raise OperationalError("could not connect to server")
        if thread is not threading.main_thread():
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout TO '5s'")
        real_restore(item)

    monkeypatch.setattr(bulk_mode, "restore_one", restore_one)
    return attempts


@pytest.mark.django_db(transaction=True)
def test_with_autocommit_off_every_index_is_rebuilt_on_this_connection(communes, monkeypatch):
    before = schema()
    attempts = restore_attempts(monkeypatch)
    transaction.set_autocommit(False)
    try:
        suspend_secondary_schema()  # this transaction holds the dropped indexes' locks a second connection waits on
        assert not connection.in_atomic_block
        restored = bulk_mode.restore_suspended()
        transaction.commit()
    finally:
        transaction.rollback()
        transaction.set_autocommit(True)
    assert restored and {thread for _name, thread in attempts} == {threading.current_thread().name}
    assert schema() == before and not SuspendedSchemaObject.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_gist_index_the_second_connection_cannot_build_is_rebuilt_on_this_one(communes, monkeypatch):
    before = schema()
    suspend_secondary_schema()
    attempts = restore_attempts(monkeypatch, failing_on="import-restore-beside")
    bulk_mode.restore_suspended()
    gist = {name for name, definition in before if " USING gist " in definition}
    main = threading.current_thread().name
    on_gist = [(name, thread) for name, thread in attempts if name in gist]
    assert gist and [thread for _name, thread in on_gist] == ["import-restore-beside"] * len(gist) + [main] * len(gist)
    assert {name for name, thread in on_gist if thread == main} == gist
    assert schema() == before and not SuspendedSchemaObject.objects.exists()


def test_an_import_into_a_table_with_reports_keeps_the_indexes(communes, make_report, tmp_path, monkeypatch):
    make_report()
    monkeypatch.setattr(importer, "suspend_secondary_schema", lambda: pytest.fail("bulk mode on a live table"))
    out = run_import(str(write_csv(tmp_path / "a.csv", 10)), "--commit")
    assert "modo masivo" not in out and "insertadas: 10" in out


def test_an_import_that_fails_half_way_still_rebuilds_the_indexes(communes, tmp_path, monkeypatch):
    before = schema()
    real_write = importer.chunk_write
    calls = []

    def failing_write(rows, payload, **kwargs):
        calls.append(rows)
        if len(calls) == 2:
            raise ImportFileError("simulated failure")
        return real_write(rows, payload, **kwargs)

    monkeypatch.setattr(importer, "chunk_write", failing_write)
    with pytest.raises(Exception, match="simulated failure"):
        run_import(str(write_csv(tmp_path / "a.csv", 100)), "--commit", "--chunk-rows", "40")
    assert schema() == before and not SuspendedSchemaObject.objects.exists()
    assert Report.objects.count() == 40  # the first chunk was committed; a rerun adds only the rest
    assert stored_counts() == recounted_counts() and counted_reports() == 2 * 40  # its counts recounted too
    out = run_import(str(write_csv(tmp_path / "a.csv", 100)), "--commit", "--chunk-rows", "40")
    assert "insertadas: 60" in out and "ya importadas antes: 40" in out
    assert stored_counts() == recounted_counts() and counted_reports() == 2 * 100


def test_a_killed_import_is_reported_by_check_and_restored_by_the_command(communes):
    before = schema()
    dropped = suspend_secondary_schema()  # what a bulk import does first; the process then "dies"
    assert dropped >= 10 and schema() < before
    warnings = suspended_schema(databases=["default"])
    assert [w.id for w in warnings] == ["reports.W001"] and "report_heatmap_created" in warnings[0].msg
    out = run_import("--restore-schema")
    assert f"reconstruidos: {dropped}" in out
    assert schema() == before and suspended_schema(databases=["default"]) == []


def test_tracking_codes_that_repeat_or_are_taken_are_redrawn(communes, make_report, tmp_path, monkeypatch):
    taken = make_report().tracking_code
    real_draw = tracking.draw_codes
    draws = []

    def draw(prefixes):
        draws.append(len(prefixes))
        if len(draws) == 1:  # every code of the chunk the same, and already stored
            return [taken] * len(prefixes)
        return real_draw(prefixes)

    monkeypatch.setattr(tracking, "draw_codes", draw)
    out = run_import(str(write_csv(tmp_path / "a.csv", 30)), "--commit")
    assert "insertadas: 30" in out
    codes = list(Report.objects.filter(source="geosiac").values_list("tracking_code", flat=True))
    assert len(codes) == len(set(codes)) == 30 and taken not in codes
    assert len(draws) >= 3  # the first draw, the redraw of 29 repeats, then of the one taken code


def test_bulk_mode_leaves_the_counts_to_one_recount_at_the_end(communes, tmp_path, monkeypatch):
    real_write = importer.chunk_write
    counted_after_each_chunk = []

    def write(rows, payload, **kwargs):
        written = real_write(rows, payload, **kwargs)
        counted_after_each_chunk.append((Report.objects.count(), counted_reports()))
        return written

    monkeypatch.setattr(importer, "chunk_write", write)
    out = run_import(str(write_csv(tmp_path / "a.csv", 120)), "--commit", "--chunk-rows", "50")
    assert "modo masivo" in out and "insertadas: 120" in out
    assert counted_after_each_chunk == [(50, 0), (100, 0), (120, 0)]
    assert stored_counts() == recounted_counts() and counted_reports() == 2 * 120
    assert not SuspendedSchemaObject.objects.exists()


def test_an_import_into_a_table_with_reports_counts_each_chunk_as_it_goes(communes, make_report, tmp_path):
    make_report()
    run_import(str(write_csv(tmp_path / "a.csv", 30)), "--commit", "--chunk-rows", "20")
    assert stored_counts() == recounted_counts() and counted_reports() == 2 * 31


@pytest.mark.django_db(transaction=True)
def test_a_submission_during_a_bulk_import_is_counted_once(communes, tmp_path, monkeypatch):
    real_write = importer.chunk_write
    submitted = []

    def write(rows, payload, **kwargs):
        written = real_write(rows, payload, **kwargs)
        if not submitted:  # between two chunks, in its own transaction: its insert trigger counts it
            submitted.append(report_create(category="bache", latitude=-33.6117, longitude=-70.5758, channel="web"))
            assert counted_reports() == 2
        return written

    monkeypatch.setattr(importer, "chunk_write", write)
    out = run_import(str(write_csv(tmp_path / "a.csv", 120)), "--commit", "--chunk-rows", "50")
    assert "insertadas: 120" in out
    assert stored_counts() == recounted_counts() and counted_reports() == 2 * 121


def test_a_killed_bulk_import_leaves_its_recount_to_the_restore(communes, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "restore_suspended", lambda: [])  # the process dies before its end
    run_import(str(write_csv(tmp_path / "a.csv", 60)), "--commit", "--chunk-rows", "50")
    assert Report.objects.count() == 60 and counted_reports() == 0
    warnings = suspended_schema(databases=["default"])
    assert [w.id for w in warnings] == ["reports.W001"] and "maps_counts_recount" in warnings[0].msg
    run_import("--restore-schema")
    assert stored_counts() == recounted_counts() and counted_reports() == 2 * 60
    assert suspended_schema(databases=["default"]) == []


@pytest.mark.django_db(transaction=True)  # each write between the chunks commits, as an editor's would
def test_a_move_and_a_delete_of_imported_reports_between_two_chunks_are_put_right_by_the_recount(
    communes, tmp_path, monkeypatch
):
    real_write = importer.chunk_write
    short_between = []

    def write(rows, payload, **kwargs):
        written = real_write(rows, payload, **kwargs)
        if not short_between:  # two of the first chunk's reports, never counted: one moved, one deleted
            moved, deleted = Report.objects.order_by("id")[:2]
            lat, lng = -33.6017, -70.5658  # another cell of Puente Alto
            Report.objects.filter(pk=moved.pk).update(location=Point(lng, lat, srid=4326), **h3_cells(lat, lng))
            Report.objects.filter(pk=deleted.pk).delete()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM maps_cellcount WHERE reports < 0")
                short_between.append(cursor.fetchone()[0])
        return written

    monkeypatch.setattr(importer, "chunk_write", write)
    out = run_import(str(write_csv(tmp_path / "a.csv", 120)), "--commit", "--chunk-rows", "50")
    assert "modo masivo" in out and "insertadas: 120" in out
    assert short_between[0] > 0  # their old cells, which never counted them, went below zero
    assert stored_counts() == recounted_counts() and counted_reports() == 2 * 119
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM maps_cellcount WHERE reports < 0")
        assert cursor.fetchone()[0] == 0


def test_an_importer_run_again_defers_the_counts_only_in_its_bulk_runs(communes, tmp_path, monkeypatch):
    real_write = importer.chunk_write
    deferred = []

    def write(rows, payload, **kwargs):
        deferred.append(kwargs["counts_deferred"])
        return real_write(rows, payload, **kwargs)

    monkeypatch.setattr(importer, "chunk_write", write)
    one = importer.ReportImporter(mapping=load_mapping("geosiac"), commit=True, chunk_rows=50)
    assert one.run(write_csv(tmp_path / "a.csv", 60)).bulk  # into an empty table
    assert not one.run(write_csv(tmp_path / "b.csv", 60, start=60)).bulk
    assert deferred == [True, True, False, False]
    assert stored_counts() == recounted_counts() and counted_reports() == 2 * 120


def test_a_suspended_object_of_an_unknown_kind_is_refused_by_name_and_stays_recorded(communes):
    SuspendedSchemaObject.objects.create(
        table="reports_report", name="report_of_a_later_version", kind="trigger", definition="CREATE TRIGGER ..."
    )
    refused = r"reports_report\.report_of_a_later_version: tipo «trigger» desconocido"
    with pytest.raises(ImportFileError, match=refused):
        bulk_mode.restore_suspended()
    assert SuspendedSchemaObject.objects.filter(name="report_of_a_later_version").exists()
