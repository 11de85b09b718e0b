"""Geometry conventions shared by every app: one storage SRID, one metric CRS, H3 cells as 64-bit ints."""

from h3.api import basic_int as h3i

STORAGE_SRID = 4326  # WGS84 longitude/latitude, for every stored geometry.
METRIC_SRID = 32719  # UTM zone 19S: metres over central Chile (Santiago lies in it).
H3_RESOLUTIONS = (6, 7, 8, 9, 10)


def h3_field(res: int) -> str:
    return f"h3_res{res}"


def h3_cells(lat: float, lng: float) -> dict[str, int]:
    """The point's H3 cell at every stored resolution, keyed by model field name."""
    finest = h3i.latlng_to_cell(lat, lng, H3_RESOLUTIONS[-1])
    return {h3_field(res): h3i.cell_to_parent(finest, res) for res in H3_RESOLUTIONS}
