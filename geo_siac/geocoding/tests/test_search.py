"""Searching the gazetteer as people type, and describing a dropped pin."""

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.normaliser import WORDS
from geo_siac.geocoding.selectors import geocode_reverse, geocode_search, normalise, search_example
from geo_siac.geocoding.services import Entry, gazetteer_load
from geo_siac.testing import box
from geo_siac.zones.models import Commune

# Real places of Puente Alto (the DEIS registry and DTPM's stops), at their real coordinates.
CONCHA_Y_TORO_1820 = (-70.58450, -33.59830)
CESFAM = (-70.57030, -33.60530)
CROSSING = (-70.59849, -33.57794)  # Av. Ejército Libertador / Esq. Pedro Núñez F.


@pytest.fixture
def gazetteer(communes):
    entries = [
        Entry(EntryKind.ADDRESS, "Av. Concha y Toro 1820", *CONCHA_Y_TORO_1820, "a1", number=1820),
        Entry(EntryKind.ADDRESS, "Av. Concha y Toro 1830", -70.58452, -33.59845, "a2", number=1830),
        Entry(EntryKind.STREET, "Av. Concha y Toro", -70.5840, -33.6000, "s1"),
        Entry(EntryKind.STREET, "Av. Ejército Libertador", -70.5985, -33.5760, "s2"),
        Entry(EntryKind.STREET, "Pedro Núñez F.", -70.5990, -33.5780, "s3"),
        Entry(EntryKind.INTERSECTION, "Av. Ejército Libertador / Esq. Pedro Núñez F.", *CROSSING, "i1"),
        Entry(EntryKind.INTERSECTION, "Av. Ejército Libertador / Esq. Omar Herrera G.", -70.59953, -33.57304, "i2"),
        Entry(EntryKind.PLACE, "Centro de Salud Familiar Padre Manuel Villaseca", *CESFAM, "p1"),
        Entry(EntryKind.PLACE, "Escuela Gral. Bernardo O'Higgins", -70.5700, -33.6150, "p2"),
    ]
    summary = gazetteer_load(source="prueba", entries=entries, commit=True)
    assert summary.created == len(entries)
    return entries


def labels(places) -> list[str]:
    return [place.label for place in places]


def test_the_normaliser_reads_abbreviations_accents_case_and_number_signs_alike(db):
    assert (
        normalise(
            "concha y toro 1820",
            "Av. Concha y Toro 1820",
            "CONCHA Y TORO #1820",
            "Avda. Concha y Toro N° 1820",
            "avenida concha y toro nº1820",
        )
        == ["concha y toro 1820"] * 5
    )
    assert normalise("Pje. Gral. Ñuñez", "Psje. General Nuñez", "pasaje general nunez") == ["general nunez"] * 3
    assert normalise("Alc. Sta. María Esq. Cesfam") == ["alcalde santa maria centro de salud familiar"]


def test_the_normaliser_words_are_what_the_database_function_drops_or_spells_out(db):
    # The function is migration 0001's, with its own copy of the words; the selectors read this module's.
    assert dict(zip(WORDS, normalise(*WORDS), strict=True)) == WORDS


@pytest.mark.parametrize(
    "q",
    [
        "concha y toro 1820",
        "Av. Concha y Toro 1820",
        "CONCHA Y TORO #1820",
        "avenida concha y toro 1820",
        "conxha y toro 1820",
    ],
)
def test_an_address_typed_any_way_is_found_first(gazetteer, q):
    assert labels(geocode_search(q))[0] == "Av. Concha y Toro 1820"


def test_a_street_and_its_numbers_come_up_while_typing_a_prefix(gazetteer):
    found = labels(geocode_search("concha y to"))
    assert set(found) >= {"Av. Concha y Toro", "Av. Concha y Toro 1820", "Av. Concha y Toro 1830"}


@pytest.mark.parametrize(
    "q",
    [
        "ejercito libertador con pedro nunez",
        "Pedro Núñez esquina Ejército Libertador",
        "av ejercito libertador esq. pedro nunez",
        "ejercito libertador / pedro nunez",
        "ejercito libertasor con pedro nunez",
    ],
)
def test_calle_con_calle_finds_the_intersection_in_either_order(gazetteer, q):
    found = geocode_search(q)
    assert found[0].label == "Av. Ejército Libertador / Esq. Pedro Núñez F."
    assert found[0].kind == "intersection" and (found[0].longitude, found[0].latitude) == pytest.approx(CROSSING)


