""" "Mis solicitudes": sign-in by a one-time link (no password, no enumeration, rate-limited), the citizen's list,
preferences, data download and erasure."""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from geo_siac.citizens.models import SignInLink
from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Follower, Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_follow

ROSA = "rosa@example.cl"
LINK = re.compile(r"/mis-solicitudes/entrar/[^/\s]+/")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def request_link(client, email: str, ip: str = "203.0.113.5"):
    return client.post("/mis-solicitudes/ingresar/", {"email": email}, REMOTE_ADDR=ip)


def emailed_link(email: str) -> str:
    return LINK.search(Notification.objects.filter(recipient=email, report=None).latest("id").body).group(0)


def sign_in(client, email: str = ROSA):
    request_link(client, email)
    response = client.post(emailed_link(email))
    assert response.status_code == 302 and response["Location"] == "/mis-solicitudes/"


@pytest.fixture
def rosa_reports(make_report):
    mine = make_report(reporter_email=ROSA, description="Mi solicitud.")
    followed = make_report()
    report_follow(report=followed, email=ROSA)
    others = make_report(reporter_email="otra@example.cl")
    return mine, followed, others


def test_a_known_and_an_unknown_email_get_the_same_page_and_only_the_known_one_a_link(client, rosa_reports):
    known = request_link(client, "Rosa@Example.cl")
    unknown = request_link(client, "nadie@example.cl")
    assert known.status_code == unknown.status_code == 200
    assert CSRF.sub("", known.content.decode()) == CSRF.sub("", unknown.content.decode())
    assert "Si ese correo ingresó o sigue solicitudes, le enviamos un enlace" in known.content.decode()
    link = Notification.objects.get(recipient=ROSA, report=None)
    assert link.subject == "Su enlace para entrar a Mis solicitudes"
    assert LINK.search(link.body) and "20 minutos" in link.body
    assert not Notification.objects.filter(recipient="nadie@example.cl").exists()


def test_the_link_sent_page_leads_home_and_back_to_the_same_form(client, rosa_reports):
    for prefix in ("", "/comuna/penalolen"):
        sent = client.post(f"{prefix}/mis-solicitudes/ingresar/", {"email": ROSA}).content.decode()
        assert (
            f'<a href="{prefix}/mis-solicitudes/ingresar/" id="ask-again">¿No llegó? Volver a pedir el enlace</a>'
            in sent
        )
        assert f'<a href="{prefix}/" id="back-home">Volver al inicio</a>' in sent
        again = client.get(f"{prefix}/mis-solicitudes/ingresar/").content.decode()
        assert 'name="email"' in again and "Enviarme el enlace" in again
    client.cookies["django_language"] = "en"
    sent = client.post("/mis-solicitudes/ingresar/", {"email": ROSA}).content.decode()
    assert 'id="ask-again">Didn\'t get it? Ask for the link again</a>' in sent


def test_a_malformed_email_is_refused_naming_the_problem(client, db):
    response = request_link(client, "rosa.example.cl")
    assert response.status_code == 400
    assert "Escriba un correo electrónico válido" in response.content.decode()
    assert not SignInLink.objects.exists()


def test_the_link_is_stored_only_as_a_hash(client, rosa_reports):
    request_link(client, ROSA)
    token = emailed_link(ROSA).split("/")[-2]
    assert not SignInLink.objects.filter(token_hash=token).exists()
    assert SignInLink.objects.get().token_hash != token


def test_opening_the_link_does_not_use_it_and_signing_in_uses_it_once(client, rosa_reports):
    request_link(client, ROSA)
    link = emailed_link(ROSA)
    assert client.get(link).status_code == 200  # a mail scanner's visit leaves it usable
    assert client.post(link).status_code == 302
    again = client.post(link)
    assert again.status_code == 404 and "ya se usó o venció" in again.content.decode()
    assert client.get(link).status_code == 404


