"""The staff coverage page /mapas/cobertura/: map, figures, proposed sites and exports."""

import csv
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from geo_siac.maps.folium_offline import assert_offline
from geo_siac.testing import member_of, staff_account
from geo_siac.zones.models import PopulationCell, ServicePoint

URL = "/mapas/cobertura/"


@pytest.fixture
def staff_client(client, db):
    user = staff_account("planner", is_staff=True)
    client.force_login(user)
    return client


@pytest.fixture
def puente_alto(communes):
    import h3.api.basic_int as h3i

    from geo_siac.testing import PUENTE_ALTO_CENTRE

    centre = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9)
    for distance, cell in enumerate([centre, *h3i.grid_ring(centre, 10)[::20]]):
        PopulationCell.objects.create(
            cut="13201", res=9, cell=cell, pob_total=100 + distance, pob_under_15=20, pob_65_plus=10
        )
    lat, lng = PUENTE_ALTO_CENTRE
    ServicePoint.objects.create(
        name="CESFAM Plaza",
        kind="health",
        point=Point(lng, lat, srid=4326),
        commune=communes["13201"],
        opening_hours={"weekly": {"tue": [["08:00", "17:00"]]}},
    )
    return communes["13201"]


@pytest.fixture
def line_comuna(communes):
    """Seven populated cells two steps (~600 m) apart on one H3 axis, no service point: with a 1 km radius a site
    covers its own cell and its neighbours. Greedy takes 4 + 1 + 3 hundred people, then 1 + 1 + 2; the optimum,
    the third and sixth cells, covers 1 + 2 + 4 and 1 + 3 + 3 hundred."""
    import h3.api.basic_int as h3i
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from geo_siac.zones.models import Commune

    lat, lng = -34.80, -71.40
    ring = (
        (lng - 0.1, lat - 0.1),
        (lng + 0.1, lat - 0.1),
        (lng + 0.1, lat + 0.1),
        (lng - 0.1, lat + 0.1),
        (lng - 0.1, lat - 0.1),
    )
    lineal = Commune.objects.create(
        cut="99921",
        name="Comuna Lineal",
        geometry=MultiPolygon(Polygon(ring), srid=4326),
        jurisdiction_id="lineal",
        tracking_prefix="CL",
        is_active=True,
    )
    for planner in get_user_model().objects.filter(username="planner"):
        member_of(planner, lineal)  # the staff_client's account works for every comuna of the test
    origin = h3i.latlng_to_cell(lat, lng, 9)
    i, j = h3i.cell_to_local_ij(origin, origin)
    for step, people in enumerate([100, 100, 200, 400, 100, 300, 300]):
        PopulationCell.objects.create(
            cut="99921",
            res=9,
            cell=h3i.local_ij_to_cell(origin, i + 2 * step, j),
            pob_total=people,
            pob_under_15=0,
            pob_65_plus=0,
        )
    return "99921"


def test_anonymous_visitors_are_sent_to_login(client, puente_alto):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/cuenta/ingresar/?next=")


def test_non_staff_users_are_refused(client, puente_alto):
    client.force_login(get_user_model().objects.create_user("vecina"))
    assert client.get(URL).status_code == 403


