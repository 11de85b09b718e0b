"""The writes of the gazetteer: one path loads every source's entries (load_addresses, the benchmark, the tests)."""

import csv
import io
import math
import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection, transaction

from geo_siac.geocoding import normaliser
from geo_siac.geocoding.models import EntryKind, GazetteerEntry
from geo_siac.geocoding.selectors import GENERATION_KEY
from geo_siac.text import CONTROL_CHARACTERS

LABEL_MAX_LENGTH = GazetteerEntry._meta.get_field("label").max_length
CHUNK_ROWS = 50_000

STAGING = """
CREATE TEMPORARY TABLE gazetteer_staging (
    kind text, label text, number integer, longitude float8, latitude float8, cut text, source_id text,
    name text, cross_name text
) ON COMMIT DROP
"""
# A point whose CUT is missing or not a loaded comuna takes the comuna it lies in (the lowest CUT on a border).
PLACE_IN_COMMUNES = """
UPDATE gazetteer_staging s SET cut = (
    SELECT c.cut FROM zones_commune c
    WHERE ST_Intersects(c.geometry, ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326))
    ORDER BY c.cut LIMIT 1
)
WHERE s.cut IS NULL OR NOT EXISTS (SELECT 1 FROM zones_commune c WHERE c.cut = s.cut)
"""
# Each entry's names (GazetteerName), what a search looks in first: an address's street is its text without the
# number; an intersection ("First / Esq. Second", as every source writes it) names two streets.
NAME_STAGING = """
UPDATE gazetteer_staging SET
    name = NULLIF(CASE
        WHEN kind = 'intersection' AND strpos(label, ' / Esq. ') > 0
            THEN geocoding_normalise(split_part(label, ' / Esq. ', 1))
        WHEN number IS NOT NULL THEN regexp_replace(geocoding_normalise(label), ' ' || number || '$', '')
        ELSE geocoding_normalise(label) END, ''),
    cross_name = CASE WHEN kind = 'intersection' AND strpos(label, ' / Esq. ') > 0
        THEN NULLIF(geocoding_normalise(split_part(label, ' / Esq. ', 2)), '') END
WHERE cut IS NOT NULL
"""
NAMES_INSERT = """
INSERT INTO geocoding_gazetteername (text)
SELECT name FROM gazetteer_staging WHERE name IS NOT NULL
UNION SELECT cross_name FROM gazetteer_staging WHERE cross_name IS NOT NULL
ON CONFLICT (text) DO NOTHING
"""
WORDS_INSERT = """
INSERT INTO geocoding_gazetteerword (word)
SELECT unnest(string_to_array(name, ' ')) FROM gazetteer_staging
UNION SELECT unnest(string_to_array(cross_name, ' ')) FROM gazetteer_staging
ON CONFLICT (word) DO NOTHING
"""
# A name no entry carries any more (a reloaded label, an entry gone with its comuna) would take a candidate's place.
NAMES_PRUNE = """
DELETE FROM geocoding_gazetteername n
WHERE NOT EXISTS (SELECT 1 FROM geocoding_gazetteerentry e WHERE e.name_id = n.id)
  AND NOT EXISTS (SELECT 1 FROM geocoding_gazetteerentry e WHERE e.cross_name_id = n.id);
DELETE FROM geocoding_gazetteerword
WHERE word NOT IN (SELECT unnest(string_to_array(text, ' ')) FROM geocoding_gazetteername)
"""
UPSERT = """
WITH written AS (
    INSERT INTO geocoding_gazetteerentry AS e (kind, label, number, point, commune_id, source, source_id, name_id,
                                               cross_name_id)
    SELECT s.kind, s.label, s.number, ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326), c.id, %(source)s,
           s.source_id, n.id, x.id
    FROM gazetteer_staging s JOIN zones_commune c ON c.cut = s.cut
    LEFT JOIN geocoding_gazetteername n ON n.text = s.name
    LEFT JOIN geocoding_gazetteername x ON x.text = s.cross_name
    ON CONFLICT (source, source_id) DO UPDATE SET
        kind = EXCLUDED.kind, label = EXCLUDED.label, number = EXCLUDED.number, point = EXCLUDED.point,
        commune_id = EXCLUDED.commune_id, name_id = EXCLUDED.name_id, cross_name_id = EXCLUDED.cross_name_id
    RETURNING xmax = 0 AS created
)
SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM written
"""


@dataclass(frozen=True)
class Entry:
    """One gazetteer entry as a source gives it. `cut` when the source knows the comuna; else its point decides."""

    kind: str
    label: str
    longitude: float
    latitude: float
    source_id: str
    number: int | None = None
    cut: str | None = None


@dataclass
class LoadSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: Counter = field(default_factory=Counter)
    loaded_by_kind: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        out = [f"leídas: {self.read}", f"creadas: {self.created}", f"actualizadas: {self.updated}"]
        out += [f"  {EntryKind(kind).label}: {count}" for kind, count in sorted(self.loaded_by_kind.items())]
        out += [f"omitidas ({count}): {reason}" for reason, count in self.skipped.most_common()]
        return out


