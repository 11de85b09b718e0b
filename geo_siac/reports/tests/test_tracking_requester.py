"""The requester's own text and typed place on the tracking page: shown to the requester (the browser that filed the
request, or a Mis solicitudes session of the email it was filed with), never to someone holding only the code, and
never through Open311 for a request that is not public."""

import time
from types import SimpleNamespace

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone

from geo_siac.reports.models import Report
from geo_siac.reports.requester import CITIZEN_EMAIL, FILED_SECONDS, filed_redirect
from geo_siac.reports.services import report_follow
from geo_siac.reports.states import Status
from geo_siac.reports.tests.test_citizen_reopen import signed_in
from geo_siac.reports.tests.test_report_page import form_data

ROSA = "rosa@example.cl"
TEXT = "Frente a la casa de la señora Marta, pasaje Los Aromos 1234."
PLACE = "Pasaje Los Aromos 1234"
NEUTRAL = "Si dejó un correo o un teléfono al ingresarla, ya recibe los avisos allí"


def filed(client, **overrides) -> Report:
    response = client.post("/", {**form_data(description=TEXT, address=PLACE), **overrides})
    assert response.status_code == 302
    return Report.objects.get(tracking_code=response["Location"].rstrip("/").rsplit("/", 1)[1])


def tracking_page(client, report) -> str:
    return client.get(f"/seguimiento/{report.tracking_code}/").content.decode()


def test_the_filing_browser_sees_its_text_and_typed_place_another_with_the_code_does_not(client, communes):
    report = filed(client)
    mine = tracking_page(client, report)
    assert 'id="own-request"' in mine and TEXT in mine and PLACE in mine
    stranger = tracking_page(Client(), report)
    assert TEXT not in stranger and PLACE not in stranger and "Los Aromos" not in stranger
    assert 'id="own-request"' not in stranger


def test_the_filing_cookie_is_kept_on_the_tracking_page_path_too(client, communes):
    response = client.post("/", form_data(description=TEXT, address=PLACE))
    code = response["Location"].rstrip("/").rsplit("/", 1)[1]
    paths = {morsel.key: morsel["path"] for morsel in response.cookies.values()}
    assert paths == {"filed": f"/enviada/{code}/", "filed_tracking": f"/seguimiento/{code}/"}
    assert all(morsel["httponly"] for morsel in response.cookies.values())


def test_the_requesters_page_is_never_stored_by_a_cache(client, communes):
    report = filed(client)
    response = client.get(f"/seguimiento/{report.tracking_code}/")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_a_forged_or_other_requests_cookie_does_not_make_a_requester(client, communes, make_report):
    other = make_report(reporter_email=ROSA, description=TEXT, address=PLACE)
    client.cookies.update(filed_redirect("PA-2222-3333").cookies)  # the signed cookie of another request
    client.cookies["filed_tracking"] = other.tracking_code  # unsigned
    page = tracking_page(client, other)
    assert TEXT not in page and PLACE not in page
    client.cookies.update(filed_redirect(other.tracking_code).cookies)  # the control: its own signed cookie
    page = tracking_page(client, other)
    assert TEXT in page and PLACE in page


def test_the_filing_cookies_last_the_browser_session_and_the_server_refuses_them_after_the_hour(
    client, communes, monkeypatch
):
    response = client.post("/", form_data(description=TEXT, address=PLACE))
    report = Report.objects.get()
    assert response.cookies and all(morsel["max-age"] == "" for morsel in response.cookies.values())
    assert all(morsel["expires"] == "" for morsel in response.cookies.values())
    assert TEXT in tracking_page(client, report)
    later = time.time() + FILED_SECONDS + 5
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    page = tracking_page(client, report)
    assert TEXT not in page and PLACE not in page


def test_the_requesters_email_matches_as_a_person_is_found_by_it(client, communes, make_report):
    report = make_report(reporter_email=ROSA, description=TEXT, address=PLACE)
    Report.objects.filter(pk=report.pk).update(reporter_email=" Rosa@Example.cl ")  # as an older import stored it
    browser = Client()
    session = browser.session  # a Mis solicitudes session, as citizens.services writes it (a clean email)
    session[CITIZEN_EMAIL] = ROSA
    session.save()
    assert TEXT in tracking_page(browser, report)