def test_the_link_expires_after_twenty_minutes_and_is_cleared_by_the_next_request(client, rosa_reports, monkeypatch):
    request_link(client, ROSA)
    link = emailed_link(ROSA)
    later = timezone.now() + timedelta(minutes=20, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.post(link).status_code == 404
    assert client.get("/mis-solicitudes/").status_code == 302
    request_link(client, ROSA)
    assert SignInLink.objects.count() == 1 and emailed_link(ROSA) != link


def test_a_link_still_works_just_before_it_expires(client, rosa_reports, monkeypatch):
    request_link(client, ROSA)
    link = emailed_link(ROSA)
    later = timezone.now() + timedelta(minutes=19, seconds=50)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert client.post(link).status_code == 302


def test_the_citizen_session_is_not_a_staff_session(client, rosa_reports, crews):
    client.force_login(crews["operator"])
    sign_in(client)
    assert SESSION_KEY not in client.session and client.session["citizen_email"] == ROSA
    assert client.get("/operador/").status_code == 302  # the staff login was dropped, not kept alongside


def test_link_requests_are_limited_per_client(client, rosa_reports, settings):
    settings.GEO_SIAC_SIGN_IN_LINKS_PER_CLIENT = 2
    assert [request_link(client, f"n{i}@example.cl").status_code for i in range(3)] == [200, 200, 429]
    assert request_link(client, ROSA, ip="203.0.113.99").status_code == 200


def test_link_requests_are_limited_per_email_without_saying_so(client, rosa_reports, settings):
    settings.GEO_SIAC_SIGN_IN_LINKS_PER_EMAIL = 1
    first = request_link(client, ROSA, ip="203.0.113.1")
    second = request_link(client, ROSA, ip="203.0.113.2")
    assert first.status_code == second.status_code == 200
    assert CSRF.sub("", first.content.decode()) == CSRF.sub("", second.content.decode())
    assert Notification.objects.filter(recipient=ROSA, report=None).count() == 1


def test_pages_need_a_citizen_session(client, db):
    response = client.get("/mis-solicitudes/")
    assert response.status_code == 302 and response["Location"] == "/mis-solicitudes/ingresar/"


def test_the_list_shows_the_citizens_reports_and_follows_and_nobody_elses(client, rosa_reports):
    mine, followed, others = rosa_reports
    sign_in(client)
    page = client.get("/mis-solicitudes/").content.decode()
    assert mine.tracking_code in page and followed.tracking_code in page and others.tracking_code not in page
    assert client.get(f"/mis-solicitudes/solicitud/{others.tracking_code}/").status_code == 404
    assert "Mi solicitud." not in client.get(f"/mis-solicitudes/solicitud/{followed.tracking_code}/").content.decode()


def test_reopening_from_the_list_sends_the_citizen_to_the_tracking_page(client, rosa_reports):
    mine = report_change_status(public_note=EXPLAINED_BY_CALLER, report=rosa_reports[0], status="resolved")
    sign_in(client)
    response = client.post(f"/mis-solicitudes/solicitud/{mine.tracking_code}/reabrir/", {"reason": "Sigue ahí."})
    assert response.status_code == 302
    assert "En ejecución" in client.get(response["Location"]).content.decode()


def test_adding_information_is_rate_limited_per_client(client, rosa_reports, settings):
    settings.GEO_SIAC_ACTIONS_PER_REPORT = 1
    sign_in(client)
    url = f"/mis-solicitudes/solicitud/{rosa_reports[0].tracking_code}/agregar/"
    assert client.post(url, {"note": "Uno."}).status_code == 302
    assert client.post(url, {"note": "Dos."}).status_code == 429
    assert list(rosa_reports[0].events.filter(kind="citizen_info").values_list("note", flat=True)) == ["Uno."]


def test_adding_information_has_the_forms_photo_field_and_asks_for_the_photo_again_after_a_refusal(
    client, rosa_reports, settings
):
    settings.GEO_SIAC_PHOTO_MAX_BYTES = 1024 * 1024
    sign_in(client)
    url = f"/mis-solicitudes/solicitud/{rosa_reports[0].tracking_code}/agregar/"
    page = client.get(f"/mis-solicitudes/solicitud/{rosa_reports[0].tracking_code}/").content.decode()
    assert f'data-max-bytes="{1024 * 1024}"' in page and "hasta 1 MB" in page and 'id="photo-again"' not in page
    too_large = SimpleUploadedFile("foto.png", b"\x89PNG" + b"\0" * (2 * 1024 * 1024), "image/png")
    response = client.post(url, {"note": "Sigue igual.", "photo": too_large})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="photo-again"' in page and "Sigue igual." in page


def test_the_citizen_chooses_the_language_of_every_message(client, rosa_reports):
    mine, followed, _others = rosa_reports
    sign_in(client)
    assert client.post("/mis-solicitudes/preferencias/", {"language": "en"}).status_code == 302
    assert Report.objects.get(pk=mine.pk).language == "en"
    assert Follower.objects.get(report=followed).language == "en"
    assert client.post("/mis-solicitudes/preferencias/", {"language": "fr"}).status_code == 400


def test_the_citizen_stops_following_a_report(client, rosa_reports):
    followed = rosa_reports[1]
    sign_in(client)
    assert client.post(f"/mis-solicitudes/solicitud/{followed.tracking_code}/dejar-de-seguir/").status_code == 302
    assert not Follower.objects.filter(report=followed).exists()


def test_the_citizen_downloads_their_data(client, rosa_reports):
    sign_in(client)
    response = client.get("/mis-solicitudes/mis-datos.json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert [r["tracking_code"] for r in data["reports"]] == [rosa_reports[0].tracking_code]
    assert data["following"] == [rosa_reports[1].tracking_code]


def test_the_citizen_erases_their_data_and_is_signed_out(client, rosa_reports):
    sign_in(client)
    assert client.post("/mis-solicitudes/borrar/").status_code == 400  # not confirmed: nothing erased
    assert Report.objects.filter(reporter_email=ROSA).exists()
    response = client.post("/mis-solicitudes/borrar/", {"confirm": "on"})
    assert "Borramos sus datos personales" in response.content.decode()
    assert not Report.objects.filter(reporter_email__iexact=ROSA).exists()
    assert not Follower.objects.filter(email=ROSA).exists() and not SignInLink.objects.exists()
    assert client.get("/mis-solicitudes/").status_code == 302


def test_an_english_speaker_gets_the_page_and_the_link_in_english(client, rosa_reports):
    page = client.get("/mis-solicitudes/ingresar/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Send me the link" in page
    client.post("/mis-solicitudes/ingresar/", {"email": ROSA}, HTTP_ACCEPT_LANGUAGE="en")
    message = Notification.objects.get(recipient=ROSA, report=None)
    assert message.subject == "Your link to sign in to My requests" and "It works once." in message.body


def test_a_citizen_who_opened_a_request_signs_in_and_lands_on_that_request(client, rosa_reports):
    mine = rosa_reports[0]
    tracking = client.get(f"/seguimiento/{mine.tracking_code}/").content.decode()
    asked = f"/mis-solicitudes/ingresar/?solicitud={mine.tracking_code}"
    assert f'href="{asked}" id="my-reports"' in tracking  # an open request: "agregar información a esta solicitud"
    assert f"Al entrar verá la solicitud {mine.tracking_code}." in client.get(asked).content.decode()
    client.post(asked, {"email": ROSA}, REMOTE_ADDR="203.0.113.5")
    body = Notification.objects.filter(recipient=ROSA, report=None).latest("id").body
    link = re.search(r"/mis-solicitudes/entrar/[^/\s]+/\?solicitud=[A-Z0-9-]+", body).group(0)
    response = client.post(link)  # the emailed link's page posts to itself, its query kept
    assert response.status_code == 302 and response["Location"] == f"/mis-solicitudes/solicitud/{mine.tracking_code}/"


def test_a_request_page_opened_signed_out_comes_back_to_it_and_a_signed_in_citizen_goes_straight_there(
    client, rosa_reports
):
    mine = rosa_reports[0]
    response = client.get(f"/mis-solicitudes/solicitud/{mine.tracking_code.lower()}/")
    assert response["Location"] == f"/mis-solicitudes/ingresar/?solicitud={mine.tracking_code.lower()}"
    sign_in(client)
    straight = client.get(response["Location"])
    assert straight.status_code == 302 and straight["Location"] == f"/mis-solicitudes/solicitud/{mine.tracking_code}/"


def test_a_sign_in_asked_for_no_code_or_a_junk_one_lands_on_the_list(client, rosa_reports):
    request_link(client, ROSA)
    response = client.post(emailed_link(ROSA) + "?solicitud=<script>")
    assert response["Location"] == "/mis-solicitudes/"
    page = client.get("/mis-solicitudes/ingresar/?solicitud=%3Cscript%3E").content.decode()
    assert "Al entrar verá" not in page and "<script>" not in page
