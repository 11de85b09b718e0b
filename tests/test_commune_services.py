"""Each comuna's service rules (docs/staff-accounts.md, "Servicios por comuna"): the categories it takes, its
response times, the department that answers and its escalation, read by one rule (zones.selectors.category_terms)
through report_create, so the web form, Open311 and email intake refuse and accept alike."""

from datetime import date, datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from geo_siac.alerts.models import DepartmentHead, EscalationRule, Recipient, StaffAlert
from geo_siac.alerts.services import alerts_run
from geo_siac.catalogue.models import Category, Department
from geo_siac.open311.services import api_key_create
from geo_siac.open311.tests.contract import get, items, post
from geo_siac.reports.deadlines import SANTIAGO, chilean_holidays, deadline
from geo_siac.reports.models import Report
from geo_siac.reports.services import business_calendar_sync, report_create, report_reclassify
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE, WEST_POINT, staff_account
from geo_siac.zones.models import CommuneCategory
from geo_siac.zones.selectors import category_terms
from tests.test_email_intake import PENALOLEN_OIRS, PUENTE_ALTO_OIRS, email, mailbox, receiver  # noqa: F401

REFUSED = "«Retiro de escombros» no se atiende en Peñalolén."


@pytest.fixture
def debris_not_in_penalolen(communes):
    CommuneCategory.objects.create(
        commune=communes["13122"], category=Category.objects.get(service_code="retiro-escombros"), enabled=False
    )
    return communes


def web_post(client, point, token: str):
    lat, lng = point
    return client.post(
        "/", {"token": token, "lat": lat, "long": lng, "service_code": "retiro-escombros", "description": "Escombros"}
    )


def test_the_web_form_refuses_a_category_the_comuna_does_not_take_and_files_it_in_the_other(
    client, debris_not_in_penalolen
):
    refused = web_post(client, PENALOLEN_CENTRE, "t-pe")
    assert refused.status_code == 400 and REFUSED in refused.content.decode()
    assert not Report.objects.exists()
    assert web_post(client, PUENTE_ALTO_CENTRE, "t-pa").status_code == 302
    assert Report.objects.get().commune.cut == "13201"


def test_open311_post_refuses_it_under_service_code_and_accepts_it_in_puente_alto(client, debris_not_in_penalolen):
    _key, raw = api_key_create(name="App Vecinal")
    answers = {}
    for cut, (lat, lng) in (("13122", PENALOLEN_CENTRE), ("13201", PUENTE_ALTO_CENTRE)):
        data = {"api_key": raw, "service_code": "retiro-escombros", "lat": str(lat), "long": str(lng)}
        answers[cut] = post(client, "json", data | {"description": "Escombros en la vereda."})
    refused, body = answers["13122"]
    assert refused.status_code == 400
    assert [e["description"] for e in items(body, "json", "errors", "error")] == [f"service_code: {REFUSED}"]
    assert answers["13201"][0].status_code == 201
    assert list(Report.objects.values_list("commune__cut", flat=True)) == ["13201"]


def test_services_per_jurisdiction_list_only_what_the_comuna_takes(client, debris_not_in_penalolen):
    communes = debris_not_in_penalolen
    codes = {}
    for jurisdiction in ("", communes["13122"].jurisdiction_id, communes["13201"].jurisdiction_id):
        for fmt in ("json", "xml"):
            response, body = get(client, "services", fmt, **({"jurisdiction_id": jurisdiction} if jurisdiction else {}))
            assert response.status_code == 200
            codes[jurisdiction or "all", fmt] = {s["service_code"] for s in items(body, fmt, "services", "service")}
    penalolen, puente_alto = communes["13122"].jurisdiction_id, communes["13201"].jurisdiction_id
    assert "retiro-escombros" in codes[puente_alto, "json"] and codes[puente_alto, "json"] == codes["all", "json"]
    assert codes[penalolen, "json"] == codes[puente_alto, "json"] - {"retiro-escombros"}
    assert all(codes[j, "xml"] == codes[j, "json"] for j in ("all", penalolen, puente_alto))


def test_email_to_a_comuna_that_does_not_take_the_email_topic_is_refused_for_good_naming_it(mailbox, communes):  # noqa: F811
    topic = Category.objects.get(service_code="consulta-tramites")
    CommuneCategory.objects.create(commune=communes["13122"], category=topic, enabled=False)
    code, reply = mailbox.deliver(email(body="¿Horario de patentes?", to=PENALOLEN_OIRS), to=PENALOLEN_OIRS)
    assert code == 554 and reply.startswith("5.6.0 ") and "no se atiende en Penalolen." in reply
    assert "Consulta sobre tramites y beneficios" in reply
    assert not Report.objects.exists()
    code, reply = mailbox.deliver(email(body="¿Horario de patentes?", to=PUENTE_ALTO_OIRS))
    assert code == 250, reply
    assert Report.objects.get().commune.cut == "13201"


