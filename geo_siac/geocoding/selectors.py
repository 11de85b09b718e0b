"""The reads of the gazetteer: search (geocoding) and the description of a point (reverse geocoding).

`geocode_search` and `geocode_reverse` are what every caller uses (the API, the citizen page, the operator
console): they ask the remote geocoder when one is configured and the local gazetteer otherwise, or when it fails.
"""

import functools
import logging
import re
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.contrib.gis.db.models import PointField
from django.contrib.gis.geos import Point
from django.core.cache import cache
from django.db import connection
from django.db.models import F, FloatField, Func, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from geo_siac.db import QueryTemplate, Slot
from geo_siac.geo import STORAGE_SRID, geodesic_distance_m
from geo_siac.geocoding import normaliser
from geo_siac.geocoding.models import EntryKind, GazetteerEntry
from geo_siac.geocoding.places import Place, Precision
from geo_siac.geocoding.remote import RemoteGeocoderError, remote_geocoder
from geo_siac.zones.models import Commune

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
MAX_LIMIT = 20
# "Calle A con Calle B", "A esquina B", "A esq. B", "A / B", "A & B". Not " y ": "Concha y Toro" is one street.
CROSSING = re.compile(r"\s+(?:con|esquina|esq\.?)\s+|\s*[/&]\s*|\s+esq\.", re.IGNORECASE)
# A partial word of one or two letters matches too much to be worth a query; and a similarity search needs a few
# trigrams to be selective: "aven" (a street type being typed, dropped once whole) would read most of the index.
MIN_NORMALISED_LENGTH = 3
MIN_SIMILAR_LENGTH = 6
# Entries a pin is described by: a street's point stands for the whole street, so it never describes a pin.
NEAR_KINDS = (EntryKind.INTERSECTION, EntryKind.ADDRESS, EntryKind.PLACE)
# Candidates taken by planar distance (the GiST index) before measuring them on the spheroid: a degree of longitude
# is 17% shorter than one of latitude here, so the planar nearest is not always the nearest.
NEAR_CANDIDATES = 8


def normalise(*texts: str) -> list[str]:
    """Each text as the gazetteer's search_text reads it (geocoding_normalise, the one normaliser)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["geocoding_normalise(%s)"] * len(texts)), list(texts))
        return list(cursor.fetchone())


def normalised_and_served(cursor, texts: list[str], cuts: Iterable[str] | None) -> tuple[list[str], list[int]]:
    """`texts` normalised and the ids of the served comunas among `cuts` (all served comunas when None), in one
    statement: results never come from elsewhere, and every round trip costs milliseconds on a loaded machine."""
    communes = Commune.objects.active()
    if cuts is not None:
        communes = communes.filter(cut__in=list(cuts))
    served_sql, served_params = communes.values("id").query.sql_with_params()
    cursor.execute(
        "SELECT " + ", ".join(["geocoding_normalise(%s)"] * len(texts)) + f", ARRAY({served_sql})",
        [*texts, *served_params],
    )
    *normalised, served = cursor.fetchone()
    return normalised, list(served)


COLUMNS = "e.id, e.label, e.kind, ST_X(e.point), ST_Y(e.point), c.cut, c.name, e.number, e.name_id"
FROM_SERVED = "FROM geocoding_gazetteerentry e JOIN zones_commune c ON c.id = e.commune_id"
# What was typed so far begins the entry's text: a range of the btree index on search_text COLLATE "C", read in
# order up to the limit, so a prefix that begins 50,000 entries costs no more than one that begins ten (with LIKE
# the planner took the trigram index and sorted every match). Shorter texts sort first: the street before its
# numbers.
PREFIX_SEARCH = f"""
SELECT {COLUMNS}, 1.0 AS score {FROM_SERVED}
WHERE (e.search_text COLLATE "C") >= %(text)s AND (e.search_text COLLATE "C") < %(after)s
  AND e.commune_id = ANY(%(communes)s)
