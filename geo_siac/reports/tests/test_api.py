import h3
import pytest

from geo_siac.reports.services import report_change_status
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE


def features(client, **query) -> list[dict]:
    response = client.get("/api/reports/", query)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return body["features"]


def ids(found) -> set[int]:
    return {feature["id"] for feature in found}


def test_reports_are_geojson_features_with_public_fields_only(client, make_report):
    report = make_report(public_visibility=True, reporter_name="Ana Rojas", reporter_email="ana@example.cl")
    (feature,) = features(client)
    assert feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == [pytest.approx(PUENTE_ALTO_CENTRE[1]),
                                                  pytest.approx(PUENTE_ALTO_CENTRE[0])]
    assert feature["properties"]["category"] == "retiro-escombros"
    assert feature["properties"]["commune"] == "13201"
    assert feature["properties"]["location_precision"] == "exact"
    assert "Ana" not in str(feature) and "ana@" not in str(feature) and report.tracking_code not in str(feature)


def test_private_reports_show_their_h3_cell_centre_without_address_or_description(client, make_report):
    report = make_report(public_visibility=False, address="Pasaje Los Aromos 123", description="Mi casa")
    (feature,) = features(client)
    lat, lng = h3.cell_to_latlng(h3.int_to_str(report.h3_res9))
    assert feature["geometry"]["coordinates"] == [pytest.approx(lng, abs=1e-6), pytest.approx(lat, abs=1e-6)]
    assert feature["properties"]["location_precision"] == "h3-res9-centre"
    assert feature["properties"]["address"] == "" and feature["properties"]["description"] == ""


def test_reports_filter_by_commune_category_status_dates_and_bbox(client, make_report):
    alto = make_report(public_visibility=True)
    penalolen = make_report(point=PENALOLEN_CENTRE, category="grafiti", public_visibility=True)
    report_change_status(report=penalolen, status="resolved")
    assert ids(features(client, commune="13201")) == {alto.pk}
    assert ids(features(client, category="grafiti")) == {penalolen.pk}
    assert ids(features(client, status="resolved")) == {penalolen.pk}
    assert ids(features(client, created_after=alto.created_at.isoformat())) == {alto.pk, penalolen.pk}
    assert ids(features(client, created_before="2000-01-01T00:00:00Z")) == set()
    lat, lng = PENALOLEN_CENTRE
    assert ids(features(client, bbox=f"{lng - 0.01},{lat - 0.01},{lng + 0.01},{lat + 0.01}")) == {penalolen.pk}


@pytest.mark.parametrize("query", [{"bbox": "a,b,c,d"}, {"bbox": "10,10,0,0"}, {"status": "perdida"},
                                   {"created_after": "ayer"}])
def test_bad_filters_are_400(client, communes, query):
    assert client.get("/api/reports/", query).status_code == 400


def test_reports_are_paginated(client, make_report):
    for _ in range(3):
        make_report()
    body = client.get("/api/reports/", {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["features"]) == 2 and body["next"]


def test_categories_list_public_categories_with_their_questions(client, communes):
    body = client.get("/api/categories/").json()
    poda = next(item for item in body["results"] if item["service_code"] == "poda-arboles")
    assert poda["name"] == "Poda de árboles" and poda["attributes"][0]["code"] == "riesgo"
    assert client.get("/api/categories/poda-arboles/").json()["group"] == "Aseo y ornato"