def test_the_operator_console_path_and_reclassification_refuse_it_too(crews, make_report, debris_not_in_penalolen):
    communes = debris_not_in_penalolen
    with pytest.raises(ValidationError) as refused:
        make_report(point=PENALOLEN_CENTRE, channel="phone", staff=staff_account("op", communes=[*communes.values()]))
    assert refused.value.message_dict == {"category": [REFUSED]}
    other = make_report(point=PENALOLEN_CENTRE, category="microbasural")
    with pytest.raises(ValidationError) as moved:
        report_reclassify(report=other, category="retiro-escombros", reason="era escombro")
    assert moved.value.message_dict == {"category": [REFUSED]}
    other.refresh_from_db()
    assert other.category.service_code == "microbasural"


def at(moment: datetime):
    """report_create's clock set to `moment` (it stamps timezone.now())."""
    return lambda: moment


def test_each_comunas_response_time_gives_its_own_deadline_across_fiestas_patrias(communes, monkeypatch):
    assert {date(2025, 9, 18), date(2025, 9, 19)} <= chilean_holidays(2025)
    debris = Category.objects.get(service_code="microbasural")
    CommuneCategory.objects.create(commune=communes["13201"], category=debris, response_days=5)
    CommuneCategory.objects.create(commune=communes["13122"], category=debris, response_days=10)
    monkeypatch.setattr("django.utils.timezone.now", at(datetime(2025, 9, 15, 10, tzinfo=SANTIAGO)))
    due = {}
    for cut, (lat, lng) in (("13201", PUENTE_ALTO_CENTRE), ("13122", PENALOLEN_CENTRE)):
        report = report_create(category="microbasural", latitude=lat, longitude=lng, channel="web")
        due[cut] = report.expected_at.astimezone(SANTIAGO).date()
    # From Monday 15 September 2025: the 16th and 17th, then the 18th-21st (holidays and a weekend) count nothing.
    assert due == {"13201": date(2025, 9, 24), "13122": date(2025, 10, 1)}


def test_a_comuna_cannot_change_the_legal_term_of_an_information_request(communes):
    information = Category.objects.get(service_code="acceso-informacion")
    terms = CommuneCategory(commune=communes["13122"], category=information, response_days=5)
    with pytest.raises(ValidationError) as refused:
        terms.full_clean()
    assert "Ley 20.285" in refused.value.message_dict["response_days"][0]
    complaint = CommuneCategory(
        commune=communes["13122"], category=Category.objects.get(service_code="reclamo-servicio"), response_days=30
    )
    with pytest.raises(ValidationError) as too_long:
        complaint.full_clean()
    assert "20 días hábiles (Ley 19.880, art. 24)" in too_long.value.message_dict["response_days"][0]
    # A row saved past the admin's check still gives the legal 20 days: the kind caps it (catalogue.kinds).
    CommuneCategory.objects.create(commune=communes["13122"], category=information, response_days=5)
    report = report_create(
        category=information,
        kind="information",
        commune=communes["13122"],
        channel="web",
        description="Copia del contrato de aseo.",
        reporter_name="Berta Soto",
        reporter_email="berta@example.cl",
    )
    assert report.expected_at == deadline(report.created_at.astimezone(SANTIAGO).date(), 20, closed_days=())


def test_the_comunas_department_answers_its_category_there_only(crews, make_report, communes):
    own = Department.objects.create(name="Dirección de Gestión Ambiental de Peñalolén")
    CommuneCategory.objects.create(
        commune=communes["13122"], category=Category.objects.get(service_code="reclamo-servicio"), department=own
    )
    filed = {
        cut: report_create(
            category="reclamo-servicio",
            kind="complaint",
            commune=communes[cut],
            channel="web",
            description="Nadie retiró la basura.",
        )
        for cut in ("13122", "13201")
    }
    assert filed["13122"].department == own
    assert filed["13201"].department.name.startswith("Oficina de Informaciones, Reclamos y Sugerencias")
    assert category_terms(communes["13201"], filed["13201"].category).department == filed["13201"].department


def test_a_penalolen_head_is_never_escalated_a_puente_alto_request(crews, make_report, communes):
    """Pedro works for both comunas and heads the department in Peñalolén only; Paula heads it in Puente Alto.
    Each comuna's rule reaches its own head, so the membership alone would not have kept Pedro out."""
    department = crews["A"].department
    pedro = staff_account("pedro-jefe", communes=[communes["13122"], communes["13201"]], email="pedro@muni.example")
    paula = staff_account("paula-jefa", communes=[communes["13201"]], email="paula@muni.example")
    DepartmentHead.objects.create(commune=communes["13122"], department=department, user=pedro)
    DepartmentHead.objects.create(commune=communes["13201"], department=department, user=paula)
    for cut in ("13122", "13201"):
        EscalationRule.objects.create(
            commune=communes[cut],
            department=department,
            level=1,
            threshold_business_days=1,
            recipients=[Recipient.DEPARTMENT_HEAD],
        )
    # Peñalolén alone escalates a second time, to its head, three business days after the due day.
    EscalationRule.objects.create(
        commune=communes["13122"],
        department=department,
        level=2,
        threshold_business_days=3,
        recipients=[Recipient.DEPARTMENT_HEAD],
    )
    business_calendar_sync()
    alto = make_report(point=WEST_POINT)
    penalolen = make_report(point=PENALOLEN_CENTRE)
    due = deadline(date(2025, 9, 10), 8, closed_days=())
    Report.objects.filter(pk__in=[alto.pk, penalolen.pk]).update(expected_at=due)
    assert (alto.department, penalolen.department) == (department, department)
    alerts_run(now=datetime(2025, 10, 6, 9, tzinfo=SANTIAGO))

    def heard(report):
        return set(
            StaffAlert.objects.filter(alert__report=report, alert__kind="escalation").values_list(
                "user__username", "alert__level"
            )
        )

    assert heard(alto) == {("paula-jefa", 1)}
    # Found past both of Peñalolén's levels at once: only the higher is told (docs/escalation.md, "Catching up").
    assert heard(penalolen) == {("pedro-jefe", 2)}


