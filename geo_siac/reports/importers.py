"""Bulk import of report history: streams a CSV in chunks and writes through PostgreSQL COPY into a staging table
and one INSERT ... SELECT per chunk, computing comuna and H3 cells vectorised. It is not report_create, but reads
what report_create reads: the rule table (validation.py: a row is refused under the same field with the same
message), the deadline function with the installation's closed days, and the tracking-code generator.
Restartable: rows are keyed by (source, source_id).

Into an empty table (or with bulk=True) the import runs in bulk mode, as PostgreSQL's "Populating a Database"
advises: the non-unique indexes and the foreign keys of the report tables are dropped first and rebuilt once at
the end, which is several times cheaper than maintaining them row by row. The unique indexes stay, so
restarting never duplicates. What was dropped is recorded in SuspendedSchemaObject, so a crashed import's
indexes are put back by the next import or by `import_reports --restore-schema`."""

import csv
import io
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import shapely
from django.db import connection, transaction
from pyproj import Geod, Transformer

from geo_siac.geo import H3_RESOLUTIONS, METRIC_SRID, STORAGE_SRID, h3_cells_many
from geo_siac.reports.deadlines import SANTIAGO, deadline
from geo_siac.reports.mappings import Mapping
from geo_siac.reports.models import Category, EventKind, Report, ReportEvent, SuspendedSchemaObject
from geo_siac.reports.states import CLOSED, Status
from geo_siac.reports.tracking import tracking_codes
from geo_siac.reports.validation import (
    channel_error,
    coordinate_columns,
    date_out_of_range_message,
    date_range,
    outside_message,
    text_columns_errors,
    unknown_category_message,
)
from geo_siac.zones.models import Commune
from geo_siac.zones.selectors import closed_days

CHUNK_ROWS = 50_000
OUR_FIELDS = ("source_id", "created_at", "updated_at", "closed_at", "category", "channel", "status",
              "latitude", "longitude", "description", "address")
STAGING_COLUMNS = (
    "row_no", "source_id", "tracking_code", "commune_id", "category_id", "lng", "lat", "description", "address",
    "status", "channel", "created_at", "updated_at", "expected_at", "closed_at",
    *(f"h3_res{r}" for r in H3_RESOLUTIONS),
)


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, delimiter, missing columns)."""


@dataclass
class ImportSummary:
    read: int = 0
    inserted: int = 0
    already_imported: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    reject_path: Path | None = None
    bulk: bool = False
    rebuild_seconds: float = 0.0
    source: str = ""  # what the rows are keyed by, with their source ids  # bulk mode: rebuilding the indexes and foreign keys at the end

    def reject(self, reason: str, count: int) -> None:
        self.rejected += count
        self.reasons[reason] = self.reasons.get(reason, 0) + count


@dataclass
class CommuneIndex:
    """Active comunas as prepared shapely geometries, for vectorised point-in-polygon."""

    ids: list[int]
    names: list[str]
    prefixes: list[str]
    geometries: list
    metric: list

    @classmethod
    def load(cls, only_cut: str | None = None) -> "CommuneIndex":
        queryset = Commune.objects.active().order_by("cut")
        if only_cut:
            queryset = queryset.filter(cut=only_cut)
        communes = list(queryset)
        if not communes:
            raise ImportFileError("No hay comunas activas: cargue comunas con load_comunas --commit.")
        transformer = Transformer.from_crs(STORAGE_SRID, METRIC_SRID, always_xy=True)

        def to_metric(coords: np.ndarray) -> np.ndarray:
            return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

        geometries = [shapely.from_wkb(bytes(c.geometry.wkb)) for c in communes]
        for geometry in geometries:
            shapely.prepare(geometry)
        return cls(
            ids=[c.pk for c in communes],
            names=[c.name for c in communes],
            prefixes=[c.tracking_prefix for c in communes],
            geometries=geometries,
            metric=[shapely.transform(g, to_metric) for g in geometries],
        )

    def locate(self, lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Index into this list of the comuna holding each point, -1 for none (lowest CUT wins on borders)."""
        found = np.full(len(lng), -1, dtype=np.int64)
        for i in reversed(range(len(self.geometries))):
            found[shapely.intersects_xy(self.geometries[i], lng, lat)] = i
        return found

    def outside_messages(self, lng: np.ndarray, lat: np.ndarray) -> list[str]:
        """validation.outside_message for each point, as report_create words it: the nearest comuna is found in
        metres (UTM 19S) and the distance to its nearest point measured on the WGS84 spheroid, as PostGIS measures
        on geography for report_create."""
        to_metric = Transformer.from_crs(STORAGE_SRID, METRIC_SRID, always_xy=True)
        points = shapely.points(*to_metric.transform(lng, lat))
        nearest = np.argmin(np.stack([shapely.distance(g, points) for g in self.metric]), axis=0)
        ends = shapely.get_coordinates(shapely.shortest_line(np.array(self.metric, dtype=object)[nearest], points))
        end_lng, end_lat = to_metric.transform(ends[::2, 0], ends[::2, 1], direction="INVERSE")
        _forward, _back, metres = Geod(ellps="WGS84").inv(lng, lat, end_lng, end_lat)
        return [outside_message(self.names[i], m) for i, m in zip(nearest, metres, strict=True)]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return shapely.union_all(self.geometries).bounds


