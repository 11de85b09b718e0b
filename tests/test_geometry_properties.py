"""Property-based tests (hypothesis) of every entry point that accepts geometries: boundary, zone and census
files, the admin's geometry fields and the bbox of both APIs. For any generated input each one stores a valid
geometry (repaired, and the repair reported) or refuses with a clear message and writes nothing - never a crash.

Each example runs in its own rolled-back transaction, so examples do not see one another's rows."""

import io
import json
import warnings
from contextlib import contextmanager

import pytest
import shapely
from django.contrib.gis.db.models.functions import IsValid
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from h3.api import basic_int as h3i
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from geo_siac.reports.models import Report
from geo_siac.reports.selectors import box_cells, cells_of_box, public_point
from geo_siac.reports.services import report_public_cells_refresh
from geo_siac.zones.importers import repair
from geo_siac.zones.models import CensusZone, Commune, PopulationCell, Zone
from tests.strategies import FRAMES, admin_geometry_texts, bbox_values, feature_collections, geojson_geometry

# A file example costs a GDAL read and a few queries (~10-50 ms): the module takes about 20 s.
FILE_EXAMPLES = 100
examples = settings(
    max_examples=FILE_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # GDAL warns about the unclosed rings we feed it


@contextmanager
def rolled_back():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def command(name: str, *args) -> str:
    out = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call_command(name, *map(str, args), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def outcome(out: str) -> None:
    event("stored" + (", repaired" if "reparada" in out else "") + (", skipped" if "omitida" in out else ""))


def assert_storable(queryset):
    """Every stored geometry is valid for PostGIS, 2-D, non-empty, in SRID 4326 and within degree bounds."""
    for row in queryset.annotate(postgis_valid=IsValid("geometry")):
        geometry = row.geometry
        assert row.postgis_valid, f"{row}: {geometry.valid_reason}"
        assert geometry.srid == 4326 and not geometry.hasz and not geometry.empty
        west, south, east, north = geometry.extent
        assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90


def assert_each_feature_kept_or_reported(features, key: str, kept: set, out: str, crs) -> None:
    """Each input feature is stored or named as skipped, and one stored from an invalid shape is named as repaired."""
    for properties, geometry in features:
        code = properties[key]
        assert code in kept or f"omitida: {code}" in out, out
        if code in kept and is_invalid(input_shape(crs, geometry)):
            assert f"reparada: {code}" in out, out


def input_shape(crs, geometry):
    """The shapely geometry a file in degrees describes, when shapely can build it (else None)."""
    if crs not in (None, "urn:ogc:def:crs:EPSG::4326") or geometry is None:
        return None
    try:
        return shapely.geometry.shape(geometry)
    except (ValueError, TypeError, shapely.errors.GEOSException):
        return None


def is_invalid(shape) -> bool:
    try:
        return shape is not None and not shape.is_empty and not shape.is_valid
    except shapely.errors.GEOSException:
        return False


# The shared repair step ------------------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(geojson_geometry(FRAMES[None]))
def test_repair_returns_a_valid_2d_polygonal_geometry_in_degrees_or_the_reason_it_cannot(geometry):
    try:
        shape = shapely.geometry.shape(geometry) if geometry else None
    except (ValueError, TypeError, shapely.errors.GEOSException):
        return  # not a geometry shapely (or a file reader) can build; files with these are refused on reading
    fixed, note = repair(shape)
    if fixed is None:
        assert note
        return
    assert fixed.geom_type == "MultiPolygon" and fixed.is_valid and not fixed.is_empty and not fixed.has_z
    assert all(part.area > 0 for part in fixed.geoms)
    west, south, east, north = fixed.bounds
    assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    if is_invalid(shape):
        assert note


# load_comunas --------------------------------------------------------------------------------------------------

CUTS = ["13991", "13992", "13993"]


def comuna(i: int) -> dict:
    return {"CUT_COM": CUTS[i], "COMUNA": f"Prueba {i}"}


# Found by Hypothesis in a CI run: a bow-tie overlapping a polygon with two collapsed rings made GEOS's union fail.
BOW_TIES = [
    (
        {"CUT_COM": "13991", "COMUNA": "Prueba 0"},
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [-70.66, -33.68],
                    [-70.57, -33.511250000000004],
                    [-70.66, -33.511250000000004],
                    [-70.57, -33.68],
                    [-70.66, -33.68],
                ]
            ],
        },
    ),
    (
        {"CUT_COM": "13992", "COMUNA": "Prueba 1"},
        {
            "type": "Polygon",
            "coordinates": [
                [[-70.66, -33.68]] * 4,
                [[-70.66, -33.68]] * 4,
                [[-70.66, -33.68], [-70.57, -33.53], [-70.66, -33.53], [-70.57, -33.68], [-70.66, -33.68]],
            ],
        },
    ),
]


