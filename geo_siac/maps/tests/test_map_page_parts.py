"""The per-cell steps of the map page done in bulk give what they gave cell by cell."""

import json

import h3.api.basic_int as h3i
import numpy as np
import pytest

from geo_siac.maps.heatmap import MapClasses, _bounds, _centres, _outline
from geo_siac.maps.tests.conftest import ARROW_ZONE, multipolygon
from geo_siac.zones.models import Commune


def every_boundary(cells: list[int]) -> list[list[float]]:
    points = np.array([point for cell in cells for point in h3i.cell_to_boundary(cell)])
    (south, west), (north, east) = points.min(axis=0), points.max(axis=0)
    return [[float(south), float(west)], [float(north), float(east)]]


@pytest.mark.parametrize("res", [6, 8, 9, 10])
@pytest.mark.parametrize("centre", [(-33.45, -70.65), (-53.16, -70.91), (-18.48, -70.31), (0.0, 0.0), (-76.0, 179.9)])
def test_the_bounds_from_the_cells_near_the_edges_are_those_of_every_cell(res, centre):
    rng = np.random.default_rng(res)
    spread = 20 * h3i.average_hexagon_edge_length(res, unit="km") / 111
    points = np.asarray(centre) + rng.uniform(-spread, spread, (2000, 2))
    counts = {h3i.latlng_to_cell(lat, min(lng, 180.0), res): 1 for lat, lng in points}
    assert _bounds(counts, _centres(counts)) == every_boundary(list(counts))
    one = dict(list(counts.items())[:1])
    assert _bounds(one, _centres(one)) == every_boundary(list(one))


def test_the_class_of_many_values_is_that_of_each_value():
    classes = MapClasses(uppers=(1.0, 3.0, 7.0, 20.0), labels=("1", "2–3", "4–7", "8–20"), colours=tuple("abcd"))
    values = [0, 1, 2, 3, 3.5, 7, 8, 20, 21, None, 1.0000001, 0.5]
    assert classes.indices(values) == [classes.index(value) for value in values]
    assert classes.indices([]) == []


def test_an_edited_boundary_is_outlined_anew_and_the_old_one_is_kept(communes):
    commune = communes["13201"]
    original = _outline(commune)
    assert _outline(Commune.objects.get(pk=commune.pk)) == original
    Commune.objects.filter(pk=commune.pk).update(geometry=multipolygon(ARROW_ZONE["shell"]))
    edited = _outline(Commune.objects.get(pk=commune.pk))
    shell = [list(point) for point in (*ARROW_ZONE["shell"], ARROW_ZONE["shell"][0])]
    assert edited == {"type": "Polygon", "coordinates": [shell]}  # simplified to one part
    assert _outline(commune) == original  # an object read before the edit still has its own boundary's outline
    assert original != edited and original == json.loads(commune.geometry.simplify(0.0002, True).geojson)