def open_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    if not path.exists():
        raise ImportFileError(f"No existe el archivo {path}.")
    try:
        reader = pd.read_csv(
            path, dtype=str, keep_default_na=False, chunksize=chunk_rows, encoding="utf-8",
            sep=None if path.suffix.lower() not in (".csv", ".tsv") else ("\t" if path.suffix == ".tsv" else ","),
            engine="c", on_bad_lines="error",
        )
        yield from reader
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path.name} no está en UTF-8 (byte {exc.start}): conviértalo antes de importar.") from exc
    except (pd.errors.ParserError, csv.Error) as exc:
        raise ImportFileError(f"{path.name} no es un CSV legible: {exc}") from exc
    except pd.errors.EmptyDataError as exc:
        raise ImportFileError(f"{path.name} está vacío.") from exc


def resolve_columns(frame: pd.DataFrame, mapping: Mapping) -> dict[str, str]:
    by_lower = {c.lower(): c for c in frame.columns}
    columns = {}
    for ours, theirs in mapping.columns.items():
        if ours not in OUR_FIELDS:
            raise ImportFileError(f"Campo desconocido en la correspondencia: {ours}.")
        actual = by_lower.get(theirs.lower())
        if actual is None:
            if ours in Mapping.REQUIRED:
                raise ImportFileError(
                    f"Falta la columna '{theirs}' ({ours}) en el archivo; columnas presentes: {list(frame.columns)}."
                )
            continue
        columns[ours] = actual
    return columns


OFFSET = r"(?:Z|[+-]\d\d:?\d\d)$"


# What pandas raises instead of coercing when a column holds a date it cannot represent (year 0, year 10000).
UNREPRESENTABLE = (ValueError, OverflowError, AssertionError, NotImplementedError, pd.errors.OutOfBoundsDatetime)


def each_or_nat(convert: Callable[[pd.Series], pd.Series], values: pd.Series) -> pd.Series:
    """convert(values), vectorised; when pandas refuses the whole column because of one value, value by value,
    with NaT (then rejected as unreadable) where a value alone is refused: one hostile row must not stop an
    import."""
    def in_nanoseconds(column: pd.Series) -> pd.Series:  # where pandas may have chosen seconds for year 0
        return convert(column).astype("datetime64[ns, UTC]")

    try:
        return in_nanoseconds(values)
    except UNREPRESENTABLE:
        converted = []
        for label in values.index:
            try:
                converted.append(in_nanoseconds(values.loc[[label]]).iloc[0])
            except UNREPRESENTABLE:
                converted.append(pd.NaT)
        return pd.Series(converted, index=values.index, dtype="datetime64[ns, UTC]")


