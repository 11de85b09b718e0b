"""The board "Por vencer y vencidas": its figures, the same share met as the public indicators, and reassigning or
extending from it by a department head."""

from datetime import timedelta

import pytest
from django.utils import timezone

from geo_siac.alerts.models import DepartmentHead
from geo_siac.alerts.selectors import board_figures, deadline_board, week_start
from geo_siac.catalogue.models import Category, Department
from geo_siac.reports.deadlines import local_day
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_merge_duplicate
from geo_siac.testing import EAST_POINT, WEST_POINT, staff_account
from geo_siac.transparency.selectors import indicators, transparency_reports
from geo_siac.zones.models import Commune, Crew

pytestmark = pytest.mark.django_db


def history(make_report):
    """West (crew A): one closed on time, one closed late, one open and overdue, one open due later this month."""
    now = timezone.now()
    on_time, late, overdue, later = (make_report(point=WEST_POINT) for _ in range(4))
    for report in (on_time, late):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved")
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
    head = staff_account("jefa")
    DepartmentHead.objects.create(commune=crews["A"].commune, department=crews["A"].department, user=head)
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
    other = staff_account("otro")
    DepartmentHead.objects.create(
        commune=crews["A"].commune, department=Department.objects.create(name="Dirección de Tránsito"), user=other
    )
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


def test_a_merged_duplicate_does_not_change_the_board_which_gives_the_public_share(client, crews, make_report):
    history(make_report)
    as_of = timezone.now() + timedelta(minutes=1)
    before = [vars(row) for row in board_figures("department", as_of=as_of)]
    original = Report.objects.get(crew=crews["A"], status="submitted", expected_at__gt=as_of)
    report_merge_duplicate(duplicate=make_report(point=WEST_POINT), original=original, by=crews["supervisor"])
    (row,) = board_figures("department", as_of=as_of)
    assert [vars(row)] == before
    public = indicators(transparency_reports(), "department", as_of=as_of)[row.group]
    assert row.share == public["deadline_met_share"] == pytest.approx(1 / 3)
    client.force_login(crews["supervisor"])
    assert "<td>33%</td>" in client.get("/cuadrilla/plazos/").content.decode()


def test_the_weekly_shares_name_each_week_by_its_monday_as_chile_writes_it(client, crews, make_report):
    now = history(make_report)
    rows = {row.group: row for row in deadline_board(Report.objects.all(), "crew", as_of=now)}
    weeks = [week for week, _share in rows["Cuadrilla Poniente"].trend]
    assert weeks[-1] == week_start(local_day(now)) and all(week.weekday() == 0 for week in weeks)
    assert [later - earlier for earlier, later in zip(weeks, weeks[1:], strict=False)] == [timedelta(weeks=1)] * 11
    assert rows["Cuadrilla Poniente"].trend[0] == (weeks[0], None)  # nothing was due 11 weeks ago
    client.force_login(crews["supervisor"])
    html = client.get("/cuadrilla/plazos/?por=crew").content.decode()
    first = f'<li><time datetime="{weeks[0].isoformat()}">{weeks[0]:%d-%m}</time> <span aria-hidden="true">–</span>'
    assert first + '<span class="visually-hidden">sin vencimientos</span></li>' in html
    assert html.count('<ol class="week-shares">') == 2 and html.count("<li><time datetime=") == 24


def other_department_crew() -> Crew:
    return Crew.objects.create(
        department=Department.objects.create(name="Dirección de Tránsito"),
        commune=Commune.objects.get(cut="13201"),
        name="Cuadrilla Señalética",
    )


