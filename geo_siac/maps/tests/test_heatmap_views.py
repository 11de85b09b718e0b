import csv
import io
import re
from datetime import date

import h3
import pytest
from django.contrib.auth.models import User

from geo_siac.maps.folium_offline import assert_offline
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE

DECIMALS_RE = re.compile(r"^-?\d+(\.\d{1,6})?$")


@pytest.fixture
def staff_client(client, db):
    client.force_login(User.objects.create_user("planner", password="x", is_staff=True))
    return client


@pytest.fixture
def two_reports(make_report):
    return [make_report(point=PUENTE_ALTO_CENTRE), make_report(point=PENALOLEN_CENTRE, category="bache")]


def test_geojson_has_one_feature_per_cell_with_count_null_rate_and_rounded_hexagon(staff_client, two_reports):
    response = staff_client.get("/api/maps/h3/", {"res": 9})
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == 2
    feature = next(f for f in collection["features"]
                   if f["properties"]["hex_id"] == h3.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9))
    assert feature["properties"]["count"] == 1 and feature["properties"]["rate"] is None
    assert set(feature["properties"]) >= {"hex_id", "count", "rate", "z", "q", "hotspot", "emerging"}
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


def test_csv_has_a_hex_id_column_that_kepler_reads_as_h3(staff_client, two_reports):
    response = staff_client.get("/api/maps/h3.csv", {"res": 8})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert list(rows[0]) == ["hex_id", "count", "rate", "z", "q", "hotspot", "emerging"]
    assert {r["hex_id"] for r in rows} == {h3.latlng_to_cell(*p, 8) for p in (PUENTE_ALTO_CENTRE, PENALOLEN_CENTRE)}
    assert all(h3.is_valid_cell(r["hex_id"]) and r["rate"] == "" for r in rows)


@pytest.mark.parametrize("url", ["/mapas/calor/", "/mapas/calor/mapa.html", "/mapas/calor/mapa.png"])
def test_heatmap_pages_send_anonymous_and_non_staff_users_to_the_login(client, communes, url):
    assert client.get(url).status_code == 302
    client.force_login(User.objects.create_user("citizen", password="x"))
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_weekly_counts_per_category_start_on_monday(staff_client, two_reports):
    weeks = staff_client.get("/api/maps/weekly/", {"comuna": ["13201", "13122"]}).json()["weeks"]
    assert sorted(row["category"] for row in weeks) == ["bache", "retiro-escombros"]
    assert all(row["count"] == 1 and date.fromisoformat(row["week"]).weekday() == 0 for row in weeks)


@pytest.mark.parametrize("url", ["/api/maps/h3/", "/api/maps/h3.csv", "/api/maps/weekly/"])
def test_map_api_is_forbidden_to_non_staff(client, communes, url):
    assert client.get(url).status_code == 403
    client.force_login(User.objects.create_user("citizen", password="x"))
    assert client.get(url).status_code == 403


def test_heatmap_page_shows_the_filter_form_exports_and_the_map(staff_client, two_reports):
    response = staff_client.get("/mapas/calor/", {"res": 8, "scheme": "natural_breaks"})
    html = response.content.decode()
    assert response.status_code == 200
    for expected in ('name="comuna"', 'name="group"', 'name="status"', 'name="channel"', 'name="since"',
                     "mapa.html?res=8&amp;scheme=natural_breaks", "mapa.png?", "h3.csv?"):
        assert expected in html


def test_map_html_is_offline_with_choropleth_legend_layers_and_comuna_boundaries(staff_client, two_reports):
    response = staff_client.get("/mapas/calor/mapa.html", {"res": 9, "descargar": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert_offline(html)
    assert "/static/vendor/leaflet/1.9.3/leaflet.js" in html and "/static/vendor/d3/3.5.5/d3.min.js" in html
    for layer in ("Todas las categor", "Grupo: Aseo y ornato", "Grupo: Vialidad", "Semana del", "Comunas",
                  "Solicitudes por celda H3"):
        assert layer in html
    assert "L.control.layers" in html


def test_png_export_is_an_image(staff_client, two_reports):
    response = staff_client.get("/mapas/calor/mapa.png", {"res": 9})
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.django_db
def test_classification_scheme_and_class_count_are_read_from_the_form():
    from geo_siac.maps.forms import HeatmapFilterForm

    form = HeatmapFilterForm({"scheme": "natural_breaks", "classes": "4"})
    assert form.is_valid(), form.errors
    assert (form.classification, form.class_count) == ("natural_breaks", 4)