def test_words_of_a_place_name_in_another_order_find_it(gazetteer):
    assert (
        labels(geocode_search("cesfam villaseca padre manuel"))[0] == "Centro de Salud Familiar Padre Manuel Villaseca"
    )
    assert labels(geocode_search("escuela general bernardo ohiggins"))[0] == "Escuela Gral. Bernardo O'Higgins"


def test_results_come_only_from_served_comunas(gazetteer, communes):
    florida = Commune.objects.create(
        cut="13110",
        name="La Florida",
        jurisdiction_id="la-florida",
        tracking_prefix="LF",
        geometry=box(-70.62, -33.56, -70.54, -33.50),
    )
    gazetteer_load(
        source="prueba-florida",
        commit=True,
        entries=[Entry(EntryKind.ADDRESS, "Av. Concha y Toro 1820", -70.58, -33.53, "f1", number=1820)],
    )
    assert {p.commune_cut for p in geocode_search("concha y toro 18")} == {"13201"}
    florida.is_active = True
    florida.save()
    assert {p.commune_cut for p in geocode_search("concha y toro 18")} == {"13201", "13110"}
    assert [p.commune_cut for p in geocode_search("concha y toro 1820", communes=["13110"])] == ["13110"]
    assert geocode_search("concha y toro 1820", communes=["13122"]) == []


def test_a_query_of_one_or_two_letters_or_only_street_words_finds_nothing(gazetteer):
    assert geocode_search("co") == []
    assert geocode_search("Av. #") == []


def test_limit_caps_the_answers(gazetteer):
    assert len(geocode_search("concha y toro", limit=2)) == 2


def test_a_dropped_pin_is_described_by_the_nearest_intersection(gazetteer):
    place = geocode_reverse(Point(CROSSING[0] + 0.0002, CROSSING[1], srid=4326))
    with translation.override("es-cl"):
        assert place.description == "cerca de Av. Ejército Libertador / Esq. Pedro Núñez F."
    assert 15 < place.distance_m < 25


def test_a_pin_far_from_every_entry_or_outside_the_served_comunas_has_no_description(gazetteer, settings):
    assert geocode_reverse(Point(-70.50, -33.64, srid=4326)) is None
    settings.GEO_SIAC_REVERSE_MAX_METRES = 10
    assert geocode_reverse(Point(CROSSING[0] + 0.0002, CROSSING[1], srid=4326)) is None


def test_many_pins_are_described_in_one_query_each_as_a_pin_alone_would_be(gazetteer):
    from geo_siac.geocoding.selectors import gazetteer_reverse, gazetteer_reverse_many

    Commune.objects.create(
        cut="13110",
        name="La Florida",
        jurisdiction_id="la-florida",
        tracking_prefix="LF",
        geometry=box(-70.62, -33.56, -70.54, -33.50),
    )  # not served: its entries describe no pin
    gazetteer_load(
        source="prueba-florida",
        commit=True,
        entries=[
            Entry(EntryKind.ADDRESS, "Av. Concha y Toro 1820", -70.58, -33.53, "f1", number=1820),
            Entry(EntryKind.STREET, "Calle Sin Esquinas", -70.555, -33.585, "s9"),
        ],
    )
    pins = [
        Point(CROSSING[0] + 0.0002, CROSSING[1], srid=4326),
        Point(-70.50, -33.64, srid=4326),  # far from every entry
        Point(CONCHA_Y_TORO_1820[0], CONCHA_Y_TORO_1820[1] + 0.00008, srid=4326),
        Point(CESFAM[0] + 0.0003, CESFAM[1], srid=4326),
        Point(-70.5801, -33.5301, srid=4326),  # by an address of an inactive comuna
        Point(-70.5551, -33.5851, srid=4326),  # by a street's point alone
    ]
    alone = [gazetteer_reverse(pin) for pin in pins]
    with CaptureQueriesContext(connection) as queries:
        together = gazetteer_reverse_many(pins)
    assert len(queries) == 1
    assert together == alone
    assert [place and place.label for place in together] == [
        "Av. Ejército Libertador / Esq. Pedro Núñez F.",
        None,
        "Av. Concha y Toro 1820",
        "Centro de Salud Familiar Padre Manuel Villaseca",
        None,
        None,
    ]
    with translation.override("es-cl"):
        assert together[0].description_with_distance == "cerca de Av. Ejército Libertador / Esq. Pedro Núñez F., a 20 m"
    assert gazetteer_reverse_many([]) == []


