"""manage.py load_addresses: OpenStreetMap extracts, address points, stops, service points; dry run unless --commit."""

import json
from io import StringIO

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from geo_siac.geocoding.importers import halfway, line_middle
from geo_siac.geocoding.models import EntryKind, GazetteerEntry, GazetteerName, GazetteerWord
from geo_siac.geocoding.selectors import geocode_search
from geo_siac.geocoding.services import Entry, gazetteer_load, spanish_casing
from geo_siac.zones.models import ServicePoint

# (lon, lat) around Plaza de Puente Alto.
WEST, CROSS, EAST = (-70.5790, -33.6117), (-70.5758, -33.6117), (-70.5720, -33.6117)
NORTH, SOUTH = (-70.5758, -33.6090), (-70.5758, -33.6150)


def load(*args) -> str:
    out = StringIO()
    call_command("load_addresses", *map(str, args), "--no-progress", stdout=out)
    return out.getvalue()


def stored() -> set[tuple[str, str]]:
    return set(GazetteerEntry.objects.values_list("kind", "label"))


@pytest.fixture
def osm_extract(tmp_path):
    """A tiny .osm.pbf written with pyosmium: two named streets crossing at a shared node, an addr:* point, a
    school, a bench (nothing to look for) and a street outside every comuna."""
    import osmium
    from osmium.osm.mutable import Node, Way

    path = tmp_path / "puente-alto.osm.pbf"
    writer = osmium.SimpleWriter(str(path))
    for ref, location in enumerate([WEST, CROSS, EAST, NORTH, SOUTH], start=1):
        writer.add_node(Node(id=ref, location=location))
    writer.add_node(
        Node(
            id=6,
            location=(-70.5770, -33.6110),
            tags={"addr:street": "Avenida Concha y Toro", "addr:housenumber": "1820"},
        )
    )
    writer.add_node(
        Node(id=7, location=(-70.5765, -33.6125), tags={"amenity": "school", "name": "Escuela República de Grecia"})
    )
    writer.add_node(Node(id=8, location=(-70.5766, -33.6126), tags={"amenity": "bench"}))
    writer.add_node(Node(id=9, location=(-71.5, -33.0)))
    writer.add_node(Node(id=10, location=(-71.6, -33.0)))
    writer.add_way(Way(id=100, nodes=[1, 2, 3], tags={"highway": "primary", "name": "Avenida Concha y Toro"}))
    writer.add_way(Way(id=101, nodes=[4, 2, 5], tags={"highway": "residential", "name": "Eyzaguirre"}))
    writer.add_way(Way(id=102, nodes=[9, 10], tags={"highway": "residential", "name": "Calle Lejana"}))
    writer.close()
    return path


def test_an_osm_extract_loads_streets_their_crossing_addresses_and_named_places(communes, osm_extract):
    output = load(osm_extract, "--commit")
    assert stored() == {
        ("street", "Avenida Concha y Toro"),
        ("street", "Eyzaguirre"),
        ("intersection", "Avenida Concha y Toro / Esq. Eyzaguirre"),
        ("address", "Avenida Concha y Toro 1820"),
        ("place", "Escuela República de Grecia"),
    }
    assert "creadas: 5" in output
    assert "omitidas (1): fuera de las comunas cargadas" in output
    assert "omitidas (1): ni calle con nombre, ni dirección, ni lugar con nombre" in output
    crossing = GazetteerEntry.objects.get(kind="intersection")
    assert crossing.point.coords == pytest.approx(CROSS) and crossing.commune.cut == "13201"
    assert geocode_search("eyzaguirre con concha y toro")[0].label == "Avenida Concha y Toro / Esq. Eyzaguirre"


def test_without_commit_nothing_is_written_but_the_summary_says_what_would_be(communes, osm_extract):
    output = load(osm_extract)
    assert "creadas: 5" in output and "Simulación" in output
    assert not GazetteerEntry.objects.exists()
    assert not GazetteerName.objects.exists() and not GazetteerWord.objects.exists()