def test_a_head_reroutes_only_to_crews_of_their_department(client, crews, make_report, django_user_model):
    history(make_report)
    elsewhere = other_department_crew()
    head = staff_account("jefa")
    DepartmentHead.objects.create(commune=crews["A"].commune, department=crews["A"].department, user=head)
    overdue = Report.objects.filter(crew=crews["A"], status="submitted", expected_at__lt=timezone.now()).get()
    client.force_login(head)
    page = client.get("/cuadrilla/plazos/").content.decode()
    assert "Cuadrilla Oriente" in page and "Cuadrilla Señalética" not in page
    response = client.post(
        f"/cuadrilla/plazos/{overdue.tracking_code}/derivar/",
        {"crew": elsewhere.pk, "seen": overdue.updated_at.isoformat()},
        follow=True,
    )
    assert (
        "Solo puede derivar a cuadrillas de la dirección que encabeza; Cuadrilla Señalética es de Dirección de "
        "Tránsito."
    ) in response.content.decode()
    overdue.refresh_from_db()
    assert overdue.crew == crews["A"]
    client.force_login(crews["supervisor"])
    assert "Cuadrilla Señalética" in client.get("/cuadrilla/plazos/").content.decode()
    client.post(f"/cuadrilla/plazos/{overdue.tracking_code}/derivar/", {"crew": elsewhere.pk})
    overdue.refresh_from_db()
    assert overdue.crew == elsewhere


def test_a_request_without_department_belongs_to_its_categorys_on_the_board(
    client, crews, make_report, django_user_model
):
    department = crews["A"].department
    Category.objects.filter(service_code="retiro-escombros").update(department=department)
    imported = make_report(point=WEST_POINT)
    Report.objects.filter(pk=imported.pk).update(department=None, expected_at=timezone.now() - timedelta(days=3))
    head = staff_account("jefa")
    DepartmentHead.objects.create(commune=crews["A"].commune, department=department, user=head)
    (row,) = board_figures("department", as_of=timezone.now())
    assert (row.group, row.overdue) == (department.name, 1)
    client.force_login(head)
    assert imported.tracking_code in client.get("/cuadrilla/plazos/").content.decode()
    client.post(f"/cuadrilla/plazos/{imported.tracking_code}/prorrogar/", {"business_days": 5, "reason": "material"})
    imported.refresh_from_db()
    assert imported.deadline_extended_at is not None


def test_the_boards_forms_name_their_boxes_and_offer_only_crews_of_the_requests_comuna(client, crews, make_report):
    history(make_report)
    other = Crew.objects.create(
        department=crews["A"].department, commune=Commune.objects.get(cut="13122"), name="Cuadrilla de Peñalolén"
    )
    client.force_login(crews["admin"])
    page = client.get("/cuadrilla/plazos/").content.decode()
    due = page.split('id="due"')[1]
    assert "Cuadrilla Oriente" in due and other.name not in due
    code = Report.objects.get(crew=crews["A"], status="submitted", expected_at__lt=timezone.now()).tracking_code
    for box, label in (
        (f"crew-{code}", "Derivar a la cuadrilla"),
        (f"reroute-reason-{code}", "Motivo de la derivación (opcional)"),
        (f"days-{code}", "Días hábiles adicionales"),
        (f"extend-reason-{code}", "Motivo de la prórroga"),
    ):
        assert f'<label for="{box}">{label}</label>' in due and f'id="{box}"' in due


def test_each_rows_forms_are_folded_under_a_summary_naming_the_request(client, crews, make_report):
    history(make_report)
    client.force_login(crews["supervisor"])
    due = client.get("/cuadrilla/plazos/").content.decode().split('id="due"')[1]
    code = Report.objects.get(crew=crews["A"], status="submitted", expected_at__lt=timezone.now()).tracking_code
    row = due.split('<details class="row-actions">')[1].split("</details>")[0]
    assert row.startswith(f'<summary>Derivar o prorrogar…<span class="visually-hidden"> {code}</span></summary>')
    assert f"/cuadrilla/plazos/{code}/derivar/" in row and f"/cuadrilla/plazos/{code}/prorrogar/" in row
    assert "<details open" not in due


