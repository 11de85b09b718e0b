"""/api/cercanos/: the open public reports around the report page's pin, placed as every public output places them
(reports.privacy): a non-public report at its published cell's centre or not at all, never at its point."""

import io
import json
import math
from datetime import datetime

import pytest
from django.core.management import call_command
from h3.api import basic_int as h3i

from geo_siac.reports.deadlines import SANTIAGO, local_day
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import PUENTE_ALTO_CENTRE

K = 3
LAT, LNG = PUENTE_ALTO_CENTRE


def north(metres: float) -> tuple[float, float]:
    return LAT + metres / 111_320, LNG


def east(metres: float) -> tuple[float, float]:
    return LAT, LNG + metres / (111_320 * math.cos(math.radians(LAT)))


def nearby(client, point=PUENTE_ALTO_CENTRE):
    response = client.get("/api/cercanos/", {"lat": point[0], "lon": point[1]})
    assert response.status_code == 200, response.content
    return response


def coordinate_texts(lat: float, lng: float) -> list[str]:
    """The point written as a page or a script could write it, down to about 10 m."""
    return [f"{value:.{digits}f}" for value in (lat, lng) for digits in (4, 5, 6)] + [repr(lat), repr(lng)]


def test_an_open_public_report_near_the_pin_is_shown_at_its_point_with_a_link_to_follow_it(client, make_report):
    report = make_report(point=north(100), public_visibility=True)
    (feature,) = nearby(client).json()["features"]
    assert feature["geometry"]["coordinates"] == [round(LNG, 6), round(north(100)[0], 6)]
    assert feature["properties"] == {
        "category": "Retiro de escombros",
        "status": "Recibida",
        "exact": True,
        "created_at": local_day(report.created_at).isoformat(),
        "url": f"/seguimiento/{report.tracking_code}/#seguir",
    }


def test_the_day_a_report_was_filed_is_the_local_day_not_utcs(client, make_report):
    report = make_report(point=north(100), public_visibility=True)
    # 22:30 in Santiago is already the next day in UTC: the vecino filed it on the 4th.
    Report.objects.filter(pk=report.pk).update(created_at=datetime(2026, 12, 4, 22, 30, tzinfo=SANTIAGO))
    (feature,) = nearby(client).json()["features"]
    assert feature["properties"]["created_at"] == "2026-12-04"


def test_closed_reports_and_reports_beyond_the_radius_are_not_shown(client, make_report):
    closed = make_report(point=north(50), public_visibility=True)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=closed, status="resolved")
    make_report(point=east(600), public_visibility=True)
    assert nearby(client).json()["features"] == []


def test_a_non_public_report_is_shown_only_at_its_published_cell_centre_never_at_its_point(
    client, make_report, settings
):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    private = [make_report(point=north(metres)) for metres in (10, 25, 40)]
    call_command("publish_open_data", stdout=io.StringIO())
    cell = private[0].__class__.objects.get(pk=private[0].pk).public_cell
    assert cell is not None
    centre = h3i.cell_to_latlng(cell)

    response = nearby(client, point=centre)
    body = response.content.decode()
    features = json.loads(body)["features"]
    assert len(features) == K
    for feature in features:
        assert feature["geometry"]["coordinates"] == [round(centre[1], 6), round(centre[0], 6)]
        assert feature["properties"]["exact"] is False and "url" not in feature["properties"]
    for report in private:
        assert report.tracking_code not in body
        for written in coordinate_texts(report.location.y, report.location.x):
            if written not in coordinate_texts(*centre):
                assert written not in body


def test_a_non_public_report_alone_in_its_cell_is_not_shown_at_all(client, make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    alone = make_report(point=north(10))
    call_command("publish_open_data", stdout=io.StringIO())
    alone.refresh_from_db()
    assert alone.public_cell is None
    assert nearby(client, point=north(10)).json()["features"] == []


@pytest.mark.parametrize("params", [{}, {"lat": "-33.6"}, {"lat": "nan", "lon": "-70.5"}, {"lat": "91", "lon": "0"}])
def test_bad_coordinates_are_a_400_naming_them(client, communes, params):
    response = client.get("/api/cercanos/", params)
    assert response.status_code == 400
    assert set(response.json()["errors"]) <= {"latitude", "longitude"} and response.json()["errors"]


def test_reports_near_the_pin_share_the_place_steps_per_client_limit(client, settings, communes):
    settings.GEO_SIAC_GEOCODE_REQUESTS_PER_WINDOW = 2
    for _ in range(2):
        nearby(client)
    response = client.get("/api/cercanos/", {"lat": LAT, "lon": LNG})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert client.get("/api/geocode/", {"q": "concha y toro"}).status_code == 429  # the same budget
