"""Overlaps and gaps between comuna boundaries, and the rule that splits each overlap (docs/boundaries.md).

Pure geometry: the importer passes the boundaries as their sources drew them and stores what comes back."""

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity

from geo_siac.geo import METRIC_SRID, STORAGE_SRID

# Vertices every 25 m along the two edges of an overlap (the midline is then within about 12 m of the exact one,
# against simplified sources whose edges are hundreds of metres off), and at most 2,000 per edge: a rural comuna's
# edges run for tens of kilometres (docs/performance.md, "Comuna overlaps").
MIDLINE_SPACING_M = 25.0
MIDLINE_POINTS = 2_000
METRES_PER_DEGREE = 111_320.0  # of latitude; a degree of longitude is that times cos(latitude)
# A gap's neighbours are the comunas within about a metre of it (the overlay leaves its edges a float apart).
NEIGHBOUR_TOLERANCE_DEG = 1.0 / METRES_PER_DEGREE


@dataclass(frozen=True)
class Overlap:
    cuts: tuple[str, str]
    area_m2: float


@dataclass(frozen=True)
class Gap:
    cuts: tuple[str, ...]
    area_m2: float


@dataclass(frozen=True)
class Layout:
    geometries: dict[str, shapely.MultiPolygon]  # by CUT, in degrees, no two overlapping
    overlaps: list[Overlap]  # between the boundaries as loaded, by CUT pair
    gaps: list[Gap]  # holes inside the union of the boundaries, largest first


def layout(boundaries: dict[str, shapely.MultiPolygon]) -> Layout:
    """Find the overlaps and gaps between `boundaries` (CUT -> MultiPolygon in degrees), with their areas in
    EPSG:32719, and split each overlap along its midline; comunas that overlap nothing come back unchanged.

    The cutting is done in degrees, where the boundaries' edges are straight: in UTM they would be straight
    between other points, and the pieces would no longer fit the edges they were cut from."""
    cuts = sorted(boundaries)
    shapes = [boundaries[cut] for cut in cuts]
    tree = shapely.STRtree(shapes)
    left, right = tree.query(shapes, predicate="intersects")
    pairs = sorted((i, j) for i, j in zip(left.tolist(), right.tolist()) if i < j)
    overlaps, pieces = [], []
    for i, j in pairs:
        overlap = polygonal(shapely.intersection(boundaries[cuts[i]], boundaries[cuts[j]]))
        if overlap is None:
            continue
        pieces.append(overlap)
        overlaps.append((cuts[i], cuts[j]))
        try:
            shapes[i], shapes[j] = split(shapes[i], shapes[j])
        except (ValueError, shapely.errors.GEOSException) as exc:  # GEOS fails on some degenerate overlaps
            raise ValueError(f"{cuts[i]} y {cuts[j]}: {exc}") from exc
    areas = [piece.area for piece in _metric(pieces)]
    return Layout(
        geometries=dict(zip(cuts, shapes)),
        overlaps=[Overlap(pair, area) for pair, area in zip(overlaps, areas)],
        gaps=_gaps([boundaries[cut] for cut in cuts], cuts, tree),
    )


def split(a, b):
    """`a` and `b` without their overlap, each keeping the part of it nearer its own side: the part next to `b`'s
    edge inside `a` (beyond which only `a` lies) goes to `a`, and the other way round. An overlap bounded by one
    comuna's edge alone is an enclave: it stays with that comuna and leaves the one around it."""
    overlap = polygonal(shapely.intersection(a, b))
    if overlap is None:
        return a, b
    a_side = shapely.difference(shapely.intersection(b.boundary, a), a.boundary)
    b_side = shapely.difference(shapely.intersection(a.boundary, b), b.boundary)
    if a_side.is_empty and b_side.is_empty:
        raise ValueError("los límites son iguales")
    if a_side.is_empty:  # b's edge never enters a: a lies inside b
        return a, polygonal(shapely.difference(b, overlap))
    if b_side.is_empty:
        return polygonal(shapely.difference(a, overlap)), b
    to_a = _nearer(overlap, a_side, b_side)
    to_b = shapely.difference(overlap, to_a)
    return polygonal(shapely.difference(a, to_b)), polygonal(shapely.difference(b, to_a))


def _nearer(area, near, far):
    """The part of `area` nearer the lines `near` than the lines `far`: the Voronoi cells of points along `near`.
    Distances are taken with longitude scaled by cos(latitude), metres to within 0.1% across a comuna, and the
    scaling keeps straight edges straight."""
    centre = area.centroid
    east = np.cos(np.radians(centre.y))
    # Centred on the overlap and rounded to about a centimetre: GEOS's Voronoi fails on points a float apart.
    to_metric = [east, 0, 0, 1, -centre.x * east, -centre.y]
    near_xy, far_xy = (_points(shapely.affinity.affine_transform(lines, to_metric)) for lines in (near, far))
    shared = set(near_xy) & set(far_xy)  # where the edges cross: neither side's
    near_xy = [p for p in near_xy if p not in shared]
    far_xy = [p for p in far_xy if p not in shared]
    points = shapely.multipoints(np.array(near_xy + far_xy))
    extent = shapely.affinity.affine_transform(area, to_metric)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=extent, ordered=True))
    # A cell comes as a collection holding its polygon when GEOS orders them by input point.
    near_cells = shapely.union_all([part for cell in cells[: len(near_xy)] for part in _polygons(cell)])
    back = [1 / east, 0, 0, 1, centre.x, centre.y]
    return shapely.intersection(shapely.affinity.affine_transform(near_cells, back), area)


def _points(lines) -> list[tuple[float, float]]:
    spacing = max(MIDLINE_SPACING_M / METRES_PER_DEGREE, lines.length / MIDLINE_POINTS)
    xy = shapely.get_coordinates(shapely.segmentize(lines, spacing))
    return list(dict.fromkeys(map(tuple, np.round(xy, 7).tolist())))


def _gaps(shapes, cuts, tree) -> list[Gap]:
    union = shapely.union_all(shapes)
    holes = [shapely.Polygon(ring) for part in shapely.get_parts(union) for ring in part.interiors]
    gaps = []
    for hole, area in zip(holes, [hole.area for hole in _metric(holes)]):
        near = tree.query(hole, predicate="dwithin", distance=NEIGHBOUR_TOLERANCE_DEG)
        gaps.append(Gap(tuple(sorted(cuts[k] for k in near)), area))
    return sorted(gaps, key=lambda gap: (-gap.area_m2, gap.cuts))


def polygonal(geometry) -> shapely.MultiPolygon | None:
    """Keep only the polygonal parts with an area (ST_MakeValid and clipping can leave lines, points or empty
    polygons behind), as one valid MultiPolygon."""
    parts = [part for part in _polygons(geometry) if not part.is_empty and part.area > 0]
    if not parts:
        return None
    result = shapely.MultiPolygon(parts)
    if not result.is_valid:  # parts of a valid collection may still share an edge, which a MultiPolygon may not
        result = shapely.MultiPolygon(_polygons(shapely.union_all(parts)))
    return result


def _polygons(geometry) -> list[shapely.Polygon]:
    out = []
    for part in shapely.get_parts(geometry):
        if part.geom_type == "Polygon":
            out.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            out.extend(_polygons(part))
    return out


def _metric(shapes):
    return gpd.GeoSeries(shapes, crs=STORAGE_SRID).to_crs(METRIC_SRID).values
