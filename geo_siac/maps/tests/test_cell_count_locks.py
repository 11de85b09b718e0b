"""Writers of the stored counts lock the count rows in key order, so two sessions that move reports through the same
cells wait for each other instead of deadlocking: two opposite reclassifications in one cell, and a relocation
against an import chunk's insert into both of its cells. The recount after a bulk import (maps 0004) waits for a
submission in flight and counts it once.

Each writer is a real session of its own. A third session holds one count row until both writers are waiting, so
they reach the rows in the order that deadlocked when the move triggers took the old rows and then the new ones."""

import threading
import time

import pytest
from django.db import connection, transaction

from geo_siac.geo import h3_cells
from geo_siac.maps.models import CellCount
from geo_siac.maps.tests.test_cell_counts import assert_stored_counts_are_live
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create
from geo_siac.testing import PUENTE_ALTO_CENTRE, other_session

pytestmark = pytest.mark.django_db(transaction=True)

NEARBY = (PUENTE_ALTO_CENTRE[0] + 0.01, PUENTE_ALTO_CENTRE[1] + 0.01)  # another res-9 cell in Puente Alto


def in_a_thread(session, sql: str, params: list) -> tuple[threading.Thread, dict]:
    """Run one statement and commit on `session`, in a thread (it waits on locks); its error, if any, in the dict."""
    outcome = {}

    def run():
        try:
            with session.cursor() as cursor:
                cursor.execute(sql, params)
            session.commit()
        except Exception as exc:  # noqa: BLE001 - handed to the test, which shows it
            session.rollback()
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def wait_until_blocked(session) -> None:
    """Until the session's statement waits on a lock held by another."""
    pid = session.get_backend_pid()
    deadline = time.monotonic() + 10
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == "Lock":
                return
            time.sleep(0.02)
    raise AssertionError(f"session {pid} never waited on a lock")


def race(holder_sql: str, holder_params: list, first: tuple[str, list], second: tuple[str, list]) -> None:
    """The holder locks a count row; the first writer starts and waits for it, the second starts and waits (for the
    holder or the first); the holder commits; both writers must commit."""
    holder, one, two = other_session(), other_session(), other_session()
    try:
        with holder.cursor() as cursor:
            cursor.execute(holder_sql, holder_params)
            assert cursor.rowcount == 1
        first_thread, first_outcome = in_a_thread(one, *first)
        wait_until_blocked(one)
        second_thread, second_outcome = in_a_thread(two, *second)
        wait_until_blocked(two)
        holder.commit()
        for thread in (first_thread, second_thread):
            thread.join(timeout=30)
            assert not thread.is_alive()
        assert "error" not in first_outcome, first_outcome.get("error")
        assert "error" not in second_outcome, second_outcome.get("error")
    finally:
        for session in (holder, one, two):
            session.close()


def test_two_opposite_reclassifications_in_one_cell_both_commit(make_report):
    pothole = make_report(point=PUENTE_ALTO_CENTRE, category="bache")
    graffiti = make_report(point=PUENTE_ALTO_CENTRE, category="grafiti")
    low, high = sorted((pothole, graffiti), key=lambda r: r.category_id)
    reclassify = "UPDATE reports_report SET category_id = %s WHERE id = %s"
    race(
        # The lower category's res-10 row: the first writer takes its res-9 row, then waits here.
        "SELECT 1 FROM maps_categorycellcount WHERE res = 10 AND commune_id = %s AND category_id = %s AND cell = %s "
        "FOR UPDATE",
        [low.commune_id, low.category_id, low.h3_res10],
        (reclassify, [high.category_id, low.pk]),
        (reclassify, [low.category_id, high.pk]),
    )
    assert Report.objects.get(pk=low.pk).category_id == high.category_id
    assert Report.objects.get(pk=high.pk).category_id == low.category_id
    assert_stored_counts_are_live()


def test_a_relocation_and_an_insert_into_both_its_cells_both_commit(make_report):
    # The relocation goes from the cell with the higher res-9 id to the lower: the insert locks the lower first.
    here, there = sorted((PUENTE_ALTO_CENTRE, NEARBY), key=lambda point: h3_cells(*point)["h3_res9"], reverse=True)
    moved = make_report(point=here, category="bache")
    copied = [make_report(point=point, category="grafiti") for point in (here, there)]
    cells = h3_cells(*there)
    relocate = (
        "UPDATE reports_report SET location = ST_SetSRID(ST_MakePoint(%s, %s), 4326), "
        + ", ".join(f"{field} = %s" for field in cells)
        + " WHERE id = %s"
    )
    # One INSERT statement of two reports, one in each cell, as an import chunk writes them.
    insert = (
        "INSERT INTO reports_report SELECT (jsonb_populate_record(r, jsonb_build_object('id', r.id + 1000))).* "
        "FROM reports_report r WHERE r.id = ANY(%s)"
    )
    race(
        # The old cell's res-10 row: the relocation takes the res-9 rows it needs before it, then waits here.
        "SELECT 1 FROM maps_cellcount WHERE res = 10 AND cell = %s AND commune_id = %s FOR UPDATE",
        [moved.h3_res10, moved.commune_id],
        (relocate, [there[1], there[0], *cells.values(), moved.pk]),
        (insert, [[report.pk for report in copied]]),
    )
    assert Report.objects.get(pk=moved.pk).h3_res9 == cells["h3_res9"]
    assert Report.objects.count() == 5
    assert_stored_counts_are_live()


def test_the_recount_waits_for_a_submission_in_flight_and_counts_it_once(make_report):
    # Reports written as a bulk import's chunks write them: left to the recount, no count row yet.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL geo_siac.counts_deferred = on")
        for _ in range(3):
            make_report(point=PUENTE_ALTO_CENTRE, category="bache")
    assert not CellCount.objects.exists()
    submitted, release = threading.Event(), threading.Event()
    submission = {}

    def submit() -> None:
        """A citizen's submission into the imported reports' cells, in its own session, held uncommitted (its
        insert trigger has written its count rows) until released."""
        try:
            with transaction.atomic():
                submission["report"] = report_create(
                    category="bache", latitude=PUENTE_ALTO_CENTRE[0], longitude=PUENTE_ALTO_CENTRE[1], channel="web"
                )
                submitted.set()
                release.wait(timeout=30)
        except Exception as exc:  # noqa: BLE001 - handed to the test, which shows it
            submission["error"] = exc
        finally:
            submitted.set()
            connection.close()  # this thread's own connection

    submitter = threading.Thread(target=submit)
    submitter.start()
    recounter = other_session()
    try:
        assert submitted.wait(timeout=30) and "error" not in submission, submission.get("error")
        recount, outcome = in_a_thread(recounter, "SELECT maps_counts_recount()", [])
        recount.join(timeout=1)
        assert recount.is_alive()  # its SHARE lock waits for the submission's ROW EXCLUSIVE one
        wait_until_blocked(recounter)
        release.set()
        submitter.join(timeout=30)
        assert not submitter.is_alive() and "error" not in submission, submission.get("error")
        recount.join(timeout=30)
        assert not recount.is_alive()
        assert "error" not in outcome, outcome.get("error")
    finally:
        release.set()
        submitter.join(timeout=30)
        recounter.close()
    assert Report.objects.count() == 4
    assert CellCount.objects.get(res=9, cell=submission["report"].h3_res9).reports == 4
    assert_stored_counts_are_live()
