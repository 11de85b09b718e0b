"""/seguimiento/<code>: public timeline, status and deadline, never contact data; the lookup form; following."""

import re
from datetime import date, timedelta

from django.utils import timezone

from geo_siac.reports.deadlines import add_business_days, deadline, is_business_day, local_day
from geo_siac.reports.models import Follower, Report
from geo_siac.reports.services import report_change_status
from geo_siac.zones.models import ClosedDay

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
        report=report, status="acknowledged", note="Derivada a la cuadrilla de aseo.", note_is_public=True
    )
    html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert 'id="status">Acogida<' in html
    assert "Solicitud recibida" in html and "Derivada a la cuadrilla de aseo." in html
    assert "quedan" in html and "días" in html
    assert_no_contact_data(html)


def test_a_crew_note_is_internal_by_default_the_status_change_still_shows(client, make_report):
    report = make_report()
    report_change_status(report=report, status="acknowledged", note="Vecino conflictivo")
    html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert "Vecino conflictivo" not in html
    assert html.count("Acogida") == 2  # the current status and its step in the timeline


def test_overdue_report_says_its_deadline_has_passed(client, make_report):
    report = make_report()
    Report.objects.filter(pk=report.pk).update(expected_at=timezone.now() - timedelta(days=2))
    assert "plazo vencido" in client.get(f"/seguimiento/{report.tracking_code}/").content.decode()


WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
MONTHS = "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split()


def spoken(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]} de {day.year}"


def business_days_after(start: date, end: date) -> int:
    return sum(is_business_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1))


def countdown(client, report, expected_at) -> str:
    Report.objects.filter(pk=report.pk).update(expected_at=expected_at)
    html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    return re.sub(r"\s+", " ", re.search(r'id="countdown">(.*?)</strong>', html, re.S)[1])


def test_days_left_are_the_business_days_the_deadline_counted(client, make_report):
    today = local_day(timezone.now())
    closed = add_business_days(today, 1, closed_days=())  # a municipal closure the deadline skips, as the count does
    ClosedDay.objects.create(day=closed, reason="Aniversario comunal")
    report = make_report()
    due = deadline(today, 5, closed_days={closed})
    assert countdown(client, report, due) == f"quedan 5 días hábiles (vence el {spoken(due.date())})"
    due = deadline(today, 1, closed_days={closed})
    assert countdown(client, report, due) == f"queda 1 día hábil (vence el {spoken(due.date())})"
    assert countdown(client, report, deadline(today, 0, closed_days=())) == "vence hoy"


def test_the_business_day_count_reads_in_english(client, make_report):
    today = local_day(timezone.now())
    report = make_report()
    due = deadline(today, 5, closed_days=())
    Report.objects.filter(pk=report.pk).update(expected_at=due)
    client.cookies["django_language"] = "en"
    html = client.get(f"/seguimiento/{report.tracking_code}/").content.decode()
    assert f"5 business days left (due on {due:%A} {due.day} {due:%B} {due.year})" in html
    assert "Does someone else want to get the updates?" in html


def test_an_overdue_report_says_how_many_business_days_late_and_when_it_fell_due(client, make_report):
    today = local_day(timezone.now())
    report = make_report()
    due = today - timedelta(days=1)
    while not is_business_day(due):
        due -= timedelta(days=1)
    late = business_days_after(due, today)
    words = "1 día hábil" if late == 1 else f"{late} días hábiles"
    expected = (
        f"plazo vencido hace {words} (venció el {spoken(due)})" if late else f"plazo vencido (venció el {spoken(due)})"
    )
    assert countdown(client, report, deadline(due, 0, closed_days=())) == expected
    a_week_ago = due - timedelta(days=7)
    assert countdown(client, report, deadline(a_week_ago, 0, closed_days=())) == (
        f"plazo vencido hace {business_days_after(a_week_ago, today)} días hábiles (venció el {spoken(a_week_ago)})"
    )


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
    assert "Si dejó un correo al ingresarla, ya recibe los avisos en ese correo" in sections[0]
    assert "¿Otra persona quiere recibir los avisos?" in sections[0] and 'name="email"' in sections[0]


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
