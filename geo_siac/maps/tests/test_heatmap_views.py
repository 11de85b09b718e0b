import csv
import io
import json
import re
from datetime import date

import h3
import pytest
from django.contrib.auth.models import User

from geo_siac.maps import heatmap
from geo_siac.maps.folium_offline import assert_offline
from geo_siac.maps.forms import HeatmapFilterForm
from geo_siac.maps.heatmap import NO_DATA_COLOUR
from geo_siac.maps.selectors import CellRow
from geo_siac.reports.states import Status
from geo_siac.testing import EAST_POINT, GAP_POINT, PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE, WEST_POINT, box, staff_account
from geo_siac.zones.models import PopulationCell
from geo_siac.zones.services import zone_save_version

DECIMALS_RE = re.compile(r"^-?\d+(\.\d{1,6})?$")


@pytest.fixture
def staff_client(client, db):
    client.force_login(staff_account("planner", password="x", is_staff=True))
    return client


@pytest.fixture
def two_reports(make_report):
    return [make_report(point=PUENTE_ALTO_CENTRE), make_report(point=PENALOLEN_CENTRE, category="bache")]


def test_geojson_has_one_feature_per_cell_with_count_null_rate_and_rounded_hexagon(staff_client, two_reports):
    """No population is loaded here, so population and rate are null."""
    response = staff_client.get("/api/maps/h3/", {"res": 9})
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 2
    feature = next(
        f for f in collection["features"] if f["properties"]["hex_id"] == h3.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9)
    )
    assert feature["properties"]["count"] == 1 and feature["properties"]["rate"] is None
    assert feature["properties"]["population"] is None
    assert set(feature["properties"]) >= {"hex_id", "count", "population", "rate", "z", "q", "hotspot", "emerging"}
    ring = feature["geometry"]["coordinates"][0]
    assert feature["geometry"]["type"] == "Polygon" and len(ring) == 7 and ring[0] == ring[-1]
    assert all(DECIMALS_RE.match(repr(value)) for point in ring for value in point)
    expected = [[round(lng, 6), round(lat, 6)] for lat, lng in h3.cell_to_boundary(feature["id"])]
    assert ring[:-1] == expected


def test_geojson_filters_by_category_and_comuna(staff_client, two_reports):
    by_category = staff_client.get("/api/maps/h3/", {"res": 7, "category": "bache"}).json()
    by_commune = staff_client.get("/api/maps/h3/", {"res": 7, "comuna": "13201"}).json()
    assert [f["properties"]["hex_id"] for f in by_category["features"]] == [h3.latlng_to_cell(*PENALOLEN_CENTRE, 7)]
    assert [f["properties"]["hex_id"] for f in by_commune["features"]] == [h3.latlng_to_cell(*PUENTE_ALTO_CENTRE, 7)]


def test_emerging_is_reported_only_for_a_closed_date_range(staff_client, two_reports):
    open_ended = staff_client.get("/api/maps/h3/", {"res": 9}).json()
    ranged = staff_client.get("/api/maps/h3/", {"res": 9, "since": "2020-01-01", "until": "2099-12-31"}).json()
    assert {f["properties"]["emerging"] for f in open_ended["features"]} == {None}
    assert {f["properties"]["emerging"] for f in ranged["features"]} == {False}


def test_bad_filters_are_a_400_naming_the_field(staff_client, communes):
    response = staff_client.get("/api/maps/h3/", {"res": 12})
    assert response.status_code == 400 and "res" in response.json()["errors"]


@pytest.mark.parametrize("url", ["/api/maps/h3/", "/api/maps/h3.csv", "/mapas/calor/mapa.html"])
@pytest.mark.parametrize(
    "field,value", [("until", "9999-12-31"), ("since", "0001-01-01"), ("since", "1969-12-31"), ("until", "2101-01-01")]
)
def test_dates_a_report_cannot_carry_are_a_400_naming_the_field(staff_client, communes, url, field, value):
    """9999-12-31 overflowed Python's dates ("until" is exclusive: one day more); the range is the business-day
    calendar's, 1970 to 2100."""
    response = staff_client.get(url, {"res": 8, field: value})
    assert response.status_code == 400 and field in response.content.decode()


