"""What the planners' map pages say around their maps: a legend per layer, the census the population comes from,
cells where the census counted nobody, the CSV's columns, and the coverage page's lists and shares."""

import json
import re

import h3.api.basic_int as h3i
import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from geo_siac.maps import heatmap
from geo_siac.maps.coverage_outputs import _tooltip_cells
from geo_siac.maps.folium_offline import offline_map
from geo_siac.maps.folium_text import MapLegend, map_page
from geo_siac.testing import PUENTE_ALTO_CENTRE, staff_account
from geo_siac.zones.models import CensusZone, PopulationCell

CENSUS_FILE = "zonas_censales_prueba_2017.geojson"


@pytest.fixture
def staff_client(client, communes):
    client.force_login(staff_account("planner", password="x", is_staff=True))
    return client


def _legends(html: str) -> dict[str, str]:
    """Each legend section's layer key ("" for one always shown) and its text."""
    sections = re.findall(r'<section (class="map-legend[^>]*)>(.*?)</section>', html)
    return {
        (re.findall(r'data-legend="([^"]*)"', opening) or [""])[0]: re.sub(r"<[^>]+>", " ", body)
        for opening, body in sections
    }


def test_each_legend_names_its_layer_and_the_hotspots_key_says_hot_and_cold_by_confidence():
    fmap = offline_map()
    map_page(
        fmap,
        title="Mapa",
        lines=[],
        legends=[
            MapLegend("Solicitudes por celda H3", (("#fff", "1"), ("#000", "2–29")), layer=heatmap.CELLS_LEGEND),
            heatmap.hotspot_legend(),
            MapLegend("Vacía", layer="nada"),  # nothing to say: left out
        ],
    )
    legends = _legends(fmap.get_root().render())
    assert set(legends) == {"cells", "hotspots"}
    assert "2–29" in legends["cells"] and "confianza" not in legends["cells"]
    hotspots = legends["hotspots"]
    assert "2–29" not in hotspots
    for kind in ("Caliente", "Frío"):
        for confidence in (90, 95, 99):
            assert f"{kind}, {confidence} % de confianza" in hotspots
    assert "FDR" in hotspots and "muchas celdas a la vez" in hotspots
    # Until its layer is turned on, as the page opens with the counts only.
    assert re.search(r'<section class="map-legend"[^>]*data-legend="hotspots" hidden>', fmap.get_root().render())


def test_a_cell_layer_names_the_legend_it_shows():
    ids = heatmap.CellIds("/static/")
    rows = [
        heatmap.CellRow(
            cell=h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9),
            count=30,
            population=None,
            rate=None,
            z=4.0,
            q=0.001,
            hotspot=3,
            emerging=True,
        )
    ]
    assert '"legend":"hotspots"' in heatmap._hotspot_layer(ids, rows).spec
    assert '"legend":"emerging"' in heatmap._emerging_layer(ids, rows, heatmap.Measure("count", {})).spec


@pytest.mark.usefixtures("synthetic_reports")
def test_the_heat_map_page_has_a_legend_for_the_counts_and_one_for_the_hotspots(staff_client):
    html = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "comuna": "13201"}).content.decode()
    legends = _legends(html)
    assert "cells" in legends and "Solicitudes por celda H3" in legends["cells"]
    assert "Caliente, 99 % de confianza" in legends["hotspots"]


def test_the_heat_map_page_explains_the_csv_columns_and_fdr(staff_client):
    html = staff_client.get("/mapas/calor/").content.decode()
    columns = re.search(r'<details class="csv-columns">(.*?)</details>', html, re.S).group(1)
    terms = re.findall(r"<dt>(\w+)</dt>", columns)
    assert terms == ["hex_id", "count", "population", "rate", "z", "q", "hotspot", "emerging"]
    assert list(heatmap.CSV_HEADER) == terms  # every column the CSV has, and only those
    assert "3, 2 y 1 son calientes con 99 %, 95 % y 90 % de confianza" in columns
    assert (
        "Valor q: la menor tasa de falsos descubrimientos (FDR) con la que la celda resultaría significativa; "
        "≤ 0,01 / 0,05 / 0,10 da 99 / 95 / 90 % de confianza." in columns
    )
    assert "-1, -2 y -3, fríos" in columns and "0, ninguno" in columns
    assert "FDR (tasa de falsos descubrimientos)" in html