def test_a_comunas_administrator_edits_only_her_comunas_service_rules(communes, django_user_model):
    puente_alto, penalolen = communes["13201"], communes["13122"]
    debris = Category.objects.get(service_code="retiro-escombros")
    theirs = CommuneCategory.objects.create(commune=penalolen, category=debris, enabled=False)
    ours = CommuneCategory.objects.create(commune=puente_alto, category=debris, response_days=3)
    ada = staff_account("ada-admin-pa", communes=[puente_alto], is_staff=True)
    ada.user_permissions.set(Permission.objects.filter(content_type__model__in=["communecategory", "commune"]))
    client = Client()
    client.force_login(ada)
    listed = client.get(reverse("admin:zones_communecategory_changelist")).content.decode()
    assert f"/{ours.pk}/change/" in listed and f"/{theirs.pk}/change/" not in listed
    assert client.get(reverse("admin:zones_communecategory_change", args=[theirs.pk])).status_code == 404
    add = client.get(reverse("admin:zones_communecategory_add"))
    assert list(add.context["adminform"].form.fields["commune"].queryset) == [puente_alto]
    client.post(
        reverse("admin:zones_communecategory_add"),
        {"commune": penalolen.pk, "category": Category.objects.get(service_code="bache").pk, "enabled": "on"},
    )
    assert not CommuneCategory.objects.filter(commune=penalolen, category__service_code="bache").exists()


def test_the_commitments_page_shows_each_comunas_categories_times_and_departments(client, debris_not_in_penalolen):
    communes = debris_not_in_penalolen
    litter = Category.objects.get(service_code="microbasural")
    own = Department.objects.create(name="Dirección de Aseo de Peñalolén")
    CommuneCategory.objects.create(commune=communes["13122"], category=litter, response_days=10, department=own)
    page = client.get("/transparencia/compromisos/").content.decode()
    tables = {cut: page.split(f'id="commitments-{cut}"')[1].split("</table>")[0] for cut in ("13122", "13201")}
    assert "Retiro de escombros" not in tables["13122"] and "Retiro de escombros" in tables["13201"]
    litter_rows = {cut: table.split("Microbasural")[1].split("</tr>")[0] for cut, table in tables.items()}
    assert "10 días hábiles" in litter_rows["13122"] and own.name in litter_rows["13122"]
    assert "5 días hábiles" in litter_rows["13201"] and own.name not in litter_rows["13201"]
    assert page.index('id="comuna-13122"') < page.index('id="comuna-13201"')  # Peñalolén, then Puente Alto


def test_the_comunas_terms_are_one_execute_of_a_statement_prepared_once_per_session(communes):
    """category_terms answers with one EXECUTE (zones.selectors.TERMS, prepared per session), as the ORM's
    select_related reads the row: a comuna's row with its department, one without a department, and no row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    debris = Category.objects.get(service_code="retiro-escombros")
    works = Department.objects.create(name="Dirección de Obras de prueba")
    with_department = CommuneCategory.objects.create(
        commune=communes["13201"], category=debris, response_days=5, department=works
    )
    without = CommuneCategory.objects.create(commune=communes["13122"], category=debris, enabled=False)
    other = Category.objects.exclude(pk=debris.pk).first()
    for commune, category, expected in (
        (communes["13201"], debris, with_department),
        (communes["13122"], debris, without),
        (communes["13201"], other, None),
    ):
        with CaptureQueriesContext(connection) as queries:
            terms = category_terms(commune, category)
            department = terms.row.department if terms.row is not None else None
        (query,) = queries
        assert query["sql"].startswith("EXECUTE zones_communecategory_list_")
        if expected is None:
            assert terms.row is None and terms.enabled and terms.response_days == other.response_days
            continue
        orm = CommuneCategory.objects.select_related("department").get(pk=expected.pk)
        assert (terms.row.pk, terms.row.enabled, terms.row.response_days) == (orm.pk, orm.enabled, orm.response_days)
        assert terms.row.department_id == orm.department_id
        assert (department.name if department else None) == (orm.department.name if orm.department else None)
    assert category_terms(communes["13201"], debris).department.name == "Dirección de Obras de prueba"
