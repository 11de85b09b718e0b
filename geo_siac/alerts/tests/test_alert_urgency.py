"""An alert is worded by where its request's deadline stands now, not by the rule that fired it, and the inbox lists
the most urgent first; the board names each department's comuna for someone who works for more than one."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone, translation

from geo_siac.alerts.models import Alert, AlertKind, Recipient, StaffAlert
from geo_siac.alerts.selectors import board_figures
from geo_siac.alerts.services import alerts_run, deadline_state_text
from geo_siac.alerts.tests.test_escalation import escalation_setup, report_due
from geo_siac.notifications.models import Notification
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.testing import PENALOLEN_CENTRE, WEST_POINT, member_of, staff_account

pytestmark = pytest.mark.django_db

MONDAY = datetime(2025, 10, 6, 9, tzinfo=SANTIAGO)


def due(day: date) -> datetime:
    return datetime.combine(day, datetime.max.time().replace(microsecond=0), tzinfo=SANTIAGO)


def test_the_deadline_state_says_how_late_due_today_or_how_soon_in_business_days():
    with translation.override("es-cl"):
        # Due Wednesday 1 October: Thursday, Friday and Monday are the business days since.
        assert deadline_state_text(due(date(2025, 10, 1)), MONDAY, closed_days=()) == "vencida hace 3 días hábiles"
        assert deadline_state_text(due(date(2025, 10, 3)), MONDAY, closed_days=()) == "vencida hace 1 día hábil"
        assert deadline_state_text(due(date(2025, 10, 6)), MONDAY, closed_days=()) == "vence hoy"
        assert deadline_state_text(due(date(2025, 10, 8)), MONDAY, closed_days=()) == "vence en 2 días hábiles"
        assert deadline_state_text(due(date(2025, 10, 1)), MONDAY, closed_days=(), status="resolved") == "cerrada"
    with translation.override("en"):
        assert deadline_state_text(due(date(2025, 10, 1)), MONDAY, closed_days=()) == "3 business days overdue"


def test_an_escalation_email_says_how_many_business_days_the_request_is_overdue_when_it_is_sent(
    crews, make_report, django_user_model
):
    escalation_setup(crews, django_user_model)
    report = report_due(make_report, date(2025, 9, 10), 8)  # due Wednesday 24 September
    alerts_run(now=MONDAY)
    # A catch-up tells only the highest level due, level 3, to the OIRS coordination.
    (olga,) = Notification.objects.filter(recipient="olga@muni.example", subject__startswith="Escalamiento")
    assert olga.body.startswith("Escalamiento nivel 3 (regla: 5 días hábiles después del plazo)")
    assert f"solicitud {report.tracking_code}, plazo 2025-09-24 23:59 (vencida hace 8 días hábiles)." in olga.body


def test_the_inbox_leads_each_alert_with_its_requests_state_and_lists_the_most_overdue_first(
    client, crews, make_report
):
    now = timezone.now()
    person = crews["member_a"]
    later, long_overdue, closed = (make_report(point=WEST_POINT) for _ in range(3))
    Report.objects.filter(pk=later.pk).update(expected_at=now + timedelta(days=20))
    Report.objects.filter(pk=long_overdue.pk).update(expected_at=now - timedelta(days=20))
    Report.objects.filter(pk=closed.pk).update(expected_at=now - timedelta(days=30), status="resolved")
    # Fired newest last: the level 1 of the overdue request long ago, the future one's just now.
    for report, level, threshold, age in ((long_overdue, 1, -2, 30), (long_overdue, 3, 5, 10), (later, 1, -2, 0)):
        alert = Alert.objects.create(
            report=report,
            kind=AlertKind.ESCALATION,
            level=level,
            fired_at=now - timedelta(days=age),
            threshold_business_days=threshold,
            recipients=[Recipient.CREW],
        )
        StaffAlert.objects.create(alert=alert, user=person)
    StaffAlert.objects.create(
        alert=Alert.objects.create(report=closed, kind=AlertKind.OVERDUE, fired_at=now - timedelta(days=1)), user=person
    )
    client.force_login(person)
    page = client.get("/cuadrilla/avisos/").content.decode()
    items = page.split('<ul class="report-list alerts" id="alerts">')[1].split("</ul>")[0].split("<li")[1:]
    order = [
        (next(r.tracking_code for r in (later, long_overdue, closed) if r.tracking_code in item), item)
        for item in items
    ]
    assert [code for code, _item in order] == [long_overdue.tracking_code] * 2 + [
        later.tracking_code,
        closed.tracking_code,
    ]
    assert "Escalamiento nivel 3" in order[0][1] and "Escalamiento nivel 1" in order[1][1]
    assert all('<strong class="deadline-state">Vencida hace ' in item for _code, item in order[:2])
    assert '<strong class="deadline-state">Vence en ' in order[2][1]
    assert '<strong class="deadline-state">Cerrada</strong>' in order[3][1]


def test_the_board_names_each_departments_comuna_for_someone_who_works_for_more_than_one(communes, crews, make_report):
    make_report(point=WEST_POINT)
    make_report(point=PENALOLEN_CENTRE)
    department = crews["A"].department.name
    both = staff_account("dos")
    groups = {row.group for row in board_figures("department", as_of=timezone.now(), user=both)}
    assert groups == {f"{department} (Puente Alto)", f"{department} (Peñalolén)"}
    one = member_of(staff_account("una", communes=[]), communes["13201"])
    assert {row.group for row in board_figures("department", as_of=timezone.now(), user=one)} == {department}


def test_the_board_keeps_sin_asignar_for_requests_without_a_department_across_comunas(communes, crews, make_report):
    unassigned = make_report(point=WEST_POINT)
    make_report(point=PENALOLEN_CENTRE)
    Report.objects.filter(pk=unassigned.pk).update(department=None)
    unassigned.category.department = None
    unassigned.category.save(update_fields=["department"])
    groups = {row.group for row in board_figures("department", as_of=timezone.now(), user=staff_account("dos"))}
    assert None in groups and not any(group and group.startswith(" (") for group in groups), groups