def test_loading_the_same_source_again_updates_instead_of_duplicating(communes, osm_extract):
    load(osm_extract, "--commit")
    output = load(osm_extract, "--commit")
    assert "creadas: 0" in output and "actualizadas: 5" in output
    assert GazetteerEntry.objects.count() == 5


def test_a_relabelled_entry_is_found_by_its_new_name_misspelt_and_its_old_name_is_gone(communes):
    def relabel(street: str):
        gazetteer_load(
            source="prueba",
            commit=True,
            entries=[
                Entry(EntryKind.ADDRESS, f"Av. {street} 1820", *WEST, "a1", number=1820),
                Entry(EntryKind.INTERSECTION, f"{street} / Esq. Eyzaguirre", *CROSS, "i1"),
            ],
        )

    relabel("Concha y Toro")
    assert geocode_search("conxha y toro 1820")[0].label == "Av. Concha y Toro 1820"
    relabel("Vicuña Mackenna")
    assert geocode_search("vicuna mackemna 1820")[0].label == "Av. Vicuña Mackenna 1820"
    assert geocode_search("eyzaguirre con vicuna mackenna")[0].label == "Vicuña Mackenna / Esq. Eyzaguirre"
    assert geocode_search("conxha y toro 1820") == []
    assert set(GazetteerName.objects.values_list("text", flat=True)) == {"vicuna mackenna", "eyzaguirre"}
    assert set(GazetteerWord.objects.values_list("word", flat=True)) == {"vicuna", "mackenna", "eyzaguirre"}


def test_csv_address_points_with_the_ine_preset(communes, tmp_path):
    path = tmp_path / "direcciones.csv"
    path.write_text(
        "NOMBRE_VIA,NUMERO,CUT,LATITUD,LONGITUD\n"
        "Av. Concha y Toro,1820,13201,-33.5983,-70.5845\n"
        "Pje. Los Aromos,15,13122,-33.4850,-70.5400\n"
        "Sin Coordenadas,1,13201,,\n",
        encoding="utf-8",
    )
    output = load(path, "--preset", "ine", "--commit")
    assert stored() == {("address", "Av. Concha y Toro 1820"), ("address", "Pje. Los Aromos 15")}
    assert "omitidas (1): sin coordenadas" in output
    assert geocode_search("los aromos #15")[0].commune_name == "Peñalolén"


def test_geojson_points_take_the_comuna_they_lie_in_when_they_name_none(communes, tmp_path):
    path = tmp_path / "lugares.geojson"
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(CROSS)},
            "properties": {"nombre": "Plaza de Puente Alto", "id": "p1"},
        }
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    load(path, "--commit")
    assert GazetteerEntry.objects.get().commune.name == "Puente Alto"