# The reverse lookup as one plain statement, as it was sent on every call before it was prepared: the reference the
# prepared one must answer as.
PLAIN_REVERSE = """
SELECT label, kind, x, y, cut, name,
       ST_Distance(point::geography, ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)::geography) AS distance_m
FROM (
    SELECT e.label, e.kind, e.point, ST_X(e.point) AS x, ST_Y(e.point) AS y, c.cut, c.name
    FROM geocoding_gazetteerentry e JOIN zones_commune c ON c.id = e.commune_id
    WHERE e.kind = ANY(%(kinds)s) AND c.is_active
    ORDER BY e.point <-> ST_SetSRID(ST_MakePoint(%(x)s, %(y)s), 4326)
    LIMIT %(candidates)s
) AS near
ORDER BY distance_m
LIMIT 1
"""


def test_a_dropped_pin_is_described_by_one_prepared_statement_as_by_the_plain_one(gazetteer, settings):
    """gazetteer_reverse sends one EXECUTE of a statement prepared once per session (the nearest few on the plane,
    the nearest of them on the spheroid picked in Python), and answers what the plain statement answered."""
    from geo_siac.geocoding.selectors import NEAR_CANDIDATES, NEAR_KINDS, gazetteer_reverse

    def plain(x: float, y: float) -> tuple | None:
        kinds = [str(kind) for kind in NEAR_KINDS]
        with connection.cursor() as cursor:
            cursor.execute(PLAIN_REVERSE, {"x": x, "y": y, "kinds": kinds, "candidates": NEAR_CANDIDATES})
            return cursor.fetchone()

    pins = [
        (entry.longitude + dx, entry.latitude + dy) for entry in gazetteer for dx, dy in ((0.0003, 0), (0, -0.0004))
    ]
    answers = []
    for x, y in [*pins, (-70.59, -33.59), (-70.50, -33.64)]:
        with CaptureQueriesContext(connection) as queries:
            place = gazetteer_reverse(Point(x, y, srid=4326))
        (query,) = queries
        assert query["sql"].startswith("EXECUTE geocoding_gazetteerentry_list_")
        row = plain(x, y)
        expected = (
            None if row is None or row[6] > settings.GEO_SIAC_REVERSE_MAX_METRES else (*row[:6], pytest.approx(row[6]))
        )
        answers.append(place)
        got = (
            None
            if place is None
            else (
                place.label,
                place.kind,
                place.longitude,
                place.latitude,
                place.commune_cut,
                place.commune_name,
                place.distance_m,
            )
        )
        assert got == expected
    assert len({place.label for place in answers if place is not None}) >= 6
    assert answers[-1] is None  # far from every entry


@pytest.mark.parametrize(
    "q, statements",
    [
        ("concha y to", 2),  # a prefix: normalised with the served comunas, then the prefix
        ("conxha y toro 1820", 2),  # a typo: the prefix, the words' readings, the names and their entries in one
        ("ejercito libertasor con pedro nunez", 2),  # "A con B": both streets' names and their crossings in one
    ],
)
def test_a_search_takes_two_statements_whether_typed_misspelt_or_a_crossing(gazetteer, q, statements):
    # Each round trip costs milliseconds at p95 on a loaded machine (docs/performance.md, geocoding): the typo
    # path took seven.
    with CaptureQueriesContext(connection) as queries:
        found = geocode_search(q)
    assert found, q
    assert len(queries) == statements, [query["sql"][:80] for query in queries]


def test_a_street_like_no_name_finds_nothing_in_two_statements(gazetteer):
    # Not the search over all the entries too: it would only match the query's other words, at 1,000,000 entries
    # in tens of milliseconds (docs/performance.md, geocoding).
    with CaptureQueriesContext(connection) as queries:
        assert geocode_search("ejercito inventado 1820") == []
    assert len(queries) == 2
    found = geocode_search("ejercito libertadro 1820")
    assert (found[0].label, found[0].precision) == ("Av. Ejército Libertador", "number_unknown")