ORDER BY e.search_text COLLATE "C"
LIMIT %(limit)s
"""
SIMILAR_SEARCH = """
SELECT {columns}, {score} AS score {source}
WHERE {match} AND e.commune_id = ANY(%(communes)s)
ORDER BY score DESC, {then} DESC, e.label, e.id
LIMIT %(limit)s
"""
LIKENESS = "similarity(%(text)s, e.search_text)"
# The entries of the names chosen for the query (the CTE `names`): an address with the query's house number comes
# first. Among the entries of one name, the shortest adds the fewest words to it (the street before its addresses
# and corners), and length costs nothing where similarity() costs 15 us a row on the hundreds of entries of 10
# names. A name's score is looked up in an array: a join to the CTE was planned as a scan of it per entry.
# With a house number typed, the street comes first (what was typed is placed on it, `with_house_number`), then its
# numbers nearest the typed one: 1820 lists 1830 before 95.
NAMED_SEARCH = SIMILAR_SEARCH.format(
    then="(e.kind = 'street') DESC, abs(e.number - %(number)s) ASC NULLS LAST, -length(e.search_text)",
    columns=COLUMNS,
    source=FROM_SERVED
    + """

CROSS JOIN (SELECT array_agg(id) AS ids, array_agg(score) AS scores FROM names) AS named""",
    match="(e.name_id = ANY(named.ids) OR e.cross_name_id = ANY(named.ids))",
    score="greatest(named.scores[array_position(named.ids, e.name_id)],"
    " named.scores[array_position(named.ids, e.cross_name_id)])"
    " + CASE WHEN e.number IS NOT NULL AND e.number = %(number)s THEN 0.1 ELSE 0 END",
)
# The intersections of a name chosen for A (CTE `first_names`) with one chosen for B (`second_names`), in either
# order, ranked by both word similarities.
CROSSING_NAMED_SEARCH = SIMILAR_SEARCH.format(
    then=LIKENESS,
    columns=COLUMNS,
    source=FROM_SERVED,
    match="""e.kind = 'intersection'
  AND ((e.name_id = ANY(ARRAY(SELECT id FROM first_names)) AND e.cross_name_id = ANY(ARRAY(SELECT id FROM second_names)))
    OR (e.name_id = ANY(ARRAY(SELECT id FROM second_names)) AND e.cross_name_id = ANY(ARRAY(SELECT id FROM first_names))))""",
    score="word_similarity(%(first)s, e.search_text) + word_similarity(%(second)s, e.search_text)",
)
# When the names find nothing: every word of the query within a word of the entry (pg_trgm's <%, word_similarity >=
# 0.6, on the GIN index), over all the entries.
WORDS_SEARCH = SIMILAR_SEARCH.format(
    then=LIKENESS,
    columns=COLUMNS,
    source=FROM_SERVED,
    match="%(text)s <%% e.search_text",
    score="word_similarity(%(text)s, e.search_text)"
    " + CASE WHEN e.number IS NOT NULL AND e.number = %(number)s THEN 0.1 ELSE 0 END",
)
CROSSING_SEARCH = SIMILAR_SEARCH.format(
    then=LIKENESS,
    columns=COLUMNS,
    source=FROM_SERVED,
    match="e.kind = 'intersection' AND %(first)s <%% e.search_text AND %(second)s <%% e.search_text",
    score="word_similarity(%(first)s, e.search_text) + word_similarity(%(second)s, e.search_text)",
)

# The readings of the query's words, one row a word: a word some name holds is `known` and read as itself; one no
# name holds (a typo, a word being typed) as the words of the names closest to it within its edit budget (nearest
# first, then by trigram similarity). A word of fewer than MIN_NORMALISED_LENGTH letters, a number, or a misspelt
# street type or abbreviation (NORMALISER_WORDS) has no reading (NULL) and is left out; any other word with no
# word within its budget has none (an empty array), and then no name is chosen: the street was not found. So has a
# word longer than MAX_WORD_LENGTH (levenshtein takes at most 255 characters, and unaccent lengthens "ß" to "ss"); a
# word can only be within its budget of one whose length differs by the budget at most, tested first (normalised words
# are ASCII: octet_length is their length, read from the header, where length() counts characters, 30% slower); the
# scan stays linear in the words (docs/performance.md).
WORD_READINGS_CTE = """
{alias}_readings AS MATERIALIZED (
    SELECT w.i, w.word, k.word IS NOT NULL AS known,
           CASE WHEN k.word IS NOT NULL THEN ARRAY[w.word]
                WHEN length(w.word) > %(max_word_length)s THEN '{{}}'::text[]
                WHEN length(w.word) < %(min_length)s OR w.word ~ '^[0-9]+$' OR EXISTS (
                    SELECT 1 FROM unnest(%(normaliser_words)s::text[]) AS t(word)
                    WHERE levenshtein_less_equal(t.word, w.word, w.edits) <= w.edits) THEN NULL
                ELSE ARRAY(
                    SELECT l.word FROM geocoding_gazetteerword l
                    WHERE octet_length(l.word) BETWEEN octet_length(w.word) - w.edits AND octet_length(w.word) + w.edits
                      AND levenshtein_less_equal(l.word, w.word, w.edits) <= w.edits
                    ORDER BY levenshtein_less_equal(l.word, w.word, w.edits), similarity(l.word, w.word) DESC, l.word
                    LIMIT %(readings)s)
           END AS words
    FROM (SELECT u.word, u.i, CASE WHEN length(u.word) < %(two_edits_from)s THEN 1 ELSE 2 END AS edits
          FROM unnest(%({alias}_words)s::text[]) WITH ORDINALITY AS u(word, i)) AS w
    LEFT JOIN geocoding_gazetteerword k ON k.word = w.word
    WHERE {when}
)"""
WORD_READINGS = 5
MAX_WORD_LENGTH = 64
# A typo is 1 edit in a word of 3 or 4 letters, 2 from 5 (a swap of two letters is 2): measured on the real
# gazetteer against pg_trgm's similarity and Elasticsearch's AUTO in docs/geocoding.md, "Not found".
TWO_EDITS_FROM = 5
# The words the normaliser drops or spells out: one misspelt ("avenidda", "grbl.") is left out, as the normaliser
# would have left it or read it, and is no unknown street.
NORMALISER_WORDS = sorted(word for word in normaliser.WORDS if len(word) >= MIN_NORMALISED_LENGTH)
# The names holding one reading of every word of the query: all the known words (one @>) and one of the readings of
# the first misspelt word (one &&), both answered together by the GIN index of the names' words, then one reading
# of each other misspelt word (checked name by name, so only when there are two). With no misspelt word the && repeats the known words; with no reading at all it is
# NULL and no name is chosen. Best first: word_similarity to the whole query (the house number too), and the whole
# name's similarity to the words, which tells "soto carrasco" from "soto carrera" for "soto carrbsco" and "molina
# morales" from "metro molina morales" for "molina morbles". Only the shortest NAME_POOL are ranked: each holds all
# the query's words, so a longer one only adds words, and ranking thousands (a common name) costs 20 us each.
NAMES_CTE = """
{alias} AS MATERIALIZED (
    SELECT id, (word_similarity(%({alias}_ranked_by)s, text) + similarity(%({alias}_street)s, text)) / 2 AS score
    FROM (
        SELECT n.id, n.text FROM geocoding_gazetteername n
        WHERE string_to_array(n.text, ' ') @> (
                SELECT coalesce(array_agg(r.words[1]), '{{}}') FROM {alias}_readings r WHERE r.known)
          AND string_to_array(n.text, ' ') && coalesce(
                (SELECT r.words FROM {alias}_readings r WHERE NOT r.known AND cardinality(r.words) > 0
                 ORDER BY r.i LIMIT 1),
                (SELECT array_agg(r.words[1]) FROM {alias}_readings r WHERE r.known))
          AND NOT EXISTS (SELECT 1 FROM {alias}_readings r WHERE cardinality(r.words) = 0)
          AND ((SELECT count(*) FROM {alias}_readings r WHERE NOT r.known AND cardinality(r.words) > 0) < 2
               OR NOT EXISTS (SELECT 1 FROM {alias}_readings r WHERE NOT r.known AND cardinality(r.words) > 0
                              AND NOT string_to_array(n.text, ' ') && r.words))
        ORDER BY length(n.text), n.id LIMIT %(pool)s
    ) AS shortest
    ORDER BY score DESC, length(text), id
    LIMIT %(names)s
)"""
NAME_POOL = 100
NAME_CANDIDATES = 10


def names_ctes(alias: str, words: str, ranked_by: str, when: str = "true") -> tuple[list[str], dict]:
    """The CTEs `{alias}_readings` and `{alias}` (the ids and scores of the names that hold `words`, normalised, or
    the words most like them, ranked by their likeness to `ranked_by` and to `words`) and their parameters. Nothing
    is read unless `when` (SQL) holds."""
    ctes = [WORD_READINGS_CTE.format(alias=alias, when=when), NAMES_CTE.format(alias=alias)]
    params = {
        f"{alias}_words": list(dict.fromkeys(words.split())),
        f"{alias}_ranked_by": ranked_by,
        f"{alias}_street": words,
        "min_length": MIN_NORMALISED_LENGTH,
        "max_word_length": MAX_WORD_LENGTH,
        "readings": WORD_READINGS,
        "two_edits_from": TWO_EDITS_FROM,
        "normaliser_words": NORMALISER_WORDS,
        "pool": NAME_POOL,
        "names": NAME_CANDIDATES,
    }
    return ctes, params


def with_ctes(ctes: list[str], statement: str) -> str:
    return "WITH " + ",".join(ctes) + "\n" + statement


def fetch(cursor, statement: str, params: dict) -> list[tuple]:
    cursor.execute(statement, params)
    return cursor.fetchall()


# A row of NULLs when a word of the query is like no word of the names (an empty reading): the street was not found,
# and the search over all the entries would only match the query's other words (28% of the benchmark's made-up names).
# But for the word being typed (`{alias}_being_typed`, the last of "A con B"): "eyzag" is no word within its budget yet, and
# only the search over all the entries finds the corners of the names it begins.
NOT_FOUND = """
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
WHERE EXISTS (SELECT 1 FROM {alias}_readings r WHERE cardinality(r.words) = 0 AND r.word IS DISTINCT FROM %({alias}_being_typed)s)
"""


def found_rows(rows: list[tuple]) -> tuple[list[tuple], bool]:
    """The rows of a statement that ends with NOT_FOUND, without its row of NULLs, and whether that row was there."""
    found = [row for row in rows if row[0] is not None]
    return found, len(found) < len(rows)


def crossing_rows(cursor, params: dict) -> tuple[list[tuple], bool]:
    """The intersections of the names like A with those like B, in one statement; of all the entries when the names
    give none. And whether a side was not found (a word like no word of the names, but the one being typed): then no
    intersection is, not even among all the entries."""
    first_ctes, first_params = names_ctes("first_names", params["first"], params["first"])
    second_ctes, second_params = names_ctes("second_names", params["second"], params["second"])
    statement = with_ctes(
        first_ctes + second_ctes,
        f"({CROSSING_NAMED_SEARCH}) UNION ALL ({NOT_FOUND.format(alias='first_names')})"
        f" UNION ALL ({NOT_FOUND.format(alias='second_names')})",
    )
    being_typed = {"first_names_being_typed": None, "second_names_being_typed": params["second"].rsplit(" ", 1)[-1]}
    rows, not_found = found_rows(fetch(cursor, statement, {**params, **first_params, **second_params, **being_typed}))
    if rows or not_found:
        return rows, not_found
    return fetch(cursor, CROSSING_SEARCH, params), False


def prefix_or_similar_rows(cursor, street: str, params: dict) -> list[tuple]:
    """The entries that begin with the query, or else those of the names holding the words of `street` (the query
    without its house number), ranked by the names' likeness to the whole query; of all the entries when the names
    give none too, unless a word of the query is like no word of the names."""
    ctes, names_params = names_ctes("names", street, params["text"], when="NOT EXISTS (SELECT 1 FROM prefix)")
    statement = with_ctes(
        [f"prefix AS MATERIALIZED ({PREFIX_SEARCH})", *ctes],
        "SELECT * FROM prefix UNION ALL (" + NAMED_SEARCH + ") UNION ALL (" + NOT_FOUND.format(alias="names") + ")",
    )
    rows, not_found = found_rows(fetch(cursor, statement, {**params, **names_params, "names_being_typed": None}))
    return rows if rows or not_found else fetch(cursor, WORDS_SEARCH, params)


# The street a typed house number is placed on, and its known numbers nearest that one on either side: the prefix
# search finds only the addresses that begin with the number ("182" finds 1820), never the street itself.
STREET_AND_NEIGHBOURS = f"""
WITH street AS MATERIALIZED (
    SELECT {COLUMNS}, 1.0 AS score, e.commune_id {FROM_SERVED}
    WHERE e.kind = 'street' AND (e.search_text COLLATE "C") = %(street)s AND e.commune_id = ANY(%(communes)s)
    ORDER BY e.id LIMIT 1
)
SELECT id, label, kind, st_x, st_y, cut, name, number, name_id, score FROM street
UNION ALL (SELECT {COLUMNS}, 1.0 {FROM_SERVED} JOIN street s ON s.name_id = e.name_id AND s.commune_id = e.commune_id
    WHERE e.kind = 'address' AND e.number < %(number)s ORDER BY e.number DESC LIMIT 1)
