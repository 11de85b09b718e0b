""" "Open reports near a point" has one answer (reports.selectors.within_m): the citizen's duplicates, the operator
console and Open311's lat/long/radius agree at the edge of the radius, measured on the spheroid."""

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.urls import reverse
from h3.api import basic_int as h3i

from geo_siac.catalogue.models import Category
from geo_siac.geo import WGS84
from geo_siac.open311.tests.contract import get, items
from geo_siac.reports.models import Report
from geo_siac.reports.selectors import within_m
from geo_siac.testing import PUENTE_ALTO_CENTRE

LAT, LNG = PUENTE_ALTO_CENTRE
CATEGORY = "retiro-escombros"


def at(metres: float, azimuth: float, origin=PUENTE_ALTO_CENTRE) -> tuple[float, float]:
    """The point `metres` away from `origin` along a geodesic leaving at `azimuth` degrees (WGS84): exact."""
    lng, lat, _ = WGS84.fwd(origin[1], origin[0], azimuth, metres)
    return lat, lng


@pytest.fixture
def edge(make_report):
    """One public report just inside the category's radius and one just outside, in other directions."""
    radius = Category.objects.get(service_code=CATEGORY).duplicate_radius_m
    inside = make_report(point=at(radius - 0.5, 37), public_visibility=True)
    outside = make_report(point=at(radius + 0.5, 200), public_visibility=True)
    return radius, inside, outside


def citizen_duplicates(client) -> list[str]:
    response = client.get("/api/duplicados/", {"category": CATEGORY, "latitude": LAT, "longitude": LNG})
    return [r["tracking_code"] for r in response.json()["results"]]


def operator_nearby(client) -> list[str]:
    response = client.get(reverse("operator:nearby"), {"lat": LAT, "lng": LNG, "category": CATEGORY})
    return [r["tracking_code"] for r in response.json()["reports"]]


def open311_near(client, radius: float) -> set[int]:
    response, body = get(client, "requests", "json", lat=str(LAT), long=str(LNG), radius=str(radius))
    assert response.status_code == 200, body
    return {int(item["service_request_id"]) for item in items(body, "json", "service_requests", "request")}


def test_every_caller_finds_the_report_half_a_metre_inside_the_radius_and_not_the_one_half_a_metre_outside(
    client, crews, edge
):
    radius, inside, outside = edge
    assert citizen_duplicates(client) == [inside.tracking_code]
    assert open311_near(client, radius) == {inside.pk}
    client.force_login(crews["operator"])
    assert operator_nearby(client) == [inside.tracking_code]
    filed = client.post(
        reverse("operator:new"),
        {
            "channel": "phone",
            "category": CATEGORY,
            "latitude": LAT,
            "longitude": LNG,
            "description": "Llamó un vecino por escombros",
            "address": "Plaza de Puente Alto",
        },
        follow=True,
    )
    assert [d.tracking_code for d in filed.context["duplicates"]] == [inside.tracking_code]


def test_a_private_report_is_placed_by_its_published_cells_centre_measured_on_the_spheroid(client, make_report):
    report = make_report()
    cell = h3i.latlng_to_cell(LAT, LNG, 8)
    Report.objects.filter(pk=report.pk).update(public_cell=cell)
    centre = h3i.cell_to_latlng(cell)
    # Along a meridian a sphere's kilometre is 3 m longer than the spheroid's here: a sphere would miss the first.
    just_inside, just_outside = at(999.5, 0, origin=centre), at(1000.5, 0, origin=centre)
    for (lat, lng), expected in ((just_inside, {report.pk}), (just_outside, set())):
        response, body = get(client, "requests", "json", lat=str(lat), long=str(lng), radius="1000")
        assert {int(i["service_request_id"]) for i in items(body, "json", "service_requests", "request")} == expected


def test_the_citizen_sees_only_public_reports_near_the_point_and_the_operator_every_open_one(
    client, crews, make_report
):
    private = make_report(point=at(10, 90))
    public = make_report(point=at(20, 90), public_visibility=True)
    assert citizen_duplicates(client) == [public.tracking_code]
    client.force_login(crews["operator"])
    assert operator_nearby(client) == [private.tracking_code, public.tracking_code]  # nearest first


def test_the_search_reaches_the_location_index(make_report):
    """Without the box before ST_DWithin on geography, no plan could use the GiST index on the geometry. The rule
    alone is explained: with the category and status filters, statistics left by earlier tests may favour another
    index, which says nothing about the rule. A few thousand reports elsewhere, analysed, make the table one whose
    statistics any run order leaves the same (tests share the database in turn)."""
    make_report()
    columns = [f.column for f in Report._meta.concrete_fields if f.column not in ("id", "tracking_code", "location")]
    width = Report._meta.get_field("tracking_code").max_length
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Report._meta.db_table} (tracking_code, location, {', '.join(columns)}) "
            f"SELECT left(md5(g::text), {width}), ST_Translate(location, 0.02 + (g % 60) * 0.002, (g / 60) * 0.002), "
            f"{', '.join(columns)} FROM {Report._meta.db_table}, generate_series(1, 3000) AS g"
        )
        cursor.execute(f"ANALYZE {Report._meta.db_table}")
    reports = Report.objects.filter(within_m(Point(LNG, LAT, srid=4326), 300))
    index = next(
        name
        for name, spec in connection.introspection.get_constraints(connection.cursor(), Report._meta.db_table).items()
        if spec["columns"] == ["location"] and spec["index"]
    )
    with connection.cursor() as cursor:
        # The reports are partitioned by year: a plan scans each partition's copy of the index.
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [index],
        )
        copies = {index} | {name for (name,) in cursor.fetchall()}
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = reports.explain()
    assert len(copies) > 1 and any(f"using {name} " in plan or f"on {name}" in plan for name in copies), plan