def parse_dates(values: pd.Series, mapping: Mapping) -> pd.Series:
    """Datetimes in the mapping's formats -> UTC; NaT where empty or unparseable. Values with an offset keep
    it; naive values are local time in the mapping's timezone (in the repeated hour at the end of DST, the
    later, standard-time reading is taken)."""
    values = values.str.strip()
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    aware = values.str.contains(OFFSET, regex=True)

    def localised(fmt: str) -> Callable[[pd.Series], pd.Series]:
        def convert(naive: pd.Series) -> pd.Series:
            parsed = pd.to_datetime(naive, format=fmt, errors="coerce")
            if getattr(parsed.dt, "tz", None) is not None:
                return parsed.dt.tz_convert("UTC")
            return parsed.dt.tz_localize(
                mapping.timezone, ambiguous=np.zeros(len(parsed), dtype=bool), nonexistent="shift_forward"
            ).dt.tz_convert("UTC")
        return convert

    for fmt in mapping.date_formats:
        pending = values.ne("") & result.isna()
        if not pending.any():
            break
        with_offset = pending & aware
        if with_offset.any():
            result.loc[with_offset] = each_or_nat(
                lambda column: pd.to_datetime(column, format=fmt, errors="coerce", utc=True), values[with_offset])
        naive = pending & ~aware
        if naive.any():
            result.loc[naive] = each_or_nat(localised(fmt), values[naive])
    return result


def deadlines(created: pd.Series, days: pd.Series, closed: frozenset) -> pd.Series:
    """deadlines.deadline for each row, computed once per distinct (local day, response days) pair."""
    keys = pd.DataFrame({"day": created.dt.tz_convert(SANTIAGO).dt.date, "days": days})
    unique = keys.drop_duplicates()
    unique["due"] = [deadline(d, int(n), closed_days=closed) for d, n in zip(unique["day"], unique["days"])]
    return keys.merge(unique, on=["day", "days"], how="left")["due"].set_axis(created.index)


def encode_staging(good: pd.DataFrame) -> bytes:
    """The staging rows as CSV for COPY, written by Arrow's C++ writer (pandas' to_csv cost more than the
    whole validation of a chunk in bench/ingest.py). Arrow quotes every string, so an empty string stays an
    empty string and only missing values become NULL."""
    frame = good.loc[:, list(STAGING_COLUMNS)].copy()
    for column in TIMESTAMPS:
        frame[column] = epoch_seconds(frame[column])
    sink = pa.BufferOutputStream()
    pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), sink,
                     pa_csv.WriteOptions(include_header=False))
    return sink.getvalue().to_pybytes()


def epoch_seconds(values: pd.Series) -> pd.Series:
    """UTC datetimes as float seconds (NaN for missing): cheaper to write and parse than text timestamps."""
    return (pd.to_datetime(values, utc=True) - pd.Timestamp(0, tz="UTC")).dt.total_seconds()


