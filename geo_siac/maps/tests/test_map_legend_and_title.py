"""The heat map's legend (whole numbers for counts, the classes asked for or a note saying why fewer) and the title
its exports carry (the filters and dates, in the page's language)."""

import io
import re
from datetime import datetime

import pytest
from django.utils import translation
from PIL import Image

from geo_siac.maps.heatmap import map_classes
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE, staff_account

WHOLE_RANGE = re.compile(r"^\d+(–\d+)?$")
OCTOBER = datetime(2025, 10, 15, 12, tzinfo=SANTIAGO)


@pytest.fixture(autouse=True)
def spanish():
    """Labels and notes built outside a request follow the active language, which another test may have left."""
    with translation.override("es-cl"):
        yield


@pytest.fixture
def staff_client(client, db):
    client.force_login(staff_account("planner", password="x", is_staff=True))
    return client


@pytest.mark.parametrize("scheme", ["quantiles", "natural_breaks"])
def test_count_classes_are_whole_numbers_and_as_many_as_asked(scheme):
    counts = [1, 1, 1, 2, 2, 3, 4, 5, 7, 9, 12, 15, 20, 31, 44]
    classes = map_classes(counts, scheme, 5, whole=True)
    assert len(classes.labels) == 5 and classes.note == ""
    assert all(WHOLE_RANGE.match(label) for label in classes.labels), classes.labels
    assert classes.labels[0].startswith("1") and classes.labels[-1].endswith("–44")
    # Contiguous: each class starts one above where the one before ends.
    bounds = [[int(n) for n in label.split("–")] for label in classes.labels]
    assert all(later[0] == earlier[-1] + 1 for earlier, later in zip(bounds, bounds[1:]))


def test_quantiles_that_would_cut_between_whole_counts_are_whole():
    """The quantiles of these counts fall at 1.6, 2.4 and 3.8: a count is in the same class with the bound's floor."""
    classes = map_classes([1, 2, 3, 4, 6, 8], "quantiles", 5, whole=True)
    assert classes.labels == ("1–2", "3", "4", "5–6", "7–8")
    assert [classes.colour(n) for n in (1, 2, 3)] == [classes.colours[0], classes.colours[0], classes.colours[1]]


def test_fewer_distinct_counts_than_classes_make_one_class_each_and_the_legend_says_why():
    classes = map_classes([1, 1, 2, 2, 2, 5], "quantiles", 5, whole=True)
    assert classes.labels == ("1", "2", "3–5")
    assert classes.note == "5 clases pedidas: solo hay 3 valores distintos."
    assert map_classes([4, 4], "natural_breaks", 3, whole=True).note == "3 clases pedidas: hay un solo valor distinto."


def test_tied_quantiles_make_fewer_classes_and_the_legend_says_why():
    classes = map_classes([1] * 30 + [2, 3, 4, 5, 6, 7], "quantiles", 5, whole=True)
    assert len(classes.labels) < 5
    assert classes.note == (f"5 clases pedidas, {len(classes.labels)} hechas: muchas celdas tienen el mismo valor.")


def test_rate_classes_read_to_two_significant_figures():
    classes = map_classes([0.25, 0.5, 1.125, 2.5, 3.75, 8.0, 12.5], "quantiles", 3, whole=False)
    assert len(classes.labels) == 3
    assert classes.labels[0].startswith("0,25–") and classes.labels[-1].endswith("–13")
    assert map_classes([0.5, 0.75, 1.5], "quantiles", 5, whole=False).labels == ("0,50", "0,50–0,75", "0,75–1,5")


def test_rate_classes_above_ten_read_as_whole_numbers_and_keep_their_exact_bounds():
    rates = [0.0123, 0.51, 2.4, 8.01, 40.2, 375.88]
    classes = map_classes(rates, "quantiles", 6, whole=False)
    assert classes.labels == ("0,012", "0,012–0,51", "0,51–2,4", "2,4–8,0", "8,0–40", "40–376")
    assert classes.uppers[-2:] == (40.2, 375.88)  # only the labels are rounded, not where a cell falls


def test_only_the_rate_bounds_that_would_read_the_same_get_a_digit_more():
    classes = map_classes([1.0, 8.01, 8.04, 9.0], "quantiles", 4, whole=False)
    assert classes.labels == ("1,0", "1,0–8,01", "8,01–8,04", "8,04–9,0")


