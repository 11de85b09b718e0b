"""manage.py repair_weekend_deadlines: open requests filed under a 0-day term, due on a weekend, move to the next
business day with an internal note; a dry run by default."""

from datetime import datetime
from io import StringIO

from django.core.management import call_command

from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.states import Status

SUNDAY = datetime(2026, 12, 6, 23, 59, 59, tzinfo=SANTIAGO)
MONDAY = datetime(2026, 12, 7, 23, 59, 59, tzinfo=SANTIAGO)
WEDNESDAY = datetime(2026, 12, 9, 23, 59, 59, tzinfo=SANTIAGO)


def repair(*args) -> str:
    out = StringIO()
    call_command("repair_weekend_deadlines", *args, stdout=out)
    return out.getvalue()


def test_a_weekend_deadline_moves_to_monday_with_an_internal_note_only_with_commit(make_report):
    # Tuesday 8 December 2026 is a holiday (Inmaculada Concepción): Wednesday is the weekday left alone.
    weekend, weekday, closed, correcting = make_report(), make_report(), make_report(), make_report()
    Report.objects.filter(pk__in=[weekend.pk, closed.pk]).update(expected_at=SUNDAY)
    # Its deadline is the subsanación's (art. 12 lapses on correction_due_at): left to that clock.
    Report.objects.filter(pk=correcting.pk).update(expected_at=SUNDAY, correction_due_at=SUNDAY)
    Report.objects.filter(pk=weekday.pk).update(expected_at=WEDNESDAY)
    Report.objects.filter(pk=closed.pk).update(status=Status.CLOSED_WITHDRAWN)
    notes_before = ReportEvent.objects.filter(kind=EventKind.NOTE).count()

    dry = repair()
    assert f"{weekend.tracking_code}: 2026-12-06T23:59:59-03:00 -> 2026-12-07T23:59:59-03:00" in dry
    assert weekday.tracking_code not in dry and closed.tracking_code not in dry
    assert correcting.tracking_code not in dry
    assert Report.objects.get(pk=weekend.pk).expected_at == SUNDAY

    assert "plazos movidos: 1" in repair("--commit")
    assert Report.objects.get(pk=weekend.pk).expected_at == MONDAY
    assert Report.objects.get(pk=weekday.pk).expected_at == WEDNESDAY
    assert Report.objects.get(pk=closed.pk).expected_at == SUNDAY
    assert Report.objects.get(pk=correcting.pk).expected_at == SUNDAY
    (note,) = ReportEvent.objects.filter(kind=EventKind.NOTE).order_by("-id")[:1]
    assert ReportEvent.objects.filter(kind=EventKind.NOTE).count() == notes_before + 1
    assert note.report_id == weekend.pk and not note.is_public
    assert note.note == "Plazo movido del 06-12-2026 al 07-12-2026: vencía en un día inhábil."
    assert "plazos movidos: 0" in repair("--commit")
