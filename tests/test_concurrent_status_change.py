"""Two people change the same report at once, each on their own database connection (one thread each)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status


def first_holds_the_lock(report, status, seen, outcome, holding, release):
    """Change the report and keep the transaction open until told, so the second person arrives meanwhile."""
    try:
        with transaction.atomic():
            report_change_status(
                public_note=EXPLAINED_BY_CALLER,
                report=report,
                status=status,
                note="primera",
                note_is_public=True,
                seen_updated_at=seen,
            )
            holding.set()
            release.wait(timeout=30)
        outcome["first"] = "ok"
    finally:
        holding.set()
        connection.close()


def second(report, status, seen, outcome):
    try:
        report_change_status(
            public_note=EXPLAINED_BY_CALLER,
            report=report,
            status=status,
            note="segunda",
            note_is_public=True,
            seen_updated_at=seen,
        )
        outcome["second"] = "ok"
    except ValidationError as exc:
        outcome["second"] = exc.messages[0]
    finally:
        connection.close()


def race(report, *, first_status, second_status, seen=None) -> dict:
    outcome, holding, release = {}, threading.Event(), threading.Event()
    one = threading.Thread(target=first_holds_the_lock, args=(report, first_status, seen, outcome, holding, release))
    one.start()
    holding.wait(timeout=30)
    two = threading.Thread(target=second, args=(report, second_status, seen, outcome))
    two.start()
    two.join(timeout=0.5)  # gives the second person time to queue on the row lock; no assertion on timing
    release.set()
    one.join(timeout=30)
    two.join(timeout=30)
    return outcome


@pytest.mark.django_db(transaction=True)
def test_two_status_changes_at_once_both_land_in_order_and_neither_is_lost(make_report):
    report = make_report()
    outcome = race(report, first_status="acknowledged", second_status="in_progress")
    assert outcome == {"first": "ok", "second": "ok"}
    report = Report.objects.get(pk=report.pk)
    chain = list(report.events.filter(kind="status").values_list("from_status", "to_status", "note"))
    assert chain == [("submitted", "acknowledged", "primera"), ("acknowledged", "in_progress", "segunda")]
    assert report.status == "in_progress"


@pytest.mark.django_db(transaction=True)
def test_second_person_working_from_a_stale_page_is_told_someone_else_changed_it(make_report):
    report = make_report()
    outcome = race(report, first_status="acknowledged", second_status="closed_duplicate", seen=report.updated_at)
    assert outcome["first"] == "ok"
    assert "Otra persona modificó esta solicitud" in outcome["second"]
    report = Report.objects.get(pk=report.pk)
    assert report.status == "acknowledged"
    assert list(report.events.filter(kind="status").values_list("note", flat=True)) == ["primera"]
