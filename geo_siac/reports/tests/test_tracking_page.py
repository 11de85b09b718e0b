"""/seguimiento/<code>: public timeline, status and deadline, never contact data; the lookup form; following."""

import re
from datetime import date, datetime, timedelta
from unittest.mock import patch

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone, translation

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.deadlines import SANTIAGO, deadline, local_day
from geo_siac.reports.models import Follower, Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_create
from geo_siac.reports.views import tracking_context
from geo_siac.zones.models import ClosedDay
from geo_siac.zones.selectors import closed_days

CONTACT = {
    "reporter_name": "Rosa Pérez Contreras",
    "reporter_email": "rosa.perez@example.cl",
    "reporter_phone": "+56 9 8765 4321",
}


def assert_no_contact_data(html: str):
    for value in CONTACT.values():
        assert value not in html
    assert "8765" not in html


def test_tracking_page_shows_status_timeline_and_days_left(client, make_report):
    report = make_report(**CONTACT)
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="acknowledged",
        note="Derivada a la cuadrilla de aseo.",
        note_is_public=True,
    )
    html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert 'id="status">Acogida<' in html
    assert "Solicitud recibida" in html and "Derivada a la cuadrilla de aseo." in html
    assert "quedan" in html and "días" in html
    assert_no_contact_data(html)


def test_a_crew_note_is_internal_by_default_the_status_change_still_shows(client, make_report):
    report = make_report()
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged", note="Vecino conflictivo"
    )
    html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "Vecino conflictivo" not in html
    assert html.count("Acogida") == 2  # the current status and its step in the timeline


def test_overdue_report_says_its_deadline_has_passed(client, make_report):
    report = make_report()
    Report.objects.filter(pk=report.pk).update(expected_at=timezone.now() - timedelta(days=2))
    assert "plazo vencido" in client.get(f"/seguimiento/{report.tracking_code}/").content.decode()


FILED = datetime(2026, 12, 4, 10, 0, tzinfo=SANTIAGO)  # a Friday; Tuesday the 8th is a public holiday


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 12, day, hour, 0, tzinfo=SANTIAGO)


def deadline_line(report, now: datetime, language: str = "es-cl") -> str:
    """The page's deadline line as read on `now`, tags dropped."""
    with translation.override(language):
        context = tracking_context(report, now=now)
        html = render_to_string("reports/tracking.html", context, request=RequestFactory().get("/"))
    line = re.search(r"<li>((?:Plazo|Deadline): .*?)</li>", html, re.S)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line)).strip()


def due_on(report, day: date) -> Report:
    Report.objects.filter(pk=report.pk).update(expected_at=deadline(day, 0, closed_days=()))
    return Report.objects.get(pk=report.pk)


def test_the_deadline_line_prints_the_due_day_once_and_the_business_days_left(make_report):
    report = make_report()
    report = due_on(report, deadline(local_day(FILED), 5, closed_days=()).date())  # the 8th skipped: Monday the 14th
    assert deadline_line(report, FILED) == "Plazo: lunes 14 de diciembre de 2026 · quedan 5 días hábiles"
    assert deadline_line(report, at(11)) == "Plazo: lunes 14 de diciembre de 2026 · queda 1 día hábil"
    assert deadline_line(report, at(14, 23)) == "Plazo: lunes 14 de diciembre de 2026 · vence hoy"
    assert deadline_line(report, FILED, "en") == "Deadline: Monday 14 December 2026 · 5 business days left"


def test_a_day_closed_after_filing_leaves_no_business_day_but_is_not_due_today(make_report):
    report = due_on(make_report(), date(2026, 12, 14))
    ClosedDay.objects.create(day=date(2026, 12, 14), reason="Aniversario comunal")
    assert deadline_line(report, at(11)) == "Plazo: lunes 14 de diciembre de 2026"
    assert deadline_line(report, at(14)) == "Plazo: lunes 14 de diciembre de 2026 · vence hoy"


def test_an_overdue_report_counts_the_business_days_since_its_due_day(make_report):
    report = due_on(make_report(), date(2026, 12, 11))  # a Friday
    assert deadline_line(report, at(12)) == "Plazo: viernes 11 de diciembre de 2026 · plazo vencido"
    assert deadline_line(report, at(15)) == "Plazo: viernes 11 de diciembre de 2026 · plazo vencido hace 2 días hábiles"
    assert deadline_line(report, at(15), "en") == "Deadline: Friday 11 December 2026 · overdue by 2 business days"


