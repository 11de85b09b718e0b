import json
from io import StringIO

import geopandas as gpd
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db import connection

from geo_siac.reports.services import report_create
from geo_siac.testing import PUENTE_ALTO_CENTRE, box
from geo_siac.zones.models import Zone

BORDER = PUENTE_ALTO_CENTRE[1]


def feature(name, west, south, east, north):
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Feature", "properties": {"nombre": name}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def write(tmp_path, *features):
    path = tmp_path / "zonas.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def load(path, *args):
    out = StringIO()
    call_command("load_zones", str(path), "--commune", "13201", *args, stdout=out)
    return out.getvalue()


def geodesic_area_in_comuna(commune, shape) -> float:
    """PostGIS's area on the spheroid: an independent check of the importer's UTM 19S figure."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Area(ST_Intersection(geometry, ST_GeomFromEWKT(%s))::geography) "
            "FROM zones_commune WHERE id = %s",
            [shape.ewkt, commune.pk],
        )
        return cursor.fetchone()[0]


def test_overlap_is_reported_in_m2_and_refused_on_commit_with_nothing_written(communes, tmp_path):
    # The two zones share a strip 0.001 degrees wide (about 93 m) along the meridian of the plaza.
    path = write(
        tmp_path,
        feature("Poniente", -70.60, -33.63, BORDER + 0.001, -33.59),
        feature("Oriente", BORDER, -33.63, -70.55, -33.59),
    )
    strip = box(BORDER, -33.63, BORDER + 0.001, -33.59)
    dry_run = load(path)
    assert "traslape: Poniente / Oriente:" in dry_run
    overlap_m2 = float(dry_run.split("traslape: Poniente / Oriente: ")[1].split(" m2")[0].replace(",", ""))
    assert overlap_m2 == pytest.approx(geodesic_area_in_comuna(communes["13201"], strip), rel=0.01)
    with pytest.raises(CommandError) as caught:
        load(path, "--commit")
    assert "se traslapan" in str(caught.value)
    assert not Zone.objects.exists()


def test_overlap_resolved_first_wins_and_routes_the_shared_strip_to_the_first_zone(communes, tmp_path):
    path = write(
        tmp_path,
        feature("Poniente", -70.60, -33.63, BORDER + 0.001, -33.59),
        feature("Oriente", BORDER, -33.63, -70.55, -33.59),
    )
    load(path, "--resolve-overlaps", "first", "--commit")
    report = report_create(category="retiro-escombros", latitude=-33.61, longitude=BORDER + 0.0005, channel="web")
    assert report.zone.name == "Poniente"


def test_gap_between_zones_is_reported_as_the_uncovered_share_of_the_comuna(communes, tmp_path):
    path = write(tmp_path, feature("Poniente", -70.60, -33.63, BORDER, -33.59))
    output = load(path)
    share = float(output.split("superficie de la comuna sin zona: ")[1].split("%")[0])
    assert 60 < share < 99
    assert "Simulación" in output and not Zone.objects.exists()


def test_zone_outside_the_comuna_is_clipped_and_a_self_intersecting_one_repaired(communes, tmp_path):
    bowtie = {
        "type": "Feature",
        "properties": {"nombre": "Corbata"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[-70.59, -33.60], [-70.58, -33.61], [-70.58, -33.60], [-70.59, -33.61], [-70.59, -33.60]]],
        },
    }
    path = write(tmp_path, feature("Sur", -70.60, -33.70, -70.56, -33.62), bowtie)
    output = load(path, "--commit")
    assert "recortada a la comuna: Sur" in output
    assert "reparada: Corbata: Self-intersection" in output
    south = Zone.objects.get(key="sur")
    assert communes["13201"].geometry.buffer(1e-9).contains(south.geometry)


def test_loading_a_redrawn_zone_adds_a_version_and_keeps_the_old_one(communes, tmp_path):
    load(write(tmp_path, feature("Centro", -70.60, -33.63, -70.56, -33.59)), "--commit")
    load(write(tmp_path, feature("Centro", -70.59, -33.62, -70.57, -33.60)), "--commit")
    versions = list(Zone.objects.filter(key="centro").order_by("version").values_list("version", "retired_at"))
    assert [v for v, _ in versions] == [1, 2]
    assert versions[0][1] is not None and versions[1][1] is None


def test_unknown_commune_and_missing_file_fail_with_a_message(communes, tmp_path):
    with pytest.raises(CommandError, match="No existe el archivo"):
        load(tmp_path / "nada.geojson")
    with pytest.raises(CommandError, match="CUT 99999"):
        call_command("load_zones", str(write(tmp_path, feature("X", -70.6, -33.6, -70.5, -33.5))), "--commune", "99999")


@pytest.mark.parametrize("args", [["--h3-res", "7"], ["--grid-m", "2000"]])
def test_generated_zones_cover_the_whole_comuna_without_overlaps(communes, args):
    out = StringIO()
    call_command("generate_zones", "--commune", "13201", *args, "--commit", stdout=out)
    assert "superficie de la comuna sin zona: 0.0%" in out.getvalue()
    zones = Zone.objects.current().filter(commune=communes["13201"])
    assert zones.count() > 10
    report = report_create(category="retiro-escombros", latitude=-33.61, longitude=-70.59, channel="web")
    assert report.zone in zones


def test_geopackage_in_utm_is_read_and_reprojected(communes, tmp_path):
    centre_west = shapely.box(-70.60, -33.63, BORDER, -33.59)
    frame = gpd.GeoDataFrame({"zona": ["Poniente"]}, geometry=[centre_west], crs=4326).to_crs(epsg=32719)
    path = tmp_path / "zonas.gpkg"
    frame.to_file(path, driver="GPKG")
    load(path, "--commit")
    zone = Zone.objects.get(key="poniente")
    assert zone.geometry.srid == 4326
    assert zone.geometry.extent == pytest.approx((-70.60, -33.63, BORDER, -33.59), abs=1e-6)