UNION ALL (SELECT {COLUMNS}, 1.0 {FROM_SERVED} JOIN street s ON s.name_id = e.name_id AND s.commune_id = e.commune_id
    WHERE e.kind = 'address' AND e.number > %(number)s ORDER BY e.number ASC LIMIT 1)
"""
# A house number has at most 5 digits (a longer one is a phone or a typo), and one further than this from the
# street's nearest known number is not placed by them: streets are numbered by metres, a block is about 100.
MAX_NUMBER_DIGITS = 5
MAX_NUMBER_GAP = 300


def with_street(cursor, rows: list[tuple], street: str, params: dict) -> list[tuple]:
    """`rows` and, when they hold neither a street nor the house number typed, the
    street named by the rest of the query and its known numbers nearest the typed one."""
    number = params["number"]
    if number is None or not rows or any(row[2] == EntryKind.STREET or row[7] == number for row in rows):
        return rows
    return rows + fetch(cursor, STREET_AND_NEIGHBOURS, {**params, "street": street})


# Two rows of one street name and number are one place only this close: the normaliser drops street types, so
# "Pasaje 3 120" and "Calle 3 120" of Peñalolén, 2 km apart, share a name; two sources' points of one street do not.
SAME_PLACE_M = 150


def distinct(rows: list[tuple]) -> list[Place]:
    """The rows as places, each once: a street or an address by its name (the normalised one the search reads) and
    number in its comuna when within SAME_PLACE_M of the one kept, anything else by its label: "Av. Concha y Toro"
    and "Concha y Toro" from two sources are one street, and one corner merged from stops too far apart would be
    offered twice."""
    seen, places = {}, []
    for _id, label, kind, x, y, cut, name, number, name_id, score in rows:
        named = kind in (EntryKind.STREET, EntryKind.ADDRESS) and name_id is not None
        key = (kind, name_id, number, cut) if named else (kind, " ".join(label.casefold().split()), cut)
        kept = seen.setdefault(key, [])
        if named and any(geodesic_distance_m(y, x, ky, kx) <= SAME_PLACE_M for kx, ky in kept) or kept and not named:
            continue
        kept.append((x, y))
        places.append(Place(label, kind, x, y, cut, name, score=float(score)))
    return places


def house_on_street(rows: list[tuple], number: int) -> Place | None:
    """The typed house number on the first street found: between the two numbers of that street nearest it on
    either side when the gazetteer has both (the nearest one when only one side), as an address saying it is
    approximate. When none is within MAX_NUMBER_GAP of it, the street itself at its point, saying the number is
    unknown: no address is made up for a number the gazetteer cannot place. None when the street has that number,
    when no street is among the best answers, or when the number ends the street's name ("El Canelo 9")."""
    street = next((row for row in rows if row[2] == EntryKind.STREET), None)
    if street is None or street[9] < rows[0][9] or street[1].split()[-1] == str(number):
        return None
    _id, label, _kind, x, y, cut, name, _number, name_id, score = street
    numbered = [row for row in rows if row[2] == EntryKind.ADDRESS and row[8] == name_id and row[5] == cut and row[7]]
    if any(row[7] == number for row in numbered):
        return None
    below = max((row for row in numbered if row[7] < number), key=lambda row: row[7], default=None)
    above = min((row for row in numbered if row[7] > number), key=lambda row: row[7], default=None)
    nearest = min(abs(row[7] - number) for row in (below, above) if row) if below or above else None
    if nearest is None or nearest > MAX_NUMBER_GAP:
        return Place(label, EntryKind.STREET, x, y, cut, name, score=float(score), precision=Precision.NUMBER_UNKNOWN)
    if below and above:
        share = (number - below[7]) / (above[7] - below[7])
        x, y = below[3] + share * (above[3] - below[3]), below[4] + share * (above[4] - below[4])
    else:
        x, y = (below or above)[3:5]
    return Place(
        f"{label} {number}",
        EntryKind.ADDRESS,
        x,
        y,
        cut,
        name,
        score=float(score),
        precision=Precision.NUMBER_APPROXIMATE,
    )


