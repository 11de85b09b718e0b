"""A planner, on the production server, filters the heat map by two categories and a month by ticking boxes (no
Ctrl-click), reads a whole-number legend that covers no cell, and downloads the PNG and the HTML export, both titled
with the filters the page shows (issue #20). Screenshots on a desktop and a 390x844 phone go to test-output/."""

import io
import os
import re
from datetime import datetime

import pytest
from django.db import connections
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.testing import (
    PROJECT_ROOT,
    PUENTE_ALTO_CENTRE,
    browser_log_in,
    browser_user,
    chromium_launch,
    staff_account,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread
SCREENSHOTS = PROJECT_ROOT / "test-output"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
OCTOBER = datetime(2025, 10, 15, 12, tzinfo=SANTIAGO)
SEPTEMBER = datetime(2025, 9, 15, 12, tzinfo=SANTIAGO)
# Six cells about 400 m apart in Puente Alto with 1, 2, 3, 4, 6 and 8 reports of the two chosen categories in October.
CELL_COUNTS = (1, 2, 3, 4, 6, 8)
WHOLE_RANGE = re.compile(r"^\d+(–\d+)?$")


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / name, full_page=True)


def file_at(make_report, point, when, category):
    report = make_report(point=point, category=category)
    Report.objects.filter(pk=report.pk).update(created_at=when)


def october_reports(make_report):
    lat, lng = PUENTE_ALTO_CENTRE
    for index, count in enumerate(CELL_COUNTS):
        point = (lat + 0.004 * (index % 3), lng + 0.005 * (index // 3))
        for n in range(count):
            file_at(make_report, point, OCTOBER, "bache" if n % 2 else "retiro-escombros")
    file_at(make_report, (lat - 0.004, lng), OCTOBER, "microbasural")  # another category
    file_at(make_report, (lat - 0.004, lng - 0.005), SEPTEMBER, "bache")  # another month


def overlaps(box, other) -> bool:
    return not (
        box["x"] + box["width"] <= other["x"]
        or other["x"] + other["width"] <= box["x"]
        or box["y"] + box["height"] <= other["y"]
        or other["y"] + other["height"] <= box["y"]
    )


def cells_under_controls(frame, colours: list[str]) -> list[str]:
    """The map's coloured cells that a Leaflet control (zoom, layers, scale) sits on."""
    cells = [
        path.bounding_box()
        for path in frame.locator("path.leaflet-interactive").all()
        if path.get_attribute("fill") in colours
    ]
    controls = [control.bounding_box() for control in frame.locator(".leaflet-control").all()]
    assert cells and controls
    return [f"{cell} under {control}" for cell in cells for control in controls if overlaps(cell, control)]


@pytest.mark.browser
def test_planner_filters_by_two_categories_and_a_month_and_downloads_the_titled_png_and_html(
    production_server, make_report, django_user_model
):
    october_reports(make_report)
    browser_user(staff_account("planificadora", is_staff=True))
    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        try:
            for viewport, size in VIEWPORTS.items():
                context = browser.new_context(viewport=size, locale="es-CL", accept_downloads=True)
                page = context.new_page()
                errors = []
                page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
                browser_log_in(page, production_server.url, "planificadora", "/mapas/calor/")
                expect(page.locator("h1")).to_have_text("Mapa de calor de solicitudes")
                frame = page.frame_locator("iframe.heatmap-frame")
                expect(frame.locator(".map-title li").first).to_have_text("Categorías: todas")  # every report

                categories = page.get_by_role("group", name="Categorías", exact=True)
                categories.get_by_role("checkbox", name="Bache en calzada").click()
                categories.get_by_role("checkbox", name="Retiro de escombros").click()
                page.get_by_label("Desde").fill("2025-10-01")
                page.get_by_label("Hasta (inclusive)").fill("2025-10-31")
                shot(page, f"planner-{viewport}-filters.png")
                page.get_by_role("button", name="Aplicar filtros").click()
                page.wait_for_url("**/mapas/calor/?category=*")
                legend = frame.locator(".map-legend[data-legend='cells'] li")
                expect(legend).to_have_count(5)
                expect(categories).to_be_hidden()  # folded once applied: the map comes first
                shot(page, f"planner-{viewport}-map.png")
                page.get_by_text("Filtros y opciones del mapa").click()
                expect(categories).to_contain_text("Marcadas: Retiro de escombros, Bache en calzada")
                expect(categories.get_by_role("checkbox", name="Bache en calzada")).to_be_checked()
                labels = legend.all_inner_texts()
                lines = frame.locator(".map-title li").all_inner_texts()
                expect(frame.locator(".leaflet-control-layers-toggle")).to_have_attribute("title", "Capas")
                colours = [
                    swatch.get_attribute("style").removeprefix("background:")
                    for swatch in frame.locator(".map-legend[data-legend='cells'] .swatch").all()
                ]
                covered = cells_under_controls(frame, colours)
                legend_box = frame.locator(".map-legend[data-legend='cells']").bounding_box()
                map_box = frame.locator(".folium-map").bounding_box()
                frame.locator(".leaflet-control-layers-toggle").press("Enter")  # the layers, from the keyboard
                expect(frame.locator(".leaflet-control-layers-list")).to_contain_text("Todas las categorías")

                with page.expect_download() as png_download:
                    page.get_by_role("link", name="Descargar PNG").click()
                png = png_download.value
                png_bytes = open(png.path(), "rb").read()
                (SCREENSHOTS / f"planner-{viewport}-export.png").write_bytes(png_bytes)
                with page.expect_download() as html_download:
                    page.get_by_role("link", name="Descargar HTML").click()
                exported = open(html_download.value.path(), encoding="utf-8").read()
                context.close()

                assert errors == []
                assert all(WHOLE_RANGE.match(label) for label in labels), labels
                assert labels[0].startswith("1") and labels[-1].endswith("8")
                assert lines[:3] == [
                    "Categorías: Bache en calzada, Retiro de escombros",
                    "Comunas: Peñalolén, Puente Alto",  # the planner's comunas, named: what the map could hold
                    "Período: del 1 de octubre de 2025 al 31 de octubre de 2025",
                ]
                assert "Medida: Solicitudes por celda H3" in lines
                assert covered == []
                assert legend_box["y"] >= map_box["y"] + map_box["height"]  # the legend sits below the map

                assert png.suggested_filename == "mapa_calor_res9.png" and png_bytes.startswith(b"\x89PNG\r\n\x1a\n")
                image = Image.open(io.BytesIO(png_bytes))
                assert image.text["Title"] == "Mapa de calor de solicitudes"
                assert image.text["Description"].split("\n") == lines
                assert "<h1>Mapa de calor de solicitudes</h1>" in exported
                assert all(f"<li>{line}</li>" in exported for line in lines)
        finally:
            browser.close()
            connections.close_all()