# Connectors a source's title case capitalises ("Av. Concha Y Toro", "Pedro De La Barra"), written as Spanish writes
# them inside a name; an article only after "de" ("Av. La Florida" keeps its own).
CONNECTORS = {"y", "e", "de", "del"}
ARTICLES = {"el", "la", "las", "lo", "los"}
# What begins a name again: the street types and "esquina" the normaliser drops, with or without their dot (its
# number markers, "N° 5", are no street type).
NAME_STARTS = {word for word, full in normaliser.WORDS.items() if not full} - {"n", "nro", "num", "numero"}
WORD = re.compile(r"\S+")


def spanish_casing(label: str) -> str:
    """`label` with its connectors in lower case, never the first word of a name (of each side of a corner, and
    after a street type: "Pje. Y", "Calle De la Luna") nor the last ("Sector E"); a label in capitals is left as
    its source wrote it ("AV. CONCHA Y TORO")."""
    words = WORD.findall(label)
    if all(word.upper() == word for word in words):
        return label
    out, first, before = [], True, ""
    for i, word in enumerate(words):
        lower = word.casefold()
        if word == "/" or lower.rstrip(".") in NAME_STARTS:
            first = True
        elif not first and i < len(words) - 1 and (lower in CONNECTORS or (lower in ARTICLES and before == "de")):
            word = lower
        else:
            first = False
        out.append(word)
        before = lower
    return " ".join(out)


def entry_problem(entry: Entry) -> str | None:
    """Why `entry` cannot be stored, or None."""
    if not entry.label.strip():
        return "sin nombre"
    if len(entry.label) > LABEL_MAX_LENGTH:
        return f"nombre de más de {LABEL_MAX_LENGTH} caracteres"
    if CONTROL_CHARACTERS.search(entry.label) or CONTROL_CHARACTERS.search(entry.source_id):
        return "caracteres de control en el nombre"
    if not (
        math.isfinite(entry.longitude)
        and math.isfinite(entry.latitude)
        and -180 <= entry.longitude <= 180
        and -90 <= entry.latitude <= 90
    ):
        return "coordenadas inválidas"
    if entry.kind not in EntryKind.values:
        return f"tipo desconocido {entry.kind!r}"
    return None


def gazetteer_load(
    *, source: str, entries: Iterable[Entry], commit: bool, summary: LoadSummary | None = None
) -> LoadSummary:
    """Stores `entries` under `source`, replacing the entries with the same (source, source_id), and keeps the
    names they carry and their words (GazetteerName, GazetteerWord) in the same transaction. All or nothing,
    and nothing when not `commit` (a dry run counts what would be written: it writes, then rolls back).
    `summary` carries what the source itself read and skipped."""
    summary = summary or LoadSummary()
    seen: set[str] = set()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(STAGING)
        chunk: list[Entry] = []
        for entry in entries:
            problem = entry_problem(entry) or ("repetida en el origen" if entry.source_id in seen else None)
            if problem:
                summary.skipped[problem] += 1
                continue
            seen.add(entry.source_id)
            chunk.append(entry)
            if len(chunk) == CHUNK_ROWS:
                stage(cursor, chunk)
                chunk = []
        stage(cursor, chunk)
        cursor.execute(PLACE_IN_COMMUNES)
        cursor.execute(
            "SELECT kind, count(*) FILTER (WHERE cut IS NOT NULL), count(*) FILTER (WHERE cut IS NULL)"
            " FROM gazetteer_staging GROUP BY kind"
        )
        for kind, placed, outside in cursor.fetchall():
            summary.loaded_by_kind[kind] += placed
            if outside:
                summary.skipped["fuera de las comunas cargadas"] += outside
        cursor.execute(NAME_STAGING)
        cursor.execute(NAMES_INSERT)
        cursor.execute(WORDS_INSERT)
        cursor.execute(UPSERT, {"source": source})
        summary.created, summary.updated = cursor.fetchone()
        cursor.execute(NAMES_PRUNE)
        # ON COMMIT DROP does not fire when the caller's transaction goes on (a second load in it, a test).
        cursor.execute("DROP TABLE gazetteer_staging")
        if not commit:
            transaction.set_rollback(True)
    if commit:
        gazetteer_generation_bump()
    return summary


def gazetteer_generation_bump() -> None:
    """A new generation of the gazetteer: what was cached from the previous one (the search hints) is not read."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def stage(cursor, entries: list[Entry]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for e in entries:
        writer.writerow(
            [
                e.kind,
                spanish_casing(e.label),
                "" if e.number is None else e.number,
                repr(e.longitude),
                repr(e.latitude),
                e.cut or "",
                e.source_id,
            ]
        )
    buffer.seek(0)
    cursor.copy_expert(
        "COPY gazetteer_staging (kind, label, number, longitude, latitude, cut, source_id) FROM STDIN"
        " WITH (FORMAT csv, NULL '')",
        buffer,
    )