class ReportImporter:
    def __init__(self, *, mapping: Mapping, place_in: str | None = None, source: str | None = None,
                 chunk_rows: int = CHUNK_ROWS, commit: bool = False, bulk: bool | None = None,
                 progress: Callable[[int], None] | None = None):
        self.mapping = mapping
        self.bulk = bulk  # None: bulk mode when the report table is empty
        self.source = source or mapping.source
        self.chunk_rows = chunk_rows
        self.commit = commit
        self.progress = progress
        self.communes = CommuneIndex.load(only_cut=place_in)
        self.placement = None
        if place_in:
            if mapping.source_bbox is None:
                raise ImportFileError("Para trasladar puntos (--place-in) la correspondencia debe indicar source_bbox.")
            self.placement = (mapping.source_bbox, self.communes.bounds)
        categories = Category.objects.filter(is_active=True).values_list("service_code", "pk", "response_days")
        self.categories = {code: (pk, days) for code, pk, days in categories}
        self.closed_days = closed_days()

    def run(self, path: Path, reject_path: Path | None = None) -> ImportSummary:
        summary = ImportSummary(reject_path=reject_path or path.with_name(path.stem + ".rechazos.csv"),
                                source=self.source)
        if not self.commit:
            return self.read_and_write(path, summary)
        with import_lock():
            summary.bulk = self.bulk if self.bulk is not None else not Report.objects.exists()
            if summary.bulk:
                suspend_secondary_schema()
            else:
                restore_suspended()  # a crashed bulk import's indexes, before rows are added one by one
            try:
                return self.read_and_write(path, summary)
            finally:
                if summary.bulk:
                    started = time.perf_counter()
                    restore_suspended()
                    summary.rebuild_seconds = time.perf_counter() - started

    def read_and_write(self, path: Path, summary: ImportSummary) -> ImportSummary:
        with open(summary.reject_path, "w", newline="", encoding="utf-8") as reject_file:
            writer = csv.writer(reject_file)
            header_written = False
            for chunk, rows, payload, rejects in self.prepared_chunks(path, summary):
                if not header_written:
                    writer.writerow(["fila", "campo", "motivo", *chunk.columns])
                    header_written = True
                for row_no, field_name, reason in rejects:
                    writer.writerow([row_no, field_name, reason, *chunk.loc[row_no].tolist()])
                if self.commit and rows:
                    inserted, existing = self.write(rows, payload)
                    summary.inserted += inserted
                    summary.already_imported += existing
                summary.read += len(chunk)
                if self.progress:
                    self.progress(len(chunk))
        return summary

    def prepared_chunks(self, path: Path, summary: ImportSummary) -> Iterator[tuple]:
        """Read and validate chunks in a worker thread while this thread writes the previous one to the
        database: psycopg2 releases the GIL while PostgreSQL works, so both cores are busy. The queue holds
        one chunk, so memory stays constant whatever the file size."""
        handoff: queue.Queue = queue.Queue(maxsize=1)
        done = object()
        stop = threading.Event()

        def produce() -> None:
            try:
                row_offset = 0
                for chunk in open_chunks(path, self.chunk_rows):
                    columns = resolve_columns(chunk, self.mapping)
                    chunk.index = pd.RangeIndex(row_offset + 2, row_offset + 2 + len(chunk))  # file row numbers
                    row_offset += len(chunk)
                    good, rejects = self.prepare(chunk, columns, summary)
                    payload = encode_staging(good) if self.commit and len(good) else b""
                    while not stop.is_set():
                        try:
                            handoff.put((chunk, len(good), payload, rejects), timeout=0.5)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
                handoff.put(done)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                handoff.put(exc)

        worker = threading.Thread(target=produce, name="import-reader", daemon=True)
        worker.start()
        try:
            while (item := handoff.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            worker.join()

    def prepare(self, chunk: pd.DataFrame, columns: dict[str, str], summary: ImportSummary):
        """Validate a chunk with validation.py's rules, in report_create's order, then the importer's own (the
        source extent, dates, status, source ids); returns the staging frame of good rows and (row, field, message)
        for the bad ones: the first refusal of each row."""
        n = len(chunk)
        reason = np.full(n, None, dtype=object)
        field_of = np.full(n, None, dtype=object)

        def reject(mask: np.ndarray, field_name: str, message: str) -> None:
            fresh = mask & (reason == None)  # noqa: E711 - elementwise on an object array
            if fresh.any():
                reason[fresh], field_of[fresh] = message, field_name
                summary.reject(f"{field_name}: {message}", int(fresh.sum()))

        def reject_each(errors: dict[int, tuple[str, str]], label: str | None = None) -> None:
            """Messages that differ by row (a comuna's distance, a length), counted in the summary by `label`."""
            for i, (field_name, message) in errors.items():
                if reason[i] is None:
                    reason[i], field_of[i] = message, field_name
                    summary.reject(f"{field_name}: {label or message}", 1)

        def text(ours: str) -> pd.Series:
            return chunk[columns[ours]].str.strip() if ours in columns else pd.Series("", index=chunk.index)

        lat, lng, coordinate_errors = coordinate_columns(text("latitude"), text("longitude"))
        reject_each(coordinate_errors)
        if self.placement:
            with np.errstate(invalid="ignore"):
                lng, lat = self.place(lng, lat, reject)
        source_category = text("category")
        codes = source_category.map(self.mapping.categories) if self.mapping.categories else source_category
        if self.mapping.default_category:
            codes = codes.fillna(self.mapping.default_category)
        category_pk = codes.map(lambda c: self.categories.get(c, (None, None))[0])
        unknown = category_pk.isna().to_numpy()
        shown = codes.fillna(source_category)
        for value in shown[unknown & (reason == None)].unique():  # noqa: E711
            reject(unknown & (shown == value).to_numpy(), "service_code", unknown_category_message(value))
        days = codes.map(lambda c: self.categories.get(c, (None, 0))[1])

        channel = text("channel").map(self.mapping.channels).fillna(self.mapping.default_channel)
        for value in channel.unique():
            if (message := channel_error(value)) is not None:
                reject((channel == value).to_numpy(), "channel", message)
        description, address = text("description"), text("address")
        reject_each(text_columns_errors(description, address))
        # As report_create, the comuna is looked for once every field is right.
        lng = np.where(reason == None, lng, 0.0)  # noqa: E711
        lat = np.where(reason == None, lat, 0.0)  # noqa: E711
        commune_idx = self.communes.locate(lng, lat)
        outside = np.flatnonzero((commune_idx < 0) & (reason == None))  # noqa: E711
        if len(outside):
            messages = self.communes.outside_messages(lng[outside], lat[outside])
            reject_each({i: ("location", m) for i, m in zip(outside, messages, strict=True)},
                        "fuera de las comunas atendidas")

        created = parse_dates(text("created_at"), self.mapping)
        closed = parse_dates(text("closed_at"), self.mapping)
        updated = parse_dates(text("updated_at"), self.mapping)
        reject(created.isna().to_numpy(), "created_at", "fecha de creación ausente o ilegible")
        bad_closed = (text("closed_at") != "") & closed.isna()
        reject(bad_closed.to_numpy(), "closed_at", "fecha de cierre ilegible")
        earliest, latest = (pd.Timestamp(bound) for bound in date_range(pd.Timestamp.now(tz="UTC")))
        for dates, name, what in ((created, "created_at", "creación"), (closed, "closed_at", "cierre"),
                                  (updated, "updated_at", "actualización")):
            reject(((dates < earliest) | (dates > latest)).to_numpy(), name, date_out_of_range_message(what))
        reject((closed < created).to_numpy(), "closed_at", "cerrada antes de ser creada")

        status = text("status").map(self.mapping.statuses).fillna(self.mapping.default_status)
        reject(~status.isin(Status.values).to_numpy(), "status", "estado desconocido")
        is_closed = status.isin(CLOSED)
        closed = closed.where(is_closed, pd.NaT)
        closed = closed.fillna(updated.where(is_closed & (updated >= created), pd.NaT))
        reject((is_closed & closed.isna()).to_numpy(), "closed_at", "cerrada sin fecha de cierre")

        source_id = text("source_id")
        source_id = source_id.where(source_id != "", "fila-" + pd.Series(chunk.index.astype(str), index=chunk.index))
        reject(source_id.duplicated().to_numpy(), "source_id", "fila repetida (mismo identificador de origen)")

        ok = (reason == None)  # noqa: E711
        rejects = list(zip(chunk.index[~ok], field_of[~ok], reason[~ok], strict=True))
        rows = np.flatnonzero(ok)
        good = pd.DataFrame({
            "row_no": chunk.index[rows],
            "source_id": source_id.iloc[rows].to_numpy(),
            "commune_idx": commune_idx[rows],
            "category_id": category_pk.iloc[rows].astype("int64").to_numpy(),
            "lng": lng[rows], "lat": lat[rows],
            "description": description.iloc[rows].to_numpy(),
            "address": address.iloc[rows].to_numpy(),
            "status": status.iloc[rows].to_numpy(), "channel": channel.iloc[rows].to_numpy(),
            "created_at": created.iloc[rows].to_numpy(),
            "updated_at": updated.iloc[rows].to_numpy(),
            "closed_at": closed.iloc[rows].to_numpy(),
            "days": days.iloc[rows].astype("int64").to_numpy(),
        })
        return self.enrich(good), rejects

    def place(self, lng: np.ndarray, lat: np.ndarray, reject) -> tuple[np.ndarray, np.ndarray]:
        (sx0, sy0, sx1, sy1), (tx0, ty0, tx1, ty1) = self.placement
        reject((lng < sx0) | (lng > sx1) | (lat < sy0) | (lat > sy1), "location", "fuera de la extensión de origen")
        return tx0 + (lng - sx0) / (sx1 - sx0) * (tx1 - tx0), ty0 + (lat - sy0) / (sy1 - sy0) * (ty1 - ty0)

    def enrich(self, good: pd.DataFrame) -> pd.DataFrame:
        """H3 cells at every stored resolution, comuna id, tracking code and deadline for the valid rows."""
        if good.empty:  # every row of the chunk was rejected: nothing to enrich (an empty column has no dates)
            return good
        for column, cells in h3_cells_many(good["lat"].to_numpy(), good["lng"].to_numpy()).items():
            good[column] = cells
        idx = good.pop("commune_idx").to_numpy()
        good["commune_id"] = np.array(self.communes.ids, dtype=np.int64)[idx]
        good["tracking_code"] = tracking_codes(np.array(self.communes.prefixes, dtype=object)[idx].tolist())
        good["updated_at"] = good["updated_at"].combine_first(good["closed_at"]).combine_first(good["created_at"])
        good["expected_at"] = deadlines(good["created_at"], good.pop("days"), self.closed_days)
        return good

    def write(self, rows: int, payload: bytes) -> tuple[int, int]:
        """COPY an encoded chunk into a staging table and insert it; returns (inserted, already imported)."""
        buffer = io.BytesIO(payload)
        with transaction.atomic(), connection.cursor() as cursor:
            # A crash may lose the last chunks' commit, never corrupt them; the import is restartable.
            cursor.execute("SET LOCAL synchronous_commit TO off")
            cursor.execute("SET LOCAL jit TO off")  # compiling the insert's expressions cost more than running them
            cursor.execute(STAGING_DDL)
            cursor.execute("TRUNCATE import_staging")  # an outer transaction keeps it alive between chunks
            cursor.cursor.copy_expert(
                f"COPY import_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN WITH (FORMAT csv, "
                "FORCE_NOT_NULL (source_id, tracking_code, description, address, status, channel))", buffer
            )
            # ON CONFLICT DO NOTHING lets the unique indexes (source id, tracking code) do the checking during the
            # insert, so a chunk without conflicts costs no lookups at all.
            inserted = 0
            for _attempt in range(10):
                cursor.execute(insert_statement(), {**INSERT_PARAMS, "source": self.source})
                inserted += cursor.fetchone()[0]
                if inserted == rows:
                    return inserted, 0
                # Skipped rows were imported before (same source id) or drew a tracking code already taken. This
                # lookup is one array probe of the unique index, not a join, so its cost cannot depend on what
                # the planner guesses about a staging table without statistics (a join once took minutes).
                cursor.execute("SELECT row_no, source_id, tracking_code FROM import_staging")
                staged = cursor.fetchall()
                cursor.execute(stored_source_ids_statement(),
                               {"source": self.source, "ids": [sid for _row, sid, _code in staged]})
                stored = {sid for (sid,) in cursor.fetchall()}
                collided = [(row, code) for row, sid, code in staged if sid not in stored]
                if not collided:
                    return inserted, rows - inserted
                cursor.execute("DELETE FROM import_staging WHERE NOT row_no = ANY(%s)", [[row for row, _ in collided]])
                self.redraw_codes(cursor, collided)
        raise RuntimeError("tracking codes kept colliding; nothing of this chunk was written")

    def redraw_codes(self, cursor, rows: list[tuple[int, str]]) -> None:
        fresh = tracking_codes([code.rsplit("-", 2)[0] for _row, code in rows])
        cursor.executemany(
            "UPDATE import_staging SET tracking_code = %s WHERE row_no = %s",
            [(code, row) for code, (row, _old) in zip(fresh, rows, strict=True)],
        )


TIMESTAMPS = ("created_at", "updated_at", "expected_at", "closed_at")
STAGING_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS import_staging (
    row_no bigint, source_id text, tracking_code text, commune_id bigint, category_id bigint,
    lng double precision, lat double precision, description text, address text, status text, channel text,
    created_at double precision, updated_at double precision, expected_at double precision,
    closed_at double precision,
    {", ".join(f"h3_res{r} bigint" for r in H3_RESOLUTIONS)}
) ON COMMIT DROP
"""
# What each report column is filled with, by Report field: the staging table's columns, or the values report_create
# leaves at their defaults for an imported report (no reporter, no answers, not public).
REPORT_VALUES = {
    "tracking_code": "s.tracking_code", "commune": "s.commune_id", "category": "s.category_id",
    "location": f"ST_SetSRID(ST_MakePoint(s.lng, s.lat), {STORAGE_SRID})", "address": "s.address",
    "description": "s.description", "attributes": "'{}'::jsonb", "status": "s.status", "channel": "s.channel",
    "public_visibility": "false", "reporter_name": "''", "reporter_email": "''", "reporter_phone": "''",
    "language": "'es'", "created_at": "to_timestamp(s.created_at)", "updated_at": "to_timestamp(s.updated_at)",
    "expected_at": "to_timestamp(s.expected_at)", "closed_at": "to_timestamp(s.closed_at)",
    "first_response_at": "CASE WHEN s.status <> %(submitted)s THEN to_timestamp(COALESCE(s.closed_at, s.created_at)) END",
    "source": "%(source)s", "source_id": "s.source_id",
    **{f"h3_res{r}": f"s.h3_res{r}" for r in H3_RESOLUTIONS},
}
EVENT_FIELDS = ("report", "kind", "from_status", "to_status", "note", "is_public", "actor_label", "created_at")


def columns_of(model, names) -> str:
    quote = connection.ops.quote_name
    return ", ".join(quote(model._meta.get_field(name).column) for name in names)


def insert_statement() -> str:
    """One statement inserts the reports and their history (a 'created' event, and a status event for the others,
    not 'submitted', which is also their first response) and returns how many reports it inserted. Table and column
    names come from the models, as report_store's statement."""
    quote = connection.ops.quote_name
    returned = columns_of(Report, ("id", "status", "created_at", "closed_at"))
    event_columns = columns_of(ReportEvent, EVENT_FIELDS)
    return f"""
WITH inserted (id, status, created_at, closed_at) AS (
    INSERT INTO {quote(Report._meta.db_table)} ({columns_of(Report, REPORT_VALUES)})
    SELECT {", ".join(REPORT_VALUES.values())}
      FROM import_staging s
    ON CONFLICT DO NOTHING
    RETURNING {returned}
), created AS (
    INSERT INTO {quote(ReportEvent._meta.db_table)} ({event_columns})
    SELECT id, %(created)s, '', %(submitted)s, '', true, %(actor)s, created_at FROM inserted
), changed AS (
    INSERT INTO {quote(ReportEvent._meta.db_table)} ({event_columns})
    SELECT id, %(changed)s, %(submitted)s, status, '', true, %(actor)s, COALESCE(closed_at, created_at)
      FROM inserted WHERE status <> %(submitted)s
)
SELECT count(*) FROM inserted
"""


INSERT_PARAMS = {"submitted": Status.SUBMITTED.value, "created": EventKind.CREATED.value,
                 "changed": EventKind.STATUS.value, "actor": "Importación"}


def stored_source_ids_statement() -> str:
    """Which of these source ids are stored; `source_id <> ''` matches the partial unique index."""
    table = connection.ops.quote_name(Report._meta.db_table)
    source, source_id = (connection.ops.quote_name(Report._meta.get_field(f).column) for f in ("source", "source_id"))
    return (f"SELECT {source_id} FROM {table} WHERE {source} = %(source)s AND {source_id} = ANY(%(ids)s) "
            f"AND {source_id} <> ''")


# Bulk mode (see the module docstring). Partial indexes stay: they are cheap (the open-deadline index holds only
# open reports) and their predicate does not survive pg_get_indexdef's round trip textually unchanged.
BULK_TABLES = (Report._meta.db_table, ReportEvent._meta.db_table)
# pg_advisory_lock key: one import at a time (two bulk imports would drop each other's indexes).
IMPORT_LOCK_KEY = 4_711_311
SECONDARY_INDEXES_SQL = """
SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
 WHERE x.indrelid = ANY(%s::regclass[]) AND NOT x.indisunique AND x.indpred IS NULL
 ORDER BY t.relname, i.relname
"""
FOREIGN_KEYS_SQL = """
SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
  FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
 WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
 ORDER BY t.relname, c.conname
"""


@contextmanager
def import_lock():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK_KEY])
        if not cursor.fetchone()[0]:
            raise ImportFileError("Otra importación está en curso en esta base de datos; espere a que termine.")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])