def test_no_countdown_while_the_requester_is_asked_to_correct_an_information_request(client, communes):
    report = report_create(
        channel="web",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia del contrato de alumbrado público vigente.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    assert 'id="countdown"' in client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    Report.objects.filter(pk=report.pk).update(correction_due_at=timezone.now() + timedelta(days=7))
    html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert 'id="countdown"' not in html
    assert 'href="#legal-clock" id="clock-paused"' in html and 'id="clock-correction"' in html


def test_the_countdown_reads_the_closed_days_only_for_an_open_report(make_report):
    open_one, resolved = make_report(), make_report()
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=resolved, status="resolved", note="Reparado.", note_is_public=True
    )
    reads = []
    for report in (open_one, Report.objects.get(pk=resolved.pk)):
        with patch("geo_siac.reports.views.closed_days", wraps=closed_days) as read:
            tracking_context(report)
        reads.append(read.call_count)
    assert reads == [1, 0]


def test_the_follow_form_tells_the_reporter_they_are_notified_without_saying_whether_an_email_was_left(
    client, make_report
):
    sections = []
    for contact in (CONTACT, {}):
        report = make_report(**contact)
        html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
        section = re.search(r'<section id="seguir">.*?</section>', html, re.S)[0]
        masked = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", section)
        sections.append(masked.replace(report.tracking_code, "CODE"))
    assert sections[0] == sections[1]
    assert "Si dejó un correo o un teléfono al ingresarla, ya recibe los avisos allí" in sections[0]
    assert "¿Otra persona quiere recibir los avisos?" in sections[0] and 'name="email"' in sections[0]
    client.cookies["django_language"] = "en"
    english = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "If you left an email or a phone number when you filed it, you already get the updates there" in english
    assert "Enter your email and we will email you about every change." in english


def test_lookup_accepts_the_code_as_typed_over_the_phone(client, make_report):
    report = make_report()
    typed = report.tracking_code.replace("-", " ").lower()
    response = client.get("/seguimiento/", {"codigo": typed})
    assert response["Location"] == f"/seguimiento/{report.tracking_code}/"


def test_lookup_of_an_unknown_code_says_so(client, communes):
    response = client.get("/seguimiento/", {"codigo": "PA-ZZZZ-ZZZZ"})
    assert response.status_code == 404
    assert "No encontramos una solicitud con el código «PA-ZZZZ-ZZZZ»" in response.content.decode()


def test_script_in_a_public_description_comes_back_escaped(client, make_report):
    report = make_report(description='<script>alert("x")</script><img src=x onerror=alert(1)>', public_visibility=True)
    html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_description_of_a_non_public_report_is_not_shown(client, make_report):
    report = make_report(description="Frente a mi casa, Los Aromos 1234")
    assert "Los Aromos 1234" not in client.get(f"/seguimiento/{report.tracking_code}/").content.decode()


def test_confirmation_page_has_no_contact_data(client, make_report):
    report = make_report(**CONTACT)
    assert_no_contact_data(client.get(f"/enviada/{report.tracking_code}/").content.decode())


def test_citizen_can_follow_an_open_report_by_email(client, make_report):
    report = make_report(**CONTACT)
    response = client.post(f"/seguimiento/{report.tracking_code}/seguir/", {"email": "Vecino@Example.cl"})
    assert "le avisaremos por correo" in response.content.decode()
    assert_no_contact_data(response.content.decode())
    assert Follower.objects.get().email == "vecino@example.cl"


def test_following_with_a_bad_email_shows_the_error(client, make_report):
    report = make_report()
    response = client.post(f"/seguimiento/{report.tracking_code}/seguir/", {"email": "no-es-correo"})
    assert response.status_code == 400
    assert "Escriba un correo electrónico válido" in response.content.decode()
    assert not Follower.objects.exists()


def test_photo_thumbnail_is_shown_only_for_public_reports(client, make_report, settings, tmp_path):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    png = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 200)).save(png, "PNG")
    public = make_report(photo=png.getvalue(), public_visibility=True)
    private = make_report(photo=png.getvalue())
    assert "/media/reports/thumbnails/" in client.get(f"/seguimiento/{public.tracking_code}/").content.decode()
    assert "/media/reports/" not in client.get(f"/seguimiento/{private.tracking_code}/").content.decode()