@examples
@given(collection=feature_collections(comuna))
@example(
    collection=(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in BOW_TIES],
            }
        ),
        None,
        BOW_TIES,
    )
)
def test_load_comunas_stores_valid_boundaries_and_reports_repairs_or_refuses_writing_nothing(
    communes, tmp_path, collection
):
    text, crs, features = collection
    path = tmp_path / "comunas.geojson"
    path.write_text(text)
    with rolled_back():
        before = Commune.objects.count()
        try:
            out = command("load_comunas", path, "--field-cut", "CUT_COM", "--field-name", "COMUNA", "--commit")
        except CommandError as exc:
            event(f"refused: {str(exc)[:40]}")
            assert str(exc).strip()
            assert Commune.objects.count() == before and not Commune.objects.filter(cut__in=CUTS).exists()
            return
        outcome(out)
        stored = Commune.objects.filter(cut__in=CUTS)
        assert_storable(stored)
        assert_each_feature_kept_or_reported(features, "CUT_COM", set(stored.values_list("cut", flat=True)), out, crs)


# load_zones ------------------------------------------------------------------------------------------------------

ZONE_NAMES = ["Norte", "Sur", "Norte"]  # the third repeats the first: refused by name


def zone(i: int) -> dict:
    return {"nombre": ZONE_NAMES[i]}


def geodesic_m2(sql: str, params) -> float:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] or 0.0


def thickest_cm(sql: str, params) -> int:
    """How thick (in cm, up to 1 m) the geometry `sql` selects is: the largest inward buffer that leaves it
    non-empty. Overlays on shared edges leave slivers a few millimetres thick; a real overlap is metres."""
    with connection.cursor() as cursor:
        for cm in (100, 50, 20, 10, 5):
            cursor.execute(f"SELECT NOT ST_IsEmpty(ST_Buffer(({sql})::geography, %s)::geometry)", [*params, -cm / 100])
            if cursor.fetchone()[0]:
                return cm
    return 0


@examples
@given(collection=feature_collections(zone), resolve=st.sampled_from([None, "first"]))
def test_load_zones_stores_valid_zones_inside_the_comuna_without_overlaps_or_refuses_writing_nothing(
    communes, tmp_path, collection, resolve
):
    text, crs, features = collection
    path = tmp_path / "zonas.geojson"
    path.write_text(text)
    args = ["--commune", "13201", "--commit"] + (["--resolve-overlaps", resolve] if resolve else [])
    with rolled_back():
        try:
            out = command("load_zones", path, *args)
        except CommandError as exc:
            event(f"refused: {str(exc)[:40]}")
            assert str(exc).strip()
            assert not Zone.objects.exists()
            return
        outcome(out)
        zones = Zone.objects.all()
        assert_storable(zones)
        commune = communes["13201"]
        for stored in zones:
            area = geodesic_m2("SELECT ST_Area(geometry::geography) FROM zones_zone WHERE id = %s", [stored.pk])
            assert area > 0.9, f"{stored.name}: a sliver of {area} m2 was stored as a zone"
            outside = thickest_cm(
                "SELECT ST_Difference(z.geometry, c.geometry) FROM zones_zone z, zones_commune c "
                "WHERE z.id = %s AND c.id = %s",
                [stored.pk, commune.pk],
            )
            assert outside < 10, f"{stored.name} reaches {outside} cm or more outside the comuna"
        pairs = [(a.pk, b.pk) for a in zones for b in zones if a.pk < b.pk]
        for a, b in pairs:
            overlap = thickest_cm(
                "SELECT ST_Intersection(a.geometry, b.geometry) FROM zones_zone a, zones_zone b "
                "WHERE a.id = %s AND b.id = %s",
                [a, b],
            )
            assert overlap < 10, f"zones {a} and {b} overlap by {overlap} cm or more"
        for properties, geometry in features:
            assert properties["nombre"] in out, out
            stored = zones.filter(name=properties["nombre"]).exists()
            if stored and is_invalid(input_shape(crs, geometry)) and ZONE_NAMES.count(properties["nombre"]) == 1:
                assert f"reparada: {properties['nombre']}" in out, out