def gazetteer_search(q: str, *, communes: Iterable[str] | None = None, limit: int = 10) -> list[Place]:
    """The local gazetteer's answers to `q` in the served comunas (or those of `communes` among them), best first:
    for "A con B" the intersections of A and B; otherwise the entries that begin with what was typed and, when none
    does, those similar to it word by word (a typo, words in another order): first among the entries of the names
    that hold the query's words, then, when those give nothing, among all the entries."""
    parts = CROSSING.split(q.strip(), maxsplit=1)
    with connection.cursor() as cursor:
        (text, *crossing), served = normalised_and_served(cursor, [q, *parts] if len(parts) == 2 else [q], communes)
        if len(text) < MIN_NORMALISED_LENGTH:
            return []
        last = text.rsplit(" ", 1)[-1]
        numbered = last.isdigit() and len(last) <= MAX_NUMBER_DIGITS and " " in text
        street = text.rsplit(" ", 1)[0] if numbered else text
        # Normalised text holds only [a-z0-9 ]: the texts that begin with `text` sort before `text` with its last
        # character raised by one.
        params = {
            "text": text,
            "after": text[:-1] + chr(ord(text[-1]) + 1),
            "number": int(last) if numbered else None,
            "communes": served,
            # Room for the repeats `distinct` drops (one corner or one address loaded twice).
            "limit": 2 * limit,
        }
        rows = []
        if crossing and all(crossing):
            rows, not_found = crossing_rows(cursor, {**params, "first": crossing[0], "second": crossing[1]})
            if not_found:
                return []
        if not rows:
            rows = (
                prefix_or_similar_rows(cursor, street, params)
                if len(text) >= MIN_SIMILAR_LENGTH
                else fetch(cursor, PREFIX_SEARCH, params)
            )
            rows = with_street(cursor, rows, street, params)
    house = house_on_street(rows, params["number"]) if params["number"] else None
    places = distinct(rows)
    if house and house.kind == EntryKind.STREET:  # the street with the number unknown is that street, offered once
        places = [p for p in places if (p.kind, p.label, p.commune_cut) != (house.kind, house.label, house.commune_cut)]
    return ([house] if house else []) + places[: limit - 1 if house else limit]


