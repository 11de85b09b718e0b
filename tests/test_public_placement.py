"""Every public output places a non-public report by one rule (reports.privacy): at the cell the open data gives
it, which holds at least k reports of its comuna, or nowhere (issue 18, points 1 and 2).

`publish_open_data` is the step that decides the places; each test runs it as the hourly timer would."""

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections import Counter

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from h3.api import basic_int as h3i
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from geo_siac.reports.models import Report
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE
from geo_siac.zones.importers import import_communes

K = 3
CENTRE_CELL = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9)


def _publish() -> None:
    call_command("publish_open_data", stdout=io.StringIO())


def _body(response) -> str:
    assert response.status_code == 200, response.status_code
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _open_data(client) -> dict[str, dict]:
    """Open-data rows by report id."""
    rows = csv.DictReader(io.StringIO(_body(client.get("/transparencia/datos/solicitudes.csv"))))
    return {row["service_request_id"]: row for row in rows}


def _open311(client, pk: int) -> dict:
    (item,) = json.loads(_body(client.get(f"/open311/v2/requests/{pk}.json")))
    return item


def _open311_xml(client, pk: int) -> ET.Element:
    return ET.fromstring(client.get(f"/open311/v2/requests/{pk}.xml").content).find("request")


def _api(client, pk: int) -> dict:
    return json.loads(_body(client.get(f"/api/reports/{pk}/")))


def _centre(cell: int) -> tuple[float, float]:
    lat, lng = h3i.cell_to_latlng(cell)
    return round(lat, 6), round(lng, 6)


def _open311_ids(client, **params) -> set[int]:
    return {int(r["service_request_id"]) for r in json.loads(_body(client.get("/open311/v2/requests.json", params)))}


def _api_ids(client, **params) -> set[int]:
    return {f["id"] for f in json.loads(_body(client.get("/api/reports/", params)))["features"]}


@pytest.mark.django_db
def test_a_private_report_alone_in_its_cell_has_no_place_in_open311_the_api_or_any_search(
    client, make_report, settings
):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    crowd = [make_report() for _ in range(K)]
    alone = make_report(point=PENALOLEN_CENTRE)
    _publish()
    lat, lng = h3i.cell_to_latlng(alone.h3_res9)
    box = f"{lng - 0.001},{lat - 0.001},{lng + 0.001},{lat + 0.001}"

    assert "lat" not in _open311(client, alone.pk) and "long" not in _open311(client, alone.pk)
    assert _open311_xml(client, alone.pk).find("lat") is None
    assert _api(client, alone.pk)["geometry"] is None
    assert _api(client, alone.pk)["properties"]["location_precision"] == "none"
    assert alone.pk not in _open311_ids(client, bbox=box)
    assert alone.pk not in _open311_ids(client, lat=str(lat), long=str(lng), radius="500")
    assert alone.pk not in _api_ids(client, bbox=box)
    assert _open_data(client)[str(alone.pk)]["h3_cell"] == ""
    assert (_open311(client, crowd[0].pk)["lat"], _open311(client, crowd[0].pk)["long"]) == _centre(CENTRE_CELL)


def _res8_group(make_report) -> tuple[list[Report], int]:
    """K private reports, each alone in its res-9 cell, inside one res-8 cell: the open data places them there."""
    res8 = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 8)
    points = [
        h3i.cell_to_latlng(child)
        for child in sorted(h3i.cell_to_children(res8, 9))
        if h3i.latlng_to_cell(*h3i.cell_to_latlng(child), 8) == res8
    ][:K]
    return [make_report(point=point) for point in points], res8


