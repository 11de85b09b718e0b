"""nearest_corners: each point of a table named by its nearest street corner, in one query for the whole table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.selectors import nearest_corners
from geo_siac.geocoding.services import Entry, gazetteer_load

CROSSING = (-70.59849, -33.57794)


@pytest.fixture
def corners(communes):
    gazetteer_load(
        source="prueba",
        entries=[
            Entry(EntryKind.INTERSECTION, "Av. Ejército Libertador / Esq. Pedro Núñez F.", *CROSSING, "i1"),
            Entry(EntryKind.INTERSECTION, "Av. Ejército Libertador / Esq. Omar Herrera G.", -70.59953, -33.57304, "i2"),
            # Nearer the first point than any corner, but an address is not a corner.
            Entry(EntryKind.ADDRESS, "Pedro Núñez F. 120", -70.59850, -33.57760, "a1", number=120),
        ],
        commit=True,
    )


def test_each_point_gets_its_nearest_corner_in_one_query_and_a_far_one_none(corners):
    points = [(-70.59852, -33.57750), (-70.59950, -33.57320), (-70.5000, -33.7000)]
    with CaptureQueriesContext(connection) as queries:
        found = nearest_corners(points)
    assert len(queries) == 1
    assert [place and place.description for place in found] == [
        "cerca de Av. Ejército Libertador / Esq. Pedro Núñez F.",
        "cerca de Av. Ejército Libertador / Esq. Omar Herrera G.",
        None,
    ]
    assert 45 < found[0].distance_m < 55


def test_no_points_ask_nothing(db):
    with CaptureQueriesContext(connection) as queries:
        assert nearest_corners([]) == []
    assert not queries