@pytest.mark.parametrize(
    ("rates", "labels"),
    [
        ([0.99, 1.0, 99.5, 100.4], ("0,99", "0,99–1,0", "1,0–99,5", "99,5–100,4")),
        # 9,96 rounds to ten: it reads "10" (not "10,0") unless a neighbour would read the same.
        ([9.95, 9.96, 10, 375.88], ("9,95", "9,95–9,96", "9,96–10", "10–376")),
        ([0.5, 9.96, 375.88], ("0,50", "0,50–10", "10–376")),
    ],
)
def test_rate_classes_near_a_power_of_ten_read_apart_and_keep_their_exact_bounds(rates, labels):
    classes = map_classes(rates, "quantiles", len(rates), whole=False)
    assert classes.labels == labels
    assert len(set(classes.labels)) == len(classes.labels)
    assert classes.uppers == tuple(float(rate) for rate in rates)


def october_reports(make_report):
    for point, category in (
        (PUENTE_ALTO_CENTRE, "bache"),
        (PUENTE_ALTO_CENTRE, "retiro-escombros"),
        (PENALOLEN_CENTRE, "bache"),
    ):
        Report.objects.filter(pk=make_report(point=point, category=category).pk).update(created_at=OCTOBER)


FILTERS = {
    "category": ["bache", "retiro-escombros"],
    "comuna": "13201",
    "status": "submitted",
    "since": "2025-10-01",
    "until": "2025-10-31",
    "res": "8",
}
SPANISH_LINES = [
    "Categorías: Bache en calzada, Retiro de escombros",
    "Comunas: Puente Alto",
    "Estados: Recibida",
    "Período: del 1 de octubre de 2025 al 31 de octubre de 2025",
    "Medida: Solicitudes por celda H3",
    "Resolución H3: 8 · 5 clases por cuantiles",
]


def test_the_html_export_is_titled_with_the_filters_and_dates(staff_client, make_report):
    october_reports(make_report)
    html = staff_client.get("/mapas/calor/mapa.html", FILTERS).content.decode()
    header = re.search(r'<header class="map-title"><h1>(.*?)</h1><ul>(.*?)</ul></header>', html)
    assert header[1] == "Mapa de calor de solicitudes"
    assert re.findall(r"<li>(.*?)</li>", header[2]) == SPANISH_LINES
    assert "<title>Mapa de calor de solicitudes</title>" in html


def test_the_png_export_carries_the_same_title_in_its_text(staff_client, make_report):
    october_reports(make_report)
    response = staff_client.get("/mapas/calor/mapa.png", FILTERS)
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG"
    assert image.text["Title"] == "Mapa de calor de solicitudes"
    assert image.text["Description"].split("\n") == SPANISH_LINES


def test_the_exports_title_is_in_the_pages_language(staff_client, make_report):
    october_reports(make_report)
    query = {**FILTERS, "measure": "rate", "scheme": "natural_breaks", "classes": "4"}
    html = staff_client.get("/mapas/calor/mapa.html", query, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    png = staff_client.get("/mapas/calor/mapa.png", query, HTTP_ACCEPT_LANGUAGE="en").content
    english = [
        "Categories: Debris removal, Pothole",
        "Comunas: Puente Alto",
        "Statuses: Received",
        "Period: from 1 October 2025 to 31 October 2025",
        "Measure: Requests per 1,000 inhabitants per H3 cell",
        "H3 resolution: 8 · 4 classes by natural breaks (Jenks)",
    ]
    assert "<h1>Heat map of requests</h1>" in html
    assert re.findall(r"<li>(.*?)</li>", html.split('class="map-title"')[1].split("</header>")[0]) == english
    assert Image.open(io.BytesIO(png)).text["Description"].split("\n") == english


def test_an_unfiltered_title_says_everything_is_counted(db):
    from geo_siac.maps.heatmap import map_title
    from geo_siac.maps.selectors import CellFilters

    title = map_title(9, CellFilters())
    assert title.lines[:3] == ("Categorías: todas", "Comunas: todas", "Período: todas las fechas")


def test_a_map_without_reports_says_so_below_it(staff_client, communes):
    html = staff_client.get("/mapas/calor/mapa.html", {"since": "2025-10-01", "until": "2025-10-31"}).content
    assert "<p>Ninguna solicitud con estos filtros.</p>" in html.decode()


def test_a_hostile_category_name_is_text_in_the_exports_title(staff_client, make_report):
    """Category names come from the admin; the title and the page's <title> show them as text."""
    from geo_siac.catalogue.models import Category

    october_reports(make_report)
    Category.objects.filter(service_code="bache").update(name_es='<img src="x" id="injected">Bache')
    html = staff_client.get("/mapas/calor/mapa.html", FILTERS).content.decode()
    shown = "&lt;img src=&quot;x&quot; id=&quot;injected&quot;&gt;Bache"
    assert f"<li>Categorías: {shown}, Retiro de escombros</li>" in html
    assert 'id="injected"' not in html
