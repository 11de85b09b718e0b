"""What the citizen's pages say as the request moves: the department answering it now (after a rerouting, which the
citizen is told of), what the confirmation promises by what the citizen left, and a subsanación awaited in Mis
solicitudes as on the tracking page."""

import pytest
from django.test import Client
from django.utils.formats import date_format

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Department
from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Institution, Report
from geo_siac.reports.services import (
    information_correction_request,
    report_assign_department,
    report_create,
    report_follow,
    report_refer,
    report_reroute,
)
from geo_siac.reports.tests.test_citizen_reopen import signed_in
from geo_siac.reports.tests.test_report_page import form_data
from geo_siac.reports.views import filed_redirect
from geo_siac.testing import WEST_POINT
from geo_siac.zones.models import Crew

ROSA = "rosa@example.cl"
SECURITY = "Dirección de Seguridad Pública"


@pytest.fixture
def patrol(crews):
    security, _ = Department.objects.get_or_create(name=SECURITY)
    return Crew.objects.create(department=security, commune=crews["A"].commune, name="Patrulla Norte", daily_capacity=3)


def responsible(page: str) -> str:
    return page.split('id="responsible">')[1].split("</span>")[0]


def test_a_reroute_to_another_departments_crew_tells_the_citizen_the_department_and_nothing_internal(
    make_report, crews, patrol, client
):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    before = responsible(client.get(f"/seguimiento/{report.tracking_code}/").content.decode())
    report_reroute(report=report, crew=patrol, reason="Que lo vea Pedro Soto.", actor=crews["supervisor"])

    told = report.events.filter(is_public=True).latest("id")
    assert (told.kind, told.note) == ("rerouted", SECURITY)  # worded by each page in its language
    notice = Notification.objects.filter(report=report, recipient=ROSA).latest("id").body
    assert f"Su solicitud fue derivada a {SECURITY}" in notice
    for path in (f"/seguimiento/{report.tracking_code}/", f"/enviada/{report.tracking_code}/"):
        page = client.get(path).content.decode()
        assert (before, responsible(page)) == ("Dirección de Medio Ambiente, Aseo y Ornato", SECURITY), path
        for internal in ("Patrulla Norte", "Pedro Soto", "Cuadrilla Poniente", crews["supervisor"].get_username()):
            assert internal not in page, (path, internal)
    assert "Patrulla Norte" not in notice and "Pedro Soto" not in notice
    page = signed_in(client).get(f"/mis-solicitudes/solicitud/{report.tracking_code}/").content.decode()
    assert responsible(page) == SECURITY and f"Derivada a {SECURITY}." in page and "Derivación" not in page
    line = client.get(f"/seguimiento/{report.tracking_code}/").content.decode().split('class="rerouted">')[1]
    assert line.split("</time> —")[1].split("</li>")[0].split() == f"Derivada a {SECURITY}.".split()


def test_a_reroute_within_the_same_department_tells_the_citizen_nothing(make_report, crews):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    sent = Notification.objects.filter(report=report).count()
    report_reroute(report=report, crew=crews["B"], reason="Lo ve Oriente", actor=crews["supervisor"])
    assert not report.events.filter(is_public=True, kind="rerouted").exists()
    assert Notification.objects.filter(report=report).count() == sent


def test_a_request_never_routed_sent_to_a_crew_of_its_topics_department_tells_the_citizen_nothing(make_report, crews):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    Report.objects.filter(pk=report.pk).update(crew=None, department=None)  # as imported history, never routed
    report_reroute(report=report, crew=crews["A"], actor=crews["supervisor"])
    assert Report.objects.get(pk=report.pk).department == crews["A"].department
    assert not report.events.filter(is_public=True, kind="rerouted").exists()


def test_naming_another_department_for_a_request_without_a_crew_tells_the_citizen(make_report, crews, patrol):
    report = make_report(point=WEST_POINT, reporter_email=ROSA)
    Report.objects.filter(pk=report.pk).update(crew=None)
    report_assign_department(report=report, department=patrol.department, actor=crews["supervisor"])
    assert report.events.filter(is_public=True).latest("id").note == SECURITY