class NearestFirst(Func):
    """`column <-> point`: the planar distance the GiST index orders by, nearest first."""

    arg_joiner = " <-> "
    template = "%(expressions)s"
    output_field = FloatField()


def as_geography(expression) -> Cast:
    return Cast(expression, PointField(geography=True, srid=STORAGE_SRID))


def reverse_query(_shape, x=None, y=None):
    """The NEAR_CANDIDATES entries of served comunas nearest the point (slots x and y, or the given expressions) on
    the plane, each with its distance on the plane (`planar`, their order) and on the spheroid."""
    pin = Func(
        Func(x or Slot("x", FloatField()), y or Slot("y", FloatField()), function="ST_MakePoint"),
        Value(STORAGE_SRID),
        function="ST_SetSRID",
        output_field=PointField(srid=STORAGE_SRID),
    )
    return (
        GazetteerEntry.objects.filter(kind__any=[str(kind) for kind in NEAR_KINDS], commune__is_active=True)
        .order_by(NearestFirst(F("point"), pin).asc())
        .values(
            "label",
            "kind",
            x=Func(F("point"), function="ST_X", output_field=FloatField()),
            y=Func(F("point"), function="ST_Y", output_field=FloatField()),
            cut=F("commune__cut"),
            commune_name=F("commune__name"),
            planar=NearestFirst(F("point"), pin),
            distance_m=Func(
                as_geography(F("point")), as_geography(pin), function="ST_Distance", output_field=FloatField()
            ),
        )[:NEAR_CANDIDATES]
    )


