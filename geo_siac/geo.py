"""Geometry conventions shared by every app: one storage SRID, one metric CRS, H3 cells as 64-bit ints."""

from collections.abc import Sequence

import numpy as np
from h3.api import basic_int as h3i

STORAGE_SRID = 4326  # WGS84 longitude/latitude, for every stored geometry.
METRIC_SRID = 32719  # UTM zone 19S: metres over central Chile (Santiago lies in it).
H3_RESOLUTIONS = (6, 7, 8, 9, 10)


def h3_field(res: int) -> str:
    return f"h3_res{res}"


# Each resolution is computed from the point, not as the parent of the finest cell: H3 is not exactly nested, and
# near cell edges a point's coarse cell differs from its fine cell's parent. Maps must bin like latlng_to_cell.
def h3_cells(lat: float, lng: float) -> dict[str, int]:
    """The point's H3 cell at every stored resolution, keyed by model field name."""
    return {h3_field(res): h3i.latlng_to_cell(lat, lng, res) for res in H3_RESOLUTIONS}


def h3_cells_many(lats: Sequence[float], lngs: Sequence[float]) -> dict[str, np.ndarray]:
    """:func:`h3_cells` for many points, as int64 arrays keyed by model field name."""
    lats, lngs = np.asarray(lats, dtype=float).tolist(), np.asarray(lngs, dtype=float).tolist()  # floats, not numpy scalars: faster calls
    return {
        h3_field(res): np.fromiter((h3i.latlng_to_cell(y, x, res) for y, x in zip(lats, lngs)), dtype=np.int64,
                                   count=len(lats))
        for res in H3_RESOLUTIONS
    }
