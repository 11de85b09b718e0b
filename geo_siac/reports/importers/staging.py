"""Writing a checked chunk: COPY into a temporary staging table, then one statement that claims each row's unique
keys (models.ReportKey: its source id and tracking code) and writes its report and history, with the table and column
names of the models. A chunk where a key is taken already (a restarted import, a tracking code drawn twice) is rolled
back to before that statement and written in steps that find those rows: claim_statement, then insert_statement of
the rows that claimed their keys."""

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from django.db import IntegrityError, connection, transaction
from psycopg2.errorcodes import UNIQUE_VIOLATION

from geo_siac.geo import H3_RESOLUTIONS, STORAGE_SRID
from geo_siac.reports.models import YEAR_ID_BASE, EventKind, Report, ReportEvent, ReportKey, YearArchive, source_key
from geo_siac.reports.partitions import partition_name, reception_years, year_partitions_ensure
from geo_siac.reports.states import Status
from geo_siac.reports.tracking import tracking_codes
from geo_siac.zones.models import Zone

STAGING_COLUMNS = (
    "row_no",
    "source_id",
    "tracking_code",
    "commune_id",
    "category_id",
    "lng",
    "lat",
    "description",
    "address",
    "status",
    "channel",
    "created_at",
    "updated_at",
    "expected_at",
    "closed_at",
    *(f"h3_res{r}" for r in H3_RESOLUTIONS),
)
TIMESTAMPS = ("created_at", "updated_at", "expected_at", "closed_at")
STAGING_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS import_staging (
    row_no bigint, source_id text, tracking_code text, commune_id bigint, category_id bigint,
    lng double precision, lat double precision, description text, address text, status text, channel text,
    created_at double precision, updated_at double precision, expected_at double precision,
    closed_at double precision,
    {", ".join(f"h3_res{r} bigint" for r in H3_RESOLUTIONS)},
    id bigint, claimed boolean NOT NULL DEFAULT false
) ON COMMIT DROP
"""
# What each report column is filled with, by Report field: the staging table's columns, or the values report_create
# leaves at their defaults for an imported report (no reporter, no answers, not public).
REPORT_VALUES = {
    "tracking_code": "s.tracking_code",
    "commune": "s.commune_id",
    "category": "s.category_id",
    "location": f"ST_SetSRID(ST_MakePoint(s.lng, s.lat), {STORAGE_SRID})",
    "address": "s.address",
    "description": "s.description",
    "attributes": "'{}'::jsonb",
    "status": "s.status",
    "channel": "s.channel",
    "public_visibility": "false",
    "reporter_name": "''",
    "reporter_email": "''",
    "reporter_phone": "''",
    "language": "'es'",
    "id": "s.id",  # drawn when its keys were claimed: report_year_id, the year partition of its reception
    "created_at": "to_timestamp(s.created_at)",
    "updated_at": "to_timestamp(s.updated_at)",
    "expected_at": "to_timestamp(s.expected_at)",
    "closed_at": "to_timestamp(s.closed_at)",
    # A closing is the first answer the source's records show; an open request moved on from "submitted" was
    # answered at a time the source does not give, so unknown, not its creation (docs/indicators.md).
    # NULL on open rows only because rows.py empties closed_at on every row whose status is not closed.
    "first_response_at": "to_timestamp(s.closed_at)",
    "source": "%(source)s",
    "source_id": "s.source_id",
    **{f"h3_res{r}": f"s.h3_res{r}" for r in H3_RESOLUTIONS},
}
# The crew zone version in force at the report's creation that holds its point, the lowest key as routing picks
# (geo_siac_placement): history filed before its zone was drawn, or outside every zone, keeps none.
ZONE_IN_FORCE = """(
    SELECT z.id FROM {zones} z
     WHERE z.commune_id = s.commune_id AND z.created_at <= to_timestamp(s.created_at)
       AND (z.retired_at IS NULL OR z.retired_at > to_timestamp(s.created_at))
       AND ST_Intersects(z.geometry, {location})
     ORDER BY z.key LIMIT 1)"""
EVENT_FIELDS = ("report", "kind", "from_status", "to_status", "note", "is_public", "actor_label", "created_at")


def columns_of(model, names) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(model._meta.get_field(name).column) for name in names)


def insert_statement(*, years: list[int], claiming: bool = False, zoned: bool = False) -> str:
    """One statement inserts the reports and their history (a 'created' event, and a status event for the others,
    not 'submitted', dated at its closing or, open, at its creation) and returns how many reports it inserted. Table
    and column names come from the models, as report_store's statement. The report table holds no unique key left
    to conflict on, so no ON CONFLICT. Only the staged rows that claimed their keys (claim_statement) are inserted,
    or with `claiming` every staged row, its id drawn and its two keys inserted in the same statement, which fails
    whole if any key is taken (unique_violation), checking each key once where ON CONFLICT checks it twice.

    The events go straight into their year partitions (`years`, the years of the chunk's reports): through the
    partitioned table, PostgreSQL would copy every event into the transition table of the webhook trigger, which
    skips imported history anyway (geo_siac.loading_history), and route each row.

    With `zoned` (zones_in_force) each report gets its crew zone (ZONE_IN_FORCE), else none: no zone to look for."""
    quote = connection.ops.quote_name
    zone = ZONE_IN_FORCE.format(zones=quote(Zone._meta.db_table), location=REPORT_VALUES["location"])
    values = {**REPORT_VALUES, "zone": zone if zoned else "NULL"}
    returned = columns_of(Report, ("id", "status", "created_at", "closed_at"))
    event_columns = columns_of(ReportEvent, ("id", *EVENT_FIELDS))
    events_table = ReportEvent._meta.db_table
    with connection.cursor() as cursor:  # named once: pg_get_serial_sequence in the statement runs for every row
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [events_table, ReportEvent._meta.pk.column])
        event_id = f"nextval('{cursor.fetchone()[0]}'::regclass)"
    histories = "".join(
        f""", history_{year} AS (
    INSERT INTO {quote(partition_name(events_table, year))} ({event_columns})
    SELECT {event_id}, i.id, e.kind, e.from_status, e.to_status, '', true, %(actor)s, e.created_at
      FROM inserted i
     CROSS JOIN LATERAL (VALUES (%(created)s, '', %(submitted)s, i.created_at),
                                (%(changed)s, %(submitted)s, i.status, COALESCE(i.closed_at, i.created_at)))
           AS e (kind, from_status, to_status, created_at)
     WHERE i.id >= {year * YEAR_ID_BASE} AND i.id < {(year + 1) * YEAR_ID_BASE}
       AND (e.kind = %(created)s OR i.status <> %(submitted)s)
)"""
        for year in years
    )
    staged, claimed, claims = "import_staging s", "s.claimed", ""
    if claiming:
        claimed = "true"
        claims = f"""staged AS MATERIALIZED (
    SELECT {", ".join(STAGING_COLUMNS)}, report_year_id(to_timestamp(created_at)) AS id FROM import_staging
), claims AS (
    INSERT INTO {quote(ReportKey._meta.db_table)} ({columns_of(ReportKey, ("key", "report"))})
    SELECT 'source:' || %(source)s || ':' || source_id, id FROM staged
     UNION ALL
    SELECT 'code:' || tracking_code, id FROM staged
    RETURNING 1
),"""
        # Read by the insert below, so every key is written before any report: an unreferenced CTE would run
        # after the main statement, and a chunk imported before would write all its reports and events first.
        staged = "staged s CROSS JOIN (SELECT count(*) FROM claims) k"
    return f"""
WITH {claims} inserted (id, status, created_at, closed_at) AS (
    INSERT INTO {quote(Report._meta.db_table)} ({columns_of(Report, values)})
    SELECT {", ".join(values.values())}
      FROM {staged}
     WHERE {claimed}
    RETURNING {returned}
){histories}
SELECT count(*) FROM inserted
"""


INSERT_PARAMS = {
    "submitted": Status.SUBMITTED.value,
    "created": EventKind.CREATED.value,
    "changed": EventKind.STATUS.value,
    "actor": "Importación",
}


def claim_statement() -> str:
    """Draw each staged row's id and claim its keys, the source id's first: a row whose source id is stored already
    (a restarted import) claims nothing more, and a row whose keys are all claimed is marked `claimed`. A source
    key claimed by a row whose tracking code was taken stays behind: release_statement removes it."""
    table = connection.ops.quote_name(ReportKey._meta.db_table)
    columns = columns_of(ReportKey, ("key", "report"))
    return f"""
WITH staged AS MATERIALIZED (
    SELECT row_no, source_id, tracking_code, report_year_id(to_timestamp(created_at)) AS id FROM import_staging
), sources AS (
    INSERT INTO {table} ({columns}) SELECT 'source:' || %(source)s || ':' || source_id, id FROM staged
    ON CONFLICT DO NOTHING RETURNING report_id
), codes AS (
    INSERT INTO {table} ({columns}) SELECT 'code:' || tracking_code, id FROM staged
     WHERE id IN (SELECT report_id FROM sources)
    ON CONFLICT DO NOTHING RETURNING report_id
)
UPDATE import_staging s SET id = staged.id, claimed = staged.id IN (SELECT report_id FROM codes)
  FROM staged WHERE s.row_no = staged.row_no
"""


def release_statement() -> str:
    """Give back the keys claimed by the staged rows that are not to be inserted (their tracking code was taken)."""
    table = connection.ops.quote_name(ReportKey._meta.db_table)
    # By the key, the primary key's index: bulk mode drops the one on report_id.
    return (
        f"DELETE FROM {table} k USING import_staging s WHERE NOT s.claimed "
        "AND k.key = 'source:' || %(source)s || ':' || s.source_id AND k.report_id = s.id"
    )


def stored_keys_statement() -> str:
    table = connection.ops.quote_name(ReportKey._meta.db_table)
    return f"SELECT key FROM {table} WHERE key = ANY(%s)"


def encode_staging(good: pd.DataFrame) -> pa.Buffer:
    """The staging rows as CSV for COPY, written by Arrow's C++ writer (pandas' to_csv was slower than the
    validation itself). Arrow quotes every string, so an empty string stays an
    empty string and only missing values become NULL."""
    frame = good.loc[:, list(STAGING_COLUMNS)].copy()
    for column in TIMESTAMPS:
        frame[column] = epoch_seconds(frame[column])
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), sink, pa_csv.WriteOptions(include_header=False))
    return sink.getvalue()  # Arrow's buffer itself, read by COPY through a BufferReader: no copy into bytes


def epoch_seconds(values: pd.Series) -> pd.Series:
    """UTC datetimes as float seconds (NaN for missing): cheaper to write and parse than text timestamps."""
    return (pd.to_datetime(values, utc=True) - pd.Timestamp(0, tz="UTC")).dt.total_seconds()


def chunk_write(
    rows: int, payload: pa.Buffer | bytes, *, source: str, counts_deferred: bool = False
) -> tuple[int, int, int]:
    """COPY an encoded chunk into a staging table and insert it; returns (inserted, already imported, already
    imported and archived since). A row of an archived year not imported before is refused with the whole chunk
    (year_partitions_ensure's YearArchived). With `counts_deferred` the counts kept by triggers are left to the
    recount bulk mode recorded (bulk_mode.counts_deferred)."""
    buffer = pa.BufferReader(payload)
    with transaction.atomic(), connection.cursor() as cursor:
        # A crash may lose the last chunks' commit, never corrupt them; the import is restartable.
        cursor.execute("SET LOCAL synchronous_commit TO off")
        cursor.execute("SET LOCAL jit TO off")  # compiling the insert's expressions cost more than running them
        cursor.execute(STAGING_DDL)
        cursor.execute("TRUNCATE import_staging")  # an outer transaction keeps it alive between chunks
        cursor.cursor.copy_expert(
            f"COPY import_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN WITH (FORMAT csv, "
            "FORCE_NOT_NULL (source_id, tracking_code, description, address, status, channel))",
            buffer,
        )
        years = reception_years("SELECT to_timestamp(created_at) FROM import_staging")
        live, archived = archived_rows_drop(cursor, years=years, source=source)
        if live or archived:
            rows -= live + archived
            years = reception_years("SELECT to_timestamp(created_at) FROM import_staging")
        year_partitions_ensure(years)
        zoned = zones_in_force(cursor)
        # The keys' unique index does the checking during the claim, so a chunk without conflicts costs no
        # lookups at all; one with conflicts claims again with ON CONFLICT DO NOTHING to find the rows that claim
        # nothing (imported before, or a tracking code taken).
        # The keys are claimed before their reports exist: their foreign key is checked at the commit, Django's
        # default, even where an enclosing transaction made the checks immediate (bulk mode's suspend does).
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL work_mem TO '64MB'")  # a chunk's staged rows and claims sorted and kept in memory
        try:
            with transaction.atomic():  # a savepoint: a taken key undoes this statement only
                return (
                    history_insert(
                        cursor,
                        years=years,
                        source=source,
                        claiming=True,
                        counts_deferred=counts_deferred,
                        zoned=zoned,
                    ),
                    live,
                    archived,
                )
        except IntegrityError as exc:
            if not key_taken(exc):
                raise
        inserted = 0
        for _attempt in range(10):
            cursor.execute(claim_statement(), {"source": source})
            cursor.execute("SELECT count(*) FILTER (WHERE claimed), count(*) FROM import_staging")
            claimed, staged_rows = cursor.fetchone()
            if claimed < staged_rows:
                cursor.execute(release_statement(), {"source": source})
            inserted += history_insert(cursor, years=years, source=source, counts_deferred=counts_deferred, zoned=zoned)
            if inserted == rows:
                return inserted, live, archived
            # Skipped rows were imported before (same source id) or drew a tracking code already taken. This
            # lookup is one array probe of the keys' unique index, not a join, so its cost cannot depend on what
            # the planner guesses about a staging table without statistics (a join once took minutes).
            cursor.execute("SELECT row_no, source_id, tracking_code FROM import_staging WHERE NOT claimed")
            staged = cursor.fetchall()
            cursor.execute(stored_keys_statement(), [[source_key(source, sid) for _row, sid, _code in staged]])
            stored = {key for (key,) in cursor.fetchall()}
            collided = [(row, code) for row, sid, code in staged if source_key(source, sid) not in stored]
            if not collided:
                return inserted, rows - inserted + live, archived
            cursor.execute("DELETE FROM import_staging WHERE NOT row_no = ANY(%s)", [[row for row, _ in collided]])
            redraw_codes(cursor, collided)
    raise RuntimeError("tracking codes kept colliding; nothing of this chunk was written")


def zones_in_force(cursor) -> bool:
    """Whether some crew zone was in force between the staged rows' first and last creation: history filed before
    every zone was drawn (a first import, its zones drawn since) skips the zone lookup of each row."""
    zones = connection.ops.quote_name(Zone._meta.db_table)
    cursor.execute(
        f"""SELECT EXISTS (
    SELECT 1 FROM {zones} z,
           (SELECT to_timestamp(min(created_at)) AS first, to_timestamp(max(created_at)) AS last FROM import_staging) s
     WHERE z.created_at <= s.last AND (z.retired_at IS NULL OR z.retired_at > s.first))"""
    )
    return cursor.fetchone()[0]


def key_taken(exc: IntegrityError) -> bool:
    """Whether the one statement failed on a key already stored, the only failure the steps can get past."""
    cause = exc.__cause__
    return getattr(cause, "pgcode", None) == UNIQUE_VIOLATION and cause.diag.table_name == ReportKey._meta.db_table


def archived_rows_drop(cursor, *, years: list[int], source: str) -> tuple[int, int]:
    """Remove from the staging table the rows of archived years whose source key is stored: a tombstone (imported,
    then archived with their year: models.ReportKey), or a live request's (imported under another year, its date
    edited in the source since); returns how many of each, (live, archived). Asked only when the chunk holds such a
    year."""
    archived_years = list(YearArchive.objects.filter(year__in=years).values_list("year", flat=True))
    if not archived_years:
        return 0, 0
    cursor.execute(
        "SELECT row_no, source_id FROM import_staging WHERE report_year_of(to_timestamp(created_at)) = ANY(%s)",
        [archived_years],
    )
    staged = cursor.fetchall()
    table = connection.ops.quote_name(ReportKey._meta.db_table)
    cursor.execute(
        f"SELECT key, report_id IS NULL FROM {table} WHERE key = ANY(%s)",
        [[source_key(source, sid) for _row, sid in staged]],
    )
    stored = dict(cursor.fetchall())  # key: whether it is a tombstone
    gone = [(row, stored[source_key(source, sid)]) for row, sid in staged if source_key(source, sid) in stored]
    cursor.execute("DELETE FROM import_staging WHERE row_no = ANY(%s)", [[row for row, _tombstone in gone]])
    archived = sum(tombstone for _row, tombstone in gone)
    return len(gone) - archived, archived


def history_insert(
    cursor, *, years: list[int], source: str, claiming: bool = False, counts_deferred: bool = False, zoned: bool = False
) -> int:
    # History loaded from another system is not news: the webhook trigger skips these events, and only these
    # (an outer transaction may go on writing live events) (docs/webhooks.md). The same for the counts left to
    # bulk mode's recount: only this statement's reports.
    cursor.execute("SET LOCAL geo_siac.loading_history TO on")
    if counts_deferred:
        cursor.execute("SET LOCAL geo_siac.counts_deferred TO on")
    cursor.execute(insert_statement(years=years, claiming=claiming, zoned=zoned), {**INSERT_PARAMS, "source": source})
    inserted = cursor.fetchone()[0]
    cursor.execute("SET LOCAL geo_siac.loading_history TO off; SET LOCAL geo_siac.counts_deferred TO off")
    return inserted


def redraw_codes(cursor, rows: list[tuple[int, str]]) -> None:
    fresh = tracking_codes([code.rsplit("-", 2)[0] for _row, code in rows])
    cursor.executemany(
        "UPDATE import_staging SET tracking_code = %s WHERE row_no = %s",
        [(code, row) for code, (row, _old) in zip(fresh, rows, strict=True)],
    )
