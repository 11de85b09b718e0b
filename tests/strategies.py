"""Hypothesis strategies for hostile geometries: what a boundary, zone or census file, an admin map widget or a
bbox parameter may hold.

Shapes are drawn in a unit square and placed over Puente Alto in the file's coordinate reference system, so
most of them touch the comuna; "wild" numbers (NaN, infinities, 1e300, out-of-range degrees, metres where
degrees belong) replace some coordinates untransformed. Rings come closed or not, with duplicate points,
spikes and bow-ties; polygons with holes anywhere; sometimes a Z coordinate, a point, a line, a mixed
collection or no geometry at all."""

import json
import math

import shapely
from hypothesis import strategies as st

# Around Puente Alto (lon/lat -70.66..-70.48, -33.68..-33.53) in each CRS a file may declare.
FRAMES = {
    None: (-70.66, -33.68, -70.48, -33.53),  # no "crs" member: GeoJSON says WGS84
    "urn:ogc:def:crs:EPSG::4326": (-70.66, -33.68, -70.48, -33.53),
    "urn:ogc:def:crs:EPSG::32719": (346_122.0, 6_272_088.0, 362_571.0, 6_288_974.0),
    "urn:ogc:def:crs:EPSG::3857": (-7_865_835.0, -3_985_914.0, -7_845_798.0, -3_965_866.0),
    "urn:ogc:def:crs:EPSG::999999": (-70.66, -33.68, -70.48, -33.53),  # a code no registry knows
}
WILD = [math.nan, math.inf, -math.inf, 1e300, -1e300, 1e20, 200.0, -95.0, 0.0, 350_000.0, 6_280_000.0, -1e-300]

unit = st.floats(min_value=-0.2, max_value=1.2, allow_nan=False)
wild = st.sampled_from(WILD)


@st.composite
def unit_points(draw, count: int | None = None):
    """Points in the unit square, each coordinate sometimes replaced by a ("wild", number) pair."""
    points = []
    for _ in range(count or draw(st.integers(min_value=1, max_value=9))):
        x = draw(st.one_of(unit, unit, unit, unit, unit, unit, wild.map(lambda w: ("wild", w))))
        y = draw(st.one_of(unit, unit, unit, unit, unit, unit, wild.map(lambda w: ("wild", w))))
        points.append((x, y))
    return points


@st.composite
def unit_ring(draw):
    """A ring of unit points: random, a bow-tie or a box with a spike; closed, unclosed or with repeats."""
    kind = draw(st.sampled_from(["random", "bowtie", "spike", "box"]))
    a, b = draw(unit), draw(unit)
    c, d = draw(unit), draw(unit)
    if kind == "bowtie":
        points = [(a, b), (c, d), (a, d), (c, b)]
    elif kind == "spike":
        points = [(a, b), (c, b), (c, d), draw(st.tuples(unit, unit)), (c, d), (a, d)]
    elif kind == "box":
        points = [(a, b), (c, b), (c, d), (a, d)]
    else:
        points = draw(unit_points())
    if draw(st.booleans()):
        repeat = draw(st.integers(min_value=0, max_value=len(points) - 1))
        points.insert(repeat, points[repeat])
    if draw(st.integers(min_value=0, max_value=5)):  # mostly closed, as files should be
        points.append(points[0])
    return points


def place(value, low: float, high: float) -> float:
    if isinstance(value, tuple):  # ("wild", number): not placed
        return value[1]
    return low + value * (high - low)


def placed(ring, frame, z) -> list[list[float]]:
    west, south, east, north = frame
    out = []
    for x, y in ring:
        point = [place(x, west, east), place(y, south, north)]
        out.append(point + [z] if z is not None else point)
    return out


@st.composite
def polygon_coordinates(draw, frame, z):
    rings = [draw(unit_ring())] + draw(st.lists(unit_ring(), max_size=2))
    return [placed(ring, frame, z) for ring in rings]


