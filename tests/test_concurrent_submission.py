"""The same form submitted twice at once (a double click, a retry while the first is still being written): the
second waits for the first on the form token and returns its report, or files its own if the first failed.

The first submission is played by a second database connection that claims the token and keeps its transaction
open, so the second arrives while the first is still in flight, every time."""

import threading

import pytest
from django.db import connection

from geo_siac.reports.models import Report, ReportEvent, Submission
from geo_siac.reports.services import report_create
from geo_siac.testing import PUENTE_ALTO_CENTRE, other_session

TOKEN = "doble-clic-1"


def other_connection():
    return other_session()


def submit(outcome: dict):
    try:
        outcome["report"] = report_create(
            category="retiro-escombros",
            latitude=PUENTE_ALTO_CENTRE[0],
            longitude=PUENTE_ALTO_CENTRE[1],
            channel="web",
            description="Escombros.",
            submission_token=TOKEN,
        )
    except Exception as exc:  # noqa: BLE001 - handed to the test, which shows it
        outcome["error"] = exc
    finally:
        connection.close()


def second_while_first_is_in_flight(first_report: Report, first_commits: bool) -> dict:
    """The first submission's token claimed on another connection; the second submitted meanwhile; then the first
    commits or fails."""
    first = other_connection()
    try:
        with first.cursor() as cursor:
            cursor.execute(
                "INSERT INTO reports_submission (token, report_id) VALUES (%s, %s)", [TOKEN, first_report.pk]
            )
        outcome = {}
        thread = threading.Thread(target=submit, args=(outcome,))
        thread.start()
        thread.join(timeout=1)  # time to reach the token and wait there; nothing is asserted on timing
        (first.commit if first_commits else first.rollback)()
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome.get("error")
        return outcome
    finally:
        first.close()


@pytest.mark.django_db(transaction=True)
def test_second_submission_waits_for_the_first_and_returns_its_report(make_report):
    first_report = make_report()
    before = (Report.objects.count(), ReportEvent.objects.count())
    outcome = second_while_first_is_in_flight(first_report, first_commits=True)
    assert outcome["report"] == first_report
    assert (Report.objects.count(), ReportEvent.objects.count()) == before
    assert Submission.objects.get(token=TOKEN).report == first_report


@pytest.mark.django_db(transaction=True)
def test_when_the_first_submission_fails_the_second_files_the_report(make_report):
    first_report = make_report()
    outcome = second_while_first_is_in_flight(first_report, first_commits=False)
    filed = outcome["report"]
    assert filed != first_report and Report.objects.count() == 2
    assert Submission.objects.get(token=TOKEN).report == filed
    assert list(filed.events.values_list("kind", flat=True).order_by("id")) == ["created", "routed"]