def test_csv_has_a_hex_id_column_that_kepler_reads_as_h3(staff_client, two_reports):
    response = staff_client.get("/api/maps/h3.csv", {"res": 8})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert list(rows[0]) == ["hex_id", "count", "population", "rate", "z", "q", "hotspot", "emerging"]
    assert {r["hex_id"] for r in rows} == {h3.latlng_to_cell(*p, 8) for p in (PUENTE_ALTO_CENTRE, PENALOLEN_CENTRE)}
    assert all(h3.is_valid_cell(r["hex_id"]) and r["rate"] == "" for r in rows)


@pytest.mark.parametrize("url", ["/mapas/calor/", "/mapas/calor/mapa.html", "/mapas/calor/mapa.png"])
def test_heatmap_pages_send_anonymous_users_to_the_login_and_refuse_non_staff(client, communes, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/cuenta/ingresar/?next=")
    client.force_login(User.objects.create_user("citizen", password="x"))
    assert client.get(url).status_code == 403


def test_weekly_counts_per_category_start_on_monday(staff_client, two_reports):
    weeks = staff_client.get("/api/maps/weekly/", {"comuna": ["13201", "13122"]}).json()["weeks"]
    assert sorted(row["category"] for row in weeks) == ["bache", "retiro-escombros"]
    assert all(row["count"] == 1 and date.fromisoformat(row["week"]).weekday() == 0 for row in weeks)


@pytest.mark.parametrize("url", ["/api/maps/h3/", "/api/maps/h3.csv", "/api/maps/weekly/"])
def test_map_api_is_forbidden_to_non_staff(client, communes, url):
    assert client.get(url).status_code == 403
    client.force_login(User.objects.create_user("citizen", password="x"))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(("res", "said_m"), [(7, 1300), (8, 500), (9, 190), (10, 70)])
def test_the_cell_sizes_the_heat_map_page_gives_are_h3_4s_at_puente_alto(res, said_m):
    cell = h3.latlng_to_cell(*PUENTE_ALTO_CENTRE, res)
    edges = [h3.edge_length(edge, "m") for edge in h3.origin_to_directed_edges(cell)]
    assert abs(sum(edges) / len(edges) - said_m) < 0.05 * said_m


def test_the_classification_and_the_csv_say_what_they_are_tied_to_their_controls(staff_client, communes):
    html = staff_client.get("/mapas/calor/").content.decode()
    select = re.search(r'<select name="scheme"[^>]*>', html).group(0)
    assert 'aria-describedby="id_scheme_helptext"' in select
    assert re.search(
        r'<p class="help" id="id_scheme_helptext">Clasificación: cómo se reparten los colores\. Cuantiles:', html
    )
    assert "Cortes naturales (Jenks): cada color junta hexágonos de valores parecidos" in html
    link = re.search(r'<a href="/api/maps/h3\.csv\?[^"]*"[^>]*>', html).group(0)
    assert 'aria-describedby="csv-help"' in link
    assert re.search(
        r'<p class="help" id="csv-help">El CSV trae una fila por hexágono, con su código H3 en la '
        r"columna hex_id",
        html,
    )


def test_heatmap_page_shows_the_filter_form_exports_and_the_map(staff_client, two_reports, crews):
    response = staff_client.get("/mapas/calor/", {"res": 8, "scheme": "natural_breaks"})
    html = response.content.decode()
    assert response.status_code == 200
    for expected in (
        'name="since"',
        'name="measure"',
        "Tasa por 1.000 hab.",
        "mapa.html?res=8&amp;scheme=natural_breaks",
        "mapa.png?",
        "h3.csv?",
        # Where the hotspot analysis is, and what a resolution means, said on the page.
        "Los puntos calientes y fríos (Gi*",
        "en la resolución 9 mide unos 190 m de lado, en la 8 unos 500 m, en la 7 unos 1,3 km y en la 10 unos 70 m.",
        "Puente Alto · Poniente",  # a zone named with its comuna, as in supervision's filter (Zone.label)
    ):
        assert expected in html
    # Each multiple choice is a fieldset of checkboxes (ticked one by one, no Ctrl-click), named by its legend.
    for name, legend in (
        ("category", "Categorías"),
        ("group", "Grupos de categorías"),
        ("comuna", "Comunas"),
        ("zone", "Zonas"),
        ("status", "Estados"),
        ("channel", "Canales"),
    ):
        assert re.search(rf'<fieldset class="choice-list[^"]*"[^>]*>\s*<legend>{legend}</legend>', html), legend
        assert f'type="checkbox" name="{name}"' in html, name
    assert "multiple" not in html  # no <select multiple> left


def test_choice_lists_without_choices_are_left_out(staff_client, two_reports):
    html = staff_client.get("/mapas/calor/").content.decode()
    assert 'name="category"' in html and 'name="zone"' not in html  # no zone is drawn yet


def test_ticked_boxes_filter_the_map_and_stay_ticked(staff_client, two_reports):
    response = staff_client.get("/mapas/calor/", {"category": ["bache", "poda-arboles"], "comuna": "13122"})
    html = response.content.decode()
    assert re.search(r'type="checkbox" name="category" value="bache"[^>]*checked', html)
    assert re.search(r'type="checkbox" name="comuna" value="13122"[^>]*checked', html)
    assert "mapa.html?category=bache&amp;category=poda-arboles&amp;comuna=13122" in html


def test_map_html_is_offline_with_choropleth_legend_layers_and_comuna_boundaries(staff_client, two_reports):
    response = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "descargar": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert_offline(html)
    assert "/static/vendor/leaflet/1.9.3/leaflet.js" in html
    for layer in ("Todas las categor", "Grupo: Aseo y ornato", "Grupo: Vialidad", "Semana del", "Comunas"):
        assert layer in html
    assert "L.control.layers" in html and '"collapsed": true' in html
    assert re.search(r'<section class="map-legend"[^>]*><h2>Solicitudes por celda H3</h2>', html)


def test_png_export_is_an_image(staff_client, two_reports):
    response = staff_client.get("/mapas/calor/mapa.png", {"res": 9})
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.django_db
def test_classification_scheme_and_class_count_are_read_from_the_form():
    from geo_siac.maps.forms import HeatmapFilterForm

    form = HeatmapFilterForm(
        {"scheme": "natural_breaks", "classes": "4", "measure": "rate"}, user=staff_account("planner")
    )
    assert form.is_valid(), form.errors
    assert (form.classification, form.class_count, form.map_measure) == ("natural_breaks", 4, "rate")


def population_at(point, res: int, pob_total: float, cut: str = "13201") -> str:
    cell = h3.latlng_to_cell(*point, res)
    PopulationCell.objects.create(
        cut=cut, res=res, cell=h3.str_to_int(cell), pob_total=pob_total, pob_under_15=0, pob_65_plus=0
    )
    return cell


def test_geojson_and_csv_give_population_and_rate_per_1000(staff_client, make_report):
    for _ in range(3):
        make_report(point=PUENTE_ALTO_CENTRE)
    centre = population_at(PUENTE_ALTO_CENTRE, 9, 1234.56)
    feature = staff_client.get("/api/maps/h3/", {"res": 9, "comuna": "13201"}).json()["features"][0]
    assert feature["properties"]["hex_id"] == centre
    assert feature["properties"]["population"] == 1234.6
    assert feature["properties"]["rate"] == round(3 * 1000 / 1234.56, 3) == 2.43
    (row,) = csv.DictReader(
        io.StringIO(staff_client.get("/api/maps/h3.csv", {"res": 9, "comuna": "13201"}).content.decode())
    )
    assert (row["hex_id"], row["count"], row["population"], row["rate"]) == (centre, "3", "1234.6", "2.43")


def test_zone_filter_counts_only_reports_inside_the_current_polygon(staff_client, make_report, crews):
    make_report(point=WEST_POINT)
    make_report(point=EAST_POINT)
    make_report(point=PENALOLEN_CENTRE)
    west = staff_client.get("/api/maps/h3/", {"res": 9, "zone": crews["west"].pk}).json()["features"]
    assert [f["properties"]["hex_id"] for f in west] == [h3.latlng_to_cell(*WEST_POINT, 9)]

    redrawn = zone_save_version(
        commune=crews["west"].commune, key="poniente", name="Poniente", geometry=box(-70.60, -33.63, -70.55, -33.59)
    )  # now takes the east point too
    both = staff_client.get("/api/maps/h3/", {"res": 9, "zone": redrawn.pk}).json()["features"]
    assert {f["properties"]["hex_id"] for f in both} == {h3.latlng_to_cell(*p, 9) for p in (WEST_POINT, EAST_POINT)}
    retired = staff_client.get("/api/maps/h3/", {"res": 9, "zone": crews["west"].pk})
    assert retired.status_code == 400 and "zone" in retired.json()["errors"]


@pytest.mark.parametrize("params", [{"zone": "999999"}, {"zone": "oeste"}, {"comuna": "13122", "zone": "WEST"}])
def test_bad_zone_filters_are_a_400_naming_the_zone_field(staff_client, crews, params):
    params = {key: (crews["west"].pk if value == "WEST" else value) for key, value in params.items()}
    for url in ("/api/maps/h3/", "/api/maps/h3.csv", "/mapas/calor/mapa.html"):
        response = staff_client.get(url, params)
        assert response.status_code == 400 and "zone" in response.json()["errors"], url


def on_map(text: str, html: str) -> bool:
    """folium writes names and properties as JSON, with non-ASCII letters escaped."""
    return json.dumps(text)[1:-1] in html


def test_map_draws_the_zone_boundaries_of_the_selected_comuna(staff_client, make_report, crews, communes):
    zone_save_version(
        commune=communes["13122"], key="norte", name="Peñalolén Norte", geometry=box(-70.56, -33.49, -70.52, -33.47)
    )
    make_report(point=PUENTE_ALTO_CENTRE)
    html = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "comuna": "13201"}).content.decode()
    assert on_map("Zonas de cuadrillas", html) and on_map("Poniente", html) and on_map("Oriente", html)
    assert not on_map("Peñalolén Norte", html)
    assert on_map("Peñalolén Norte", staff_client.get("/mapas/calor/mapa.html", {"res": 9}).content.decode())