def test_the_tracking_page_varies_on_the_cookie_for_the_requester_and_a_stranger(client, communes):
    report = filed(client)
    # Closed: no follow form, whose CSRF cookie would add the header; the filing cookie alone never reads the session.
    Report.objects.filter(pk=report.pk).update(status=Status.RESOLVED, closed_at=timezone.now())
    for browser in (client, Client()):
        response = browser.get(f"/seguimiento/{report.tracking_code}/")
        assert "Cookie" in response["Vary"]


def test_a_code_typed_in_lower_case_leads_to_the_canonical_tracking_page_where_the_cookie_is(client, communes):
    report = filed(client)
    response = client.get(f"/seguimiento/{report.tracking_code.lower()}/")
    assert response.status_code == 302 and response["Location"] == f"/seguimiento/{report.tracking_code}/"
    assert TEXT in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("contact", "notified"),
    [
        ({"reporter_email": ROSA, "consent": "on"}, "Le avisaremos de cada cambio al correo que dejó."),
        ({"reporter_phone": "+56 9 8765 4321", "consent": "on"}, "Le avisaremos de cada cambio al teléfono que dejó."),
        ({}, "No dejó un correo ni un teléfono: no le llegarán avisos."),
    ],
)
def test_the_requesters_tracking_page_says_how_they_get_updates_a_stranger_reads_the_neutral_sentence(
    client, communes, contact, notified
):
    report = filed(client, **contact)
    assert notified in tracking_page(client, report)
    stranger = tracking_page(Client(), report)
    assert notified not in stranger and NEUTRAL in stranger


def test_a_mis_solicitudes_session_of_the_requester_sees_the_text_a_followers_does_not(client, communes, make_report):
    report = make_report(reporter_email=ROSA, description=TEXT, address=PLACE)
    report_follow(report=report, email="vecina@example.cl")
    mine = tracking_page(signed_in(Client(), ROSA), report)
    assert TEXT in mine and PLACE in mine and 'id="own-only"' in mine
    follower = tracking_page(signed_in(Client(), "vecina@example.cl"), report)
    assert TEXT not in follower and PLACE not in follower


def test_a_stranger_sees_a_public_service_requests_description_but_not_the_typed_place(client, communes):
    report = filed(client, public_visibility="on")
    stranger = tracking_page(Client(), report)
    assert TEXT in stranger and PLACE not in stranger
    mine = tracking_page(client, report)
    assert TEXT in mine and PLACE in mine and 'id="own-only"' not in mine


def test_a_non_public_requests_text_and_place_never_appear_in_open311(client, communes):
    report = filed(client)
    for url in (
        "/open311/v2/requests.json",
        f"/open311/v2/requests/{report.pk}.json",
        f"/open311/v2/tokens/{report.tracking_code}.json",
        "/open311/v2/requests.xml",
    ):
        response = Client().get(url)
        body = response.content.decode()
        assert response.status_code == 200 and str(report.pk) in body, url  # listed: its text is left out, not it
        assert "Los Aromos" not in body and "señora Marta" not in body, url


def test_the_follow_form_keeps_the_requesters_view(client, communes):
    report = filed(client)
    response = client.post(f"/seguimiento/{report.tracking_code}/seguir/", {"email": "no es un correo"})
    assert response.status_code == 400 and TEXT in response.content.decode()
    stranger = Client().post(f"/seguimiento/{report.tracking_code}/seguir/", {"email": "no es un correo"})
    assert TEXT not in stranger.content.decode()


@pytest.mark.parametrize("contact", [{}, {"reporter_email": ROSA, "consent": "on"}])
def test_the_confirmation_names_the_tracking_link_once(client, communes, contact):
    response = client.post("/", {**form_data(), **contact})
    page = client.get(response["Location"]).content.decode()
    assert page.count("Ver el seguimiento") == 1