@pytest.mark.parametrize(
    "contact, says, links_my_reports",
    [
        ({"reporter_email": ROSA}, "Le avisaremos de cada cambio al correo que dejó.", True),
        ({"reporter_phone": "+56 9 8765 4321"}, "Le avisaremos de cada cambio al teléfono que dejó.", False),
        ({}, "No dejó un correo ni un teléfono: no le llegarán avisos.", False),
    ],
)
def test_the_confirmation_says_how_the_citizen_will_hear_by_what_they_left(
    make_report, client, contact, says, links_my_reports
):
    report = make_report(**contact)
    client.cookies.update(filed_redirect(report.tracking_code).cookies)  # as the form that filed it leaves it
    page = client.get(f"/enviada/{report.tracking_code}/").content.decode()
    assert says in page.split('id="notified">')[1].split("</span>")[0]
    assert "Si dejó un correo" not in page
    assert ('id="my-reports"' in page) is links_my_reports


def test_only_the_browser_that_filed_it_is_told_what_contact_was_left(client, communes):
    response = client.post("/", {**form_data(reporter_email=ROSA), "consent": "on"})
    mine = client.get(response["Location"]).content.decode()
    assert "Le avisaremos de cada cambio al correo que dejó." in mine and 'id="my-reports"' in mine
    other = Client().get(response["Location"]).content.decode()
    neutral = "Si dejó un correo o un teléfono al ingresarla, ya recibe los avisos allí"
    assert neutral in other.split('id="notified">')[1].split("</span>")[0]
    assert "correo que dejó" not in other and 'id="my-reports"' not in other


@pytest.fixture
def awaiting_correction(communes, crews):
    report = report_create(
        channel="web",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia del contrato de alumbrado público vigente.",
        reporter_name="Rosa Pérez",
        reporter_email=ROSA,
    )
    report_follow(report=report, email="vecina@example.cl")
    return information_correction_request(report=report, note="Indique de qué año.", actor=crews["supervisor"])


def test_mis_solicitudes_says_a_subsanacion_is_awaited_and_that_adding_information_answers_it(
    awaiting_correction, client
):
    code, day = awaiting_correction.tracking_code, date_format(awaiting_correction.correction_due_at, "DATE_FORMAT")
    tracking = client.get(f"/seguimiento/{code}/").content.decode()
    assert day in tracking.split('id="clock-correction"')[1].split("</li>")[0]
    signed_in(client)
    listed = client.get("/mis-solicitudes/").content.decode().split('id="filed"')[1].split("</ul>")[0]
    assert f"espera su subsanación hasta el {day}" in listed
    page = client.get(f"/mis-solicitudes/solicitud/{code}/").content.decode()
    box = page.split('id="agregar"')[1].split("</section>")[0]
    assert "Responder la subsanación" in box and f"tiene hasta el {day}" in box.split('id="correction-answer"')[1]


def test_a_follower_is_not_asked_for_the_requesters_subsanacion(awaiting_correction, client):
    signed_in(client, "vecina@example.cl")
    listed = client.get("/mis-solicitudes/").content.decode()
    page = client.get(f"/mis-solicitudes/solicitud/{awaiting_correction.tracking_code}/").content.decode()
    assert "espera su subsanación" not in listed + page and 'id="correction-answer"' not in page
    assert "Agregar información" in page


def test_a_referred_request_names_the_institution_it_went_to_and_one_nobody_answers_yet_the_oirs(
    communes, crews, client
):
    complaint = report_create(
        kind=RequestKind.COMPLAINT,
        category="reclamo-servicio",
        commune=communes["13201"],
        channel="web",
        description="La tienda no me cambia un producto defectuoso.",
        reporter_email=ROSA,
    )
    institution = Institution.objects.get(name="Servicio Nacional del Consumidor (SERNAC)")
    report_refer(report=complaint, institution=institution, actor=crews["supervisor"])
    page = client.get(f"/seguimiento/{complaint.tracking_code}/").content.decode()
    assert f'<li>Derivada a: <span id="responsible">{institution.name}</span></li>' in page
    page = signed_in(client).get(f"/mis-solicitudes/solicitud/{complaint.tracking_code}/").content.decode()
    assert f'<p>Derivada a: <span id="responsible">{institution.name}</span></p>' in page

    unanswered = report_create(
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13201"],
        channel="web",
        description="¿Qué horario tiene la oficina de partes?",
    )
    Report.objects.filter(pk=unanswered.pk).update(department=None)
    unanswered.category.department = None
    unanswered.category.save(update_fields=["department"])
    page = client.get(f"/seguimiento/{unanswered.tracking_code}/").content.decode()
    assert responsible(page) == "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"