def test_staff_see_an_offline_map_with_figures_and_proposed_sites(staff_client, puente_alto):
    response = staff_client.get(
        URL, {"commune": "13201", "res": 9, "thresholds": "500,1000,2000", "catchment_m": 2000, "k": 2}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert_offline(html)
    assert "CESFAM Plaza" in html and "Sitios propuestos" in html
    assert "Población a menos de cada distancia" in html
    assert '<th scope="row">500 m</th>' in html
    # Every result table is laid out by the indicators' rules (site.css: spaced, figures right-aligned, each row's
    # name kept in view), in a box that scrolls sideways on a phone; the map is sized there too (CSP: no inline style).
    tables = re.findall(r'<div class="table-scroll"[^>]*><table class="([^"]+)">', html)
    assert tables == ["figures indicators", "sites indicators", "optimal-sites indicators", "underserved indicators"]
    assert 'class="coverage-map"' in html and "style=" not in html.split('class="coverage-map"')[1].split(">")[0]
    # The method's words are explained where they are asked for.
    assert "reparte cada punto entre los habitantes a esta distancia" in html and "uno a uno (voraz" in html


def test_time_selector_keeps_only_points_open_then(staff_client, puente_alto):
    params = {"commune": "13201", "res": 9, "thresholds": "1000", "catchment_m": 2000, "k": 0, "format": "geojson"}
    tuesday = staff_client.get(URL, {**params, "at": "2026-03-03T10:00"}).json()
    sunday = staff_client.get(URL, {**params, "at": "2026-03-08T10:00"}).json()
    role = lambda data: [f for f in data["features"] if f["properties"]["role"] == "service_point"]  # noqa: E731
    assert len(role(tuesday)) == 1 and role(sunday) == []


def test_csv_export_has_one_row_per_populated_cell(staff_client, puente_alto):
    response = staff_client.get(
        URL, {"commune": "13201", "res": 9, "thresholds": "500,1000", "catchment_m": 2000, "k": 1, "format": "csv"}
    )
    assert response["Content-Disposition"] == 'attachment; filename="cobertura_13201_res9.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4
    assert min(float(r["distance_m"]) for r in rows) < 200


def test_geojson_export_holds_cells_points_and_sites(staff_client, puente_alto):
    response = staff_client.get(
        URL, {"commune": "13201", "res": 9, "thresholds": "500", "catchment_m": 2000, "k": 3, "format": "geojson"}
    )
    roles = [f["properties"]["role"] for f in json.loads(response.content)["features"]]
    assert roles.count("cell") == 4 and roles.count("service_point") == 1 and roles.count("proposed_site") == 3


def test_bad_parameters_are_shown_back_with_status_400(staff_client, puente_alto):
    response = staff_client.get(URL, {"commune": "13201", "res": 6, "thresholds": "x", "catchment_m": 2000, "k": 1})
    assert response.status_code == 400
    assert "Escriba distancias en metros" in response.content.decode()


ELEVEN_THRESHOLDS = ",".join(str(metres) for metres in range(100, 1200, 100))


@pytest.mark.parametrize("thresholds", ["9" * 400, "500,500001", "1" * 5000, ELEVEN_THRESHOLDS])
def test_thresholds_too_large_too_long_or_too_many_are_a_400_naming_the_field(staff_client, puente_alto, thresholds):
    response = staff_client.get(
        URL, {"commune": "13201", "res": 9, "thresholds": thresholds, "catchment_m": 2000, "k": 1}
    )
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"thresholds"}


def test_a_comuna_without_population_says_so_instead_of_failing(staff_client, puente_alto):
    response = staff_client.get(URL, {"commune": "13201", "res": 7, "thresholds": "1000", "catchment_m": 2000, "k": 5})
    assert response.status_code == 200
    assert "No hay población cargada" in response.content.decode()


def test_a_service_point_name_is_text_in_the_map_not_markup_or_script(staff_client, puente_alto):
    """Names come from imported registries; folium writes tooltips into a template literal without escaping."""
    import html as html_lib

    hostile = 'CESFAM `${document.title="x"}` <img src="x" id="injected">'
    ServicePoint.objects.filter(name="CESFAM Plaza").update(name=hostile)
    page = staff_client.get(URL, {"commune": "13201", "res": 9, "thresholds": "500", "catchment_m": 2000, "k": 1})
    assert page.status_code == 200
    map_html = html_lib.unescape(re.search(r'srcdoc="([^"]*)"', page.content.decode()).group(1))
    assert "CESFAM &#96;&#36;{document.title=&quot;x&quot;}&#96; &lt;img src=&quot;x&quot;" in map_html
    assert hostile not in map_html and '<img src="x"' not in map_html


def test_the_optimal_sites_are_shown_beside_the_greedy_ones_with_the_greedy_gap(staff_client, line_comuna):
    params = {"commune": line_comuna, "res": 9, "thresholds": "1000", "catchment_m": 2000, "k": 2}
    html = staff_client.get(URL, params).content.decode()
    assert "sitios óptimos (cobertura máxima, programa entero exacto)" in html
    for table in ("sites", "optimal-sites"):  # both tables rank their sites 1, 2 (not "1,0")
        ranks = html.split(f'<table class="{table} indicators">')[1].split("</table>")[0]
        assert (
            '<tbody><tr><th scope="row" class="rank">1</th>' in ranks and '<th scope="row" class="rank">2</th>' in ranks
        )
    # 200 of 1,400 people: 14.3 % below the optimum.
    assert re.search(r"cubren 1\W?200 habitantes nuevos y los óptimos 1\W?400: el voraz queda 14,3 % bajo", html)
    features = staff_client.get(URL, {**params, "format": "geojson"}).json()["features"]
    optimal = [f["properties"] for f in features if f["properties"]["role"] == "optimal_site"]
    assert [site["gain"] for site in optimal] == [700, 700]


