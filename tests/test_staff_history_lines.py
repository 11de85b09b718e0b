"""Every staff page that shows a request's history words a line GeoSIAC wrote (a Ley 20.285 extension) through the
renderer the citizen's pages use (reports.events), in the staff member's language, not as its stored Spanish note;
and keeps what only staff see: internal events and who made each change. The pages: the report page, as a crew
member and as a supervisor, and the Django admin's history inline (the deadline board, triage, the operator console
and the supervision list show no history)."""

import pytest
from django.urls import reverse
from django.utils import timezone

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.models import EventKind, Report, ReportEvent
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
# Where each page shows the history, and how it names who made a change.
CREW_HISTORY = ('<ol class="history" id="history">', "</ol>", "(sofia)")
ADMIN_HISTORY = ('id="events-group"', "</table>", "<p>sofia</p>")


def staff_history(client, crews, report: Report, reader: str, language: str) -> tuple[str, str]:
    """The history's part of the reader's page, and how it names the supervisor who made the changes."""
    user, page = STAFF_PAGES[reader]
    admin = page.startswith("admin:")
    args = [report.pk] if admin else [report.tracking_code]
    html = history(client, crews[user], reverse(page, args=args), language)
    start, end, actor = ADMIN_HISTORY if admin else CREW_HISTORY
    assert start in html
    return html[html.index(start) : html.index(end, html.index(start))], actor


@pytest.mark.parametrize("reader", STAFF_PAGES)
def test_an_english_staff_member_reads_a_line_in_english_on_every_staff_page_with_history(
    client, crews, extended, reader
):
    lines, actor = staff_history(client, crews, extended, reader, "en")
    assert ENGLISH_LINE in lines and "Volumen de documentos." in lines and "se prorrogó" not in lines
    assert INTERNAL_NOTE in lines and actor in lines


@pytest.mark.parametrize("reader", STAFF_PAGES)
def test_a_spanish_staff_member_reads_the_same_line_in_spanish(client, crews, extended, reader):
    lines, actor = staff_history(client, crews, extended, reader, "es-cl")
    assert SPANISH_LINE in lines and "Volumen de documentos." in lines
    assert ENGLISH_LINE not in lines and INTERNAL_NOTE in lines and actor in lines


def test_a_line_this_version_does_not_know_without_a_note_prints_nothing_after_its_title(client, crews, extended):
    ReportEvent.objects.create(
        report=extended,
        kind=EventKind.NOTE,
        note="",
        data={"line": "unknown"},
        is_public=False,
        created_at=timezone.now(),
    )
    lines, _actor = staff_history(client, crews, extended, "supervisor", "es-cl")
    last = lines[lines.rindex("<li>") :].split("</li>")[0]
    assert last.count(" · ") == 1 and "badge" not in last  # its time and its title, no empty line and badge
