"""The reads of the gazetteer: search (geocoding) and the description of a point (reverse geocoding).

`geocode_search` and `geocode_reverse` are what every caller uses (the API, the citizen page, the operator
console): they ask the remote geocoder when one is configured and the local gazetteer otherwise, or when it fails.
"""

import logging
import re
from collections.abc import Iterable

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import connection

from geo_siac.geo import STORAGE_SRID
from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.places import Place
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


def served_commune_ids(cuts: Iterable[str] | None) -> list[int]:
    """The served comunas among `cuts` (all served comunas when None): results never come from elsewhere."""
    communes = Commune.objects.active()
    if cuts is not None:
        communes = communes.filter(cut__in=list(cuts))
    return list(communes.values_list("id", flat=True))


COLUMNS = "e.id, e.label, e.kind, ST_X(e.point), ST_Y(e.point), c.cut, c.name"
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
ORDER BY score DESC, similarity(%(text)s, e.search_text) DESC, e.label, e.id
LIMIT %(limit)s
"""
# Every word of the query within a word of the entry (pg_trgm's <%, word_similarity >= 0.6, on the GIN index): typos
# and words in another order; an entry with the query's house number comes first.
WORDS_SEARCH = SIMILAR_SEARCH.format(
    columns=COLUMNS, source=FROM_SERVED,
    match="%(text)s <%% e.search_text",
    score="word_similarity(%(text)s, e.search_text)"
          " + CASE WHEN e.number IS NOT NULL AND e.number = %(number)s THEN 0.1 ELSE 0 END",
)
# Both streets of "A con B" in the intersection's name, in either order.
CROSSING_SEARCH = SIMILAR_SEARCH.format(
    columns=COLUMNS, source=FROM_SERVED,
    match="e.kind = 'intersection' AND %(first)s <%% e.search_text AND %(second)s <%% e.search_text",
    score="word_similarity(%(first)s, e.search_text) + word_similarity(%(second)s, e.search_text)",
)


def gazetteer_search(q: str, *, communes: Iterable[str] | None = None, limit: int = 10) -> list[Place]:
    """The local gazetteer's answers to `q` in the served comunas (or those of `communes` among them), best first:
    for "A con B" the intersections of A and B; otherwise the entries that begin with what was typed and, when none
    does, those similar to it word by word (a typo, words in another order)."""
    parts = CROSSING.split(q.strip(), maxsplit=1)
    text, *crossing = normalise(q, *parts) if len(parts) == 2 else normalise(q)
    if len(text) < MIN_NORMALISED_LENGTH:
        return []
    last = text.rsplit(" ", 1)[-1]
    # Normalised text holds only [a-z0-9 ]: the texts that begin with `text` sort before `text` with its last
    # character raised by one.
    params = {"text": text, "after": text[:-1] + chr(ord(text[-1]) + 1),
              "number": int(last) if last.isdigit() else None, "communes": served_commune_ids(communes), "limit": limit}
    statements = [PREFIX_SEARCH] + ([WORDS_SEARCH] if len(text) >= MIN_SIMILAR_LENGTH else [])
    if crossing and all(crossing):
        params.update(first=crossing[0], second=crossing[1])
        statements.insert(0, CROSSING_SEARCH)
    rows = []
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)
            rows = cursor.fetchall()
            if rows:
                break
    return [Place(label, kind, x, y, cut, name, score=float(score))
            for _id, label, kind, x, y, cut, name, score in rows]


REVERSE = """
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


def gazetteer_reverse(point: Point) -> Place | None:
    """The nearest intersection, address or named place of a served comuna within GEO_SIAC_REVERSE_MAX_METRES."""
    point = point.transform(STORAGE_SRID, clone=True) if point.srid not in (None, STORAGE_SRID) else point
    with connection.cursor() as cursor:
        cursor.execute(REVERSE, {"x": point.x, "y": point.y, "kinds": [str(kind) for kind in NEAR_KINDS],
                                 "candidates": NEAR_CANDIDATES})
        row = cursor.fetchone()
    if row is None or row[6] > settings.GEO_SIAC_REVERSE_MAX_METRES:
        return None
    label, kind, x, y, cut, name, distance_m = row
    return Place(label, kind, x, y, cut, name, distance_m=distance_m)


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
        cursor.execute(IN_BOX, {"west": west, "south": south, "east": east, "north": north,
                                "kinds": [str(kind) for kind in MAP_KINDS], "limit": limit})
        rows = cursor.fetchall()
    return [Place(label, kind, x, y, cut, name) for _id, label, kind, x, y, cut, name in rows]


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