# Prepared once per session (geo_siac.db.QueryTemplate): every report filed without an address asks it, and
# PostgreSQL parsed and planned it on each one.
REVERSE = QueryTemplate(reverse_query, prepared=True)


def in_storage_srid(point: Point) -> Point:
    return point.transform(STORAGE_SRID, clone=True) if point.srid not in (None, STORAGE_SRID) else point


def nearest_within_reach(candidates: list[dict]) -> Place | None:
    """Of a point's candidates (reverse_query's rows, in the plane's order), the first of the nearest on the
    spheroid, when it is within GEO_SIAC_REVERSE_MAX_METRES: the one rule of what describes a point."""
    if not candidates:
        return None
    row = min(candidates, key=lambda candidate: candidate["distance_m"])
    if row["distance_m"] > settings.GEO_SIAC_REVERSE_MAX_METRES:
        return None
    return Place(
        row["label"], row["kind"], row["x"], row["y"], row["cut"], row["commune_name"], distance_m=row["distance_m"]
    )


def gazetteer_reverse(point: Point) -> Place | None:
    """The nearest intersection, address or named place of a served comuna within GEO_SIAC_REVERSE_MAX_METRES."""
    point = in_storage_srid(point)
    return nearest_within_reach(REVERSE.rows(None, {"x": point.x, "y": point.y}))