@pytest.mark.django_db
def test_open311_the_api_and_searches_place_a_private_report_at_its_open_data_cell(client, make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    reports, res8 = _res8_group(make_report)
    _publish()
    lat, lng = h3i.cell_to_latlng(res8)
    around_res8_centre = f"{lng - 0.0005},{lat - 0.0005},{lng + 0.0005},{lat + 0.0005}"
    expected = {r.pk for r in reports}

    open_data = _open_data(client)
    for report in reports:
        assert open_data[str(report.pk)]["h3_cell"] == h3i.int_to_str(res8)
        item = _open311(client, report.pk)
        assert (item["lat"], item["long"]) == _centre(res8)
        xml = _open311_xml(client, report.pk)
        assert (float(xml.find("lat").text), float(xml.find("long").text)) == _centre(res8)
        feature = _api(client, report.pk)
        assert tuple(reversed(feature["geometry"]["coordinates"])) == _centre(res8)
        assert feature["properties"]["location_precision"] == "h3-res8-centre"
    assert _open311_ids(client, bbox=around_res8_centre) == expected
    assert _api_ids(client, bbox=around_res8_centre) == expected
    assert _open311_ids(client, lat=str(lat), long=str(lng), radius="50") == expected


def _border_points(cut_a: str, cut_b: str) -> tuple[tuple[float, float], tuple[float, float], int]:
    """A point on each side of the border of two comunas, in the same res-9 cell (that cell)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_ClosestPoint(a.geometry, b.geometry) AS p
                          FROM zones_commune a, zones_commune b WHERE a.cut = %s AND b.cut = %s) AS border""",
            [cut_a, cut_b],
        )
        cell = h3i.latlng_to_cell(*cursor.fetchone(), 9)
        ring = h3i.cell_to_boundary(cell)
        hexagon = "POLYGON((" + ", ".join(f"{lng} {lat}" for lat, lng in [*ring, ring[0]]) + "))"
        points = []
        for cut in (cut_a, cut_b):
            cursor.execute(
                """SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_PointOnSurface(ST_Intersection(geometry,
                              ST_GeomFromText(%s, 4326))) AS p FROM zones_commune WHERE cut = %s) AS side""",
                [hexagon, cut],
            )
            points.append(cursor.fetchone())
    assert all(h3i.latlng_to_cell(*point, 9) == cell for point in points)
    return points[0], points[1], cell


@pytest.mark.django_db
def test_a_cell_across_a_comuna_border_is_not_published_for_fewer_than_k_reports_of_one_comuna(
    client, make_report, settings
):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    import_communes(path=None, cuts=["13110"], commit=True)  # La Florida, beside Puente Alto
    puente_alto, la_florida, cell = _border_points("13201", "13110")
    reports = [make_report(point=puente_alto) for _ in range(K - 1)] + [make_report(point=la_florida)]
    assert {r.commune.cut for r in reports} == {"13201", "13110"} and {r.h3_res9 for r in reports} == {cell}
    _publish()

    open_data = _open_data(client)
    per_place = Counter((row["h3_cell"], row["comuna_cut"]) for row in open_data.values() if row["h3_cell"])
    assert all(n >= K for n in per_place.values()), per_place
    for report in reports:
        assert open_data[str(report.pk)]["h3_cell"] == ""
        assert "lat" not in _open311(client, report.pk)


def _split_res9_cell() -> tuple[int, int, tuple[float, float]]:
    """A res-9 cell, its H3 parent, and a point of the cell whose own res-8 cell is another one (H3 is not nested)."""
    for cell in (c for ring in range(4) for c in sorted(h3i.grid_ring(CENTRE_CELL, ring))):
        parent = h3i.cell_to_parent(cell, 8)
        centre_lat, centre_lng = h3i.cell_to_latlng(cell)
        for lat, lng in h3i.cell_to_boundary(cell):
            point = (centre_lat + (lat - centre_lat) * 0.9, centre_lng + (lng - centre_lng) * 0.9)
            if h3i.latlng_to_cell(*point, 9) == cell and h3i.latlng_to_cell(*point, 8) != parent:
                return cell, parent, point
    raise AssertionError("no split cell near the centre")