def test_rate_map_colours_by_rate_and_greys_cells_without_population(staff_client, make_report):
    make_report(point=PUENTE_ALTO_CENTRE)
    make_report(point=GAP_POINT)
    population_at(PUENTE_ALTO_CENTRE, 9, 500)
    html = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "comuna": "13201", "measure": "rate"}).content
    html = html.decode()
    assert on_map("Solicitudes por 1.000 habitantes por celda H3", html) and on_map("Habitantes", html)
    assert NO_DATA_COLOUR in html  # the cell with nobody in it
    png = staff_client.get("/mapas/calor/mapa.png", {"res": 9, "comuna": "13201", "measure": "rate"})
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert staff_client.get("/mapas/calor/mapa.html", {"measure": "per_km2"}).status_code == 400


def test_a_rate_map_without_any_population_loaded_is_grey_not_an_error(staff_client, make_report):
    make_report(point=PUENTE_ALTO_CENTRE)
    make_report(point=GAP_POINT)
    html = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "measure": "rate"})
    png = staff_client.get("/mapas/calor/mapa.png", {"res": 9, "measure": "rate"})
    assert html.status_code == 200 and NO_DATA_COLOUR in html.content.decode()
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")


def test_every_map_label_goes_through_gettext(staff_client, make_report, crews, monkeypatch):
    """Each layer name, legend caption, tooltip label and popup value of the map is looked up in the catalogue."""
    looked_up = []
    monkeypatch.setattr(heatmap, "_", lambda text: looked_up.append(text) or text)
    make_report(point=PUENTE_ALTO_CENTRE)
    make_report(point=PUENTE_ALTO_CENTRE, category="bache")
    population_at(PUENTE_ALTO_CENTRE, 9, 900)
    for measure in ("count", "rate"):
        staff_client.get(
            "/mapas/calor/mapa.html", {"res": 9, "measure": measure, "since": "2020-01-01", "until": "2099-12-31"}
        )
    staff_client.get("/mapas/calor/mapa.png", {"res": 9, "measure": "rate"})
    hot, cold = (h3.str_to_int(h3.latlng_to_cell(*point, 9)) for point in (WEST_POINT, EAST_POINT))
    spots = [
        CellRow(cell=cell, count=5, population=None, rate=None, z=z, q=0.001, hotspot=level, emerging=True)
        for cell, z, level in ((hot, 3.5, 3), (cold, -3.5, -3))
    ]
    ids = heatmap.CellIds("/static/")
    heatmap._hotspot_layer(ids, spots)
    heatmap._emerging_layer(ids, spots, heatmap.Measure("rate", {}))
    for msgid in (
        "Todas las categorías",
        "Grupo: %(name)s",
        "Semana del %(date)s",
        "Comunas",
        "Comuna",
        "Zonas de cuadrillas",
        "Zona",
        "Solicitudes por celda H3",
        "Solicitudes por 1.000 habitantes por celda H3",
        "Celda",
        "Solicitudes",
        "Habitantes",
        "Por 1.000 hab.",
        "sin dato",
        "Mapa de calor de solicitudes",
        "Categorías",
        "Comunas",
        "todas",
        "Período: %(period)s",
        "Medida: %(measure)s",
        "del %(since)s al %(until)s",
        "cuantiles",
        "Resolución H3: %(res)s · %(classes)s clases por %(scheme)s",
        "Capas",
        "Leyenda",
        "Puntos calientes y fríos (Gi*, FDR)",
        "caliente",
        "frío",
        "Tipo",
        "Confianza",
        "Puntos emergentes (crecen vs. período anterior)",
    ):
        assert msgid in looked_up, msgid