# load_population ------------------------------------------------------------------------------------------------


def census_zone(i: int) -> dict:
    return {
        "geocodigo": f"13201{i + 1:06d}",
        "pob_total": 100 * (i + 1),
        "pob_0_a_5": 10,
        "pob_6_a_14": 15,
        "pob_15_a_64": 60 * (i + 1),
        "pob_65_y_mas": 15,
    }


@examples
@given(collection=feature_collections(census_zone))
def test_load_population_stores_valid_zones_and_conserves_people_or_refuses_writing_nothing(
    communes, tmp_path, monkeypatch, collection
):
    # A lower cap than the real one refuses a vertex at 0,0 before covering it with cells takes seconds.
    monkeypatch.setattr("geo_siac.zones.population.MAX_CELLS_PER_COMMUNE", 5_000)
    text, crs, features = collection
    path = tmp_path / "censo.geojson"
    path.write_text(text)
    with rolled_back():
        try:
            out = command("load_population", path, "--res", "7", "--no-progress", "--commit")
        except CommandError as exc:
            event(f"refused: {str(exc)[:40]}")
            assert str(exc).strip()
            assert not CensusZone.objects.exists() and not PopulationCell.objects.exists()
            return
        outcome(out)
        zones = CensusZone.objects.all()
        assert_storable(zones)
        assert_each_feature_kept_or_reported(
            features, "geocodigo", set(zones.values_list("geocodigo", flat=True)), out, crs
        )
        people = sum(z.pob_total for z in zones)
        in_cells = sum(PopulationCell.objects.filter(res=7).values_list("pob_total", flat=True))
        assert in_cells == pytest.approx(people, rel=0.001)


# The admin's map widget ----------------------------------------------------------------------------------------


@examples
@given(text=admin_geometry_texts())
def test_admin_saves_a_valid_comuna_boundary_or_redraws_the_form_with_the_reason(client, admin_user, communes, text):
    commune = communes["13201"]
    before = commune.geometry.wkb
    client.force_login(admin_user)
    data = {
        "cut": commune.cut,
        "name": commune.name,
        "region": commune.region,
        "region_code": commune.region_code,
        "province": commune.province,
        "province_code": commune.province_code,
        "geometry": text,
        "jurisdiction_id": commune.jurisdiction_id,
        "tracking_prefix": commune.tracking_prefix,
        "is_active": "on",
    }
    with rolled_back():
        response = client.post(f"/admin/zones/commune/{commune.pk}/change/", data)
        event(f"HTTP {response.status_code}")
        if response.status_code == 302:
            assert_storable(Commune.objects.filter(pk=commune.pk))
        else:
            assert response.status_code == 200
            errors = response.context["adminform"].form.errors
            assert list(errors) == ["geometry"] and errors["geometry"][0]
            event(errors["geometry"][0][:40])
            assert bytes(Commune.objects.get(pk=commune.pk).geometry.wkb) == bytes(before)


# The bbox of the GeoJSON API and of Open311 ----------------------------------------------------------------------


def lenient_box(value: str):
    """West, south, east, north if `value` is four in-range numbers in order, ignoring blanks; else None."""
    parts = [part.strip() for part in value.split(",") if part.strip()]
    try:
        west, south, east, north = (float(part) for part in parts)
    except ValueError:
        return None
    if -180 <= west < east <= 180 and -90 <= south < north <= 90:
        return west, south, east, north
    return None


