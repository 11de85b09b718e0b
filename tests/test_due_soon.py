""" "Due soon" is one rule (reports.deadlines.due_soon_before): the crew's queue marks "Por vencer" exactly the
reports the staff alert calls due soon, and the board counts the same ones."""

from datetime import datetime, time, timedelta

from django.urls import reverse
from django.utils import timezone

from geo_siac.alerts.models import Alert, AlertKind
from geo_siac.alerts.selectors import deadline_board
from geo_siac.alerts.services import alerts_run
from geo_siac.reports.deadlines import SANTIAGO, add_business_days, local_day
from geo_siac.reports.models import Report
from geo_siac.reports.services import closed_day_save
from geo_siac.testing import WEST_POINT
from geo_siac.zones.models import ClosedDay
from geo_siac.zones.selectors import closed_days


def due_after_business_days(days: int) -> datetime:
    """The deadline at the end of the business day `days` after today (0: today)."""
    day = add_business_days(local_day(timezone.now()), days, closed_days=closed_days())
    return datetime.combine(day, time(23, 59, 59), tzinfo=SANTIAGO)


def test_the_queues_por_vencer_the_alerts_due_soon_and_the_boards_count_are_the_same_reports(
    client, crews, make_report, settings
):
    settings.GEO_SIAC_DUE_SOON_BUSINESS_DAYS = 2
    # A closed day two business days ahead moves the edge: it must count for every reader, or none.
    closed_day_save(
        closed_day=ClosedDay(
            day=add_business_days(local_day(timezone.now()), 2, closed_days=()), reason="Aniversario comunal"
        )
    )
    reports = {}
    for days in range(5):
        report = make_report(point=WEST_POINT)  # crew A's zone
        Report.objects.filter(pk=report.pk).update(expected_at=due_after_business_days(days))
        reports[days] = report.tracking_code
    overdue = make_report(point=WEST_POINT)
    Report.objects.filter(pk=overdue.pk).update(expected_at=timezone.now() - timedelta(hours=1))
    client.force_login(crews["member_a"])

    page = client.get(reverse("crew:home"))
    queue_due_soon = {r.tracking_code for r in page.context["reports"] if r.deadline_state == "due_soon"}
    alerts_run()
    alert_due_soon = set(Alert.objects.filter(kind=AlertKind.DUE_SOON).values_list("report__tracking_code", flat=True))
    assert queue_due_soon == {reports[0], reports[1], reports[2]}
    # The alert fires for an overdue report too, once, beside its "overdue" alert: the queue shows it as overdue.
    assert alert_due_soon == queue_due_soon | {overdue.tracking_code}
    assert page.context["state_counts"]["due_soon"] == 3
    (row,) = deadline_board(Report.objects.all(), "department", as_of=timezone.now())
    assert row.due_today + row.due_soon == 3
