"""Every staff page that shows a request's history words a line GeoSIAC wrote (a Ley 20.285 extension) through the
renderer the citizen's pages use (reports.events), in the staff member's language, not as its stored Spanish note;
and keeps what only staff see: internal events and who made each change. The pages: the report page, as a crew
member and as a supervisor, and the Django admin's history inline (the deadline board, triage, the operator console
and the supervision list show no history)."""

import pytest
from django.urls import reverse

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.models import Report
from geo_siac.reports.services import information_extend, report_change_status, report_create

ENGLISH_LINE = "The term to answer was extended by 10 business days, from "
SPANISH_LINE = "El plazo para responder se prorrogó 10 días hábiles, del "
INTERNAL_NOTE = "Pedir el decreto al archivo."


@pytest.fixture
def extended(communes, crews) -> Report:
    """An information request of crew A's, extended by the supervisor, with an internal note of theirs."""
    request = report_create(
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        channel="web",
        description="Copia del decreto de la plaza.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    Report.objects.filter(pk=request.pk).update(crew=crews["A"])
    supervisor = crews["supervisor"]
    request = information_extend(report=request, reason="Volumen de documentos.", actor=supervisor)
    return report_change_status(
        report=request,
        status="in_progress",
        note=INTERNAL_NOTE,
        public_note="Estamos reuniendo la información.",
        actor=supervisor,
        actor_label=supervisor.get_username(),
    )


def history(client, user, url: str, language: str) -> str:
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


# Who reads the history, and on which page.
STAFF_PAGES = {
    "crew member": ("member_a", "crew:report"),
    "supervisor": ("supervisor", "crew:report"),
    "admin": ("admin", "admin:reports_report_change"),
}


def staff_page(client, crews, report: Report, reader: str, language: str) -> str:
    user, page = STAFF_PAGES[reader]
    args = [report.pk] if page.startswith("admin:") else [report.tracking_code]
    return history(client, crews[user], reverse(page, args=args), language)


@pytest.mark.parametrize("reader", STAFF_PAGES)
def test_an_english_staff_member_reads_a_line_in_english_on_every_staff_page_with_history(
    client, crews, extended, reader
):
    page = staff_page(client, crews, extended, reader, "en")
    assert ENGLISH_LINE in page and "Volumen de documentos." in page and "se prorrogó" not in page
    assert INTERNAL_NOTE in page and "sofia" in page


@pytest.mark.parametrize("reader", STAFF_PAGES)
def test_a_spanish_staff_member_reads_the_same_line_in_spanish(client, crews, extended, reader):
    page = staff_page(client, crews, extended, reader, "es-cl")
    assert SPANISH_LINE in page and "Volumen de documentos." in page
    assert ENGLISH_LINE not in page and INTERNAL_NOTE in page and "sofia" in page
