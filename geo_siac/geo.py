"""Geometry conventions shared by every app: one storage SRID, one metric CRS, H3 cells as 64-bit ints."""

import numpy as np
from h3.api import basic_int as h3i

STORAGE_SRID = 4326  # WGS84 longitude/latitude, for every stored geometry.
METRIC_SRID = 32719  # UTM zone 19S: metres over central Chile (Santiago lies in it).
H3_RESOLUTIONS = (6, 7, 8, 9, 10)


def h3_field(res: int) -> str:
    return f"h3_res{res}"


_RES_SHIFT = 52
_RES_MASK = 0xF << _RES_SHIFT


def h3_parents(cells: np.ndarray, res: int) -> np.ndarray:
    """Vectorised h3 cell_to_parent for int64 cells of a finer resolution: set the resolution field to `res`
    and every digit below it to 7 (unused), as the H3 index layout defines. Tested against h3 itself."""
    unused_digits = (1 << (3 * (15 - res))) - 1
    return (cells & ~np.int64(_RES_MASK)) | np.int64(res << _RES_SHIFT) | np.int64(unused_digits)


def h3_cells(lat: float, lng: float) -> dict[str, int]:
    """The point's H3 cell at every stored resolution, keyed by model field name."""
    finest = h3i.latlng_to_cell(lat, lng, H3_RESOLUTIONS[-1])
    return {h3_field(res): h3i.cell_to_parent(finest, res) for res in H3_RESOLUTIONS}
