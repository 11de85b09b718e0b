"""On a phone, a citizen follows a request that staff sent to another department and that they reopened, reads
their confirmation and Mis solicitudes while a subsanación is awaited, and the service points' next sessions
(screenshots in test-output/trk22/)."""

import os
import re

import pytest
from django.contrib.gis.geos import Point
from playwright.sync_api import expect, sync_playwright

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Department
from geo_siac.notifications.models import Notification
from geo_siac.reports.services import (
    information_correction_request,
    report_change_status,
    report_create,
    report_reopen_by_citizen,
    report_reroute,
)
from geo_siac.reports.states import Channel
from geo_siac.testing import PROJECT_ROOT, WEST_POINT, chromium_launch
from geo_siac.zones.models import Crew, ServicePoint, ServicePointKind

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output" / "trk22"
PHONE = {"width": 390, "height": 844}
ROSA = "rosa@example.cl"
SECURITY = "Dirección de Seguridad Pública"


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


@pytest.mark.browser
def test_a_citizen_on_a_phone_reads_who_answers_why_it_reopened_and_what_is_awaited(
    production_server, make_report, crews, communes
):
    security, _ = Department.objects.get_or_create(name=SECURITY)
    patrol = Crew.objects.create(
        department=security, commune=crews["A"].commune, name="Patrulla Norte", daily_capacity=3
    )
    rerouted = make_report(point=WEST_POINT, reporter_email=ROSA, public_visibility=True)
    report_reroute(report=rerouted, crew=patrol, reason="Que lo vea Pedro Soto.", actor=crews["supervisor"])
    report_change_status(report=rerouted, status="resolved", public_note="Se retiraron.")
    report_reopen_by_citizen(report=rerouted, reason="Quedaron escombros en la esquina.", by_email=ROSA)
    information = report_create(
        channel="web",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia del contrato de alumbrado público vigente.",
        reporter_name="Rosa Pérez",
        reporter_email=ROSA,
    )
    information_correction_request(report=information, note="Indique de qué año.", actor=crews["supervisor"])
    point = ServicePoint.objects.create(
        name="Delegación Bajos de Mena",
        kind=ServicePointKind.MUNICIPAL_OFFICE,
        commune=communes["13201"],
        point=Point(-70.5759, -33.6106, srid=4326),
        address="Av. Concha y Toro 1820, Puente Alto",
        opening_hours={"weekly": {}, "special_sessions": [{"weekday": "thu", "nth": 1, "hours": [["19:00", "22:30"]]}]},
    )
    boxed = report_create(
        channel=Channel.SUGGESTION_BOX,
        kind=RequestKind.SUGGESTION,
        category="sugerencia",
        commune=communes["13201"],
        description="Que la atención nocturna abra también los martes.",
        received_at=point,
    )
    base = production_server.url
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL").new_page()
        page.goto(f"{base}/seguimiento/{rerouted.tracking_code}/")
        expect(page.locator("#responsible")).to_have_text(SECURITY)
        expect(page.locator(".rerouted")).to_contain_text(f"Derivada a {SECURITY}.")
        expect(page.locator(".timeline")).not_to_contain_text("Derivación")
        expect(page.locator(".reopened-by-citizen")).to_contain_text(
            "Reabierta a pedido de quien la presentó o la sigue"
        )
        expect(page.locator(".reopened-by-citizen")).to_contain_text("Motivo: «Quedaron escombros en la esquina.»")
        expect(page.locator("body")).not_to_contain_text("Patrulla Norte")
        shot(page, "tracking-rerouted-reopened.png")

        page.goto(f"{base}/enviada/{boxed.tracking_code}/")
        # Not filed from this browser: it is not told whether the request's filer left a contact.
        expect(page.locator("#notified")).to_contain_text("Si dejó un correo o un teléfono al ingresarla")
        expect(page.locator("#my-reports")).to_have_count(0)
        expect(page.locator("#another")).to_have_attribute("href", f"/buzon/{point.pk}/")
        shot(page, "box-sent.png")

        page.goto(f"{base}/puntos-de-atencion/{point.pk}/")
        expect(page.locator("#next-session")).to_have_text(re.compile(r"^Próxima sesión: jueves"))
        shot(page, "point-unnamed-session.png")

        page.goto(f"{base}/mis-solicitudes/ingresar/")
        page.fill("#id_email", ROSA)
        page.click("button[type=submit]")
        body = Notification.objects.filter(recipient=ROSA, report=None).latest("id").body
        page.goto(base + re.search(r"/mis-solicitudes/entrar/[^/\s]+/", body).group(0))
        page.click("#sign-in")
        expect(page.locator("#filed")).to_contain_text("espera su subsanación hasta el")
        shot(page, "mis-solicitudes.png")
        page.goto(f"{base}/mis-solicitudes/solicitud/{information.tracking_code}/")
        expect(page.locator("#correction-answer")).to_contain_text("Lo que agregue aquí responde esa subsanación")
        shot(page, "mis-solicitudes-subsanacion.png")
        page.goto(f"{base}/mis-solicitudes/solicitud/{rerouted.tracking_code}/")
        expect(page.locator("#responsible")).to_have_text(SECURITY)
        shot(page, "mis-solicitudes-rerouted.png")
        browser.close()
