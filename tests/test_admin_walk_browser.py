"""The admin as the walk of issue adm24 used it, in Chromium at 1366x768 against the production server (no tile
server reachable): the service point map draws the comunas and takes typed coordinates, a point outside its comuna
is refused naming it, the hours, services and channels take plain text, the QR sheet is linked from the point and
names the municipality; a supervisor without a signature is told before answering; a supervisor with nothing to
open in the admin is not offered it; a 403 names the role; the user form explains the roles. Screenshots go to
test-output/adm24/."""

import os
import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.models import Signatory
from geo_siac.reports.services import report_create
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user
from geo_siac.zones.models import ServicePoint
from geo_siac.zones.roles import ROLES

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

OUTPUT = PROJECT_ROOT / "test-output" / "adm24"
DESKTOP = {"width": 1366, "height": 768}


def test_the_service_point_form_places_a_point_inside_its_comuna(production_server, chromium, crews):
    admin = browser_user(crews["admin"])
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page(viewport=DESKTOP, locale="es-CL")
    browser_log_in(page, production_server.url, admin.username, "/admin/zones/servicepoint/add/")
    page.fill("#id_name", "OIRS Plaza de Puente Alto")
    page.select_option("#id_kind", "oirs")
    page.select_option("#id_commune", label="Puente Alto (13201)")
    page.fill("#id_address", "Av. Concha y Toro 1820")
    page.locator("#id_point_map").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=OUTPUT / "1-service-point-map-outlines.png")

    # Plaza de Armas de Santiago: outside Puente Alto.
    page.fill("#id_latitude", "-33,4372")
    page.fill("#id_longitude", "-70.6506")
    page.locator("#id_longitude").dispatch_event("change")
    expect(page.locator("#id_point")).not_to_have_value("")
    page.click("input[name=_save]")
    error = page.locator(".field-point .errorlist")
    expect(error).to_have_text(re.compile(r"El punto está a \d+,\d km de Puente Alto, fuera de toda comuna cargada\."))
    error.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "2-service-point-outside-refused.png")
    assert not ServicePoint.objects.filter(name="OIRS Plaza de Puente Alto").exists()

    page.fill("#id_latitude", "-33.6117")
    page.fill("#id_longitude", "-70.5758")
    page.locator("#id_longitude").dispatch_event("change")
    page.fill("#id_opening_hours", "lunes a viernes 8:30 a 14")
    page.fill("#id_services", "Pago de patentes\nRetiro de escombros | retiro-escombros")
    page.fill("#id_channels", "Presencial\nTeléfono 22 731 2000")
    page.click("input[name=_save]")
    hours_error = page.locator(".field-opening_hours .errorlist")
    expect(hours_error).to_contain_text("No es un JSON válido. Use comillas dobles y horas HH:MM")
    hours_error.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "3-service-point-hours-error.png")

    page.fill("#id_opening_hours", '{"weekly": {"mon": [["08:30", "14:00"]], "fri": [["08:30", "13:00"]]}}')
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("Se guardó «OIRS Plaza de Puente Alto»")
    point = ServicePoint.objects.get(name="OIRS Plaza de Puente Alto")
    assert point.channels == ["Presencial", "Teléfono 22 731 2000"]
    link = page.locator("#box-sheet-link")
    link.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "4-service-point-saved-with-qr-link.png")
    page.screenshot(path=OUTPUT / "4-service-point-saved-full.png", full_page=True)
    link.click()
    expect(page.locator("#box-municipality")).to_have_text("Ilustre Municipalidad de Puente Alto")
    page.screenshot(path=OUTPUT / "5-qr-sheet.png")
    page.close()


def test_roles_signature_and_navigation_as_staff_meet_them(production_server, chromium, crews, communes):
    supervisor = browser_user(crews["supervisor"])
    Signatory.objects.filter(user=supervisor).delete()
    supervisor.is_staff = True
    supervisor.save()
    report = report_create(
        channel="phone",
        kind=RequestKind.INFORMATION,
        category="acceso-informacion",
        commune=communes["13201"],
        description="Copia de las actas del concejo municipal de 2025.",
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page(viewport=DESKTOP, locale="es-CL")
    browser_log_in(page, production_server.url, supervisor.username, f"/cuadrilla/solicitud/{report.tracking_code}/")
    notice = page.locator("#signer-missing")
    expect(notice).to_contain_text("Solicitudes ciudadanas › Firmantes de cartas")
    expect(page.locator("#answer-send")).to_be_disabled()
    expect(page.locator("#answer-preview")).to_be_disabled()
    notice.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "6-letter-without-signatory.png")

    nav = page.locator("nav").first
    expect(nav).not_to_contain_text("Administración")
    page.goto(f"{production_server.url}/operador/")
    expect(page.locator("#missing-role")).to_have_text("Para abrir esta página, su cuenta necesita el rol Operación.")
    page.screenshot(path=OUTPUT / "7-403-names-the-role.png")
    page.close()

    for role in ROLES:
        Group.objects.get_or_create(name=role)
    admin = browser_user(crews["admin"])
    page = chromium.new_page(viewport=DESKTOP, locale="es-CL")
    browser_log_in(page, production_server.url, admin.username, f"/admin/auth/user/{crews['operator'].pk}/change/")
    groups = page.locator(".field-groups")
    expect(groups).to_contain_text("Supervisión: ve todas las solicitudes de sus comunas")
    groups.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "8-user-form-roles.png")
    page.locator(".field-is_staff").scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "9-user-form-staff-flag.png")
    page.close()
