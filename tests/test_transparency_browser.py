"""The transparency pages in headless Chromium: charts drawn, the cell map rendered, the embeddable map working
inside an iframe of another page. Screenshots go to test-output/transparency/."""

import io
import os
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from PIL import Image

from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_public_cells_refresh
from geo_siac.testing import PROJECT_ROOT
from geo_siac.transparency.models import IndicatorSnapshot
from geo_siac.transparency.services import indicator_snapshots_refresh

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "transparency"


@pytest.fixture
def page(chromium, production_server, make_report):
    from django.db import connections

    reports = [make_report(channel="web" if n % 2 else "phone") for n in range(6)]
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=reports[0], status="resolved")
    make_report(category="luminaria-apagada", channel="web")
    report_public_cells_refresh()  # what the timers do: the public map counts each report at its published cell
    indicator_snapshots_refresh()  # and the figures the pages show
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport={"width": 1100, "height": 1400}, locale="es-CL")
    browser_page = context.new_page()
    browser_page.base_url = production_server.url
    yield browser_page
    context.close()
    # Playwright runs in another greenlet with its own database connection; close it before teardown.
    connections.close_all()


def test_transparency_page_draws_its_charts_and_the_cell_map(page):
    page.goto(page.base_url + "/transparencia/")
    page.locator("#transparency-map[data-cells='1']").wait_for()

    assert page.locator("#transparency-map path.leaflet-interactive").count() == 1
    assert page.locator("svg.bar-chart").count() == 4
    assert page.locator("svg.bar-chart rect").count() >= 4
    assert page.locator("#headline-volume").text_content() == "7"
    # The colours read by a legend, and a cell's number says what it counts.
    assert page.locator(".map-legend").inner_text().split("\n") == ["Solicitudes por hexágono", "7"]
    page.locator("#transparency-map path.leaflet-interactive").hover()
    assert page.locator(".leaflet-tooltip").inner_text() == "7 solicitudes"
    page.screenshot(path=OUTPUT / "1-transparencia.png", full_page=True)