def test_a_crossing_with_a_side_like_no_name_finds_nothing_in_two_statements_but_one_being_typed_still_finds(
    gazetteer,
):
    # Not the intersections of all the entries holding most of its letters, as an unknown single street is not.
    with CaptureQueriesContext(connection) as queries:
        assert geocode_search("ejercito libertadorcito con omar herrera") == []
    assert len(queries) == 2
    assert labels(geocode_search("omar herrera con ejercito libertadorcito 1820")) == []
    # The last word may be one still being typed: "herr" is no word within its budget yet.
    assert labels(geocode_search("ejercito libertador con omar herr"))[0] == (
        "Av. Ejército Libertador / Esq. Omar Herrera G."
    )


def test_a_house_number_not_in_the_gazetteer_is_kept_and_placed_between_the_streets_known_numbers(gazetteer):
    found = geocode_search("concha y toro 1825")
    assert (found[0].label, found[0].kind, found[0].precision) == (
        "Av. Concha y Toro 1825",
        "address",
        "number_approximate",
    )
    assert found[0].latitude == pytest.approx((CONCHA_Y_TORO_1820[1] + -33.59845) / 2)
    assert geocode_search("concha y toro 1820")[0].precision is None  # the number is there: a precise match


def test_a_house_number_on_a_street_without_numbers_offers_the_street_once_saying_the_number_is_unknown(gazetteer):
    # No address "Av. Ejército Libertador 8000" is made up: the street, at its point, once.
    found = geocode_search("Ejército Libertador 8000")
    assert (found[0].label, found[0].kind, found[0].precision) == (
        "Av. Ejército Libertador",
        "street",
        "number_unknown",
    )
    assert (found[0].longitude, found[0].latitude) == pytest.approx((-70.5985, -33.5760))
    assert "Av. Ejército Libertador" not in labels(found[1:])


def test_numbers_of_a_street_come_nearest_the_typed_one_first_and_each_once(communes):
    numbers = [95, 546, 3459, 2531, 1830, 648]
    entries = [
        Entry(EntryKind.ADDRESS, f"Concha y Toro {n}", -70.58, -33.60 + n / 1e6, f"n{n}", number=n) for n in numbers
    ]
    entries.append(Entry(EntryKind.ADDRESS, "Concha Y Toro 3459", -70.58, -33.5966, "repeated", number=3459))
    entries.append(Entry(EntryKind.STREET, "Av. Concha y Toro", -70.5840, -33.6000, "s1"))
    gazetteer_load(source="prueba", entries=entries, commit=True)
    found = [label.casefold() for label in labels(geocode_search("Concha y Toro 1820", limit=8))]
    assert found == [
        "av. concha y toro 1820",
        "av. concha y toro",
        "concha y toro 1830",
        "concha y toro 2531",
        "concha y toro 648",
        "concha y toro 546",
        "concha y toro 3459",
        "concha y toro 95",
    ]


def test_one_name_and_number_far_apart_are_two_places_and_close_together_one(communes):
    # Peñalolén's "Pasaje 3" and "Calle 3" read alike once street types are dropped, but lie about 2 km apart.
    entries = [
        Entry(EntryKind.ADDRESS, "Pasaje 3 120", -70.5400, -33.4850, "p", number=120),
        Entry(EntryKind.ADDRESS, "Calle 3 120", -70.5180, -33.4850, "c", number=120),
        Entry(EntryKind.ADDRESS, "Psje. 3 120", -70.5401, -33.4851, "p2", number=120),
    ]
    gazetteer_load(source="prueba", entries=entries, commit=True)
    found = [(p.label, round(p.longitude, 3)) for p in geocode_search("3 120")]
    assert sorted(found) == [("Calle 3 120", -70.518), ("Pasaje 3 120", -70.54)]