@functools.cache
def reverse_many_sql() -> tuple[str, list]:
    """reverse_query for many points at once, compiled from it (so the two cannot describe a point differently):
    each point of two arrays (%s, %s) joined LATERAL to its own candidates, found by the same GiST order."""
    pin_x, pin_y = (RawSQL(f"p.{axis}", (), output_field=FloatField()) for axis in "xy")
    candidates = reverse_query(None, x=pin_x, y=pin_y)
    sql, params = candidates.query.get_compiler(connection=connection).as_sql()
    return (
        "SELECT p.i, n.* FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(x, y, i) "
        f"CROSS JOIN LATERAL ({sql}) AS n ORDER BY p.i, n.planar",
        list(params),
    )


def gazetteer_reverse_many(points: list[Point]) -> list[Place | None]:
    """gazetteer_reverse of each point, in one statement whatever their number (a list of reports: no query each)."""
    if not points:
        return []
    points = [in_storage_srid(point) for point in points]
    sql, params = reverse_many_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, [[point.x for point in points], [point.y for point in points], *params])
        names = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    candidates = [[] for _point in points]
    for i, *row in rows:
        candidates[i - 1].append(dict(zip(names[1:], row, strict=True)))
    return [nearest_within_reach(found) for found in candidates]


# What names a map without tiles: the named places, and each street at its one point (a label, not a line).
MAP_KINDS = (EntryKind.PLACE, EntryKind.STREET)
IN_BOX = f"""
SELECT {COLUMNS} {FROM_SERVED}
WHERE e.point && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
  AND e.kind = ANY(%(kinds)s) AND c.is_active
ORDER BY e.kind = 'place' DESC, e.label, e.id
LIMIT %(limit)s
"""


def gazetteer_in_box(*, west: float, south: float, east: float, north: float, limit: int = 200) -> list[Place]:
    """The named places and streets of served comunas in the box, places first: what a map shows when its tile
    server cannot be reached."""
    with connection.cursor() as cursor:
        cursor.execute(
            IN_BOX,
            {
                "west": west,
                "south": south,
                "east": east,
                "north": north,
                "kinds": [str(kind) for kind in MAP_KINDS],
                "limit": limit,
            },
        )
        rows = cursor.fetchall()
    return [Place(label, kind, x, y, cut, name) for _id, label, kind, x, y, cut, name, _number, _name in rows]


