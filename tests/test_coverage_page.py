"""The staff coverage page /mapas/cobertura/: map, figures, proposed sites and exports."""

import csv
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from geo_siac.maps.folium_offline import assert_offline
from geo_siac.zones.models import PopulationCell, ServicePoint

URL = "/mapas/cobertura/"


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_user("planner", is_staff=True)
    client.force_login(user)
    return client


@pytest.fixture
def puente_alto(communes):
    import h3.api.basic_int as h3i

    from geo_siac.testing import PUENTE_ALTO_CENTRE

    centre = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9)
    for distance, cell in enumerate([centre, *h3i.grid_ring(centre, 10)[::20]]):
        PopulationCell.objects.create(cut="13201", res=9, cell=cell, pob_total=100 + distance,
                                      pob_under_15=20, pob_65_plus=10)
    lat, lng = PUENTE_ALTO_CENTRE
    ServicePoint.objects.create(name="CESFAM Plaza", kind="health", point=Point(lng, lat, srid=4326),
                                commune=communes["13201"], opening_hours={"weekly": {"tue": [["08:00", "17:00"]]}})
    return communes["13201"]


def test_anonymous_visitors_are_sent_to_login(client, puente_alto):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/cuenta/ingresar/?next=")


def test_non_staff_users_are_refused(client, puente_alto):
    client.force_login(get_user_model().objects.create_user("vecina"))
    assert client.get(URL).status_code == 403


def test_staff_see_an_offline_map_with_figures_and_proposed_sites(staff_client, puente_alto):
    response = staff_client.get(URL, {"commune": "13201", "res": 9, "thresholds": "500,1000,2000",
                                      "catchment_m": 2000, "k": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert_offline(html)
    assert "CESFAM Plaza" in html and "Sitios propuestos" in html
    assert "Población a menos de cada distancia" in html
    assert "<td>500 m</td>" in html


def test_time_selector_keeps_only_points_open_then(staff_client, puente_alto):
    params = {"commune": "13201", "res": 9, "thresholds": "1000", "catchment_m": 2000, "k": 0,
              "format": "geojson"}
    tuesday = staff_client.get(URL, {**params, "at": "2026-03-03T10:00"}).json()
    sunday = staff_client.get(URL, {**params, "at": "2026-03-08T10:00"}).json()
    role = lambda data: [f for f in data["features"] if f["properties"]["role"] == "service_point"]  # noqa: E731
    assert len(role(tuesday)) == 1 and role(sunday) == []


def test_csv_export_has_one_row_per_populated_cell(staff_client, puente_alto):
    response = staff_client.get(URL, {"commune": "13201", "res": 9, "thresholds": "500,1000",
                                      "catchment_m": 2000, "k": 1, "format": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="cobertura_13201_res9.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 4
    assert min(float(r["distance_m"]) for r in rows) < 200


def test_geojson_export_holds_cells_points_and_sites(staff_client, puente_alto):
    response = staff_client.get(URL, {"commune": "13201", "res": 9, "thresholds": "500", "catchment_m": 2000,
                                      "k": 3, "format": "geojson"})
    roles = [f["properties"]["role"] for f in json.loads(response.content)["features"]]
    assert roles.count("cell") == 4 and roles.count("service_point") == 1 and roles.count("proposed_site") == 3


def test_bad_parameters_are_shown_back_with_status_400(staff_client, puente_alto):
    response = staff_client.get(URL, {"commune": "13201", "res": 6, "thresholds": "x", "catchment_m": 2000, "k": 1})
    assert response.status_code == 400
    assert "Escriba distancias en metros" in response.content.decode()


ELEVEN_THRESHOLDS = ",".join(str(metres) for metres in range(100, 1200, 100))


@pytest.mark.parametrize("thresholds", ["9" * 400, "500,500001", "1" * 5000, ELEVEN_THRESHOLDS])
def test_thresholds_too_large_too_long_or_too_many_are_a_400_naming_the_field(staff_client, puente_alto, thresholds):
    response = staff_client.get(URL, {"commune": "13201", "res": 9, "thresholds": thresholds, "catchment_m": 2000,
                                      "k": 1})
    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"thresholds"}


def test_a_comuna_without_population_says_so_instead_of_failing(staff_client, puente_alto):
    response = staff_client.get(URL, {"commune": "13201", "res": 7, "thresholds": "1000", "catchment_m": 2000,
                                      "k": 5})
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
