"""Migration 0042 builds report_heatmap_commune partition by partition CONCURRENTLY (docs/maps.md, "Reads by
date"): backwards and forwards, re-run after a failure half way, not blocking a report's INSERT while a partition's
index builds, and inherited by a year partition created later."""

import importlib
import threading
import time

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from geo_siac.reports.models import Report
from geo_siac.reports.partitions import PARTITIONED_TABLES, partition_name, year_partitions_ensure
from geo_siac.testing import other_session

MIGRATION = importlib.import_module("geo_siac.reports.migrations.0042_heatmap_commune_covering_index")
BEFORE = ("reports", "0041_pending_erasures")
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
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%%' "
                    "AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                time.sleep(0.1)
            else:
                pytest.fail("the partition's index build never waited on the writer")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        try:
            written = make_report()  # a citizen's submission, by report_create
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
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