def inside(point, box, margin: float) -> bool:
    lat, lng = point
    west, south, east, north = box
    return west - margin <= lng <= east + margin and south - margin <= lat <= north + margin


@pytest.fixture
def shown_points(make_report):
    """Public and private reports in both comunas, by id, with the point each API shows for them: each private
    report shares its res-9 cell with the public one beside it, so with k = 2 it is shown at that cell's centre."""
    reports = [
        make_report(point=point, public_visibility=public)
        for point in [(-33.6117, -70.5758), (-33.5901, -70.5601), (-33.6402, -70.6003), (-33.4850, -70.5400)]
        for public in (True, False)
    ]
    report_public_cells_refresh(min_count=2)
    return {report.pk: public_point(Report.objects.get(pk=report.pk)) for report in reports}


def assert_filtered(value: str, status: int, returned: dict[int, tuple[float, float]], shown: dict):
    event(f"HTTP {status}, {'some' if returned else 'no'} reports")
    box = lenient_box(value)
    if status == 400:
        return
    assert status == 200
    if box is None:
        assert not value.replace(",", "").strip(), f"bbox={value!r} was accepted"
        assert set(returned) == set(shown)
        return
    for pk, point in returned.items():
        assert inside(point, box, 1e-6), f"report {pk} shown at {point} is outside {box}"
    expected = {pk for pk, point in shown.items() if inside(point, box, -1e-6)}
    assert expected <= set(returned)


box_corner = st.tuples(st.floats(min_value=-75.0, max_value=-66.0), st.floats(min_value=-56.0, max_value=-17.0))
box_size = st.tuples(st.floats(min_value=1e-6, max_value=0.05), st.floats(min_value=1e-6, max_value=0.05))
# Where in the box: its edges and corners (0 and 1) as often as anywhere between.
box_fraction = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(min_value=0.0, max_value=1.0))


@settings(max_examples=300, deadline=None)
@given(corner=box_corner, size=box_size, spots=st.lists(st.tuples(box_fraction, box_fraction), min_size=1, max_size=8))
def test_the_cells_a_box_is_searched_in_hold_every_point_of_it_and_every_cell_centred_in_it(corner, size, spots):
    """reports_in_bbox finds a box's reports only among the cells box_cells says overlap it: a point of the box in
    any other cell would be missing from the API's answer."""
    (west, south), (width, height) = corner, size
    east, north = west + width, south + height
    centred, overlapping = box_cells(west=west, south=south, east=east, north=north)
    cells = set(overlapping)
    assert {cell for cell in centred if h3i.get_resolution(cell) == 9} <= cells
    for fx, fy in spots:
        lat, lng = min(south + fy * height, north), min(west + fx * width, east)
        assert h3i.latlng_to_cell(lat, lng, 9) in cells, f"({lat}, {lng}) in {(west, south, east, north)}"


def test_a_wide_box_s_cells_are_drawn_each_time_and_never_kept_a_small_one_s_are():
    """Anyone can ask for many wide boxes: their cells (30 MB for the whole region) are not kept in a worker."""
    cells_of_box.cache_clear()
    wide = {"west": -70.80, "south": -33.62, "east": -70.50, "north": -33.40}
    small = {"west": -70.60, "south": -33.62, "east": -70.57, "north": -33.59}

    first, again = box_cells(**wide), box_cells(**wide)
    assert cells_of_box.cache_info().currsize == 0
    assert first == again and len(first[1]) > 2_500
    box_cells(**small)
    box_cells(**small)
    assert cells_of_box.cache_info().currsize == 1 and cells_of_box.cache_info().hits == 1


