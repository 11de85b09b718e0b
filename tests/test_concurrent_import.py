"""A submission made while an import runs: the import writes each chunk in one statement that claims its rows' keys
and fails whole on a taken one (reports.importers.staging), then writes the chunk again in steps. The submission's
tracking code is never given to an imported report, nothing is lost or written twice, and the stored cell counts
(maps.CellCount, kept by triggers) still equal a recount, the failed statement's counts undone with it.

The submission is played by a second database connection that claims its code and keeps its transaction open until
a second after the import drew that code, so the import usually reaches the code while the submission is in flight;
what is asserted holds whichever comes first."""

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection

from geo_siac.reports import tracking
from geo_siac.reports.importers import staging
from geo_siac.reports.models import Report, ReportEvent, ReportKey
from geo_siac.testing import other_session

HELD = "PA-ZZZZ-ZZZZ"
HEADER = "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"


def write_csv(path, rows: int):
    lines = [
        f"c{i},2026-10-0{1 + i % 5} 10:00,,bache,web,{'submitted' if i % 2 else 'in_progress'},"
        f"{-33.6117 + i * 1e-5},{-70.5758},x\n"
        for i in range(rows)
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8")
    return path


def stored_and_recounted_cells() -> tuple[set, set]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT res, commune_id, cell, reports FROM maps_cellcount WHERE reports <> 0")
        stored = set(cursor.fetchall())
        cursor.execute(
            "SELECT res, commune_id, cell, count(*) FROM reports_report r "
            "CROSS JOIN LATERAL (VALUES (9, r.h3_res9), (10, r.h3_res10)) c (res, cell) "
            "WHERE r.h3_res9 IS NOT NULL GROUP BY 1, 2, 3"
        )
        return stored, set(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("submission_commits", [True, False])
def test_a_code_claimed_by_a_submission_in_flight_is_never_given_to_an_imported_report(
    communes, make_report, tmp_path, monkeypatch, submission_commits
):
    citizen = make_report()
    real_draw = tracking.draw_codes
    draws = []

    def draw(prefixes):
        draws.append(len(prefixes))
        codes = real_draw(prefixes)
        if len(draws) > 1:
            return codes
        ends.start()  # the import's writer meets the held code meanwhile; nothing is asserted on timing
        return [HELD, *codes[1:]]

    monkeypatch.setattr(tracking, "draw_codes", draw)
    submission = other_session()
    ends = threading.Timer(1.0, submission.commit if submission_commits else submission.rollback)
    try:
        with submission.cursor() as cursor:
            cursor.execute(
                "INSERT INTO reports_reportkey (key, report_id) VALUES (%s, %s)", [f"code:{HELD}", citizen.pk]
            )
        out = StringIO()
        call_command("import_reports", str(write_csv(tmp_path / "a.csv", 40)), "--commit", "--no-progress", stdout=out)
        ends.join()
    finally:
        submission.close()

    assert "insertadas: 40" in out.getvalue()
    imported = Report.objects.filter(source="geosiac")
    codes = list(imported.values_list("tracking_code", flat=True))
    assert len(codes) == len(set(codes)) == 40
    assert (HELD in codes) is not submission_commits
    assert (len(draws) > 1) is submission_commits  # the held code, once committed, redrawn in the slow steps
    assert ReportKey.objects.filter(key=f"code:{HELD}").count() == 1
    assert ReportKey.objects.filter(key__startswith="source:geosiac:").count() == 40
    assert ReportEvent.objects.filter(report__in=imported).count() == 40 + 20  # created, and in progress for half
    stored, recount = stored_and_recounted_cells()
    assert stored == recount and len(recount) > 0


@pytest.mark.django_db(transaction=True)
def test_an_import_restarted_over_its_own_rows_keeps_the_cell_counts_equal_to_a_recount(communes, tmp_path):
    path = write_csv(tmp_path / "a.csv", 30)
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=StringIO())
    path = write_csv(tmp_path / "a.csv", 45)  # the same 30 rows, then 15 more: every chunk's claim conflicts
    out = StringIO()
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=out)
    assert "insertadas: 15" in out.getvalue() and "ya importadas antes: 30" in out.getvalue()
    assert Report.objects.filter(source="geosiac").count() == 45
    stored, recount = stored_and_recounted_cells()
    assert stored == recount and sum(n for _res, _commune, _cell, n in recount) == 2 * 45


def events_sequence_value() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [ReportEvent._meta.db_table])
        cursor.execute(f"SELECT last_value FROM {cursor.fetchone()[0]}")
        return cursor.fetchone()[0]


def count_calls(monkeypatch, module, name: str) -> list:
    calls = []
    real = getattr(module, name)

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.mark.django_db(transaction=True)
def test_a_clean_import_writes_each_chunk_in_the_one_statement(communes, make_report, tmp_path, monkeypatch):
    make_report()
    steps = count_calls(monkeypatch, staging, "claim_statement")
    out = StringIO()
    call_command(
        "import_reports", str(write_csv(tmp_path / "a.csv", 45)), "--commit", "--no-progress", "--chunk-rows", "20",
        stdout=out,
    )  # fmt: skip
    assert "insertadas: 45" in out.getvalue() and not steps


@pytest.mark.django_db(transaction=True)
def test_a_restarted_import_claims_its_keys_before_writing_any_report_or_event(communes, make_report, tmp_path):
    make_report()  # live indexes: no bulk mode
    path = write_csv(tmp_path / "a.csv", 30)
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=StringIO())
    events = events_sequence_value()
    out = StringIO()
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=out)
    assert "insertadas: 0" in out.getvalue() and "ya importadas antes: 30" in out.getvalue()
    assert events_sequence_value() == events  # no event drawn: the taken key failed the statement first


@pytest.mark.django_db
def test_another_integrity_error_in_the_one_statement_is_raised_not_written_in_steps(
    communes, make_report, tmp_path, monkeypatch
):
    make_report()
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the citizen's key checked now, or the table cannot change
        cursor.execute(
            "ALTER TABLE reports_reportkey ADD CONSTRAINT no_c3 CHECK (key <> 'source:geosiac:c3') NOT VALID"
        )
    steps = count_calls(monkeypatch, staging, "claim_statement")
    with pytest.raises(IntegrityError, match="no_c3"):
        call_command("import_reports", str(write_csv(tmp_path / "a.csv", 10)), "--commit", "--no-progress")
    assert not steps