@pytest.mark.django_db
def test_the_public_map_shows_the_open_data_cells_with_the_number_of_rows_placed_there(client, make_report, settings):
    """The map's coarser cells are the open data's (the stored cells), not H3 parents: a map cell the open data
    does not have, or with another count, would let the two be subtracted."""
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 2
    cell, parent, split_point = _split_res9_cell()
    beside = next(
        c
        for c in h3i.cell_to_children(parent, 9)
        if c != cell and h3i.latlng_to_cell(*h3i.cell_to_latlng(c), 8) == parent
    )
    make_report(point=split_point)
    make_report(point=h3i.cell_to_latlng(beside))
    _publish()

    rows_per_cell = Counter(row["h3_cell"] for row in _open_data(client).values() if row["h3_cell"])
    shown = {
        f["properties"]["h3"]: f["properties"]["count"]
        for f in client.get("/transparencia/celdas.geojson").json()["features"]
    }

    assert shown == {place: n for place, n in rows_per_cell.items() if n >= 2}


# Where random reports go: a few spots around Puente Alto's centre, some alone, some sharing cells at every level.
SPOTS = [
    (PUENTE_ALTO_CENTRE[0] + dlat, PUENTE_ALTO_CENTRE[1] + dlng)
    for dlat, dlng in [
        (0, 0),
        (0.0004, -0.0003),
        (0.004, -0.002),
        (-0.006, -0.008),
        (0.011, -0.012),
        (-0.011, -0.02),
        (0.008, -0.024),
    ]
]
report_sets = st.lists(st.tuples(st.sampled_from(SPOTS), st.booleans()), min_size=1, max_size=14)


def _shown_places(client, pk: int) -> list[tuple[str, tuple[float, float] | None]]:
    """(output, point) for every public output that can give report `pk` a place."""
    item, xml, feature = _open311(client, pk), _open311_xml(client, pk), _api(client, pk)
    listed = [f for f in json.loads(_body(client.get("/api/reports/")))["features"] if f["id"] == pk]
    in_list = [
        r for r in json.loads(_body(client.get("/open311/v2/requests.json"))) if r["service_request_id"] == str(pk)
    ]
    places = [
        ("open311 json", (item["lat"], item["long"]) if "lat" in item else None),
        (
            "open311 xml",
            None if xml.find("lat") is None else (float(xml.find("lat").text), float(xml.find("long").text)),
        ),
        ("open311 list", (in_list[0]["lat"], in_list[0]["long"]) if "lat" in in_list[0] else None),
    ]
    for name, f in [("api", feature), ("api list", listed[0])]:
        places.append((name, None if f["geometry"] is None else tuple(reversed(f["geometry"]["coordinates"]))))
    return places


@pytest.mark.django_db
@hypothesis_settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=report_sets, k=st.integers(min_value=2, max_value=4))
def test_no_public_output_places_a_private_report_in_a_cell_of_fewer_than_k_reports(
    client, make_report, settings, drawn, k
):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = k
    Report.objects.all().delete()
    cache.clear()  # the map's cells of the previous example
    reports = [make_report(point=point, public_visibility=public) for point, public in drawn]
    _publish()
    open_data = _open_data(client)
    placed = Counter((row["h3_cell"], row["comuna_cut"]) for row in open_data.values() if row["h3_cell"])
    map_cells = {f["properties"]["h3"] for f in client.get("/transparencia/celdas.geojson").json()["features"]}
    lat, lng = PUENTE_ALTO_CENTRE
    duplicates = json.loads(
        _body(client.get("/api/duplicados/", {"category": "retiro-escombros", "latitude": lat, "longitude": lng}))
    )["results"]

    assert all(n >= k for n in placed.values()), placed
    assert map_cells <= {cell for cell, _cut in placed}
    assert {d["tracking_code"] for d in duplicates} <= {r.tracking_code for r in reports if r.public_visibility}
    for report in (r for r in reports if not r.public_visibility):
        row = open_data[str(report.pk)]
        cell = h3i.str_to_int(row["h3_cell"]) if row["h3_cell"] else None
        if cell is not None:
            assert getattr(report, f"h3_res{h3i.get_resolution(cell)}") == cell
        expected = None if cell is None else _centre(cell)
        assert _shown_places(client, report.pk) == [
            (name, expected) for name in ("open311 json", "open311 xml", "open311 list", "api", "api list")
        ]