@st.composite
def geojson_geometry(draw, frame):
    """A GeoJSON geometry object (or None) with coordinates in `frame`."""
    z = draw(st.one_of(st.none(), st.none(), st.none(), st.sampled_from([0.0, 512.5, math.nan])))
    kind = draw(st.sampled_from(["Polygon"] * 6 + ["MultiPolygon"] * 3 + ["Point", "LineString", "Collection", "null"]))
    if kind == "null":
        return None
    if kind == "Point":
        return {"type": "Point", "coordinates": placed(draw(unit_points(1)), frame, z)[0]}
    if kind == "LineString":
        return {"type": "LineString", "coordinates": placed(draw(unit_points(2)), frame, z)}
    if kind == "MultiPolygon":
        polygons = draw(st.lists(polygon_coordinates(frame, z), min_size=1, max_size=3))
        return {"type": "MultiPolygon", "coordinates": polygons}
    polygon = {"type": "Polygon", "coordinates": draw(polygon_coordinates(frame, z))}
    if kind == "Collection":
        point = {"type": "Point", "coordinates": placed(draw(unit_points(1)), frame, z)[0]}
        return {"type": "GeometryCollection", "geometries": [point, polygon]}
    return polygon


@st.composite
def feature_collections(draw, properties, max_features: int = 3):
    """(GeoJSON text, crs name or None, [(properties, geometry dict)]). `properties(i)` gives the i-th feature's
    properties; the crs member is one of FRAMES."""
    crs = draw(st.sampled_from(list(FRAMES)))
    count = draw(st.integers(min_value=1, max_value=max_features))
    features = [(properties(i), draw(geojson_geometry(FRAMES[crs]))) for i in range(count)]
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    if crs is not None:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(collection), crs, features  # json writes NaN and Infinity as bare tokens, as some tools do


sane_degrees_box = st.tuples(
    st.floats(min_value=-70.70, max_value=-70.50),
    st.floats(min_value=-33.70, max_value=-33.50),
    st.floats(min_value=1e-4, max_value=0.3),
    st.floats(min_value=1e-4, max_value=0.3),
).map(lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3]))

bbox_number = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-200, max_value=200).map(repr),
    st.sampled_from(["", " ", "1e309", "-0", "0x10", "1_0", "١٢", "NaN", "inf", "'; DROP TABLE x; --"]),
)


@st.composite
def bbox_values(draw):
    """A bbox query value: a sane box around the comunas (as numbers a client would print), or hostile text."""
    if draw(st.booleans()):
        return ",".join(repr(v) for v in draw(sane_degrees_box))
    return ",".join(draw(st.lists(bbox_number, min_size=0, max_size=5)))


def _as_multipolygon(geometry):
    if geometry is not None and geometry["type"] == "Polygon":
        return {"type": "MultiPolygon", "coordinates": [geometry["coordinates"]]}
    return geometry


ADMIN_FRAMES = {  # SRID: where its coordinates are drawn (the widget sends GeoJSON in 3857; people type EWKT)
    3857: FRAMES["urn:ogc:def:crs:EPSG::3857"],
    4326: FRAMES[None],
    32719: FRAMES["urn:ogc:def:crs:EPSG::32719"],
    999999: FRAMES[None],
}


@st.composite
def admin_geometry_texts(draw):
    """What reaches an admin geometry field: the map widget's GeoJSON (in EPSG:3857), or EWKT typed by hand in
    any SRID; polygons mostly as MultiPolygons, the type a comuna needs."""
    srid = draw(st.sampled_from(list(ADMIN_FRAMES)))
    if draw(st.integers(min_value=0, max_value=2)):
        geometry = _as_multipolygon(draw(geojson_geometry(ADMIN_FRAMES[srid])))
    else:  # a plain box, as most people draw
        west, south, east, north = ADMIN_FRAMES[srid]
        a, b, c, d = (draw(st.floats(min_value=0.1, max_value=0.45)) for _ in range(4))
        x0, x1 = west + a * (east - west), east - c * (east - west)
        y0, y1 = south + b * (north - south), north - d * (north - south)
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        geometry = {"type": "MultiPolygon", "coordinates": [[ring]]}
    if geometry is None:
        return draw(st.sampled_from(["", "null", "POLYGON EMPTY", "MULTIPOLYGON EMPTY", "garbage"]))
    if srid == 3857:
        return json.dumps(geometry)
    try:
        wkt = shapely.to_wkt(shapely.geometry.shape(geometry), rounding_precision=-1)
    except (ValueError, TypeError, shapely.errors.GEOSException):
        return json.dumps(geometry)
    return f"SRID={srid};{wkt}"