def test_dtpm_stops_become_intersections_numbered_addresses_and_landmarks(communes, tmp_path):
    def stop(stop_id, kind, point, street=None, cross=None, landmark=None):
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": list(point)},
            "properties": {
                "stop_id": stop_id,
                "kind": kind,
                "street": street,
                "cross_street": cross,
                "landmark": landmark,
                "cut": "13201",
            },
        }

    path = tmp_path / "paradas.geojson"
    features = [
        stop("PA1", "intersection", (-70.57580, -33.61160), "Av. Concha Y Toro", "Eyzaguirre"),
        stop("PA2", "intersection", (-70.57590, -33.61180), "Eyzaguirre", "Av. Concha y Toro"),
        stop("PA3", "intersection", (-70.57000, -33.60000), "Av. Concha Y Toro", "Altura Del 05800"),
        stop("PA4", "metro_station", (-70.5790, -33.6100), landmark="Las Mercedes"),
        stop("PA5", "landmark", (-70.5792, -33.6102), landmark="(M) Las Mercedes"),
        stop("PA6", "intersection", (-70.57, -33.61)),
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    output = load(path, "--preset", "dtpm", "--commit")
    # DTPM's title case ("Concha Y Toro") stored as Spanish writes it.
    assert stored() == {
        ("intersection", "Av. Concha y Toro / Esq. Eyzaguirre"),
        ("street", "Av. Concha y Toro"),
        ("street", "Eyzaguirre"),
        ("address", "Av. Concha y Toro 5800"),
        ("place", "Metro Las Mercedes"),
    }
    assert "omitidas (1): parada sin calle, esquina ni hito" in output
    crossing = GazetteerEntry.objects.get(kind="intersection")
    assert crossing.point.coords == pytest.approx((-70.57585, -33.61170))


def test_service_points_load_as_places_and_their_addresses(communes):
    ServicePoint.objects.create(
        name="CESFAM Padre Manuel Villaseca",
        kind="health",
        commune=communes["13201"],
        point=Point(-70.5703, -33.6053, srid=4326),
        address="Eduardo Cordero 431",
    )
    output = load("--commit")
    assert stored() == {("place", "CESFAM Padre Manuel Villaseca"), ("address", "Eduardo Cordero 431")}
    assert "creadas: 2" in output
    assert geocode_search("villaseca cesfam")[0].label == "CESFAM Padre Manuel Villaseca"


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("nada.osm.pbf", None, "no existe el archivo"),
        ("roto.osm.pbf", b"esto no es un pbf", "no se pudo leer"),
        ("tabla.xlsx", b"", "formato no reconocido"),
        ("sin-calle.csv", b"a,b\n1,2\n", "no tiene columna de calle ni de nombre"),
    ],
)
def test_a_bad_file_is_a_clear_error_and_writes_nothing(communes, tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        load(path, "--commit")
    assert not GazetteerEntry.objects.exists()


def test_an_unknown_preset_is_refused(communes, tmp_path):
    with pytest.raises(CommandError):
        load(tmp_path / "x.csv", "--preset", "catastro")


def test_a_streets_point_is_halfway_along_it_not_at_a_corner_where_its_points_crowd():
    # Av. José Arrieta's stops: six at its western end, three at its eastern; the one nearest their centroid was
    # the corner of Calle 141-A.
    west = [
        (-70.5722, -33.4593),
        (-70.5694, -33.4601),
        (-70.5673, -33.4612),
        (-70.5659, -33.4613),
        (-70.5628, -33.4623),
    ]
    east = [(-70.5308, -33.4659), (-70.5273, -33.4666), (-70.5238, -33.4678)]
    # Halfway is between the two groups, about -70.548: the stop nearest it, the west group's last.
    assert line_middle([*east, *west]) == (-70.5628, -33.4623)
    assert line_middle([(-70.5, -33.5)]) == (-70.5, -33.5)


def test_a_streets_point_is_one_of_its_points_even_where_it_bends():
    # An L: one arm north from the corner, one east. The line through them in order along the street cuts the bend
    # diagonally, and halfway along it lies off the street.
    corner = (-70.5800, -33.6000)
    north = [(corner[0], corner[1] + i * 0.001) for i in range(5)]
    east = [(corner[0] + i * 0.001, corner[1]) for i in range(1, 5)]
    x, y = halfway([*east, *north])
    assert x != corner[0] and y != corner[1]  # on neither arm
    assert line_middle([*east, *north]) == (corner[0] + 0.002, corner[1])


@pytest.mark.parametrize(
    ("source", "stored"),
    [
        ("Av. Concha Y Toro", "Av. Concha y Toro"),
        ("Av Concha Y Toro", "Av Concha y Toro"),
        ("Psje Y", "Psje Y"),
        ("Pje Y", "Pje Y"),
        ("Av Y", "Av Y"),
        ("Sector E", "Sector E"),
        ("Block Y", "Block Y"),
        ("AV. CONCHA Y TORO", "AV. CONCHA Y TORO"),
        ("Calle De La Luna", "Calle De la Luna"),
        ("Pedro De La Barra / Esq Av De Los Presidentes", "Pedro de la Barra / Esq Av De los Presidentes"),
    ],
)
def test_connectors_are_lowered_inside_a_name_never_at_its_start_or_end_nor_in_capitals(source, stored):
    assert spanish_casing(source) == stored
