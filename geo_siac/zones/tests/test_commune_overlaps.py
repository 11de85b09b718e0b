import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.db import connection

from geo_siac.zones.importers import DEFAULT_SOURCE, import_communes
from geo_siac.zones.models import Commune, CommuneBoundary
from geo_siac.zones.selectors import commune_containing

pytestmark = pytest.mark.django_db

PUENTE_ALTO, LA_FLORIDA, PENALOLEN = "13201", "13110", "13122"


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_comunas", *args, stdout=out)
    return out.getvalue()


def largest_stored_overlap_m2(cuts: list[str]) -> float:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT coalesce(max(ST_Area(ST_Intersection(a.geometry, b.geometry)::geography)), 0)
               FROM zones_commune a JOIN zones_commune b ON a.cut < b.cut AND ST_Intersects(a.geometry, b.geometry)
               WHERE a.cut = ANY(%s) AND b.cut = ANY(%s)""",
            [cuts, cuts],
        )
        return cursor.fetchone()[0]


def comunas_per_point(xs, ys, cuts: list[str]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(c.id) FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(x, y, n)
               LEFT JOIN zones_commune c ON c.cut = ANY(%s) AND ST_Intersects(c.geometry, ST_SetSRID(ST_MakePoint(p.x, p.y), 4326))
               GROUP BY p.n ORDER BY p.n""",
            [xs.tolist(), ys.tolist(), cuts],
        )
        return [row[0] for row in cursor.fetchall()]


def test_overlapping_dpa_boundaries_are_reported_and_split_so_each_point_falls_in_one_comuna():
    cuts = [PUENTE_ALTO, LA_FLORIDA, PENALOLEN]
    out = run(*[arg for cut in cuts for arg in ("--cut", cut)], "--commit")

    assert "solape (dividido por la línea media): 13110 La Florida / 13201 Puente Alto: 0,83 km²" in out
    assert "solape (dividido por la línea media): 13110 La Florida / 13122 Peñalolén: 0,46 km²" in out
    assert largest_stored_overlap_m2(cuts) < 1.0
    sources = shapely.union_all(
        [
            shapely.from_wkb(bytes(b.geometry.wkb))
            for b in CommuneBoundary.objects.filter(commune__cut__in=cuts, retired_at=None)
        ]
    )
    west, south, east, north = sources.bounds
    xs, ys = (a.ravel() for a in np.meshgrid(np.linspace(west, east, 60), np.linspace(south, north, 60)))
    inside = shapely.contains_xy(sources, xs, ys)
    assert inside.sum() > 1000
    assert set(comunas_per_point(xs[inside], ys[inside], cuts)) == {1}


# Synthetic comunas drawn in the Andes east of Santiago, away from the comunas the test database holds.
WEST_SQUARE = shapely.box(-70.12, -33.10, -70.08, -33.08)


def write_comunas(tmp_path, geometries: dict[str, shapely.Geometry]):
    frame = gpd.GeoDataFrame(
        {"CUT_COM": list(geometries), "COMUNA": ["Poniente", "Oriente"][: len(geometries)]},
        geometry=list(geometries.values()),
        crs=4326,
    )
    path = tmp_path / "comunas.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def overlapping_squares(tmp_path, *, west_cut="13901"):
    """Two comunas 0.04° by 0.02° drawn with a band in common, x from -70.09 to -70.08: 933 m by 2,218 m."""
    return write_comunas(tmp_path, {west_cut: WEST_SQUARE, "13902": shapely.box(-70.09, -33.10, -70.05, -33.08)})


def test_an_overlap_is_split_along_its_midline(tmp_path):
    out = run(str(overlapping_squares(tmp_path)), "--activate", "--commit")
    assert "13901 Poniente / 13902 Oriente: 2,07 km²" in out
    assert commune_containing(Point(-70.0875, -33.09, srid=4326)).cut == "13901"  # west quarter of the band
    assert commune_containing(Point(-70.0825, -33.09, srid=4326)).cut == "13902"  # east quarter
    assert commune_containing(Point(-70.1100, -33.09, srid=4326)).cut == "13901"
    assert commune_containing(Point(-70.0600, -33.09, srid=4326)).cut == "13902"


def test_reloading_the_same_file_keeps_the_boundaries_and_their_versions(tmp_path):
    path = overlapping_squares(tmp_path)
    run(str(path), "--commit")
    first = {c.cut: bytes(c.geometry.wkb) for c in Commune.objects.filter(cut__in=["13901", "13902"])}
    run(str(path), "--commit")
    assert {c.cut: bytes(c.geometry.wkb) for c in Commune.objects.filter(cut__in=["13901", "13902"])} == first
    assert CommuneBoundary.objects.filter(commune__cut__in=["13901", "13902"]).count() == 2


def test_a_new_boundary_is_a_new_version_and_the_file_boundary_is_kept_beside_the_split_one(tmp_path):
    import_communes(path=None, cuts=[LA_FLORIDA], commit=True)
    import_communes(path=overlapping_squares(tmp_path, west_cut=LA_FLORIDA), commit=True)
    versions = list(CommuneBoundary.objects.filter(commune__cut=LA_FLORIDA).order_by("version"))
    assert [(v.version, v.retired_at is None, v.source) for v in versions] == [
        (1, False, DEFAULT_SOURCE),
        (2, True, "comunas.geojson"),
    ]
    assert shapely.from_wkb(bytes(versions[1].geometry.wkb)).equals(WEST_SQUARE)
    stored = shapely.from_wkb(bytes(Commune.objects.get(cut=LA_FLORIDA).geometry.wkb))
    assert stored.bounds[2] == pytest.approx(-70.085, abs=0.001)  # the band's west half, up to the midline


def test_a_gap_between_comunas_is_reported_with_its_neighbours(tmp_path):
    notch = shapely.box(-70.095, -33.095, -70.09, -33.085)
    west = shapely.box(-70.12, -33.10, -70.09, -33.08).difference(notch)
    path = write_comunas(tmp_path, {"13901": west, "13902": shapely.box(-70.09, -33.10, -70.06, -33.08)})
    out = run(str(path))
    assert "hueco (sin comuna): 0,52 km² entre 13901 Poniente, 13902 Oriente" in out


def test_ine_boundaries_get_the_accented_official_names(tmp_path):
    Commune.objects.filter(cut=PENALOLEN).delete()
    frame = gpd.GeoDataFrame(
        {"codigo_comuna": [PENALOLEN], "nombre_comuna": ["Penalolen"]},
        geometry=[shapely.box(-70.56, -33.50, -70.50, -33.46)],
        crs=4326,
    )
    path = tmp_path / "ine.geojson"
    frame.to_file(path, driver="GeoJSON")
    run(str(path), "--commit")
    assert Commune.objects.get(cut=PENALOLEN).name == "Peñalolén"
