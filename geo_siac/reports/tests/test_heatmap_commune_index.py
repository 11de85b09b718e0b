"""Migration 0043 builds report_heatmap_commune partition by partition CONCURRENTLY (docs/maps.md, "Reads by
date"): backwards and forwards, re-run after a failure half way, not blocking a report's INSERT while a partition's
index builds, and inherited by a year partition created later."""

import importlib
import threading
import time

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from geo_siac.reports.importers import bulk_mode
from geo_siac.reports.models import Report, ReportEvent, SuspendedSchemaObject
from geo_siac.reports.partitions import PARTITIONED_TABLES, partition_name, year_partitions_ensure
from geo_siac.testing import other_session

MIGRATION = importlib.import_module("geo_siac.reports.migrations.0043_heatmap_commune_covering_index")
BEFORE = ("reports", "0042_suspended_recount_of_counts")
# Where a test stands before it holds a lock and migrates back to BEFORE: later migrations' backwards steps (0046's
# DROP TABLE of a table referencing reports_report) would wait on that lock with no timeout, not 0043's.
AFTER = ("reports", "0043_heatmap_commune_covering_index")
NEW = "report_heatmap_commune"
OLD = "reports_report_commune_id_babfa675"
TABLE = Report._meta.db_table


def migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def index_state(name: str) -> dict:
    """Whether the partitioned index `name` exists and is valid, and each partition's index attached to it (valid)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
        row = cursor.fetchone()
        cursor.execute(
            "SELECT x.indrelid::regclass::text, x.indisvalid FROM pg_inherits i JOIN pg_index x ON x.indexrelid = "
            "i.inhrelid WHERE i.inhparent = to_regclass(%s)",
            [name],
        )
        children = dict(cursor.fetchall())
        cursor.execute("SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = %s::regclass", [TABLE])
        partitions = {partition for (partition,) in cursor.fetchall()}
    return {"valid": row[0] if row else None, "children": children, "partitions": partitions}


def assert_built(name: str) -> None:
    state = index_state(name)
    assert state["valid"] is True
    assert state["children"] == dict.fromkeys(state["partitions"], True)


@pytest.mark.django_db(transaction=True)
def test_backwards_forwards_and_again_after_a_failure_half_way(make_report):
    make_report()
    make_report()  # two reports of one comuna: a unique index on commune_id fails below
    year = timezone.localdate().year
    partition = partition_name(TABLE, year)
    child = f"{partition}_heatmap_commune"
    assert_built(NEW)
    assert index_state(OLD)["valid"] is None
    try:
        migrate([BEFORE])
        assert_built(OLD)
        assert index_state(NEW)["valid"] is None
        # Half way: the parent made ON ONLY, and this year's build failed CONCURRENTLY, leaving an invalid index.
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE INDEX "{NEW}" ON ONLY "{TABLE}" {MIGRATION.NEW_COLUMNS}')
            with pytest.raises(Exception, match="could not create unique index"):
                cursor.execute(f'CREATE UNIQUE INDEX CONCURRENTLY "{child}" ON "{partition}" ("commune_id")')
        assert index_state(NEW)["valid"] is False
    finally:
        migrate(latest())
    assert_built(NEW)
    assert index_state(OLD)["valid"] is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [child])
        assert "INCLUDE (category_id, status, channel, h3_res6" in cursor.fetchone()[0]  # built again, not reused
        cursor.execute(
            "SELECT count(*) FROM pg_index x JOIN pg_inherits i ON i.inhrelid = x.indexrelid "
            "WHERE i.inhparent = %s::regclass AND NOT x.indisvalid",
            [NEW],
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_a_year_partition_made_later_gets_the_index():
    year = 2093
    try:
        assert year_partitions_ensure([year]) == [partition_name(table, year) for table in PARTITIONED_TABLES]
        state = index_state(NEW)
        assert state["children"][partition_name(TABLE, year)] is True and state["valid"] is True
    finally:
        with connection.cursor() as cursor:
            for table in reversed(PARTITIONED_TABLES):  # the events' first: their key points at the reports'
                cursor.execute(f'ALTER TABLE "{table}" DETACH PARTITION "{partition_name(table, year)}"')
                cursor.execute(f'DROP TABLE "{partition_name(table, year)}"')


@pytest.mark.django_db(transaction=True)
def test_a_report_is_written_while_a_partitions_index_builds(make_report):
    """The build of one partition's index waits on a writer that holds the partition (a transaction in progress),
    as CREATE INDEX CONCURRENTLY does; meanwhile another session's report goes in within a 2 s lock_timeout. A
    CREATE INDEX on the partitioned table, as the first 0042 did, would have held it out until the build ended."""
    make_report()
    migrate([AFTER])
    partition = partition_name(TABLE, timezone.localdate().year)
    holder = other_session()
    failure = []

    def backwards():
        try:
            migrate([BEFORE])
        except Exception as exc:  # noqa: BLE001 - asserted below
            failure.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=backwards)
    try:
        with holder.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{partition}" IN ROW EXCLUSIVE MODE')  # as an INSERT not yet committed
        worker.start()
        watcher = other_session(autocommit=True)
        with watcher.cursor() as cursor:
            for _ in range(300):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND query LIKE 'CREATE INDEX CONCURRENTLY%%' AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.1)
            else:
                pytest.fail("the partition's index build never waited on the writer")
        written = submitted_within(make_report, "2s")
        assert Report.objects.filter(pk=written.pk).exists()
        assert worker.is_alive()  # the build still waiting: the submission went in during it
        watcher.close()
    finally:
        holder.rollback()
        holder.close()
        worker.join(timeout=120)
        migrate(latest())
    assert not failure
    assert_built(NEW)


def wait_for_lock_wait(prefix: str) -> None:
    """Until a statement of this database starting with `prefix` waits on a lock."""
    watcher = other_session(autocommit=True)
    try:
        with watcher.cursor() as cursor:
            for _ in range(300):
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE %s "
                    "AND wait_event_type = 'Lock'",
                    [prefix + "%"],
                )
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.1)
        pytest.fail(f"{prefix} never waited on a lock")
    finally:
        watcher.close()


def forwards_in_a_thread(failure: list) -> threading.Thread:
    def forwards():
        try:
            migrate(latest())
        except Exception as exc:  # noqa: BLE001 - asserted by the caller
            failure.append(exc)
        finally:
            connection.close()

    worker = threading.Thread(target=forwards)
    worker.start()
    return worker


def submitted_within(make_report, timeout: str) -> Report:
    """A citizen's submission (report_create) that waits for a lock no longer than `timeout`. Made while migrated
    back to BEFORE by today's code, which writes ReportEvent.data (0047): the column is lent for the submission and
    taken back before 0047 runs forwards (no lock these tests hold is on the event table)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {ReportEvent._meta.db_table} ADD COLUMN IF NOT EXISTS data jsonb NULL")
        cursor.execute(f"SET lock_timeout = '{timeout}'")
    try:
        return make_report()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
            cursor.execute(f"ALTER TABLE {ReportEvent._meta.db_table} DROP COLUMN IF EXISTS data")


