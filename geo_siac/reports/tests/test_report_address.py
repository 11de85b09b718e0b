"""A report filed without an address stores what is near its pin ("cerca de ..."), from the gazetteer
(issue 22: reverse geocoding); an address the citizen wrote is kept as written."""

import pytest
from django.utils import translation

from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.services import Entry, gazetteer_load

CROSSING = (-33.57794, -70.59849)  # lat, lng: Av. Ejército Libertador / Esq. Pedro Núñez F., Puente Alto


@pytest.fixture
def gazetteer(communes):
    gazetteer_load(
        source="prueba",
        commit=True,
        entries=[
            Entry(
                EntryKind.INTERSECTION, "Av. Ejército Libertador / Esq. Pedro Núñez F.", CROSSING[1], CROSSING[0], "i1"
            ),
            Entry(EntryKind.STREET, "Av. Ejército Libertador", -70.5985, -33.5760, "s1"),
        ],
    )


def near_crossing(metres_north: float) -> tuple[float, float]:
    return CROSSING[0] + metres_north / 111_320, CROSSING[1]


def test_a_report_without_an_address_stores_the_nearest_named_corner(make_report, gazetteer):
    report = make_report(point=near_crossing(30), address="  ")
    report.refresh_from_db()
    assert report.address == "cerca de Av. Ejército Libertador / Esq. Pedro Núñez F."


def test_the_stored_address_is_in_spanish_for_a_citizen_writing_in_english(make_report, gazetteer):
    with translation.override("en"):
        report = make_report(point=near_crossing(30), language="en")
    report.refresh_from_db()
    assert report.address == "cerca de Av. Ejército Libertador / Esq. Pedro Núñez F."


def test_the_address_the_citizen_wrote_is_kept(make_report, gazetteer):
    report = make_report(point=near_crossing(30), address="Frente al almacén Don Lucho")
    report.refresh_from_db()
    assert report.address == "Frente al almacén Don Lucho"


def test_a_pin_far_from_every_named_place_stores_no_address(make_report, gazetteer):
    report = make_report(point=near_crossing(-2000))
    report.refresh_from_db()
    assert report.address == ""