def geocode_search(q: str, *, communes: Iterable[str] | None = None, limit: int = 10) -> list[Place]:
    """Places matching `q` in the served comunas, best first: from the remote geocoder when one is configured and
    answers within its timeout with places in those comunas, from the local gazetteer otherwise."""
    remote = remote_geocoder()
    if remote is not None:
        try:
            places = remote.search(q, communes=communes, limit=limit)
        except RemoteGeocoderError as exc:
            logger.warning("remote geocoder failed, the gazetteer answers: %s", exc)
        else:
            if places:
                return places
    return gazetteer_search(q, communes=communes, limit=limit)


def geocode_reverse(point: Point) -> Place | None:
    """What is near `point` in a served comuna ("cerca de Av. Concha y Toro / Esq. ..."), or None."""
    remote = remote_geocoder()
    if remote is not None:
        try:
            place = remote.reverse(point)
        except RemoteGeocoderError as exc:
            logger.warning("remote geocoder failed, the gazetteer answers: %s", exc)
        else:
            if place is not None:
                return place
    return gazetteer_reverse(point)


# A corner of the comuna and an address on its street, when the gazetteer has one, else any corner: what its search
# box's hint names, so each comuna's page shows its own streets. Only the first EXAMPLE_ADDRESSES addresses are
# tried, each by the index of the entries' names: trying every corner of a comuna takes most of a second.
SERVED_IN = "c.is_active AND (%(commune)s::bigint IS NULL OR c.id = %(commune)s::bigint)"
EXAMPLE = f"""
(SELECT i.label, a.label FROM (
    SELECT a.id, a.label, a.name_id, a.commune_id FROM geocoding_gazetteerentry a
    JOIN zones_commune c ON c.id = a.commune_id
    WHERE a.kind = 'address' AND {SERVED_IN}
    ORDER BY a.id LIMIT %(addresses)s
) a
CROSS JOIN LATERAL (
    SELECT i.label FROM geocoding_gazetteerentry i
    WHERE i.name_id = a.name_id AND i.kind = 'intersection' AND i.commune_id = a.commune_id
    ORDER BY i.id LIMIT 1
) i
ORDER BY a.id LIMIT 1)
UNION ALL
(SELECT i.label, NULL FROM geocoding_gazetteerentry i JOIN zones_commune c ON c.id = i.commune_id
 WHERE i.kind = 'intersection' AND {SERVED_IN} ORDER BY i.id LIMIT 1)
LIMIT 1
"""
EXAMPLE_ADDRESSES = 50
CORNER = " / Esq. "


# Kept in the cache per comuna until the gazetteer changes (gazetteer_load sets a new generation): the hint is on
# the busiest public page, which then asks the database nothing more for it.
GENERATION_KEY = "gazetteer-generation"
EXAMPLE_SECONDS = 24 * 3600
NO_EXAMPLE = "none"


def gazetteer_generation() -> str:
    """The gazetteer's generation in the cache, a new one when the cache has none (evicted, or never loaded)."""
    return cache.get_or_set(GENERATION_KEY, lambda: uuid.uuid4().hex, timeout=None)


def search_example(commune: Commune | None) -> tuple[str, str] | None:
    """An address (or a street) and a crossing ("A con B") of `commune`, or of any served comuna when None; None
    when the gazetteer has no corner there."""
    key = f"search-example:{gazetteer_generation()}:{commune.pk if commune else 'all'}"
    example = cache.get(key)
    if example is None:
        example = computed_search_example(commune) or NO_EXAMPLE
        cache.set(key, example, EXAMPLE_SECONDS)
    return None if example == NO_EXAMPLE else tuple(example)


def computed_search_example(commune: Commune | None) -> tuple[str, str] | None:
    with connection.cursor() as cursor:
        cursor.execute(EXAMPLE, {"commune": commune.pk if commune else None, "addresses": EXAMPLE_ADDRESSES})
        row = cursor.fetchone()
    if row is None or CORNER not in row[0]:
        return None
    first, second = row[0].split(CORNER, 1)
    return row[1] or first, f"{first} con {second}"
