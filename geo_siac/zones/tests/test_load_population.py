import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from geo_siac.testing import shared_data
from geo_siac.zones.models import CensusZone, PopulationCell

CENSUS = "census/rm_zonas_censales_2017_poblacion.geojson"
PUENTE_ALTO_URBAN_POPULATION = 549_921


def load(*args) -> str:
    out = StringIO()
    call_command("load_population", *map(str, args), "--no-progress", stdout=out)
    return out.getvalue()


def cell_total(res: int) -> float:
    return PopulationCell.objects.filter(cut="13201", res=res).aggregate(total=Sum("pob_total"))["total"]


def test_puente_alto_census_zones_hold_549921_people_and_h3_cells_conserve_them(db):
    load(shared_data(CENSUS), "--cut", "13201", "--res", "6", "--res", "9", "--commit")
    zones_total = CensusZone.objects.filter(cut="13201").aggregate(total=Sum("pob_total"))["total"]
    assert zones_total == PUENTE_ALTO_URBAN_POPULATION
    assert cell_total(9) == pytest.approx(PUENTE_ALTO_URBAN_POPULATION, rel=0.001)
    assert cell_total(6) == pytest.approx(PUENTE_ALTO_URBAN_POPULATION, rel=0.001)
    assert not PopulationCell.objects.filter(res=10).exists()


def test_reloading_population_replaces_instead_of_adding(db):
    load(shared_data(CENSUS), "--cut", "13201", "--res", "9", "--commit")
    cells = PopulationCell.objects.count()
    load(shared_data(CENSUS), "--cut", "13201", "--res", "9", "--commit")
    assert PopulationCell.objects.count() == cells
    assert cell_total(9) == pytest.approx(PUENTE_ALTO_URBAN_POPULATION, rel=0.001)


def zone(geocodigo: str, ring: list, population: dict) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"geocodigo": geocodigo, **population},
    }


def write_zones(path, *features) -> None:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}), encoding="utf-8")


SMALL_ZONE = {"pob_total": 100, "pob_0_a_5": 10, "pob_6_a_14": 20, "pob_15_a_64": 50, "pob_65_y_mas": 20}


def test_invalid_geometries_are_repaired_and_reported(db, tmp_path):
    bowtie = [[-70.60, -33.60], [-70.58, -33.62], [-70.58, -33.60], [-70.60, -33.62], [-70.60, -33.60]]
    path = tmp_path / "zonas.geojson"
    write_zones(path, zone("13201990001", bowtie, SMALL_ZONE))
    output = load(path, "--res", "10", "--commit")
    assert "reparada: 13201990001: Self-intersection" in output
    assert cell_total(10) == pytest.approx(100, rel=0.001)
    assert PopulationCell.objects.aggregate(u15=Sum("pob_under_15"))["u15"] == pytest.approx(30)


def test_zones_without_population_figures_are_skipped_and_reported(db, tmp_path):
    square = [[-70.60, -33.60], [-70.59, -33.60], [-70.59, -33.61], [-70.60, -33.61], [-70.60, -33.60]]
    path = tmp_path / "zonas.geojson"
    write_zones(path, zone("13201990001", square, SMALL_ZONE), zone("13201990002", square, dict.fromkeys(SMALL_ZONE)))
    output = load(path, "--res", "9", "--commit")
    assert "omitida: 13201990002: sin datos de población" in output
    assert list(CensusZone.objects.values_list("geocodigo", flat=True)) == ["13201990001"]


def test_dry_run_writes_nothing(db):
    output = load(shared_data(CENSUS), "--cut", "13201", "--res", "9")
    assert "población: 549,921" in output
    assert not CensusZone.objects.exists() and not PopulationCell.objects.exists()


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "No existe el archivo"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"geocodigo": "1"},'
            ' "geometry": {"type": "Point", "coordinates": [-70.6, -33.6]}}]}',
            [],
            "Faltan columnas",
        ),
        ("esto no es geojson", [], "No se pudo leer"),
    ],
)
def test_bad_input_fails_with_a_clear_message_and_writes_nothing(db, tmp_path, content, args, message):
    path = tmp_path / "zonas.geojson"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        load(path, *args, "--commit")
    assert not CensusZone.objects.exists()