@pytest.fixture
def short_lock_waits(monkeypatch):
    """The migration's catalogue changes wait 300 ms for their lock, tried again every 0.1 s until they get it."""
    monkeypatch.setattr(MIGRATION, "LOCK_TIMEOUT", "300ms")
    monkeypatch.setattr(MIGRATION, "LOCK_PAUSE_SECONDS", 0.1)
    monkeypatch.setattr(MIGRATION, "LOCK_ATTEMPTS", 1000)


@pytest.mark.django_db(transaction=True)
def test_a_report_is_written_while_a_reader_holds_the_partition_across_the_attach(make_report, short_lock_waits):
    """ATTACH PARTITION takes an ACCESS EXCLUSIVE lock on the partition's new index, which a transaction that read
    the partition holds a share of: it waits for the reader, and a report of that partition waits behind it. Under
    its lock_timeout it steps aside, so the report goes in within 3 s; it gets its lock once the reader ends."""
    make_report()
    partition = partition_name(TABLE, timezone.localdate().year)
    child = f"{partition}_heatmap_commune"
    migrate([BEFORE])
    holder = other_session()
    failure = []
    worker = None
    try:
        with connection.cursor() as cursor:  # half way: the parent ON ONLY, this year's copy built, not attached
            cursor.execute(f'CREATE INDEX "{NEW}" ON ONLY "{TABLE}" {MIGRATION.NEW_COLUMNS}')
            cursor.execute(f'CREATE INDEX "{child}" ON "{partition}" {MIGRATION.NEW_COLUMNS}')
        with holder.cursor() as cursor:
            cursor.execute(f'SELECT count(*) FROM "{partition}"')  # a map's read in progress
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass AND pid = pg_backend_pid()", [child]
            )
            assert cursor.fetchone()[0] == 1
        worker = forwards_in_a_thread(failure)
        wait_for_lock_wait(f'ALTER INDEX "{NEW}" ATTACH PARTITION')
        written = submitted_within(make_report, "3s")
        assert Report.objects.filter(pk=written.pk).exists()
        assert worker.is_alive()  # still waiting for the reader to attach
    finally:
        holder.rollback()
        holder.close()
        if worker is not None:
            worker.join(timeout=120)
        migrate(latest())
    assert not failure
    assert_built(NEW)


