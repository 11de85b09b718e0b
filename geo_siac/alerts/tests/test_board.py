"""The board "Por vencer y vencidas": its figures, the same share met as the public indicators, and reassigning or
extending from it by a department head."""

from datetime import timedelta

import pytest
from django.utils import timezone

from geo_siac.alerts.models import DepartmentHead
from geo_siac.alerts.selectors import deadline_board
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_change_status
from geo_siac.testing import EAST_POINT, WEST_POINT
from geo_siac.transparency.selectors import indicators
from geo_siac.catalogue.models import Department

pytestmark = pytest.mark.django_db


def history(make_report):
    """West (crew A): one closed on time, one closed late, one open and overdue, one open due later this month."""
    now = timezone.now()
    on_time, late, overdue, later = (make_report(point=WEST_POINT) for _ in range(4))
    for report in (on_time, late):
        report_change_status(report=report, status="resolved")
    Report.objects.filter(pk=late.pk).update(expected_at=now - timedelta(days=2))
    Report.objects.filter(pk=overdue.pk).update(expected_at=now - timedelta(days=9))
    Report.objects.filter(pk=later.pk).update(expected_at=now + timedelta(days=30))
    make_report(point=EAST_POINT)  # crew B: open, not due
    return timezone.now()


def test_the_board_and_the_public_indicator_give_the_same_share_met_per_department(crews, make_report):
    now = history(make_report)
    reports = Report.objects.all()
    (row,) = deadline_board(reports, "department", as_of=now)
    public = indicators(reports, "department", as_of=now)[row.group]
    assert row.share == public["deadline_met_share"] == pytest.approx(1 / 3)
    assert row.overdue == 1


def test_the_board_counts_each_crews_overdue_and_open_by_age(crews, make_report):
    now = history(make_report)
    rows = {row.group: row for row in deadline_board(Report.objects.all(), "crew", as_of=now)}
    assert (rows["Cuadrilla Poniente"].overdue, rows["Cuadrilla Oriente"].overdue) == (1, 0)
    assert rows["Cuadrilla Poniente"].ages == {"0-7": 2, "8-30": 0, "31+": 0}
    assert len(rows["Cuadrilla Poniente"].trend) == 12


def test_a_department_head_reassigns_and_extends_from_the_board(client, crews, make_report, django_user_model):
    history(make_report)
    head = django_user_model.objects.create_user("jefa")
    DepartmentHead.objects.create(department=crews["A"].department, user=head)
    overdue = Report.objects.filter(crew=crews["A"], status="submitted", expected_at__lt=timezone.now()).get()
    client.force_login(head)
    assert overdue.tracking_code in client.get("/cuadrilla/plazos/").content.decode()
    client.post(f"/cuadrilla/plazos/{overdue.tracking_code}/derivar/", {"crew": crews["B"].pk, "reason": "cerca"})
    client.post(f"/cuadrilla/plazos/{overdue.tracking_code}/prorrogar/", {"business_days": 5, "reason": "material"})
    overdue.refresh_from_db()
    assert overdue.crew == crews["B"]
    assert overdue.deadline_extended_at is not None


def test_the_head_of_another_department_may_not_act_on_a_request(client, crews, make_report, django_user_model):
    history(make_report)
    other = django_user_model.objects.create_user("otro")
    DepartmentHead.objects.create(department=Department.objects.create(name="Dirección de Tránsito"), user=other)
    overdue = Report.objects.filter(crew=crews["A"], status="submitted", expected_at__lt=timezone.now()).get()
    client.force_login(other)
    assert overdue.tracking_code not in client.get("/cuadrilla/plazos/").content.decode()
    response = client.post(f"/cuadrilla/plazos/{overdue.tracking_code}/derivar/", {"crew": crews["B"].pk})
    assert response.status_code == 403
    overdue.refresh_from_db()
    assert overdue.crew == crews["A"]


def test_a_crew_member_may_not_open_the_board(client, crews):
    client.force_login(crews["member_a"])
    assert client.get("/cuadrilla/plazos/").status_code == 403