def test_resolution_outside_6_to_10_is_refused_before_writing(db):
    with pytest.raises(CommandError, match="Resolución H3 no admitida"):
        load(shared_data(CENSUS), "--cut", "13201", "--res", "5", "--commit")
    assert not CensusZone.objects.exists()


def test_skip_loaded_leaves_a_loaded_comuna_as_it_is_and_loads_the_others(db, tmp_path):
    square = [[-70.60, -33.60], [-70.58, -33.60], [-70.58, -33.62], [-70.60, -33.62], [-70.60, -33.60]]
    path = tmp_path / "zonas.geojson"
    write_zones(path, zone("13201990001", square, SMALL_ZONE))
    load(path, "--res", "9", "--commit")
    write_zones(
        path, zone("13201990001", square, {**SMALL_ZONE, "pob_total": 999}), zone("13122990001", square, SMALL_ZONE)
    )

    output = load(path, "--res", "9", "--skip-loaded", "--commit")

    assert "ya cargada, no se vuelve a cargar: comuna 13201" in output
    assert cell_total(9) == pytest.approx(100, rel=0.001)
    assert PopulationCell.objects.filter(cut="13122", res=9).exists()


def test_skip_loaded_with_every_comuna_loaded_does_not_read_the_file(db, tmp_path):
    square = [[-70.60, -33.60], [-70.58, -33.60], [-70.58, -33.62], [-70.60, -33.62], [-70.60, -33.60]]
    path = tmp_path / "zonas.geojson"
    write_zones(path, zone("13201990001", square, SMALL_ZONE))
    load(path, "--res", "9", "--commit")
    path.write_text("not a census file", encoding="utf-8")

    output = load(path, "--cut", "13201", "--res", "9", "--skip-loaded", "--commit")

    assert "ya cargada, no se vuelve a cargar: comuna 13201" in output
    assert cell_total(9) == pytest.approx(100, rel=0.001)


def test_skip_loaded_without_cut_when_every_comuna_of_the_file_is_loaded_changes_nothing(db, tmp_path):
    square = [[-70.60, -33.60], [-70.58, -33.60], [-70.58, -33.62], [-70.60, -33.62], [-70.60, -33.60]]
    path = tmp_path / "zonas.geojson"
    write_zones(path, zone("13201990001", square, SMALL_ZONE))
    load(path, "--res", "9", "--commit")
    write_zones(path, zone("13201990001", square, {**SMALL_ZONE, "pob_total": 999}))

    output = load(path, "--res", "9", "--skip-loaded", "--commit")

    assert output.strip() == "ya cargada, no se vuelve a cargar: comuna 13201"
    assert cell_total(9) == pytest.approx(100, rel=0.001)


def test_the_census_is_recorded_on_the_zones_and_printed_by_default_censo_2017(db, tmp_path):
    square = [[-70.60, -33.60], [-70.59, -33.60], [-70.59, -33.61], [-70.60, -33.61], [-70.60, -33.60]]
    path = tmp_path / "zonas.geojson"
    write_zones(path, zone("13201990001", square, SMALL_ZONE))
    output = load(path, "--res", "10", "--commit")
    assert "censo: Censo 2017 del INE, por zona censal urbana" in output
    assert CensusZone.objects.get().census == "Censo 2017 del INE, por zona censal urbana"
    output = load(path, "--res", "10", "--census", "Censo 2024 del INE", "--commit")
    assert "censo: Censo 2024 del INE" in output
    assert CensusZone.objects.get().census == "Censo 2024 del INE"
