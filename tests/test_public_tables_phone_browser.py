"""The public tables (transparency's indicators by department, category and zone, the Carta de Compromisos, the Ley
20.285 figures) as a citizen's phone shows them at 390x844 on the production server: nothing wider than the screen,
no table sliding sideways in its box, each figure on its own line after its column's name. A desktop and paper keep
the columns. Screenshots go to test-output/pub24/."""

import os

import pytest

from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_public_cells_refresh
from geo_siac.testing import PROJECT_ROOT
from geo_siac.transparency.services import indicator_snapshots_refresh
from geo_siac.transparency.tests.test_information_figures import requests_of_two_years  # noqa: F401 (fixture)
from tests.test_accessibility_browser import axe_findings

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop in this thread

pytestmark = pytest.mark.browser
OUTPUT = PROJECT_ROOT / "test-output" / "pub24"
PHONE = {"width": 390, "height": 844}
# Each public page with a table, and how many of its tables stack on a phone.
PAGES = {
    "transparencia": ("/transparencia/", 5),  # by kind, channel, department, category and zone
    "compromisos": ("/transparencia/compromisos/", 2),
    "ley-20285": ("/transparencia/ley-20285/", 0),
    "datos": ("/transparencia/datos/", 0),
}
# Every table's box and each of its cells' against the window, each sliding box's widths, and each stacked cell's
# label beside its column's header and what the phone draws before the figure.
MEASURE = """() => {
  const out = r => r.left < -0.5 || r.right > window.innerWidth + 0.5;
  const hidden = e => e.closest('thead') && getComputedStyle(e.closest('thead')).position === 'absolute';
  const tables = [...document.querySelectorAll('main table')];
  return {
    pageWidth: document.documentElement.scrollWidth,
    tables: tables.length,
    outside: tables.flatMap(t => [t, ...t.querySelectorAll('th, td, caption')])
      .filter(e => e.getClientRects().length && !hidden(e) && out(e.getBoundingClientRect())).map(e => e.outerHTML.slice(0, 80)),
    sliding: [...document.querySelectorAll('main .table-scroll')].filter(b => b.scrollWidth > b.clientWidth)
      .map(b => b.querySelector('table').id || b.querySelector('caption')?.textContent),
    cells: [...document.querySelectorAll('main table.stacks')].flatMap(t => {
      const headers = [...t.tHead.rows[0].cells].map(h => h.textContent.trim());
      return [...t.tBodies[0].rows].flatMap(row => [...row.cells].filter(c => c.tagName === 'TD').map(c => ({
        label: c.dataset.label, header: headers[c.cellIndex],
        drawn: getComputedStyle(c, '::before').content, display: getComputedStyle(c).display})));
    }),
  };
}"""


@pytest.fixture
def figures(production_server, make_report, requests_of_two_years):  # noqa: F811
    """Requests in two departments and categories, their indicators and public cells, and a year of Ley 20.285."""
    reports = [make_report(channel="web" if n % 2 else "phone") for n in range(6)]
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=reports[0], status="resolved")
    make_report(category="luminaria-apagada", channel="web")
    report_public_cells_refresh()
    indicator_snapshots_refresh()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    return production_server.url


def test_on_a_phone_every_public_table_fits_the_screen_with_each_figure_labelled(figures, chromium):
    context = chromium.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="es-CL")
    page = context.new_page()
    for name, (path, stacked) in PAGES.items():
        page.goto(figures + path)
        measured = page.evaluate(MEASURE)
        page.screenshot(path=OUTPUT / f"{name}-telefono.png", full_page=True)

        assert measured["pageWidth"] <= PHONE["width"], path
        assert measured["outside"] == [] and measured["sliding"] == [], (path, measured)
        assert page.locator("main table.stacks").count() == stacked, path
        assert measured["tables"] >= (1 if name != "datos" else 0), path
        cells = measured["cells"]
        assert len(cells) >= 4 * stacked, path
        assert [c for c in cells if not c["label"] or c["label"] != c["header"]] == [], path
        # Drawn before the figure, but not read out: the screen reader says the column's header.
        assert {c["drawn"] for c in cells} == {f'"{c["label"]}" / ""' for c in cells}, path
        assert {c["display"] for c in cells} <= {"flex"}, path
        if name == "compromisos":
            page.locator("table.commitments tbody tr").first.screenshot(path=OUTPUT / "compromisos-fila-telefono.png")
    context.close()


def test_a_stacked_table_is_still_a_table_to_a_screen_reader_with_no_axe_finding(figures, chromium):
    # bypass_csp: axe arrives as an inline script, which the pages' policy forbids.
    context = chromium.new_context(viewport=PHONE, is_mobile=True, locale="es-CL", bypass_csp=True)
    page = context.new_page()
    page.goto(figures + "/transparencia/compromisos/")
    tree = context.new_cdp_session(page).send("Accessibility.getFullAXTree")["nodes"]
    roles = [node["role"]["value"] for node in tree if not node.get("ignored")]

    assert roles.count("table") == 2 and roles.count("columnheader") == 2 * 5
    assert roles.count("rowheader") == page.locator("table.commitments tbody th[scope=row]").count() > 10
    cell = page.get_by_role("cell", name="Cumplido el mes pasado")  # the label is not the cell's name
    assert cell.count() == 0
    assert axe_findings(page) == []
    context.close()


@pytest.mark.parametrize("media", ["screen", "print"])
def test_on_a_desktop_and_on_paper_the_tables_keep_their_columns(figures, chromium, media):
    # An A4 page less Chromium's default margins is about 718 px wide.
    size = {"width": 1280, "height": 800} if media == "screen" else {"width": 718, "height": 1000}
    context = chromium.new_context(viewport=size, locale="es-CL")
    page = context.new_page()
    page.emulate_media(media=media)
    for name, (path, stacked) in PAGES.items():
        if not stacked:
            continue
        page.goto(figures + path)
        measured = page.evaluate(MEASURE)
        page.screenshot(path=OUTPUT / f"{name}-{media}.png", full_page=True)

        assert page.locator("main table.stacks thead").first.is_visible(), path
        assert {c["display"] for c in measured["cells"]} == {"table-cell"}, path
        assert {c["drawn"] for c in measured["cells"]} == {"none"}, path
        assert measured["outside"] == [] and measured["sliding"] == [], (path, measured)
    if media == "print":
        page.pdf(path=OUTPUT / "compromisos.pdf", format="A4")
    context.close()