def test_zone_and_comuna_names_are_text_in_the_map_tooltips(staff_client, two_reports, crews):
    """Zone names come from imported GIS files; folium puts tooltip fields into HTML without escaping."""
    from geo_siac.zones.models import Zone

    Zone.objects.filter(pk=crews["west"].pk).update(name='<img src="x" id="injected">Poniente')
    html = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "comuna": "13201"}).content.decode()
    # folium writes the GeoJSON with "<", ">" and "&" as JSON escapes: the name arrives HTML-escaped, not as a tag.
    assert '"name": "\\u0026lt;img src=\\u0026quot;x\\u0026quot; id=\\u0026quot;injected' in html
    assert "\\u003cimg" not in html


def test_a_map_of_more_cells_than_the_page_can_carry_says_so_and_the_exports_keep_every_cell(
    staff_client, two_reports, monkeypatch
):
    cell = h3.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9)
    drawn = staff_client.get("/mapas/calor/mapa.html", {"res": 9}).content.decode()
    assert cell in drawn and "Demasiadas celdas" not in drawn
    monkeypatch.setattr(heatmap, "MAX_MAP_CELLS", 1)
    page = staff_client.get("/mapas/calor/mapa.html", {"res": 9})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Demasiadas celdas (2) para dibujarlas en el mapa: filtre por comuna, categoría o período" in html
    assert cell not in html
    assert "Puente Alto" in html  # the comuna outlines are still drawn
    assert len(staff_client.get("/api/maps/h3/", {"res": 9}).json()["features"]) == 2