def suspend_secondary_schema() -> int:
    """Drop the non-unique indexes and the foreign keys of the report tables, recording each definition first
    (in the same transaction) so restore_suspended can rebuild it. Returns how many were dropped."""
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        # Dropping a foreign key alters the referenced table too, which PostgreSQL refuses while checks deferred
        # by earlier writes of an enclosing transaction are pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(SECONDARY_INDEXES_SQL, [list(BULK_TABLES)])
        indexes = cursor.fetchall()
        cursor.execute(FOREIGN_KEYS_SQL, [list(BULK_TABLES)])
        keys = cursor.fetchall()
        SuspendedSchemaObject.objects.bulk_create(
            [SuspendedSchemaObject(table=t, name=n, kind=SuspendedSchemaObject.Kind.INDEX, definition=d)
             for t, n, d in indexes]
            + [SuspendedSchemaObject(table=t, name=n, kind=SuspendedSchemaObject.Kind.FOREIGN_KEY, definition=d)
               for t, n, d in keys],
            ignore_conflicts=True,
        )
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for _table, name, _definition in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    return len(indexes) + len(keys)


def restore_suspended() -> list[str]:
    """Rebuild every suspended index, then re-add every suspended foreign key (validated in one pass each).
    Each object in its own transaction, so one that cannot come back (a row referencing a deleted category,
    say) does not hold back the others; its error names it and it stays recorded. Returns the names restored."""
    quote = connection.ops.quote_name
    restored, failed = [], []
    pending = sorted(SuspendedSchemaObject.objects.all(), key=lambda o: (o.kind != o.Kind.INDEX, o.table, o.name))
    for item in pending:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL maintenance_work_mem TO '256MB'")
                if item.kind == item.Kind.INDEX:
                    cursor.execute(item.definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
                else:
                    cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = %s::regclass",
                                   [item.name, item.table])
                    if cursor.fetchone() is None:
                        cursor.execute(f"ALTER TABLE {quote(item.table)} ADD CONSTRAINT {quote(item.name)} "
                                       f"{item.definition}")
                item.delete()
        except Exception as exc:  # noqa: BLE001 - reported with the object's name below
            failed.append(f"{item}: {exc}".strip())
            continue
        restored.append(item.name)
    if failed:
        raise ImportFileError("No se pudieron reconstruir: " + "; ".join(failed))
    return restored
