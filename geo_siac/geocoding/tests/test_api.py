"""GET /api/geocode/ and /api/geocode/reverse/: GeoJSON for the pages and other clients, limited per client."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.services import Entry, gazetteer_load

CROSSING = (-70.59849, -33.57794)


@pytest.fixture
def gazetteer(communes):
    gazetteer_load(
        source="prueba",
        commit=True,
        entries=[
            Entry(EntryKind.ADDRESS, "Av. Concha y Toro 1820", -70.58450, -33.59830, "a1", number=1820),
            Entry(EntryKind.INTERSECTION, "Av. Ejército Libertador / Esq. Pedro Núñez F.", *CROSSING, "i1"),
        ],
    )


def test_search_answers_a_feature_collection_best_first_with_label_kind_and_comuna(client, gazetteer):
    body = client.get("/api/geocode/", {"q": "CONCHA Y TORO #1820"}).json()
    assert body["type"] == "FeatureCollection"
    assert body["features"][0] == {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-70.5845, -33.5983]},
        "properties": {"label": "Av. Concha y Toro 1820", "kind": "address", "comuna": "Puente Alto", "cut": "13201"},
    }


def test_a_word_unaccent_lengthens_past_the_edit_distance_limit_is_not_found_not_a_500(client, gazetteer):
    # 130 characters pass MAX_QUERY_LENGTH; unaccent reads each "ß" as "ss", one word of 260 letters.
    response = client.get("/api/geocode/", {"q": "ß" * 130})
    assert response.status_code == 200
    assert response.json() == {"type": "FeatureCollection", "features": []}
    assert client.get("/api/geocode/", {"q": "concha y toro " + "ﬃ" * 90}).json()["features"] == []


def test_a_misspelt_search_still_finds_when_a_name_holds_a_word_too_long_to_measure(client, gazetteer):
    gazetteer_load(
        source="prueba-largo",
        commit=True,
        entries=[Entry(EntryKind.PLACE, "Plaza " + "a" * 260, -70.5800, -33.5900, "p1")],
    )
    labels = [
        f["properties"]["label"] for f in client.get("/api/geocode/", {"q": "concha y tora 1820"}).json()["features"]
    ]
    assert labels[0] == "Av. Concha y Toro 1820"


def test_search_in_another_served_comuna_only_finds_nothing_there(client, gazetteer):
    assert client.get("/api/geocode/", {"q": "concha y toro 1820", "comuna": "13122"}).json()["features"] == []


def test_reverse_describes_a_dropped_pin(client, gazetteer):
    body = client.get("/api/geocode/reverse/", {"lat": CROSSING[1], "lon": CROSSING[0] + 0.0002}).json()
    properties = body["features"][0]["properties"]
    assert properties["description"] == "cerca de Av. Ejército Libertador / Esq. Pedro Núñez F."
    assert properties["kind"] == "intersection" and 15 < properties["distance_m"] < 25


def test_reverse_far_from_everything_is_an_empty_collection(client, gazetteer):
    assert client.get("/api/geocode/reverse/", {"lat": -33.0, "lon": -71.0}).json() == {
        "type": "FeatureCollection",
        "features": [],
    }


@pytest.mark.parametrize(
    "url,params,field",
    [
        ("/api/geocode/", {}, "q"),
        ("/api/geocode/", {"q": "a\x00b"}, "q"),
        ("/api/geocode/", {"q": "x" * 201}, "q"),
        ("/api/geocode/", {"q": "concha", "limit": "0"}, "limit"),
        ("/api/geocode/", {"q": "concha", "comuna": "Puente Alto"}, "comuna"),
        ("/api/geocode/reverse/", {"lat": "-33.6"}, "lon"),
        ("/api/geocode/reverse/", {"lat": "91", "lon": "-70.5"}, "lat"),
        ("/api/geocode/reverse/", {"lat": "nan", "lon": "-70.5"}, "lat"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(client, gazetteer, url, params, field):
    response = client.get(url, params)
    assert response.status_code == 400
    assert field in response.json() or field in str(response.json())


def test_a_client_past_its_limit_gets_429_with_retry_after_and_others_are_still_served(client, gazetteer, settings):
    settings.GEO_SIAC_GEOCODE_REQUESTS_PER_WINDOW = 3
    for _ in range(3):
        assert client.get("/api/geocode/", {"q": "concha y toro"}).status_code == 200
    refused = client.get("/api/geocode/reverse/", {"lat": CROSSING[1], "lon": CROSSING[0]})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert client.get("/api/geocode/", {"q": "concha"}, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_both_endpoints_are_in_the_openapi_document(client, communes):
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {"q", "limit", "comuna"} <= {p["name"] for p in paths["/api/geocode/"]["get"]["parameters"]}
    assert {"lat", "lon"} <= {p["name"] for p in paths["/api/geocode/reverse/"]["get"]["parameters"]}


def test_a_number_the_street_lacks_is_answered_as_the_street_without_the_number(client, gazetteer):
    gazetteer_load(
        source="calles",
        commit=True,
        entries=[Entry(EntryKind.STREET, "Av. Ejército Libertador", -70.5985, -33.576, "s")],
    )
    first = client.get("/api/geocode/", {"q": "Ejército Libertador 8000"}).json()["features"][0]["properties"]
    assert (first["label"], first["kind"], first["precision"]) == (
        "Av. Ejército Libertador",
        "street",
        "number_unknown",
    )
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    schema = paths["/api/geocode/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    described = json.dumps(schema, ensure_ascii=False)
    assert "en el medio" not in described and "number_unknown, la calle misma" in described


def test_reverse_describes_the_pin_in_english_for_an_english_client(client, gazetteer):
    body = client.get("/api/geocode/reverse/", {"lat": CROSSING[1], "lon": CROSSING[0]}, HTTP_ACCEPT_LANGUAGE="en")
    assert (
        body.json()["features"][0]["properties"]["description"] == "near Av. Ejército Libertador / Esq. Pedro Núñez F."
    )


HOSTILE = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "",
            "NaN",
            "inf",
            "-inf",
            "1e309",
            "' OR 1=1 --",
            "%",
            "_",
            "\\",
            "a\x00b",
            "\u202e",
            "ñandú",
            "9" * 30,
            "1" * 500,
            "con",
            "esq.",
            "/",
            " con / & ",
            "Av. # N°",
            "zzzz",
            "-33.6",
            "-70.59",
        ]
    ),
)


# Fewer examples than GEO_SIAC_GEOCODE_REQUESTS_PER_WINDOW (120), so none is a 429.
@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    url=st.sampled_from(["/api/geocode/", "/api/geocode/reverse/"]),
    query=st.dictionaries(st.sampled_from(["q", "limit", "comuna", "lat", "lon"]), HOSTILE, max_size=4),
)
def test_any_query_string_is_answered_below_500(client, gazetteer, url, query):
    response = client.get(url, query)
    assert response.status_code in (200, 400), response.content


@pytest.fixture
def named_places(communes):
    gazetteer_load(
        source="prueba-mapa",
        commit=True,
        entries=[
            Entry(EntryKind.PLACE, "Metro Las Mercedes", -70.5810, -33.5990, "p1"),
            Entry(EntryKind.STREET, "Av. Concha y Toro", -70.5840, -33.6000, "s1"),
            Entry(EntryKind.ADDRESS, "Av. Concha y Toro 1820", -70.58450, -33.59830, "a1", number=1820),
            Entry(EntryKind.PLACE, "Plaza lejana", -70.5500, -33.6300, "p2"),
        ],
    )


def test_places_in_a_box_name_the_map_without_tiles_places_first(client, named_places):
    body = client.get("/api/geocode/places/", {"bbox": "-70.59,-33.61,-70.57,-33.59"}).json()
    assert [(f["properties"]["label"], f["properties"]["kind"]) for f in body["features"]] == [
        ("Metro Las Mercedes", "place"),
        ("Av. Concha y Toro", "street"),
    ]
    assert body["features"][0]["geometry"]["coordinates"] == [-70.581, -33.599]


@pytest.mark.parametrize(
    "bbox",
    [
        "-70.59,-33.61,-70.57",
        "a,b,c,d",
        "-70.57,-33.61,-70.59,-33.59",
        "-70.7,-33.61,-70.5,-33.59",
        "nan,-33.61,-70.57,-33.59",
    ],
)
def test_a_bad_or_too_wide_box_is_a_400_naming_bbox(client, named_places, bbox):
    response = client.get("/api/geocode/places/", {"bbox": bbox})
    assert response.status_code == 400 and "bbox" in response.json()


def test_places_share_the_search_limit_per_client(client, named_places, settings):
    settings.GEO_SIAC_GEOCODE_REQUESTS_PER_WINDOW = 2
    client.get("/api/geocode/", {"q": "concha"})
    assert client.get("/api/geocode/places/", {"bbox": "-70.59,-33.61,-70.57,-33.59"}).status_code == 200
    refused = client.get("/api/geocode/places/", {"bbox": "-70.59,-33.61,-70.57,-33.59"})
    assert refused.status_code == 429 and refused["Retry-After"]