def test_points_of_unknown_hours_are_shown_as_unknown_not_as_closed(staff_client, puente_alto):
    from geo_siac.testing import PUENTE_ALTO_CENTRE

    lat, lng = PUENTE_ALTO_CENTRE
    ServicePoint.objects.create(
        name="Posta sin horario", kind="health", point=Point(lng + 0.01, lat, srid=4326), commune=puente_alto
    )
    params = {"commune": "13201", "res": 9, "thresholds": "500", "catchment_m": 2000, "k": 0, "at": "2026-03-08T10:00"}
    html = staff_client.get(URL, params).content.decode()
    assert "1 punto de atención cercano tiene horario desconocido: no se cuenta como abierto ni como cerrado" in html
    assert "Total si abren los de horario desconocido" in html
    roles = [f["properties"] for f in staff_client.get(URL, {**params, "format": "geojson"}).json()["features"]]
    assert [p["name"] for p in roles if p["role"] == "service_point_unknown_hours"] == ["Posta sin horario"]
    assert [p for p in roles if p["role"] == "service_point"] == []  # the CESFAM is closed on Sundays
    without_time = staff_client.get(URL, {**params, "at": ""}).content.decode()
    assert "horario desconocido" not in without_time  # with no time every point counts, whatever its hours


def test_the_default_page_export_links_download_the_analysis_it_shows(staff_client, puente_alto):
    html = staff_client.get(URL).content.decode()
    links = re.findall(r'href="\?([^"]*format=(?:csv|geojson))"', html)
    assert len(links) == 2
    for link in links:
        response = staff_client.get(f"{URL}?{link.replace('&amp;', '&')}")
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith('attachment; filename="cobertura_13122_res9.')


def test_sites_and_underserved_cells_are_named_by_their_nearest_corner_asked_once(staff_client, puente_alto):
    import h3.api.basic_int as h3i
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from geo_siac.geocoding.models import EntryKind
    from geo_siac.geocoding.services import Entry, gazetteer_load

    cells = PopulationCell.objects.filter(cut="13201", res=9).values_list("cell", flat=True)
    corners = []
    for n, cell in enumerate(cells):
        lat, lng = h3i.cell_to_latlng(cell)
        corners.append(
            Entry(EntryKind.INTERSECTION, f"Calle {n} / Esq. Pasaje {n}", lng + 0.0003, lat, f"i{n}", cut="13201")
        )
    gazetteer_load(source="prueba", entries=corners, commit=True)

    with CaptureQueriesContext(connection) as queries:
        html = staff_client.get(
            URL, {"commune": "13201", "res": 9, "thresholds": "500,1000,2000", "catchment_m": 2000, "k": 2}
        ).content.decode()

    assert sum("geocoding_gazetteerentry" in query["sql"] for query in queries.captured_queries) == 1
    for table in ("sites", "optimal-sites", "underserved"):
        body = html.split(f'<table class="{table} indicators">')[1].split("</table>")[0]
        places = re.findall(r'<td class="text-left place">cerca de Calle (\d+) / Esq\. Pasaje \1<br>', body)
        coordinates = re.findall(r'<small class="coordinates">-33\.\d{5}, -70\.\d{5}</small>', body)
        assert len(places) == len(coordinates) == body.count('class="rank"') > 0, table
        assert '<th class="text-left">Lugar</th>' in body and "Latitud" not in body


def _legend_swatches(html: str) -> dict[str, tuple[str, str, str, str]]:
    """Each legend label's swatch as (shape, fill, fill-opacity, stroke)."""
    legend = html.split('id="coverage-legend"')[1].split("</section>")[0]
    return {
        label: (shape, fill, opacity, stroke)
        for shape, fill, opacity, stroke, label in re.findall(
            r'<(circle|rect) [^>]*fill="([^"]+)" fill-opacity="([^"]+)" stroke="([^"]+)"[^>]*></\1></svg> ([^<]+)</li>',
            legend,
        )
    }


def test_the_map_explains_its_colours_and_its_layer_list_starts_closed(staff_client, puente_alto):
    from geo_siac.maps.coverage_outputs import (
        CATCHMENT_COLOUR,
        DISTANCE_COLOURS,
        GREEDY_COLOUR,
        OPTIMAL_COLOUR,
        POINT_COLOUR,
    )

    html = staff_client.get(
        URL, {"commune": "13201", "res": 9, "thresholds": "500,1000,2000", "catchment_m": 2000, "k": 2}
    ).content.decode()

    swatches = _legend_swatches(html)
    # Drawn as the map draws them: points and sites as filled circles, the catchment as an outline over a 5 % tint.
    assert swatches["Sitio propuesto (voraz)"] == ("circle", GREEDY_COLOUR, "1.0", GREEDY_COLOUR)
    assert swatches["Sitio óptimo (programa entero)"] == ("circle", OPTIMAL_COLOUR, "1.0", OPTIMAL_COLOUR)
    assert swatches["Punto de atención"] == ("circle", POINT_COLOUR, "1.0", POINT_COLOUR)
    assert swatches["Su área de influencia (2\xa0000 m)"] == ("circle", CATCHMENT_COLOUR, "0.05", CATCHMENT_COLOUR)
    distance = ["hasta 500 m", "hasta 1\xa0000 m", "hasta 2\xa0000 m", "más de 2\xa0000 m"]
    assert [swatches[label] for label in distance] == [("rect", c, "0.6", "none") for c in DISTANCE_COLOURS]
    assert "Punto de horario desconocido" not in swatches  # no such point: no such mark on the map
    assert "&quot;collapsed&quot;: true" in html and "&quot;collapsed&quot;: false" not in html