def test_commitments_page_lists_each_category_deadline(page):
    page.goto(page.base_url + "/transparencia/compromisos/")

    assert page.locator(".commitments tbody tr").count() > 10
    # One table per served comuna, each under its name.
    assert page.locator("h2[id^='comuna-']").all_text_contents() == ["Peñalolén", "Puente Alto"]
    assert page.locator("table.commitments").count() == 2
    page.screenshot(path=OUTPUT / "2-compromisos.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=OUTPUT / "2-compromisos-telefono.png", full_page=True)


@pytest.mark.parametrize("width", [320, 390])
def test_chart_labels_read_on_a_phone_at_14_pixels_and_fit_the_chart(page, width):
    """Drawn into a 480-unit viewBox the labels shrank to 9.7 px on a 390-pixel phone: now every text of every chart is
    at least 14 px on the screen and ends inside its chart, the words said instead of a figure too, on the narrowest
    phone. The tables' hidden captions take no room (a sticky caption's position outweighed .visually-hidden's)."""
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(page.base_url + "/transparencia/")

    texts = page.evaluate(
        """() => [...document.querySelectorAll('svg.bar-chart text')].map(t => ({
             text: [...t.children].map(line => line.textContent).join(" ") || t.textContent, size: t.getScreenCTM().a * parseFloat(getComputedStyle(t).fontSize),
             right: t.getBoundingClientRect().right, chart: t.ownerSVGElement.getBoundingClientRect().right}))"""
    )
    # The luminaria's request is open and not yet due: its words, on two lines at 320 px.
    assert len(texts) >= 8 and "aún ninguna cerrada ni con plazo vencido" in [t["text"] for t in texts]
    assert min(t["size"] for t in texts) >= 14
    assert [t for t in texts if t["right"] > t["chart"]] == []
    page.locator("#chart-categories-title").locator("..").screenshot(path=OUTPUT / f"8-grafico-{width}.png")
    hidden = page.locator(".table-scroll caption.visually-hidden")
    assert hidden.count() >= 2
    assert (
        hidden.evaluate_all("cs => cs.map(c => [getComputedStyle(c).position, c.offsetHeight])")
        == [["absolute", 1]] * hidden.count()
    )


def test_the_charters_caption_is_whole_on_a_phone_and_text_columns_are_left_aligned(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/transparencia/compromisos/")
    box = page.locator(".table-scroll:has(table.commitments)").first
    caption = box.locator("caption")
    box.scroll_into_view_if_needed()

    before, frame = caption.bounding_box(), box.bounding_box()
    assert before["x"] >= frame["x"] and before["x"] + before["width"] <= frame["x"] + frame["width"]
    assert caption.evaluate("c => c.scrollWidth <= c.clientWidth")
    box.screenshot(path=OUTPUT / "9-compromisos-titulo.png")
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    assert caption.bounding_box()["x"] == before["x"]  # in view while the columns slide
    box.screenshot(path=OUTPUT / "9-compromisos-titulo-fin.png")
    align = box.evaluate(
        """b => [...b.querySelectorAll('thead th:last-child, tbody tr:first-child td')]
             .map(cell => getComputedStyle(cell).textAlign)"""
    )
    # The responsible department (the last column, header and cell) reads from the left; the figures from the right.
    assert align[0] == "left" and align[-1] == "left" and set(align[1:-1]) == {"right"}


def test_embedded_map_renders_inside_another_sites_iframe(page):
    page.goto(page.base_url + "/transparencia/datos/")
    page.evaluate(
        """url => { const f = document.createElement('iframe'); f.src = url; f.width = 600;
                             f.height = 400; f.id = 'embed'; document.querySelector('main').prepend(f); }""",
        page.base_url + "/transparencia/mapa/",
    )
    frame = page.frame_locator("#embed")
    frame.locator("#transparency-map[data-cells='1']").wait_for()

    assert frame.locator("path.leaflet-interactive").count() == 1
    page.screenshot(path=OUTPUT / "3-mapa-embebido.png")


def test_transparency_page_in_english(page):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": page.base_url}])
    page.goto(page.base_url + "/transparencia/")

    assert page.locator("h1").text_content() == "How we respond to residents' requests"
    page.screenshot(path=OUTPUT / "4-transparency-en.png")


def right_edge_shade(image_bytes: bytes) -> float:
    """How dark the rightmost pixels of a table's box are, outside any text: the mean of each row's lightest one."""
    image = Image.open(io.BytesIO(image_bytes)).convert("L")
    strip = image.crop((image.width - 6, 0, image.width, image.height))
    rows = [max(strip.getpixel((x, y)) for x in range(strip.width)) for y in range(strip.height)]
    return 255 - sum(rows) / len(rows)


def test_indicator_tables_read_on_a_small_tablet_with_each_rows_name_in_view(page):
    """At 700x1000 the page never scrolls sideways. A table wider than the screen slides in its own box, whose edge
    is shaded while columns lie beyond it, and each row's name stays in view while its figures slide under it (a
    phone stacks each row instead: tests/test_public_tables_phone_browser.py)."""
    page.set_viewport_size({"width": 700, "height": 1000})
    page.goto(page.base_url + "/transparencia/")
    page.locator("#transparency-map[data-cells='1']").wait_for()

    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    box = page.locator(".table-scroll:has(table.indicators)").first
    box.scroll_into_view_if_needed()
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    name = box.locator("tbody th[scope=row]").first
    before, shaded = name.bounding_box(), right_edge_shade(box.screenshot(path=OUTPUT / "5-telefono-tabla.png"))
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    after, at_the_end = name.bounding_box(), right_edge_shade(box.screenshot(path=OUTPUT / "5-telefono-tabla-fin.png"))

    assert after["x"] == before["x"] and after["x"] >= 0
    last = box.locator("tbody tr:first-child td:last-child").bounding_box()
    assert last["x"] >= after["x"] + after["width"] and last["x"] + last["width"] <= 700
    assert shaded > at_the_end + 10, (shaded, at_the_end)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=OUTPUT / "5-telefono.png", full_page=True)


def notice_reads_on_a_phone(page, selector: str) -> str:
    """The notice's text, after checking at 390 px that it is in the first screen, wraps inside it (the page never
    scrolls sideways) and is shaded apart from the text around it."""
    notice = page.locator(selector)
    box = notice.bounding_box()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    assert notice.evaluate("n => getComputedStyle(n).backgroundColor") != "rgba(0, 0, 0, 0)"
    return notice.text_content()


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_stale_snapshot_is_dated_with_a_notice_that_reads_well_on_a_phone(page, language):
    """GEO_SIAC_INDICATORS_MAX_AGE_MINUTES is 60 on the server: figures of two hours ago are stale."""
    # Received before the snapshot: else, within two hours after local midnight, its day would hold none of them.
    Report.objects.update(created_at=F("created_at") - timedelta(hours=3))
    indicator_snapshots_refresh(as_of=timezone.now() - timedelta(hours=2))
    page.context.add_cookies([{"name": "django_language", "value": language, "url": page.base_url}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/transparencia/")

    text = notice_reads_on_a_phone(page, "#stale-notice")
    as_of = page.locator("#as-of").text_content()
    page.screenshot(path=OUTPUT / f"6-desactualizadas-{language}.png", full_page=False)
    assert page.locator("#headline-volume").text_content() == "7"
    if language == "es":
        assert as_of.startswith("Datos al ") and " a las " in as_of
        assert text == (
            "Estas cifras no se han actualizado desde esa fecha: no incluyen las solicitudes recibidas después."
        )
    else:
        assert as_of.startswith("Data as of ")
        assert text.startswith("These figures have not been updated since that date")


def test_before_the_first_snapshot_the_page_says_the_figures_are_being_prepared(page):
    IndicatorSnapshot.objects.all().delete()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.base_url + "/transparencia/")
    page.locator("#transparency-map[data-cells='1']").wait_for()  # the map does not wait for the figures

    text = notice_reads_on_a_phone(page, "#preparing-notice")
    page.screenshot(path=OUTPUT / "7-preparando.png", full_page=True)
    assert text == (
        "Las cifras aún no están calculadas. Se calculan periódicamente y aparecerán aquí cuando termine el cálculo."
    )
    assert page.locator("#headline-volume").count() == 0 and page.locator("svg.bar-chart").count() == 0