def test_the_too_many_cells_note_groups_the_thousands_in_the_page_language():
    from django.utils import translation

    with translation.override("es"):  # Django's Spanish format groups with a no-break space
        assert "(12\xa0298)" in heatmap.too_many_cells_note(12298)
    with translation.override("en"):
        assert "(12,298)" in heatmap.too_many_cells_note(12298)


def drawn_layers(html: str) -> dict[str, dict[str, int]]:
    """The page's cell layers as the browser reads them: per layer name, each cell's hex id and count."""
    ids = json.loads(re.search(r"var cell_ids_\w+ = (\[.*?\]);", html).group(1))
    specs = re.findall(r"var (cell_layer_\w+) = GeoSiacCells\.layer\(cell_ids_\w+, (\{.*?\})\);", html)
    names = dict(re.findall(r'"([^"]+)" : (cell_layer_\w+),', html))
    layers = {}
    for variable, spec in specs:
        spec = json.loads(spec)
        name = next(label for label, each in names.items() if each == variable)
        layers[name] = dict(zip((ids[i] for i in spec["cells"]), spec["columns"]["count"]))
    return layers


def test_the_map_page_carries_each_cell_id_and_count_once_and_the_browser_draws_the_hexagons(staff_client, make_report):
    for point, category, times in ((PUENTE_ALTO_CENTRE, "bache", 3), (PENALOLEN_CENTRE, "microbasural", 2)):
        for _ in range(times):
            make_report(point=point, category=category)
    html = staff_client.get("/mapas/calor/mapa.html", {"res": 9}).content.decode()
    puente_alto, penalolen = (h3.latlng_to_cell(*point, 9) for point in (PUENTE_ALTO_CENTRE, PENALOLEN_CENTRE))
    layers = drawn_layers(html)
    assert layers["Todas las categor\\u00edas"] == {puente_alto: 3, penalolen: 2}
    assert layers["Grupo: Vialidad"] == {puente_alto: 3}
    assert html.count(f'"{puente_alto}"') == 1  # one id, which every layer refers to by position
    lat, lng = h3.cell_to_boundary(puente_alto)[0]
    assert f"{lng:.6f}"[:-1] not in html and f"{lat:.6f}"[:-1] not in html  # no hexagon is written
    assert "/static/vendor/h3-js/4.5.0/h3-js.umd.js" in html and "/static/geo_siac/heatmap_cells.js" in html


