import json
import re
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from geo_siac.testing import shared_data
from geo_siac.zones.models import ServicePoint
from geo_siac.zones.opening_hours import validate_opening_hours

DEIS_CSV = "service_points/deis_establecimientos_salud_20260310.csv"
DEIS_GEOJSON = "service_points/salud_rm.geojson"


def load(*args) -> str:
    out = StringIO()
    call_command("load_service_points", *map(str, args), "--no-progress", stdout=out)
    return out.getvalue()


def test_deis_registry_gives_puente_alto_its_49_facilities_with_coordinates(communes):
    output = load(shared_data(DEIS_CSV), "--preset", "deis", "--cut", "13201", "--commit")
    assert "creados: 49" in output
    points = ServicePoint.objects.filter(commune__cut="13201")
    assert points.count() == 49
    assert set(points.values_list("kind", flat=True)) == {"health"}
    assert points.filter(services__contains=[{"name": "Centro de Salud Familiar (CESFAM)"}]).count() == 10


def test_reloading_the_registry_updates_instead_of_duplicating(communes):
    load(shared_data(DEIS_CSV), "--preset", "deis", "--cut", "13201", "--commit")
    output = load(shared_data(DEIS_GEOJSON), "--preset", "deis", "--cut", "13201", "--commit")
    assert "creados: 0" in output and "actualizados: 49" in output
    assert ServicePoint.objects.count() == 49


def test_closed_facilities_and_rows_without_coordinates_are_reported_not_loaded(communes):
    output = load(shared_data(DEIS_CSV), "--preset", "deis", "--commit")
    assert "omitidas (77): establecimiento cerrado" in output
    assert "omitidas (19): sin coordenadas válidas" in output
    assert "comuna no cargada en la base" in output
    assert ServicePoint.objects.filter(commune__cut__in=["13201", "13122"]).count() == ServicePoint.objects.count()


def test_dry_run_writes_nothing(communes):
    output = load(shared_data(DEIS_CSV), "--preset", "deis", "--cut", "13201")
    assert "Simulación" in output
    assert not ServicePoint.objects.exists()


def test_csv_with_column_mapping_finds_the_comuna_from_the_point(communes, tmp_path):
    path = tmp_path / "oficinas.csv"
    path.write_text(
        "codigo,titulo,y,x,tipo\n"
        "1,Oficina Plaza,-33.6117,-70.5758,municipal_office\n"
        "2,Biblioteca,-33.4850,-70.5400,library\n"
        "3,Sin coordenadas,,,library\n"
        "4,Lejos,-20.0,-70.0,library\n",
        encoding="utf-8",
    )
    output = load(
        path,
        "--map",
        "name=titulo",
        "--map",
        "latitude=y",
        "--map",
        "longitude=x",
        "--map",
        "kind=tipo",
        "--map",
        "source_id=codigo",
        "--commit",
    )
    assert "creados: 2" in output
    assert "sin coordenadas válidas" in output and "fuera de toda comuna cargada" in output
    assert dict(ServicePoint.objects.values_list("name", "commune__cut")) == {
        "Oficina Plaza": "13201",
        "Biblioteca": "13122",
    }


def test_a_row_outside_the_comuna_its_cut_names_is_loaded_with_a_warning(communes, tmp_path):
    path = tmp_path / "cesfam.csv"
    path.write_text(
        "codigo,nombre,lat,lng,cut\n1,CESFAM Borde,-33.4850,-70.5400,13201\n2,CESFAM Plaza,-33.6117,-70.5758,13201\n",
        encoding="utf-8",
    )
    output = load(path, "--kind", "health", "--commit")
    assert "creados: 2" in output
    warnings = [line for line in output.splitlines() if "fuera de su comuna" in line]
    assert len(warnings) == 1
    assert re.search(r"aviso: CESFAM Borde fuera de su comuna Puente Alto \(\d+,\d km, en Peñalolén\)", warnings[0])
    assert ServicePoint.objects.get(name="CESFAM Borde").commune.cut == "13201"