def test_the_legend_shows_points_of_unknown_hours_as_the_map_draws_them(staff_client, puente_alto):
    from geo_siac.maps.coverage_outputs import UNKNOWN_HOURS_COLOUR
    from geo_siac.testing import PUENTE_ALTO_CENTRE

    lat, lng = PUENTE_ALTO_CENTRE
    ServicePoint.objects.create(
        name="Posta sin horario", kind="health", point=Point(lng + 0.01, lat, srid=4326), commune=puente_alto
    )
    params = {"commune": "13201", "res": 9, "thresholds": "500", "catchment_m": 2000, "k": 0, "at": "2026-03-08T10:00"}
    swatches = _legend_swatches(staff_client.get(URL, params).content.decode())
    assert swatches["Punto de horario desconocido"] == ("circle", "#ffffff", "1.0", UNKNOWN_HOURS_COLOUR)


def test_a_map_without_cells_has_no_distance_or_accessibility_legend(staff_client, puente_alto):
    html = staff_client.get(
        URL, {"commune": "13201", "res": 7, "thresholds": "1000", "catchment_m": 2000, "k": 5}
    ).content.decode()
    legend = html.split('id="coverage-legend"')[1].split("</section>")[0]
    assert "No hay población cargada" in html
    assert "Punto de atención" in _legend_swatches(html)
    assert "Distancia al punto más cercano" not in legend and "Accesibilidad" not in legend
    assert "hasta 1\xa0000 m" not in legend


@pytest.mark.parametrize("query", ["commune=13201", "commune=13201&res=&thresholds=&catchment_m=&k=", "res=9"])
def test_a_partial_query_takes_the_defaults_of_the_fields_it_leaves_out_and_shows_no_error(
    staff_client, puente_alto, query
):
    """A link or an edited URL may carry only the comuna: the other fields take the values the page opens with."""
    response = staff_client.get(f"{URL}?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "errorlist" not in html and "error-summary" not in html and "requerido" not in html
    expected = "Puente Alto" if "commune" in query else "Peñalolén"
    assert f"<h2>{expected}: H3 res 9" in html
    exports = re.findall(r'href="\?([^"]*)&amp;format=csv"', html)[0].replace("&amp;", "&")
    assert {"res=9", "thresholds=500%2C1000%2C2000", "catchment_m=2000", "k=5"} <= set(exports.split("&"))


@pytest.mark.parametrize(
    "params,label,message",
    [
        ({"commune": "13201", "res": "6"}, "Resolución H3", "«6» no es una resolución posible aquí"),
        ({"commune": "99999"}, "Comuna", "Esa comuna no existe o no es de las suyas"),
        ({"commune": "13201", "k": "mucho"}, "Sitios propuestos", "Introduzca un número entero."),
    ],
)
def test_a_wrong_value_is_a_400_whose_summary_names_the_field_and_the_problem_in_spanish(
    staff_client, puente_alto, params, label, message
):
    response = staff_client.get(URL, params)
    html = response.content.decode()
    summary = html.split('<div class="error-summary" role="alert">')[1].split("</div>")[0]
    assert response.status_code == 400
    field_id = re.search(rf'<li><a href="#(id_\w+)">{label}</a>: {message}', summary).group(1)
    assert summary.count("<li>") == 1  # the fields left out took their defaults
    # Under its own field's label, not above it (as_p put it there, under the field before).
    own_field = html.split(f'<label for="{field_id}"')[1].split('<div class="field">')[0]
    assert message in own_field and html.count(message) == 2


def test_a_wrong_resolution_leaves_the_select_on_the_default_not_its_first_option(staff_client, puente_alto):
    html = staff_client.get(URL, {"commune": "13201", "res": "6"}).content.decode()
    select = html.split('<select name="res"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\d+)" selected>', select) == ["9"]


def test_a_staff_member_without_comunas_first_sees_a_plain_notice(client, communes):
    client.force_login(staff_account("sin-comunas", communes=[], is_staff=True))
    response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<p class="warning">No tiene comunas asignadas: pida a un administrador que le asigne una.</p>' in html
    assert "error-summary" not in html and "errorlist" not in html
