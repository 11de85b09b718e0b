"""Requests without a place in headless Chromium: a citizen files a sugerencia from the "¿Qué quiere hacer?"
chooser and gets a tracking code; an operator files an access-to-information request at the OIRS desk, the map
step hidden; the officer extends it once (a second extension is refused), previews the answer letter and sends it;
on a phone the citizen's tracking page shows the clock and the letter, and the letter's PDF downloads."""

import io
import os
import re

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect, sync_playwright
from pypdf import PdfReader

from geo_siac.notifications.models import Notification
from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user, chromium_launch
from geo_siac.zones.models import ServicePoint

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

OUTPUT = PROJECT_ROOT / "test-output" / "request_kinds"


@pytest.mark.browser
def test_a_suggestion_and_an_information_request_without_a_place_through_web_desk_and_officer(production_server, crews):
    browser_user(crews["operator"])
    browser_user(crews["supervisor"])
    desk = ServicePoint.objects.create(
        name="OIRS Puente Alto",
        kind="municipal_office",
        commune=crews["west"].commune,
        point=Point(-70.5758, -33.6117, srid=4326),
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        citizen = browser.new_page(viewport={"width": 1000, "height": 1100}, locale="es-CL")
        citizen.goto(production_server.url + "/")
        citizen.click("#other-kinds")
        expect(citizen.locator("h1")).to_have_text("¿Qué quiere hacer?")
        citizen.screenshot(path=OUTPUT / "1-chooser.png", full_page=True)
        citizen.click("#kind-sugerencia")
        expect(citizen.locator("#map")).to_have_count(0)
        citizen.select_option("#id_commune", "13201")
        citizen.fill("#id_description", "Pongan más bancas y sombra en la Plaza de Armas.")
        citizen.fill("#id_reporter_email", "vecina@example.cl")
        citizen.check("#id_consent")
        citizen.screenshot(path=OUTPUT / "2-suggestion-form.png", full_page=True)
        citizen.click("#submit-request")
        suggestion_code = citizen.locator("#tracking-code").inner_text()
        expect(citizen.locator("#kind")).to_have_text("Sugerencia")
        citizen.screenshot(path=OUTPUT / "3-suggestion-filed.png", full_page=True)

        operator = browser.new_page(viewport={"width": 1024, "height": 1100}, locale="es-CL")
        browser_log_in(operator, production_server.url, "oscar", "/operador/")
        expect(operator.locator("#operator-map")).to_be_visible()
        operator.select_option("#id_kind", "information")
        expect(operator.locator("#operator-map")).to_be_hidden()
        expect(operator.locator("#id_latitude")).to_be_hidden()
        expect(operator.locator("#id_category option[value=retiro-escombros]")).to_be_hidden()
        operator.select_option("#id_channel", "in_person")
        operator.select_option("#id_category", "acceso-informacion")
        operator.select_option("#id_received_at", str(desk.pk))
        operator.fill("#id_description", "Copia del contrato de alumbrado público vigente.")
        operator.fill("#id_reporter_name", "Rosa Pérez")
        operator.fill("#id_reporter_phone", "+56 9 8765 4321")
        operator.screenshot(path=OUTPUT / "4-operator-information-request.png", full_page=True)
        operator.click("#operator-form button[type=submit]")
        information_code = operator.locator("#tracking-code").inner_text()
        expect(operator.locator("#kind")).to_have_text("Solicitud de acceso a información pública")
        operator.screenshot(path=OUTPUT / "5-operator-filed.png", full_page=True)

        officer = browser.new_page(viewport={"width": 1024, "height": 1300}, locale="es-CL")
        browser_log_in(officer, production_server.url, "sofia", f"/cuadrilla/solicitud/{information_code}/")
        officer.fill("#legal-extend-form input[name=reason]", "Se deben reunir contratos de tres direcciones.")
        officer.click("#legal-extend-form button[type=submit]")
        # The form posted to its own #legal-extend-form: the redirect names where the message is instead.
        expect(officer.locator("#messages")).to_contain_text("Plazo prorrogado hasta el")
        expect(officer.locator("#messages")).to_be_in_viewport()
        assert officer.url.endswith(f"/cuadrilla/solicitud/{information_code}/#messages")
        # The law allows one extension: once used, its form is gone and the deadline says so (a second POST is
        # refused by information_extend, test_information_clock.py).
        expect(officer.locator("#legal-extend-form")).to_have_count(0)
        expect(officer.locator("body")).to_contain_text("(prorrogado)")
        officer.screenshot(path=OUTPUT / "6-extended-once.png", full_page=True)

        citizen.goto(f"{production_server.url}/seguimiento/{information_code}/")
        expect(citizen.locator("#clock-phase")).to_have_text("En plazo prorrogado")
        expect(citizen.locator("#clock-extension")).to_be_visible()
        citizen.screenshot(path=OUTPUT / "7-tracking-clock.png", full_page=True)

        officer.select_option("#id_answer_outcome", "partly_delivered")
        officer.fill(
            "#id_answer_note", "Se entrega el contrato de alumbrado; se tarjan los datos personales de terceros."
        )
        officer.click("#answer-preview")
        expect(officer.locator("#legal-answer-form")).to_contain_text("Indique la causal legal")  # no ground yet
        officer.select_option("#id_answer_ground", "art21_2")
        officer.click("#answer-preview")
        expect(officer.locator("#letter-preview #letter-signer")).to_have_text("Sofía Muñoz Rojas")
        officer.screenshot(path=OUTPUT / "8-letter-preview.png", full_page=True)
        officer.click("#answer-send")
        expect(officer.locator("#messages")).to_contain_text("Respuesta enviada con su carta")
        expect(officer.locator("#messages")).to_be_in_viewport()

        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="es-CL", accept_downloads=True)
        phone.goto(f"{production_server.url}/seguimiento/{information_code}/")
        expect(phone.locator("#clock-phase")).to_have_text("Cerrada")
        expect(phone.locator("#clock-extension")).to_be_visible()
        expect(phone.locator("#letters")).to_be_visible()
        expect(phone.locator("#letters-private")).to_be_visible()  # the code alone does not open the letter
        phone.screenshot(path=OUTPUT / "9-phone-tracking-with-letter.png", full_page=True)
        sms = Notification.objects.filter(report__tracking_code=information_code, body__contains="clave=").latest("id")
        phone.goto(production_server.url + re.search(r"/seguimiento/\S+/carta/1/\?clave=[\w.-]+", sms.body)[0])
        expect(phone.locator("#letter-outcome")).to_have_text("Resultado: Entregada parcialmente")
        expect(phone.locator("#letter")).to_contain_text("Rosa Pérez")
        phone.screenshot(path=OUTPUT / "10-phone-letter.png", full_page=True)
        with phone.expect_download() as download:
            phone.click("#letter-pdf")
        pdf = download.value.path().read_bytes()
        browser.close()

    suggestion = Report.objects.get(tracking_code=suggestion_code)
    assert (suggestion.kind, suggestion.location, suggestion.channel) == ("suggestion", None, "web")
    information = Report.objects.get(tracking_code=information_code)
    assert (information.kind, information.location, information.received_at, information.channel) == (
        "information",
        None,
        desk,
        "in_person",
    )
    assert information.events.filter(kind="extended").count() == 1
    assert (information.status, information.legal_outcome, information.denial_ground) == (
        "resolved",
        "partly_delivered",
        "art21_2",
    )
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    for expected in (information_code, "Entregada parcialmente", "Art. 21 N°2", "Ley 20.285", "Sofía Muñoz Rojas"):
        assert expected in text, expected