def test_kind_option_applies_to_every_row(communes, tmp_path):
    path = tmp_path / "moviles.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"nombre": "Móvil 1"},'
        ' "geometry": {"type": "Point", "coordinates": [-70.5758, -33.6117]}}]}',
        encoding="utf-8",
    )
    load(path, "--kind", "mobile_office", "--commit")
    assert ServicePoint.objects.get().kind == "mobile_office"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, [], "No existe el archivo"),
        ("a,b\n1,2\n", ["--kind", "library"], "Faltan columnas para name, latitude, longitude"),
        ("nombre,lat,lon\nX,-33.6,-70.5\n", [], "Indique --kind"),
        ("nombre,lat,lon\nX,-33.6,-70.5\n", ["--kind", "library", "--map", "name=titulo"], "no existe"),
    ],
)
def test_bad_input_fails_with_a_clear_message_and_writes_nothing(communes, tmp_path, content, args, message):
    path = tmp_path / "puntos.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        load(path, *args, "--commit")
    assert not ServicePoint.objects.exists()


def office(commune, **fields) -> ServicePoint:
    return ServicePoint(
        name="OIRS Plaza", kind="oirs", point=Point(-70.5758, -33.6117, srid=4326), commune=commune, **fields
    )


def test_invalid_opening_hours_are_rejected_by_model_validation(communes):
    with pytest.raises(ValidationError, match="opening_hours"):
        office(communes["13201"], opening_hours={"weekly": {"mon": [["25:00", "26:00"]]}}).full_clean()


def test_services_may_name_existing_categories_only(communes):
    office(
        communes["13201"],
        services=[{"name": "Retiro de escombros", "category": "retiro-escombros"}, {"name": "Certificados"}],
    ).full_clean()
    with pytest.raises(ValidationError, match="Categorías inexistentes: no-existe"):
        office(communes["13201"], services=[{"name": "X", "category": "no-existe"}]).full_clean()


def test_geojson_ids_read_the_same_whether_or_not_another_feature_lacks_one(communes, tmp_path):
    """pandas stores a numeric property as a float when a feature lacks it; the id must still read 3639, not
    3639.0, or loading the file again would not find the point it created."""

    def feature(properties):
        return {
            "type": "Feature",
            "properties": properties,
            "geometry": {"type": "Point", "coordinates": [-70.5758, -33.6117]},
        }

    first, second = tmp_path / "a.geojson", tmp_path / "b.geojson"
    first.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature({"id": 3639, "nombre": "OIRS Plaza"})]}),
        encoding="utf-8",
    )
    second.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    feature({"id": 3639, "nombre": "OIRS Plaza (nuevo nombre)"}),
                    feature({"nombre": "Sin id"}),
                ],
            }
        ),
        encoding="utf-8",
    )
    load(first, "--kind", "oirs", "--source", "oirs", "--commit")
    load(second, "--kind", "oirs", "--source", "oirs", "--commit")
    assert sorted(ServicePoint.objects.values_list("source_id", "name")) == [
        ("", "Sin id"),
        ("3639", "OIRS Plaza (nuevo nombre)"),
    ]


@pytest.mark.parametrize(
    "row,reason",
    [
        ("7,Oficina\x00Plaza,-33.6117,-70.5758,municipal_office", "texto con caracteres de control"),
        ("{},Oficina,-33.6117,-70.5758,municipal_office".format("9" * 101), "identificador de origen de más de 100"),
    ],
)
def test_a_row_with_hostile_text_is_skipped_with_its_reason(communes, tmp_path, row, reason):
    path = tmp_path / "oficinas.csv"
    path.write_text(
        "codigo,titulo,y,x,tipo\n" + row + "\n1,Oficina Plaza,-33.6117,-70.5758,municipal_office\n", encoding="utf-8"
    )
    output = load(
        path,
        "--map",
        "name=titulo",
        "--map",
        "latitude=y",
        "--map",
        "longitude=x",
        "--map",
        "kind=tipo",
        "--map",
        "source_id=codigo",
        "--commit",
    )
    assert reason in output and list(ServicePoint.objects.values_list("source_id", flat=True)) == ["1"]


def test_a_source_name_longer_than_the_column_is_refused_by_name(communes, tmp_path):
    path = tmp_path / ("x" * 120 + ".csv")
    path.write_text("nombre,lat,lon\nX,-33.6117,-70.5758\n", encoding="utf-8")
    with pytest.raises(CommandError, match="el máximo es 100"):
        load(path, "--kind", "library", "--commit")
    assert not ServicePoint.objects.exists()