def test_a_corner_loaded_twice_is_offered_once(communes):
    corner = "Av. José Arrieta / Esq. C. de La.Montaña"
    entries = [
        Entry(EntryKind.STREET, "Av. José Arrieta", -70.548, -33.464, "s"),
        Entry(EntryKind.INTERSECTION, corner, -70.52879, -33.46627, "i1"),
        Entry(EntryKind.INTERSECTION, corner, -70.52732, -33.46655, "i2"),
    ]
    gazetteer_load(source="prueba", entries=entries, commit=True)
    assert labels(geocode_search("Av. José Arrieta")) == ["Av. José Arrieta", corner]


def test_each_comunas_search_example_names_its_own_streets(gazetteer):
    gazetteer_load(
        source="prueba-2",
        entries=[
            Entry(EntryKind.INTERSECTION, "Avenida Grecia / Esq. Las Perdices", -70.5300, -33.4782, "g1"),
            Entry(EntryKind.ADDRESS, "Avenida Grecia 9862", -70.530655, -33.478094, "g2", number=9862),
        ],
        commit=True,
    )
    penalolen, puente_alto = Commune.objects.get(name="Peñalolén"), Commune.objects.get(name="Puente Alto")
    assert search_example(penalolen) == ("Avenida Grecia 9862", "Avenida Grecia con Las Perdices")
    assert search_example(puente_alto) == ("Av. Ejército Libertador", "Av. Ejército Libertador con Pedro Núñez F.")


def test_a_number_that_ends_a_streets_name_is_not_read_as_a_house_number(communes):
    gazetteer_load(source="prueba", entries=[Entry(EntryKind.STREET, "El Canelo 9", -70.58, -33.60, "s")], commit=True)
    found = geocode_search("el canelo 9")
    assert (labels(found), found[0].precision) == (["El Canelo 9"], None)


def test_a_typed_number_that_begins_a_known_one_is_kept_first_on_the_prefix_path(gazetteer):
    gazetteer_load(
        source="prueba-2",
        entries=[
            Entry(EntryKind.ADDRESS, "Av. Concha y Toro 150", -70.5850, -33.6020, "a3", number=150),
            Entry(EntryKind.ADDRESS, "Av. Concha y Toro 210", -70.5852, -33.6024, "a4", number=210),
        ],
        commit=True,
    )
    found = geocode_search("concha y toro 182")
    assert (found[0].label, found[0].precision) == ("Av. Concha y Toro 182", "number_approximate")
    assert found[0].latitude == pytest.approx(-33.6020 + (182 - 150) / 60 * -0.0004)
    assert "Av. Concha y Toro 1820" in labels(found)


def test_a_number_far_from_the_streets_known_ones_is_said_unknown_at_the_street(gazetteer):
    found = geocode_search("concha y toro 182")
    assert (found[0].label, found[0].precision) == ("Av. Concha y Toro", "number_unknown")
    assert (found[0].longitude, found[0].latitude) == pytest.approx((-70.5840, -33.6000))
    found = geocode_search("concha y toro 1400")
    assert (found[0].label, found[0].precision) == ("Av. Concha y Toro", "number_unknown")
    assert geocode_search("concha y toro 1600")[0].precision == "number_approximate"


def test_a_house_number_has_at_most_five_digits(gazetteer):
    assert geocode_search("concha y toro 18250")[0].precision == "number_unknown"
    assert "Av. Concha y Toro 182500" not in labels(geocode_search("concha y toro 182500"))


def test_the_report_page_asks_nothing_more_for_its_hint_once_cached_until_the_gazetteer_changes(
    client, gazetteer, monkeypatch
):
    def statements() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/comuna/puente-alto/")
        assert response.status_code == 200
        return len(queries), response.content.decode()

    first, page = statements()
    assert "Av. Ejército Libertador con Pedro Núñez F." in page
    cached, page = statements()
    assert "Av. Ejército Libertador con Pedro Núñez F." in page
    # What the page asked when its hint was a fixed text, as on main.
    monkeypatch.setattr("geo_siac.geocoding.templatetags.place_search.search_example", lambda commune: None)
    fixed, _page = statements()
    assert cached == fixed == first - 1
    monkeypatch.undo()
    gazetteer_load(
        source="prueba-2",
        entries=[Entry(EntryKind.ADDRESS, "Av. Ejército Libertador 100", -70.5985, -33.5761, "e1", number=100)],
        commit=True,
    )
    assert "«Av. Ejército Libertador 100»" in statements()[1]