def test_a_long_choice_list_spans_the_row_with_buttons_to_tick_or_untick_every_box(staff_client, two_reports):
    """The categories (18) spread in columns over the row; every list gets "Marcar todas" / "Desmarcar todas",
    shown by heatmap_filters.js (hidden without it), which keeps the ticked line current with the template's texts."""
    html = staff_client.get("/mapas/calor/").content.decode()
    categories = html.split('<fieldset class="choice-list long">')[1].split("</fieldset>")[0]
    assert "<legend>Categorías</legend>" in categories
    assert categories.count('type="checkbox" name="category"') > HeatmapFilterForm.SHORT_LIST
    for tick, text in (("all", "Marcar todas"), ("none", "Desmarcar todas")):
        assert (
            f'<button type="button" class="secondary" data-tick="{tick}" aria-controls="id_category" '
            f'aria-label="{text}: Categorías">{text}</button>'
        ) in categories  # each list's buttons named apart
    assert '<p class="choice-actions" hidden>' in categories
    assert 'data-none="Sin marcar: todas." data-all="Marcadas: todas.">Sin marcar: todas.</span>' in categories
    # Only a count is announced, never every ticked name; the visible line is not live.
    assert 'class="visually-hidden ticked-count" aria-live="polite" data-count="%(n)s de %(total)s marcadas."' in (
        categories
    )
    assert categories.count("aria-live") == 1
    assert re.search(
        r'<fieldset class="choice-list">\s*<legend>Estados</legend>', html
    )  # a short list keeps its column
    assert re.search(r'<script src="/static/geo_siac/heatmap_filters[.\w]*js"></script>', html)


def test_a_wrong_filter_on_the_page_is_a_400_named_with_its_field_above_the_form(staff_client, communes):
    response = staff_client.get("/mapas/calor/", {"res": "12", "category": "no-existe"})
    html = response.content.decode()
    assert response.status_code == 400
    summary = html.split('<div class="error-summary" role="alert">')[1].split("</div>")[0]
    assert re.search(r'<li><a href="#id_res">Resolución H3</a>: Escoja una opción válida\. 12 no es', summary)
    # A list of checkboxes has no label of its own: the link goes to the list (its wrapper's id).
    assert re.search(r'<li><a href="#id_category">Categorías</a>: Escoja una opción válida\. no-existe', summary)
    assert '<div id="id_category">' in html


def test_a_list_with_every_box_ticked_says_all(staff_client, communes):
    html = staff_client.get("/mapas/calor/", {"status": Status.values, "channel": "phone"}).content.decode()
    statuses = html.split("<legend>Estados</legend>")[1].split("</fieldset>")[0]
    channels = html.split("<legend>Canales</legend>")[1].split("</fieldset>")[0]
    assert 'data-all="Marcadas: todas.">Marcadas: todas.</span>' in statuses
    assert 'data-all="Marcadas: todas.">Marcadas: Teléfono</span>' in channels