def test_skip_loaded_leaves_a_comuna_with_points_from_the_source_and_loads_the_others(communes, tmp_path):
    path = tmp_path / "oficinas.csv"
    path.write_text("codigo,nombre,lat,lon\n1,Oficina Plaza,-33.6117,-70.5758\n", encoding="utf-8")
    load(path, "--kind", "municipal_office", "--commit")
    path.write_text(
        "codigo,nombre,lat,lon\n1,Oficina renombrada,-33.6117,-70.5758\n2,Biblioteca,-33.4850,-70.5400\n",
        encoding="utf-8",
    )

    output = load(path, "--kind", "municipal_office", "--skip-loaded", "--commit")

    assert "ya cargados, no se vuelven a cargar: puntos de la comuna 13201" in output
    assert "creados: 1" in output
    assert dict(ServicePoint.objects.values_list("name", "commune__cut")) == {
        "Oficina Plaza": "13201",
        "Biblioteca": "13122",
    }


WEEKDAYS_8_TO_17 = {"weekly": {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}}


def test_an_hours_column_in_csv_loads_each_points_hours_and_an_empty_cell_is_unknown(communes, tmp_path):
    path = tmp_path / "oficinas.csv"
    hours = json.dumps({"weekly": {"tue": [["18:00", "22:00"]]}}).replace('"', '""')
    path.write_text(
        f'id,nombre,lat,lng,horario\n1,Oficina nocturna,-33.6117,-70.5758,"{hours}"\n2,Biblioteca,-33.6100,-70.5700,\n',
        encoding="utf-8",
    )
    output = load(path, "--kind", "municipal_office", "--commit")
    assert "creados: 2" in output
    night, library = ServicePoint.objects.order_by("source_id")
    assert night.opening_hours["weekly"]["tue"] == [["18:00", "22:00"]] and library.opening_hours is None
    tuesday_night = datetime(2026, 3, 3, 20, 0, tzinfo=ZoneInfo("America/Santiago"))
    assert night.is_open_at(tuesday_night) and not library.is_open_at(tuesday_night)


def test_hours_in_a_geojson_property_are_loaded_as_given(communes, tmp_path):
    path = tmp_path / "puntos.geojson"
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-70.5758, -33.6117]},
        "properties": {"id": "7", "name": "Oficina Plaza", "opening_hours": WEEKDAYS_8_TO_17},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    load(path, "--kind", "municipal_office", "--commit")
    assert ServicePoint.objects.get().opening_hours == validate_opening_hours(WEEKDAYS_8_TO_17)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ('"{""weekly"": {""mon"": [[""25:00"", ""26:00""]]}}"', "horario no válido: "),
        ("lunes a viernes", "horario no válido: no es JSON"),
    ],
)
def test_a_row_with_unreadable_hours_is_skipped_with_its_reason(communes, tmp_path, cell, reason):
    path = tmp_path / "oficinas.csv"
    path.write_text(
        f"id,nombre,lat,lng,horario\n1,Oficina,-33.6117,-70.5758,{cell}\n2,Otra,-33.61,-70.57,\n", encoding="utf-8"
    )
    output = load(path, "--kind", "municipal_office", "--commit")
    assert f"omitidas (1): {reason}" in output
    assert list(ServicePoint.objects.values_list("name", flat=True)) == ["Otra"]


def test_a_reload_with_hours_updates_them_and_a_reload_without_the_column_keeps_them(communes, tmp_path):
    bare, timed = tmp_path / "oficinas.csv", tmp_path / "oficinas_con_horario.csv"
    bare.write_text("id,nombre,lat,lng\n1,Oficina,-33.6117,-70.5758\n", encoding="utf-8")
    hours = json.dumps(WEEKDAYS_8_TO_17).replace('"', '""')
    timed.write_text(f'id,nombre,lat,lng,horario\n1,Oficina,-33.6117,-70.5758,"{hours}"\n', encoding="utf-8")
    load(bare, "--kind", "municipal_office", "--source", "oficinas", "--commit")
    assert "actualizados: 1" in load(timed, "--kind", "municipal_office", "--source", "oficinas", "--commit")
    assert ServicePoint.objects.get().opening_hours == validate_opening_hours(WEEKDAYS_8_TO_17)
    load(bare, "--kind", "municipal_office", "--source", "oficinas", "--commit")
    assert ServicePoint.objects.get().opening_hours == validate_opening_hours(WEEKDAYS_8_TO_17)
