"""/api/duplicados/: open reports of the same category within the category's radius, without personal data."""

import math
from datetime import datetime

import pytest

from geo_siac.catalogue.models import Category
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import PUENTE_ALTO_CENTRE

LAT, LNG = PUENTE_ALTO_CENTRE


def north_of_centre(metres: float) -> tuple[float, float]:
    return LAT + metres / 111_320, LNG


def east_of_centre(metres: float) -> tuple[float, float]:
    return LAT, LNG + metres / (111_320 * math.cos(math.radians(LAT)))


@pytest.fixture
def make_public_report(make_report):
    return lambda **kwargs: make_report(public_visibility=True, **kwargs)


def duplicates(client, category="retiro-escombros", point=PUENTE_ALTO_CENTRE):
    return client.get("/api/duplicados/", {"category": category, "latitude": point[0], "longitude": point[1]})


def test_open_report_20_m_away_is_suggested_with_its_distance(client, make_public_report):
    existing = make_public_report(point=north_of_centre(20))
    body = duplicates(client).json()
    assert body["radius_m"] == 50
    assert [(r["tracking_code"], r["distance_m"]) for r in body["results"]] == [(existing.tracking_code, 20)]
    assert body["results"][0]["url"] == f"/seguimiento/{existing.tracking_code}/"


def test_a_suggestion_is_dated_by_the_local_day_it_was_filed_not_utcs(client, make_public_report):
    existing = make_public_report(point=north_of_centre(20))
    # 22:30 in Santiago is already the next day in UTC: the vecino filed it on the 4th.
    Report.objects.filter(pk=existing.pk).update(created_at=datetime(2026, 12, 4, 22, 30, tzinfo=SANTIAGO))
    (found,) = duplicates(client).json()["results"]
    assert found["created_at"] == "2026-12-04"


def test_reports_beyond_the_radius_of_another_category_or_closed_are_not_suggested(client, make_public_report):
    make_public_report(point=east_of_centre(80))
    make_public_report(point=north_of_centre(10), category="microbasural")
    closed = make_public_report(point=north_of_centre(5))
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=closed, status="resolved")
    assert duplicates(client).json()["results"] == []


def test_radius_is_read_from_the_category(client, make_public_report):
    Category.objects.filter(service_code="retiro-escombros").update(duplicate_radius_m=100)
    make_public_report(point=east_of_centre(80))
    assert len(duplicates(client).json()["results"]) == 1


def test_private_reports_are_never_suggested_so_probing_cannot_locate_them(client, make_report):
    make_report(point=north_of_centre(10))
    assert duplicates(client).json()["results"] == []


def test_suggestions_carry_no_personal_data_nor_coordinates(client, make_public_report):
    make_public_report(
        point=north_of_centre(15),
        reporter_name="Rosa Pérez",
        reporter_email="rosa@example.cl",
        reporter_phone="+56 9 8765 4321",
        description="Frente a mi casa",
    )
    text = duplicates(client).content.decode()
    for secret in ("Rosa", "rosa@example.cl", "8765", "Frente a mi casa", f"{LAT + 15 / 111_320:.4f}"):
        assert secret not in text


def test_bad_query_gets_field_errors(client, communes):
    response = client.get("/api/duplicados/", {"category": "no-existe", "latitude": "x"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"category", "latitude", "longitude"}
