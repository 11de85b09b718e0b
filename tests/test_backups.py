"""scripts/backup.sh and scripts/restore.sh: a dump restored into a fresh database holds every report."""

import os
import subprocess
import uuid

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from geo_siac.reports.models import ReportEvent, report_id_year
from geo_siac.reports.partitions import partition_name
from geo_siac.testing import PROJECT_ROOT

pytestmark = pytest.mark.slow


def libpq_environment() -> dict:
    params = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": params["HOST"] or "127.0.0.1",
        "PGPORT": str(params["PORT"] or 5432),
        "PGUSER": params["USER"],
        "PGPASSWORD": params["PASSWORD"],
        "PGDATABASE": params["NAME"],
    }


def script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(PROJECT_ROOT / "scripts" / name), *args],
        env=libpq_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def connect(database: str):
    env = libpq_environment()
    return psycopg2.connect(
        host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], password=env["PGPASSWORD"], dbname=database
    )


def tracking_codes(database: str) -> set[str]:
    conn = connect(database)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tracking_code FROM reports_report")
            return {row[0] for row in cursor.fetchall()}
    finally:
        conn.close()


def other_columns(cursor, table: str, *left_out: str) -> str:
    cursor.execute(
        "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
        "WHERE table_name = %s AND NOT column_name = ANY(%s)",
        [table, list(left_out)],
    )
    return cursor.fetchone()[0]


def file_after_restore(database: str) -> tuple[int, int, str]:
    """A report written as a plain INSERT leaves it to the id column's default (a copy of a restored one under a
    new tracking code), and one event of it: (the new id, the highest restored id, the event's partition)."""
    conn = connect(database)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT max(id) FROM reports_report")
            restored = cursor.fetchone()[0]
            columns = other_columns(cursor, "reports_report", "id", "tracking_code")
            cursor.execute(
                f"INSERT INTO reports_report (tracking_code, {columns}) "
                f"SELECT 'RESTAURADA-1', {columns} FROM reports_report LIMIT 1 RETURNING id"
            )
            new = cursor.fetchone()[0]
            columns = other_columns(cursor, "reports_reportevent", "id", "report_id")
            cursor.execute(
                f"INSERT INTO reports_reportevent (report_id, {columns}) "
                f"SELECT %s, {columns} FROM reports_reportevent LIMIT 1 RETURNING tableoid::regclass::text",
                [new],
            )
            return new, restored, cursor.fetchone()[0]
    finally:
        conn.close()


def test_a_backup_restored_into_a_fresh_database_holds_every_report(make_report, transactional_db, tmp_path):
    reports = [make_report(description=f"Respaldo {n}") for n in range(5)]
    dump = tmp_path / "geo_siac.dump"
    backup = script("backup.sh", str(dump))
    assert backup.returncode == 0, backup.stderr
    fresh = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    try:
        restore = script("restore.sh", str(dump), fresh)
        assert restore.returncode == 0, restore.stderr
        assert f"reports restored: {len(reports)}" in restore.stdout
        assert tracking_codes(fresh) == {r.tracking_code for r in reports}
        new, restored, partition = file_after_restore(fresh)
        assert new > restored and report_id_year(new) == timezone.localdate().year
        assert partition == partition_name(ReportEvent._meta.db_table, report_id_year(new))
    finally:
        subprocess.run(["dropdb", "--if-exists", fresh], env=libpq_environment(), capture_output=True, timeout=60)


def test_restore_refuses_a_damaged_dump_and_creates_nothing(tmp_path, db):
    damaged = tmp_path / "broken.dump"
    damaged.write_bytes(b"PGDMP\x00 not really")
    fresh = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    assert script("restore.sh", str(damaged), fresh).returncode != 0
    exists = subprocess.run(
        ["psql", "-X", "-At", "-c", f"SELECT 1 FROM pg_database WHERE datname = '{fresh}'"],
        env=libpq_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    assert exists == ""