@examples
@given(value=bbox_values())
def test_geojson_api_bbox_answers_400_or_exactly_the_reports_shown_inside_it(client, shown_points, value):
    response = client.get("/api/reports/", {"bbox": value, "page_size": 100})
    if response.status_code == 400:
        assert "bbox" in response.json()
    returned = {}
    if response.status_code == 200:
        returned = {f["id"]: tuple(reversed(f["geometry"]["coordinates"])) for f in response.json()["features"]}
    assert_filtered(value, response.status_code, returned, shown_points)
    if "," in value and all(part.strip() for part in value.split(",")) and lenient_box(value):
        assert response.status_code == 200


@examples
@given(value=bbox_values())
def test_open311_bbox_answers_400_or_exactly_the_reports_shown_inside_it(client, shown_points, value):
    response = client.get("/open311/v2/requests.json", {"bbox": value})
    if response.status_code == 400:
        assert response.json()[0]["description"].startswith("bbox")
    returned = {}
    if response.status_code == 200:
        returned = {int(r["service_request_id"]): (r["lat"], r["long"]) for r in response.json()}
    assert_filtered(value, response.status_code, returned, shown_points)
    if lenient_box(value):
        assert response.status_code == 200


# What the properties found, kept as plain examples -----------------------------------------------------------------

A, B, C = [-70.60, -33.62], [-70.56, -33.62], [-70.56, -33.58]
NAN = float("nan")


def one_feature(geometry, properties, crs=None) -> str:
    collection = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": properties, "geometry": geometry}],
    }
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(collection)


@pytest.mark.parametrize(
    "geometry,crs,said",
    [
        # NaN inside a ring made GEOS raise in is_valid / make_valid.
        ({"type": "Polygon", "coordinates": [[A, B, C, A], [A, [NAN, -33.6], B, A]]}, None, "omitida: 13991"),
        # A Z coordinate reached the 2-D column: DataError.
        ({"type": "Polygon", "coordinates": [[A + [5], B + [5], C + [5], A + [5]]]}, None, "creadas: 1"),
        # A NaN Z broke ring closure while reprojecting: GEOSException.
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [[350000, 6280000, NAN], [352000, 6280000, NAN], [352000, 6282000, NAN], [350000, 6280000, NAN]]
                ],
            },
            "urn:ogc:def:crs:EPSG::32719",
            "creadas: 1",
        ),
        # A collapsed shell around a crossed hole: make_valid's default method raises "mixed-dimension".
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [A, A, A, A],
                    [[-70.66, -33.68], [-70.48, -33.53], [-70.66, -33.53], [-70.48, -33.68], [-70.66, -33.68]],
                ],
            },
            None,
            "13991",
        ),
        # A hole far outside its shell (1e300) escaped the file's bounds check and was stored.
        (
            {"type": "Polygon", "coordinates": [[A, B, C, A], [[1e300, 0], [1e300, 1], [0, 1], [1e300, 0]]]},
            None,
            "fuera de los rangos",
        ),
        # An unclosed ring made the whole file unreadable; now only that feature is skipped, and said why.
        ({"type": "Polygon", "coordinates": [[A, B, C]]}, None, "omitida: 13991 Prueba 0: geometría vacía o ilegible"),
        # A NaN point beside a polygon reads as an empty part: the polygon was stored and the dropped part not said.
        (
            {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Point", "coordinates": [NAN, NAN]},
                    {"type": "Polygon", "coordinates": [[A, B, C, A]]},
                ],
            },
            None,
            "reparada: 13991 Prueba 0: se descartaron partes que no son polígonos",
        ),
    ],
)
def test_load_comunas_regressions_store_valid_or_skip_with_the_reason(communes, tmp_path, geometry, crs, said):
    path = tmp_path / "comunas.geojson"
    path.write_text(one_feature(geometry, comuna(0), crs))
    out = command("load_comunas", path, "--field-cut", "CUT_COM", "--field-name", "COMUNA", "--commit")
    assert said in out
    assert_storable(Commune.objects.filter(cut="13991"))


