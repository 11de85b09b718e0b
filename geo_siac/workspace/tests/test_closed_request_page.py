"""A request's staff page offers only the steps its services would take now (crew_views.detail_context asks each
service's refusal): a closed request offers reopening and nothing else, and each step it hides is refused by its
service when posted anyway, with nothing written."""

import pytest
from django.urls import reverse

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Department, Institution
from geo_siac.reports.models import AnswerLetter, Report, ReportEvent
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_create, report_refer
from geo_siac.reports.states import Status
from geo_siac.testing import WEST_POINT

pytestmark = pytest.mark.django_db

FORM_IDS = (
    "return-form",
    "reroute-form",
    "reclassify-form",
    "department-form",
    "extend-form",
    "legal-extend-form",
    "correction-form",
    "legal-answer-form",
    "referral-form",
)


def information_request(communes) -> Report:
    return report_create(
        channel="phone",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia de las actas del concejo municipal de 2025.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )


def sernac() -> Institution:
    return Institution.objects.get(name="Servicio Nacional del Consumidor (SERNAC)")


def page(client, report):
    return client.get(reverse("crew:report", args=[report.tracking_code]))


def forms_drawn(html: str) -> set[str]:
    return {form_id for form_id in FORM_IDS if f'id="{form_id}"' in html}


def hidden_posts(report, crews) -> dict[str, tuple[str, dict]]:
    """Each step's URL and a post its form would accept on an open request."""
    code = report.tracking_code
    department = Department.objects.first()
    return {
        "return": (reverse("crew:hand_back", args=[code]), {"reason": "No es de esta cuadrilla."}),
        "reroute": (reverse("crew:reroute", args=[code]), {"crew": crews["B"].pk, "reason": "Apoyo"}),
        "extend": (reverse("crew:extend", args=[code]), {"business_days": 2, "reason": "Lluvia"}),
        "reclassify": (reverse("crew:reclassify", args=[code]), {"category": "reclamo-servicio", "reason": "Otro"}),
        "department": (reverse("crew:assign_department", args=[code]), {"department": department.pk}),
        "legal_extend": (reverse("crew:kind_step", args=[code, "legal_extend"]), {"reason": "Volumen."}),
        "correction": (reverse("crew:kind_step", args=[code, "correction"]), {"note": "Indique el año."}),
        "legal_answer": (
            reverse("crew:kind_step", args=[code, "legal_answer"]),
            {"outcome": "delivered", "note": "Se adjuntan las actas."},
        ),
        "referral": (reverse("crew:kind_step", args=[code, "referral"]), {"institution": sernac().pk}),
    }


def test_an_open_requests_page_offers_the_steps_of_its_kind_and_state(client, crews, communes, make_report):
    client.force_login(crews["supervisor"])
    service = make_report(point=WEST_POINT)
    assert page(client, service).context["offered"] == {"return", "reroute", "extend", "reclassify", "referral"}
    information = information_request(communes)
    offered = page(client, information).context["offered"]
    assert offered == {"reroute", "reclassify", "department", "legal_extend", "correction", "legal_answer", "referral"}
    assert forms_drawn(page(client, information).content.decode()) == {
        "reroute-form",
        "reclassify-form",
        "department-form",
        "legal-extend-form",
        "correction-form",
        "legal-answer-form",
        "referral-form",
    }


def test_a_resolved_service_request_offers_only_reopening_and_refuses_every_hidden_step(client, crews, make_report):
    report = make_report(point=WEST_POINT)
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status=Status.RESOLVED, actor=crews["member_a"]
    )
    client.force_login(crews["supervisor"])
    response = page(client, report)
    html = response.content.decode()
    assert response.context["offered"] == set()
    assert forms_drawn(html) == set()
    assert "Reabrir la solicitud" in html and "Cambiar estado" not in html
    choices = [value for value, _label in response.context["status_form"].fields["status"].choices]
    assert choices == ["", Status.IN_PROGRESS]
    before = Report.objects.get(pk=report.pk)
    events = ReportEvent.objects.filter(report=report).count()
    for step in ("return", "reroute", "extend", "reclassify", "department", "referral"):
        url, data = hidden_posts(report, crews)[step]
        refused = client.post(url, {**data, "seen": before.updated_at.isoformat()})
        assert refused.status_code == 400, step
        assert f"La solicitud {report.tracking_code} está cerrada." in refused.content.decode(), step
    after = Report.objects.get(pk=report.pk)
    assert (after.status, after.crew_id, after.category_id, after.expected_at, after.updated_at) == (
        Status.RESOLVED,
        before.crew_id,
        before.category_id,
        before.expected_at,
        before.updated_at,
    )
    assert ReportEvent.objects.filter(report=report).count() == events


def test_a_referred_information_request_offers_only_reopening_and_refuses_every_hidden_step(client, crews, communes):
    report = report_refer(report=information_request(communes), institution=sernac(), actor=crews["supervisor"])
    client.force_login(crews["supervisor"])
    response = page(client, report)
    assert response.context["offered"] == set() and forms_drawn(response.content.decode()) == set()
    before = Report.objects.get(pk=report.pk)
    for step in ("reroute", "reclassify", "department", "legal_extend", "correction", "legal_answer", "referral"):
        url, data = hidden_posts(report, crews)[step]
        refused = client.post(url, {**data, "seen": before.updated_at.isoformat()})
        assert refused.status_code == 400, step
        assert f"La solicitud {report.tracking_code} está cerrada." in refused.content.decode(), step
    after = Report.objects.get(pk=report.pk)
    assert (after.status, after.referred_to, after.expected_at, after.deadline_extended_at, after.updated_at) == (
        Status.CLOSED_NOT_MUNICIPAL,
        sernac(),
        before.expected_at,
        None,
        before.updated_at,
    )
    assert not AnswerLetter.objects.filter(report=report).exists()


def test_a_crew_member_sees_no_hand_back_once_the_request_is_closed(client, crews, make_report):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    assert forms_drawn(page(client, report).content.decode()) == {"return-form"}
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status=Status.RESOLVED, actor=crews["member_a"]
    )
    assert forms_drawn(page(client, report).content.decode()) == set()
    refused = client.post(reverse("crew:hand_back", args=[report.tracking_code]), {"reason": "No es nuestra."})
    assert refused.status_code == 400 and "está cerrada" in refused.content.decode()
    assert Report.objects.get(pk=report.pk).crew == crews["A"]