@pytest.mark.django_db(transaction=True)
def test_a_report_is_written_while_a_write_holds_the_table_across_the_parents_index(make_report, short_lock_waits):
    """CREATE INDEX ... ON ONLY takes a SHARE lock on reports_report: it waits for a write in progress, and a new
    report waits behind it. Under its lock_timeout it steps aside, so the report goes in within 3 s."""
    make_report()
    migrate([BEFORE])
    holder = other_session()
    failure = []
    worker = None
    try:
        with holder.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{TABLE}" IN ROW EXCLUSIVE MODE')  # as an INSERT not yet committed
        worker = forwards_in_a_thread(failure)
        wait_for_lock_wait(f'CREATE INDEX IF NOT EXISTS "{NEW}" ON ONLY')
        written = submitted_within(make_report, "3s")
        assert Report.objects.filter(pk=written.pk).exists()
        assert worker.is_alive()
    finally:
        holder.rollback()
        holder.close()
        if worker is not None:
            worker.join(timeout=120)
        migrate(latest())
    assert not failure
    assert_built(NEW)


@pytest.mark.django_db(transaction=True)
def test_a_lock_never_had_stops_the_migration_with_a_message(make_report, monkeypatch):
    make_report()
    monkeypatch.setattr(MIGRATION, "LOCK_TIMEOUT", "100ms")
    monkeypatch.setattr(MIGRATION, "LOCK_PAUSE_SECONDS", 0)
    monkeypatch.setattr(MIGRATION, "LOCK_ATTEMPTS", 3)
    migrate([AFTER])
    holder = other_session()
    try:
        with holder.cursor() as cursor:
            cursor.execute(f'LOCK TABLE "{TABLE}" IN ROW EXCLUSIVE MODE')
        with pytest.raises(RuntimeError, match="no obtuvo su bloqueo en 3 intentos de 100ms .*ejecute migrate otra"):
            migrate([BEFORE])  # its CREATE INDEX ... ON ONLY waits for the write
    finally:
        holder.rollback()
        holder.close()
        migrate(latest())
    assert_built(NEW)


@pytest.mark.django_db(transaction=True)
def test_a_running_import_stops_the_migration_and_a_crashed_ones_records_are_kept_true(make_report):
    """While an import holds its lock the migration does nothing and says why. After an import that died having
    dropped the indexes (their records left), the migration takes off the records of the index it drops and of the
    one it builds: restoring the others does not bring the dropped one back, both ways."""
    make_report()
    assert MIGRATION.IMPORT_LOCK_KEY == bulk_mode.IMPORT_LOCK_KEY
    importer = other_session(autocommit=True)
    try:
        with importer.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [bulk_mode.IMPORT_LOCK_KEY])
        with pytest.raises(RuntimeError, match="importación de solicitudes .* en curso"):
            migrate([BEFORE])
        assert_built(NEW)
        assert index_state(OLD)["valid"] is None
    finally:
        importer.close()
    try:
        bulk_mode.suspend_secondary_schema()  # an import that died: the covering index dropped and recorded
        assert SuspendedSchemaObject.objects.filter(name=NEW).exists()
        migrate([BEFORE])
        assert not SuspendedSchemaObject.objects.filter(name__in=[NEW, OLD]).exists()
        assert SuspendedSchemaObject.objects.exists()  # the import's other indexes and keys, left to restore
        bulk_mode.restore_suspended()
        assert index_state(NEW)["valid"] is None
        assert_built(OLD)
        bulk_mode.suspend_secondary_schema()  # and the other way: the plain index dropped and recorded
        assert SuspendedSchemaObject.objects.filter(name=OLD).exists()
    finally:
        migrate(latest())
    assert not SuspendedSchemaObject.objects.filter(name__in=[NEW, OLD]).exists()
    bulk_mode.restore_suspended()
    assert not SuspendedSchemaObject.objects.exists()
    assert_built(NEW)
    assert index_state(OLD)["valid"] is None