def test_zones_sharing_a_repaired_edge_stay_inside_the_comuna_after_first_wins(communes, tmp_path):
    """Floating-point overlays moved an edge 2 cm: 15 m2 of a zone outside Puente Alto."""
    north = {
        "type": "MultiPolygon",
        "coordinates": [
            [
                [[-70.66, -33.68]] * 4,
                [
                    [-70.66, -33.68],
                    [-70.48, -33.5505078125],
                    [-70.66, -33.5505078125],
                    [-70.48, -33.68],
                    [-70.66, -33.68],
                ],
            ]
        ],
    }
    south = {
        "type": "MultiPolygon",
        "coordinates": [
            [[[-70.66, -33.53], [-70.48, -33.558125], [-70.66, -33.558125], [-70.48, -33.53], [-70.66, -33.53]]]
        ],
    }
    path = tmp_path / "zonas.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"nombre": "Norte"}, "geometry": north},
                    {"type": "Feature", "properties": {"nombre": "Sur"}, "geometry": south},
                ],
            }
        )
    )
    command("load_zones", path, "--commune", "13201", "--resolve-overlaps", "first", "--commit")
    assert Zone.objects.count() == 2
    outside = geodesic_m2(
        "SELECT max(ST_Area(ST_Difference(z.geometry, c.geometry)::geography)) "
        "FROM zones_zone z, zones_commune c WHERE c.cut = '13201'",
        [],
    )
    assert outside < 0.01


def test_a_census_zone_reaching_null_island_is_skipped_and_a_huge_one_refused_before_computing_cells(
    communes, tmp_path
):
    """Covering these with H3 cells would have run for hours: one vertex at 0,0, or a zone a degree across at
    res 10 (~800,000 cells)."""
    path = tmp_path / "censo.geojson"
    path.write_text(
        one_feature(
            {"type": "Polygon", "coordinates": [[A, B, [0, 0], A]]}, census_zone(0), "urn:ogc:def:crs:EPSG::4326"
        )
    )
    out = command("load_population", path, "--res", "10", "--no-progress", "--commit")
    assert "omitida: 13201000001: se extiende 70.6°" in out
    huge = [[-71.4, -34.4], [-70.5, -34.4], [-70.5, -33.5], [-71.4, -33.5], [-71.4, -34.4]]
    path.write_text(
        one_feature({"type": "Polygon", "coordinates": [huge]}, census_zone(0), "urn:ogc:def:crs:EPSG::4326")
    )
    with pytest.raises(CommandError, match="celdas H3 res 10"):
        command("load_population", path, "--res", "10", "--no-progress", "--commit")
    assert not CensusZone.objects.exists() and not PopulationCell.objects.exists()


@pytest.mark.parametrize(
    "text",
    [
        "SRID=3857;MULTIPOLYGON (((1e300 0, 1 0, 1 1, 1e300 0)))",  # GDAL 3.6 aborted the process reprojecting this
        '{"type": "MultiPolygon", "coordinates": [[[[1e30, 1e30], [2e30, 1e30], [2e30, 2e30], [1e30, 1e30]]]]}',
        "SRID=3857;MULTIPOLYGON (((25000000 0, 25000001 0, 25000001 1, 25000000 0)))",  # wrapped to a longitude
        "SRID=999999;MULTIPOLYGON (((-70.6 -33.6, -70.5 -33.6, -70.5 -33.5, -70.6 -33.6)))",  # 500: unknown SRID
        "SRID=4326;MULTIPOLYGON Z (((-70.6 -33.6 1, -70.5 -33.6 1, -70.5 -33.5 1, -70.6 -33.6 1)))",  # DataError
        '{"type": "Point", "coordinates": [-7865835.0, NaN]}',  # 500: GEOS holds it as empty and writes no WKB
    ],
)
def test_admin_refuses_geometries_it_cannot_reproject_or_store_and_redraws_the_form(client, admin_user, communes, text):
    commune = communes["13201"]
    client.force_login(admin_user)
    data = {
        "cut": commune.cut,
        "name": commune.name,
        "geometry": text,
        "jurisdiction_id": commune.jurisdiction_id,
        "tracking_prefix": commune.tracking_prefix,
        "is_active": "on",
    }
    response = client.post(f"/admin/zones/commune/{commune.pk}/change/", data)
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["geometry"]
    assert Commune.objects.get(pk=commune.pk).geometry.equals_exact(commune.geometry)
