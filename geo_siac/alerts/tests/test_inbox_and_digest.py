"""Each person sees their alerts in an in-app inbox counted on every staff page, and chooses immediate emails or
one daily digest with their counts and the list."""

from datetime import timedelta

import pytest
from django.utils import timezone

from geo_siac.alerts.models import Delivery, StaffAlertPreference
from geo_siac.alerts.services import alerts_run, staff_alert_preference_set, staff_digests_send
from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Report
from geo_siac.testing import EAST_POINT, WEST_POINT, staff_account

pytestmark = pytest.mark.django_db


def overdue(make_report, point, count: int) -> list[Report]:
    reports = [make_report(point=point) for _ in range(count)]
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(expected_at=timezone.now() - timedelta(days=3))
    return reports


def test_the_inbox_lists_the_persons_alerts_and_every_staff_page_counts_the_unread(client, crews, make_report):
    mine = overdue(make_report, WEST_POINT, 2)
    theirs = overdue(make_report, EAST_POINT, 1)
    alerts_run()
    client.force_login(crews["member_a"])
    page = client.get("/cuadrilla/avisos/").content.decode()
    assert all(r.tracking_code in page for r in mine)
    assert theirs[0].tracking_code not in page
    assert "Vencida" in page
    # Two reports, each assigned and overdue (due soon too, as the deadline has passed): six unread.
    assert "6 sin leer" in client.get("/cuadrilla/").content.decode()
    client.post("/cuadrilla/avisos/leidos/")
    assert "sin leer" not in client.get("/cuadrilla/").content.decode()


def test_the_inbox_names_each_requests_category_and_comuna_and_tells_new_from_read(client, crews, make_report):
    (report,) = overdue(make_report, WEST_POINT, 1)
    alerts_run()
    client.force_login(crews["member_a"])
    before = client.get("/cuadrilla/avisos/").content.decode()
    client.post("/cuadrilla/avisos/leidos/")
    after = client.get("/cuadrilla/avisos/").content.decode()

    line = f"{report.tracking_code} · {report.category.name} · {report.commune.name} · plazo"
    assert line in before and line in after
    assert before.count('<span class="badge new">Nuevo</span>') == before.count('class="unread"') > 0
    assert "Marcar todos como leídos" in before
    assert 'class="unread"' not in after and "badge new" not in after and "Marcar todos como leídos" not in after


def test_a_digest_person_gets_no_immediate_email_and_one_daily_message_with_counts_and_list(crews, make_report):
    member = crews["member_a"]
    member.email = "ana@muni.example"
    member.save()
    staff_alert_preference_set(user=member, delivery=Delivery.DIGEST, language="es-cl")
    reports = overdue(make_report, WEST_POINT, 3)
    alerts_run()
    assert not Notification.objects.filter(recipient="ana@muni.example").exists()

    assert staff_digests_send().digests == 1
    assert staff_digests_send().digests == 0  # the same day again: nothing new, nothing sent twice
    (digest,) = Notification.objects.filter(recipient="ana@muni.example")
    assert digest.subject == "Resumen de avisos: 9"
    assert "- Vencida: 3" in digest.body
    assert all(r.tracking_code in digest.body for r in reports)


def test_an_unknown_delivery_or_language_is_refused_by_name_and_nothing_is_saved(crews):
    with pytest.raises(Exception, match="resumen diario"):
        staff_alert_preference_set(user=crews["member_a"], delivery="hourly", language="es-cl")
    with pytest.raises(Exception, match="Idioma desconocido: fr"):
        staff_alert_preference_set(user=crews["member_a"], delivery=Delivery.DIGEST, language="fr")
    assert not StaffAlertPreference.objects.exists()


def test_the_preference_form_saves_the_choice(client, crews):
    client.force_login(crews["member_a"])
    response = client.post("/cuadrilla/avisos/", {"delivery": "digest", "language": "en"})
    assert response.status_code == 302
    preference = StaffAlertPreference.objects.get(user=crews["member_a"])
    assert (preference.delivery, preference.language) == ("digest", "en")


def test_information_a_citizen_adds_alerts_the_crew_once_per_addition_by_email_digest_and_inbox(
    client, crews, make_report, django_user_model
):
    from geo_siac.alerts.models import Alert, AlertKind
    from geo_siac.reports.services import report_add_citizen_info

    member = crews["member_a"]
    member.email = "ana@muni.example"
    member.save()
    colleague = staff_account("carlos", email="carlos@muni.example")
    crews["A"].members.add(colleague)
    staff_alert_preference_set(user=colleague, delivery=Delivery.DIGEST, language="es-cl")
    report = make_report(point=WEST_POINT, reporter_email="rosa@example.cl")
    alerts_run()
    told = Notification.objects.filter(recipient="ana@muni.example", subject__startswith="La ciudadanía")

    report_add_citizen_info(report=report, note="Ahora hay más escombros.", by_email="rosa@example.cl")
    alerts_run()
    alerts_run()
    assert list(told.values_list("subject", flat=True)) == [
        f"La ciudadanía agregó información: solicitud {report.tracking_code}"
    ]
    report_add_citizen_info(report=report, note="Y un colchón.", by_email="rosa@example.cl")
    alerts_run()
    assert told.count() == 2
    assert sorted(Alert.objects.filter(report=report, kind=AlertKind.CITIZEN_INFO).values_list("level", flat=True)) == [
        1,
        2,
    ]

    staff_digests_send()
    (digest,) = Notification.objects.filter(recipient="carlos@muni.example")
    assert "- La ciudadanía agregó información: 2" in digest.body
    client.force_login(member)
    assert "La ciudadanía agregó información" in client.get("/cuadrilla/avisos/").content.decode()
