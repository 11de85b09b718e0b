"""The admin as the walk used it (issue adm23) at 1366x768: the fallen-tree category with 0 days and no department
is refused with both errors, a broken code and JSON say what they expect, the escalation rule explains its level,
and a save says so in plain Spanish. Screenshots go to test-output/adm23/."""

import os

import pytest
from playwright.sync_api import expect

from geo_siac.catalogue.models import Category
from geo_siac.testing import PROJECT_ROOT, browser_log_in, browser_user

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

OUTPUT = PROJECT_ROOT / "test-output" / "adm23"
DESKTOP = {"width": 1366, "height": 768}
ADD = "/admin/catalogue/category/add/"


def fill_fallen_tree(page, *, code: str, days: str, attributes: str) -> None:
    page.fill("#id_service_code", code)
    page.select_option("#id_group", label="Aseo y ornato")
    page.fill("#id_name_es", "Árbol caído en la vía")
    page.fill("#id_response_days", days)
    page.fill("#id_attributes", attributes)


def test_the_admin_refuses_the_fallen_tree_and_explains_its_fields(production_server, chromium, admin_user, communes):
    browser_user(admin_user)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = chromium.new_page(viewport=DESKTOP, locale="es-CL")
    browser_log_in(page, production_server.url, admin_user.username, ADD)
    expect(page.locator("h1")).to_have_text("Añadir categoría")

    fill_fallen_tree(page, code="arbol-caido", days="0", attributes="[]")
    page.click("input[name=_save]")
    days_error = page.locator(".field-response_days .errorlist")
    expect(days_error).to_contain_text("debe ser de al menos 1 día hábil")
    expect(page.locator(".field-department .errorlist")).to_contain_text("necesita una unidad responsable")
    days_error.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "category-zero-days-no-department.png")
    page.screenshot(path=OUTPUT / "category-zero-days-no-department-full.png", full_page=True)

    fill_fallen_tree(page, code="Árbol caído!", days="0", attributes="{riesgo: alto}")
    page.click("input[name=_save]")
    expect(page.locator(".field-service_code .errorlist")).to_contain_text("Use solo minúsculas, números y guiones")
    json_error = page.locator(".field-attributes .errorlist")
    expect(json_error).to_contain_text("Se espera una lista de preguntas")
    json_error.scroll_into_view_if_needed()
    page.screenshot(path=OUTPUT / "category-bad-json.png")
    page.screenshot(path=OUTPUT / "category-bad-code-and-json-full.png", full_page=True)
    assert not Category.objects.filter(name_es="Árbol caído en la vía").exists()

    page.goto(f"{production_server.url}/admin/alerts/escalationrule/add/")
    expect(page.locator(".field-recipients")).to_contain_text("Avisar a:")
    expect(page.locator("#id_level_helptext")).to_contain_text("1 es el primer aviso")
    page.screenshot(path=OUTPUT / "escalation-rule-add.png")

    page.goto(f"{production_server.url}/admin/catalogue/department/add/")
    page.fill("#id_name", "Dirección de Emergencias")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_have_text("Se guardó «Dirección de Emergencias» (dirección municipal).")
    page.screenshot(path=OUTPUT / "department-saved-message.png")
    page.close()
