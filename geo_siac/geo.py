"""Geometry conventions shared by every app: one storage SRID, one metric CRS, distances on the spheroid, H3 cells as
64-bit ints."""

import math
from collections.abc import Sequence

import numpy as np
from h3.api import basic_int as h3i
from pyproj import Geod

STORAGE_SRID = 4326  # WGS84 longitude/latitude, for every stored geometry.
METRIC_SRID = 32719  # UTM zone 19S: metres over central Chile (Santiago lies in it).
H3_RESOLUTIONS = (6, 7, 8, 9, 10)

# Distances in metres are measured on the WGS84 spheroid, as PostGIS measures geography (both by Karney's method).
WGS84 = Geod(ellps="WGS84")
# The fewest metres a degree of latitude spans (at the equator: a(1 - e²)·π/180), and the equatorial radius.
MIN_METRES_PER_DEGREE_LATITUDE = 110_574.27
EQUATORIAL_RADIUS_M = 6_378_137.0


def geodesic_distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return WGS84.inv(lng1, lat1, lng2, lat2)[2]


def geodesic_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) in degrees, holding every point within radius_m metres of the point on the
    spheroid (0.1% more), so that a box test a GiST index answers can pick the candidates of an exact distance
    test; None when the circle reaches a pole or the antimeridian, where no such box holds it.

    No path of length r changes latitude by more than r / MIN_METRES_PER_DEGREE_LATITUDE, nor longitude by more than
    r over the shortest degree of a parallel it can reach (a·cos φ·π/180 bounds N·cos φ·π/180 from below)."""
    half_height = radius_m / MIN_METRES_PER_DEGREE_LATITUDE * 1.001
    farthest = abs(lat) + half_height
    if farthest >= 90:
        return None
    half_width = radius_m / (EQUATORIAL_RADIUS_M * math.cos(math.radians(farthest)) * math.pi / 180) * 1.001
    if lng - half_width < -180 or lng + half_width > 180:
        return None
    return lng - half_width, lat - half_height, lng + half_width, lat + half_height


def h3_field(res: int) -> str:
    return f"h3_res{res}"


# Each resolution is computed from the point, not as the parent of the finest cell: H3 is not exactly nested, and
# near cell edges a point's coarse cell differs from its fine cell's parent. Maps must bin like latlng_to_cell.
def h3_cells(lat: float, lng: float) -> dict[str, int]:
    """The point's H3 cell at every stored resolution, keyed by model field name."""
    return {h3_field(res): h3i.latlng_to_cell(lat, lng, res) for res in H3_RESOLUTIONS}


def h3_cells_many(lats: Sequence[float], lngs: Sequence[float]) -> dict[str, np.ndarray]:
    """:func:`h3_cells` for many points, as int64 arrays keyed by model field name."""
    lats, lngs = (
        np.asarray(lats, dtype=float).tolist(),
        np.asarray(lngs, dtype=float).tolist(),
    )  # floats, not numpy scalars: faster calls
    return {
        h3_field(res): np.fromiter(
            (h3i.latlng_to_cell(y, x, res) for y, x in zip(lats, lngs)), dtype=np.int64, count=len(lats)
        )
        for res in H3_RESOLUTIONS
    }
