"""GeoDataFrame helpers shared by every app, beside geo.py: H3 cells as polygon frames, and area-weighted
interpolation of counts from zones onto cells (census population onto H3 cells, for zones and maps)."""

from typing import Any

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely


def areal_interpolate(zones: gpd.GeoDataFrame, columns: list[str], cells: gpd.GeoDataFrame) -> pd.DataFrame:
    """Area-weighted interpolation of extensive values (counts) from zones to cells.

    Each zone's values are split among cells by the share of the zone's area inside each cell.
    The part of a zone outside every cell is lost, so totals are conserved only when the cells
    cover the zones (see :func:`h3_cells_covering`); overlapping cells would count twice.
    Returns one row per cell (``cells.index``) and one column per name in ``columns``.
    """
    missing = [column for column in columns if column not in zones.columns]
    if missing:
        raise ValueError(f"Columnas inexistentes en zones: {', '.join(missing)}.")
    if zones.crs is None or zones.crs != cells.crs:
        raise ValueError("zones y cells deben tener el mismo CRS definido.")
    if not zones.crs.is_projected:
        raise ValueError(f"Se requiere un CRS proyectado en metros (p. ej. EPSG:32719), no {zones.crs.to_string()}.")
    zone_geoms = zones.geometry.to_numpy()
    cell_geoms = cells.geometry.to_numpy()
    zone_i, cell_i = cells.sindex.query(zone_geoms, predicate="intersects")
    overlap = shapely.area(shapely.intersection(zone_geoms[zone_i], cell_geoms[cell_i]))
    zone_area = shapely.area(zone_geoms)[zone_i]
    share = np.divide(overlap, zone_area, out=np.zeros_like(overlap), where=zone_area > 0)
    values = zones[columns].to_numpy(dtype=float)[zone_i] * share[:, None]
    result = np.zeros((len(cells), len(columns)))
    np.add.at(result, cell_i, values)
    return pd.DataFrame(result, index=cells.index, columns=columns)


def h3_cells_covering(geometry_wgs84: shapely.Geometry, res: int) -> list[str]:
    """Sorted H3 cells whose polygons intersect a lon/lat (EPSG:4326) geometry.

    Uses h3's ``contain="overlap"`` mode rather than cell centres, so area-weighted
    interpolation onto these cells loses nothing at the edges. Non-polygon parts are ignored.
    """
    cells: set[str] = set()
    for polygon in _polygons(geometry_wgs84):
        cells.update(h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(polygon), res, contain="overlap"))
    return sorted(cells)


def _polygons(geometry: shapely.Geometry) -> list[shapely.Polygon]:
    """Non-empty polygons inside a geometry, e.g. a GeometryCollection left by make_valid."""
    parts = np.array([geometry])
    while np.any(shapely.get_type_id(parts) >= shapely.GeometryType.MULTIPOINT):
        parts = shapely.get_parts(parts)
    return [part for part in parts if shapely.get_type_id(part) == shapely.GeometryType.POLYGON and not part.is_empty]


def h3_cells_gdf(cells: list[str], crs: Any = "EPSG:32719") -> gpd.GeoDataFrame:
    """Cell polygons indexed by cell id (index name ``cell``), projected to ``crs``."""
    # cell_to_boundary yields (lat, lng); shapely wants (x=lng, y=lat).
    polygons = [shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]) for cell in cells]
    index = pd.Index(list(cells), name="cell")
    return gpd.GeoDataFrame(geometry=polygons, index=index, crs="EPSG:4326").to_crs(crs)