def test_both_pages_name_the_census_file_that_was_loaded(staff_client, communes):
    square = MultiPolygon(Polygon(((-70.6, -33.6), (-70.59, -33.6), (-70.59, -33.59), (-70.6, -33.6))), srid=4326)
    pages = ("/mapas/calor/?comuna=13201", "/mapas/cobertura/?commune=13201")
    for page in pages:
        assert "no hay datos del censo cargados" in staff_client.get(page).content.decode()
    CensusZone.objects.create(
        geocodigo="13201990001",
        cut="13201",
        geometry=square,
        pob_total=1,
        pob_0_a_5=0,
        pob_6_a_14=0,
        pob_15_a_64=1,
        pob_65_y_mas=0,
        source=CENSUS_FILE,
        census="Censo de prueba 2024",
    )
    for page in pages:
        text = staff_client.get(page).content.decode()
        assert (
            f"Población: Censo de prueba 2024, repartida en las celdas H3 según su área "
            f"(archivo cargado: {CENSUS_FILE})." in text
        )
        assert "Censo 2017" not in text  # the census recorded, not one written in the template


def test_a_cell_where_the_census_counted_nobody_says_so_on_the_rate_map(staff_client, make_report):
    make_report(point=PUENTE_ALTO_CENTRE)
    cell = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9)
    PopulationCell.objects.create(cut="13201", res=9, cell=cell, pob_total=0, pob_under_15=0, pob_65_plus=0)
    html = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "comuna": "13201", "measure": "rate"}).content
    unpeopled = json.dumps("sin población censada")  # as the map's script carries it
    assert f'"population":["0"],"rate":[{unpeopled}]' in html.decode()


def test_a_coverage_cell_without_census_population_says_so_in_its_tooltip():
    cells = {
        "features": [
            {"properties": {"pob_total": 0.0, "reports_per_1000": None}},
            {"properties": {"pob_total": 50.0, "reports_per_1000": 20.0}},
        ]
    }
    shown = [f["properties"]["reports_per_1000"] for f in _tooltip_cells(cells)["features"]]
    assert shown == ["sin población censada", 20.0]


def test_the_coverage_page_says_unticked_kinds_mean_all_and_what_each_share_is_of(staff_client):
    html = staff_client.get("/mapas/cobertura/").content.decode()
    kinds = re.search(r"<fieldset class=\"choice-list\"[^>]*>\s*<legend>Tipos</legend>(.*?)</fieldset>", html, re.S)
    assert 'data-none="Sin marcar: todos."' in kinds.group(1) and ">Sin marcar: todos.</span>" in kinds.group(1)
    assert "Cada % es la parte de la población urbana censada de la comuna de ese grupo" in html
    assert "que vive a esa distancia en línea recta o menos" in html
    assert "el % es la parte de la población censada de la comuna que el sitio cubriría" in html
    assert "<li>Tipos: todos</li>" in html  # the analysis in words, for the printed page


def test_the_hotspot_classes_come_from_the_fdr_levels_and_the_csv_columns_from_its_header(monkeypatch):
    assert heatmap.HOTSPOT_CONFIDENCE == {1: 90, 2: 95, 3: 99}
    monkeypatch.setattr(heatmap, "HOTSPOT_CONFIDENCE", {1: 80, 2: 95, 3: 99})
    monkeypatch.setattr(heatmap, "CSV_HEADER", ("hex_id", "hotspot"))
    columns = heatmap.csv_columns()
    assert list(columns) == ["hex_id", "hotspot"]
    assert "3, 2 y 1 son calientes con 99 %, 95 % y 80 % de confianza" in columns["hotspot"]


def test_every_grey_key_of_the_heat_map_has_the_same_label(staff_client, make_report):
    make_report(point=PUENTE_ALTO_CENTRE)  # no population loaded: every rate is unknown
    html = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "comuna": "13201", "measure": "rate"}).content
    legend = _legends(html.decode())["cells"]
    assert "sin población censada o sin dato" in legend
    assert re.sub("sin población censada o sin dato", "", legend).count("sin dato") == 0


def test_the_lists_take_their_hints_in_the_gender_of_their_noun(staff_client):
    from django.contrib.auth import get_user_model

    from geo_siac.maps.forms import CoverageForm, HeatmapFilterForm

    user = get_user_model().objects.get(username="planner")
    kinds = CoverageForm(user=user).choice_lists()[0]
    categories = HeatmapFilterForm(user=user).choice_lists()[0]
    assert (kinds.ticked, kinds.words["tick_label"]) == ("Sin marcar: todos.", "Marcar todos: Tipos")
    assert categories.ticked == "Sin marcar: todas." and categories.words["count"] == "%(n)s de %(total)s marcadas."


def test_the_coverage_options_in_words_group_thousands(staff_client):
    html = staff_client.get("/mapas/cobertura/", {"catchment_m": "1500"}).content.decode()
    # The locale's separator, as the page's tables group theirs (floatformat "0g"): es-CL's is a no-break space.
    assert re.search(r"<li>Umbrales \(m\): 500, 1[.\xa0]000, 2[.\xa0]000</li>", html)
    assert re.search(r"<li>Área de influencia 2SFCA \(m\): 1[.\xa0]500</li>", html)