def test_an_extension_without_reason_comes_back_to_its_row_open_with_its_code_in_the_message(
    client, crews, make_report
):
    history(make_report)
    make_report(point=WEST_POINT)
    Report.objects.filter(crew=crews["A"], status="submitted").update(expected_at=timezone.now() - timedelta(days=3))
    client.force_login(crews["supervisor"])
    code = Report.objects.filter(crew=crews["A"], status="submitted").order_by("pk").last().tracking_code
    response = client.post(f"/cuadrilla/plazos/{code}/prorrogar/", {"business_days": 5, "reason": ""}, follow=True)
    assert response.redirect_chain == [(f"/cuadrilla/plazos/?abierta={code}#aviso-{code}", 302)]
    page = response.content.decode()
    assert 'class="messages"' not in page  # said in its row, where the page lands, not above the board
    rows = page.split('id="due"')[1].split("</ul>")[0].split("<li ")[1:]
    assert len(rows) == 3
    for row in rows:
        is_ours = row.startswith(f'id="fila-{code}"')
        assert ('<details class="row-actions" open>' in row) == is_ours, row[:40]
        assert (f'role="alert">{code}: Este campo es requerido.</p>' in row) == is_ours, row[:40]


def test_the_boards_reroute_starts_on_no_crew_and_leaves_out_the_one_holding_the_request(client, crews, make_report):
    history(make_report)
    client.force_login(crews["supervisor"])
    report = Report.objects.get(crew=crews["A"], status="submitted", expected_at__lt=timezone.now())
    code = report.tracking_code
    row = client.get("/cuadrilla/plazos/").content.decode().split(f'id="fila-{code}"')[1].split("</li>")[0]
    select = row.split(f'<select name="crew" id="crew-{code}" required>')[1].split("</select>")[0]
    assert (
        select
        == f'<option value="">Elija una cuadrilla</option><option value="{crews["B"].pk}">Cuadrilla Oriente</option>'
    )
    response = client.post(f"/cuadrilla/plazos/{code}/derivar/", {"crew": crews["A"].pk}, follow=True)
    assert f"{code}: Ya está asignada a {crews['A'].name}." in response.content.decode()  # the service still says why


def test_a_reroute_from_the_board_lands_on_its_row_folded_with_the_confirmation_in_it(client, crews, make_report):
    history(make_report)
    client.force_login(crews["supervisor"])
    code = Report.objects.get(crew=crews["A"], status="submitted", expected_at__lt=timezone.now()).tracking_code
    response = client.post(f"/cuadrilla/plazos/{code}/derivar/", {"crew": crews["B"].pk}, follow=True)
    assert response.redirect_chain == [(f"/cuadrilla/plazos/#aviso-{code}", 302)]  # the page lands on the message
    row = response.content.decode().split(f'id="fila-{code}"')[1].split("</li>")[0]
    assert (
        f'<div class="row-messages" id="aviso-{code}" tabindex="-1">'
        f'<p class="row-message success" role="status">{code}: Cambio guardado.</p></div>'
    ) in row
    assert '<details class="row-actions">' in row


def test_an_extension_that_takes_a_request_off_the_board_says_so_once_above_it(client, crews, make_report):
    history(make_report)
    client.force_login(crews["supervisor"])
    code = Report.objects.get(crew=crews["A"], status="submitted", expected_at__lt=timezone.now()).tracking_code
    response = client.post(
        f"/cuadrilla/plazos/{code}/prorrogar/", {"business_days": 20, "reason": "material"}, follow=True
    )
    assert response.redirect_chain == [(f"/cuadrilla/plazos/#aviso-{code}", 302)]
    page = response.content.decode()
    assert f'id="fila-{code}"' not in page  # due after today: no longer listed
    assert page.count(f"{code}: Cambio guardado.") == 1
    assert f'<ul class="messages" role="status"><li class="success">{code}: Cambio guardado.</li></ul>' in page
    assert "row-message" not in page


def test_a_refusal_about_a_request_off_the_board_is_an_alert_above_it(client, crews, make_report):
    history(make_report)
    client.force_login(crews["supervisor"])
    report = Report.objects.filter(crew=crews["A"], status="submitted").order_by("pk").first()
    Report.objects.filter(pk=report.pk).update(expected_at=timezone.now() + timedelta(days=30))  # not listed
    page = client.post(
        f"/cuadrilla/plazos/{report.tracking_code}/prorrogar/", {"business_days": 5, "reason": ""}, follow=True
    ).content.decode()
    assert f'<ul class="messages" role="alert"><li class="error">{report.tracking_code}: ' in page
