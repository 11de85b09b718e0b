"""Bulk import of report history: streams a CSV in chunks, validates every row with the same rules as
report_create, computes comuna and H3 cells vectorised, and writes through PostgreSQL COPY into a staging
table and one INSERT ... SELECT per chunk. Restartable: rows are keyed by (source, source_id).

Into an empty table (or with bulk=True) the import runs in bulk mode, as PostgreSQL's "Populating a Database"
advises: the non-unique indexes and the foreign keys of the report tables are dropped first and rebuilt once at
the end, which is several times cheaper than maintaining them row by row. The unique indexes stay, so
restarting never duplicates. What was dropped is recorded in SuspendedSchemaObject, so a crashed import's
indexes are put back by the next import or by `import_reports --restore-schema`."""

import csv
import io
import os
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
from django.conf import settings
from django.db import connection, transaction
from pyproj import Transformer

from geo_siac.geo import H3_RESOLUTIONS, METRIC_SRID, STORAGE_SRID, h3_cells_many
from geo_siac.reports.deadlines import CALENDAR_START, SANTIAGO, deadline_from_day
from geo_siac.reports.mappings import Mapping
from geo_siac.reports.models import Category, Report, SuspendedSchemaObject
from geo_siac.reports.states import CLOSED, Channel, Status
from geo_siac.reports.tracking import ALPHABET, LENGTH
from geo_siac.reports.validation import CONTROL_CHARACTERS, format_distance
from geo_siac.zones.models import Commune

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

    def nearest_message(self, lng: float, lat: float) -> str:
        x, y = Transformer.from_crs(STORAGE_SRID, METRIC_SRID, always_xy=True).transform(lng, lat)
        point = shapely.Point(x, y)
        distances = [g.distance(point) for g in self.metric]
        best = int(np.argmin(distances))
        return f"fuera de las comunas atendidas (la más cercana es {self.names[best]}, a {format_distance(distances[best])})"

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


def random_codes(prefixes: np.ndarray) -> np.ndarray:
    """Distinct tracking codes from os.urandom, vectorised; rejection sampling keeps the alphabet uniform."""
    codes = _draw_codes(prefixes)
    while True:
        _values, first = np.unique(codes, return_index=True)
        repeated = np.setdiff1d(np.arange(len(codes)), first)
        if not len(repeated):
            return codes
        codes[repeated] = _draw_codes(prefixes[repeated])


def _draw_codes(prefixes: np.ndarray) -> np.ndarray:
    n = len(prefixes)
    limit = 256 - 256 % len(ALPHABET)
    picks = np.empty(0, dtype=np.uint8)
    while len(picks) < n * LENGTH:
        raw = np.frombuffer(os.urandom(int(n * LENGTH * 1.2) + 16), dtype=np.uint8)
        picks = np.concatenate([picks, raw[raw < limit]])
    letters = np.frombuffer(ALPHABET.encode(), dtype="S1")[picks[: n * LENGTH] % len(ALPHABET)]
    bodies = letters.reshape(n, LENGTH).view(f"S{LENGTH}").ravel().astype(str)
    return np.char.add(np.char.add(np.char.add(prefixes.astype(str), "-"), np.char.add(
        np.array([b[:4] for b in bodies]), "-")), np.array([b[4:] for b in bodies])).astype(object)


def deadlines(created: pd.Series, days: pd.Series) -> pd.Series:
    """deadline() for each row, computed once per distinct (local day, response days) pair."""
    keys = pd.DataFrame({"day": created.dt.tz_convert(SANTIAGO).dt.date, "days": days})
    unique = keys.drop_duplicates()
    unique["due"] = [deadline_from_day(d, int(n)) for d, n in zip(unique["day"], unique["days"])]
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
                    writer.writerow(["fila", "motivo", *chunk.columns])
                    header_written = True
                for row_no, reason in rejects:
                    writer.writerow([row_no, reason, *chunk.loc[row_no].tolist()])
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
        """Validate a chunk; returns the staging frame of good rows and (row, reason) for the bad ones."""
        n = len(chunk)
        reason = np.full(n, None, dtype=object)

        def reject(mask: np.ndarray, message: str) -> None:
            fresh = mask & (reason == None)  # noqa: E711 - elementwise on an object array
            if fresh.any():
                reason[fresh] = message
                summary.reject(message, int(fresh.sum()))

        def text(ours: str) -> pd.Series:
            return chunk[columns[ours]].str.strip() if ours in columns else pd.Series("", index=chunk.index)

        raw_lat, raw_lng = text("latitude"), text("longitude")
        reject(((raw_lat == "") | (raw_lng == "")).to_numpy(), "sin coordenadas")
        lat = pd.to_numeric(raw_lat.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
        lng = pd.to_numeric(raw_lng.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float)
        reject(np.isnan(lat) | np.isnan(lng), "coordenadas no numéricas")
        with np.errstate(invalid="ignore"):
            reject(~(np.isfinite(lat) & np.isfinite(lng)), "coordenadas no finitas")
            reject((np.abs(lat) > 90) | (np.abs(lng) > 180), "coordenadas fuera de rango")
            reject((lat == 0) & (lng == 0), "coordenadas nulas (0, 0)")
            if self.placement:
                lng, lat = self.place(lng, lat, reject)
        lng = np.where(reason == None, lng, 0.0)  # noqa: E711
        lat = np.where(reason == None, lat, 0.0)  # noqa: E711
        commune_idx = self.communes.locate(lng, lat)
        outside = (commune_idx < 0) & (reason == None)  # noqa: E711
        if outside.any():
            summary.reject("fuera de las comunas atendidas", int(outside.sum()))
            for i in np.flatnonzero(outside):
                reason[i] = self.communes.nearest_message(lng[i], lat[i])

        created = parse_dates(text("created_at"), self.mapping)
        closed = parse_dates(text("closed_at"), self.mapping)
        updated = parse_dates(text("updated_at"), self.mapping)
        reject(created.isna().to_numpy(), "fecha de creación ausente o ilegible")
        bad_closed = (text("closed_at") != "") & closed.isna()
        reject(bad_closed.to_numpy(), "fecha de cierre ilegible")
        # The business-day calendar starts in 1970, and nothing has happened after now (a day of clock skew
        # allowed): a date outside would stop the indicators, which refuse to count it wrongly.
        earliest, latest = pd.Timestamp(CALENDAR_START, tz="UTC"), pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)
        for dates, what in ((created, "creación"), (closed, "cierre"), (updated, "actualización")):
            reject(((dates < earliest) | (dates > latest)).to_numpy(), f"fecha de {what} fuera de rango (1970 a hoy)")
        reject((closed < created).to_numpy(), "cerrada antes de ser creada")

        source_category = text("category")
        codes = source_category.map(self.mapping.categories) if self.mapping.categories else source_category
        if self.mapping.default_category:
            codes = codes.fillna(self.mapping.default_category)
        category_pk = codes.map(lambda c: self.categories.get(c, (None, None))[0])
        unknown = category_pk.isna().to_numpy()
        for value in source_category[unknown & (reason == None)].unique():  # noqa: E711
            reject(unknown & (source_category == value).to_numpy(), f"categoría desconocida: {value or '(vacía)'}")
        days = codes.map(lambda c: self.categories.get(c, (None, 0))[1])

        status = text("status").map(self.mapping.statuses).fillna(self.mapping.default_status)
        channel = text("channel").map(self.mapping.channels).fillna(self.mapping.default_channel)
        reject(~status.isin(Status.values).to_numpy(), "estado desconocido")
        reject(~channel.isin(Channel.values).to_numpy(), "canal desconocido")
        is_closed = status.isin(CLOSED)
        closed = closed.where(is_closed, pd.NaT)
        closed = closed.fillna(updated.where(is_closed & (updated >= created), pd.NaT))
        reject((is_closed & closed.isna()).to_numpy(), "cerrada sin fecha de cierre")
        description = text("description")
        reject((description.str.len() > settings.GEO_SIAC_MAX_DESCRIPTION).to_numpy(), "descripción demasiado larga")
        # As report_create: C0 control characters (a NUL, a vertical tab from a spreadsheet) are refused by name;
        # one would make the Open311 XML unreadable and PostgreSQL refuses NUL.
        address = text("address")
        for column, values in (("description", description), ("address", address)):
            reject(values.str.contains(CONTROL_CHARACTERS.pattern, regex=True).to_numpy(),
                   f"{column}: texto con caracteres de control")

        source_id = text("source_id")
        source_id = source_id.where(source_id != "", "fila-" + pd.Series(chunk.index.astype(str), index=chunk.index))
        reject(source_id.duplicated().to_numpy(), "fila repetida (mismo identificador de origen)")

        ok = (reason == None)  # noqa: E711
        rejects = list(zip(chunk.index[~ok], reason[~ok]))
        rows = np.flatnonzero(ok)
        good = pd.DataFrame({
            "row_no": chunk.index[rows],
            "source_id": source_id.iloc[rows].to_numpy(),
            "commune_idx": commune_idx[rows],
            "category_id": category_pk.iloc[rows].astype("int64").to_numpy(),
            "lng": lng[rows], "lat": lat[rows],
            "description": description.iloc[rows].to_numpy(),
            "address": address.iloc[rows].str.slice(0, 300).to_numpy(),
            "status": status.iloc[rows].to_numpy(), "channel": channel.iloc[rows].to_numpy(),
            "created_at": created.iloc[rows].to_numpy(),
            "updated_at": updated.iloc[rows].to_numpy(),
            "closed_at": closed.iloc[rows].to_numpy(),
            "days": days.iloc[rows].astype("int64").to_numpy(),
        })
        return self.enrich(good), rejects

    def place(self, lng: np.ndarray, lat: np.ndarray, reject) -> tuple[np.ndarray, np.ndarray]:
        (sx0, sy0, sx1, sy1), (tx0, ty0, tx1, ty1) = self.placement
        reject((lng < sx0) | (lng > sx1) | (lat < sy0) | (lat > sy1), "fuera de la extensión de origen")
        return tx0 + (lng - sx0) / (sx1 - sx0) * (tx1 - tx0), ty0 + (lat - sy0) / (sy1 - sy0) * (ty1 - ty0)

    def enrich(self, good: pd.DataFrame) -> pd.DataFrame:
        """H3 cells at every stored resolution, comuna id, tracking code and deadline for the valid rows."""
        if good.empty:  # every row of the chunk was rejected: nothing to enrich (an empty column has no dates)
            return good
        for column, cells in h3_cells_many(good["lat"].to_numpy(), good["lng"].to_numpy()).items():
            good[column] = cells
        idx = good.pop("commune_idx").to_numpy()
        good["commune_id"] = np.array(self.communes.ids, dtype=np.int64)[idx]
        good["tracking_code"] = random_codes(np.array(self.communes.prefixes, dtype=object)[idx])
        good["updated_at"] = good["updated_at"].combine_first(good["closed_at"]).combine_first(good["created_at"])
        good["expected_at"] = deadlines(good["created_at"], good.pop("days"))
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
                cursor.execute(INSERT_SQL, {"source": self.source})
                inserted += cursor.fetchone()[0]
                if inserted == rows:
                    return inserted, 0
                # Skipped rows were imported before (same source id) or drew a tracking code already taken. This
                # lookup is one array probe of the unique index, not a join, so its cost cannot depend on what
                # the planner guesses about a staging table without statistics (a join once took minutes).
                cursor.execute("SELECT row_no, source_id, tracking_code FROM import_staging")
                staged = cursor.fetchall()
                cursor.execute(STORED_SOURCE_IDS_SQL, {"source": self.source, "ids": [sid for _row, sid, _code in staged]})
                stored = {sid for (sid,) in cursor.fetchall()}
                collided = [(row, code) for row, sid, code in staged if sid not in stored]
                if not collided:
                    return inserted, rows - inserted
                cursor.execute("DELETE FROM import_staging WHERE NOT row_no = ANY(%s)", [[row for row, _ in collided]])
                self.redraw_codes(cursor, collided)
        raise RuntimeError("tracking codes kept colliding; nothing of this chunk was written")

    def redraw_codes(self, cursor, rows: list[tuple[int, str]]) -> None:
        prefixes = np.array([code.rsplit("-", 2)[0] for _row, code in rows], dtype=object)
        fresh = random_codes(prefixes)
        cursor.executemany(
            "UPDATE import_staging SET tracking_code = %s WHERE row_no = %s",
            [(code, row) for code, (row, _old) in zip(fresh.tolist(), rows)],
        )


TIMESTAMPS = ("created_at", "updated_at", "expected_at", "closed_at")
H3_COLUMNS = ", ".join(f"h3_res{r}" for r in H3_RESOLUTIONS)
STAGING_DDL = f"""
CREATE TEMP TABLE IF NOT EXISTS import_staging (
    row_no bigint, source_id text, tracking_code text, commune_id bigint, category_id bigint,
    lng double precision, lat double precision, description text, address text, status text, channel text,
    created_at double precision, updated_at double precision, expected_at double precision,
    closed_at double precision,
    {", ".join(f"h3_res{r} bigint" for r in H3_RESOLUTIONS)}
) ON COMMIT DROP
"""
# One statement inserts the reports and their history (a 'created' event, and a status event for the others, not
# 'submitted', which is also their first response) and returns how many reports it inserted.
INSERT_SQL = f"""
WITH inserted AS (
    INSERT INTO reports_report (
        tracking_code, commune_id, category_id, location, address, description, attributes, status, channel,
        public_visibility, reporter_name, reporter_email, reporter_phone, language, created_at, updated_at,
        expected_at, closed_at, first_response_at, source, source_id, {H3_COLUMNS})
    SELECT tracking_code, commune_id, category_id, ST_SetSRID(ST_MakePoint(lng, lat), {STORAGE_SRID}),
           address, description, '{{}}'::jsonb, status, channel, false, '', '', '', 'es', to_timestamp(created_at),
           to_timestamp(updated_at), to_timestamp(expected_at), to_timestamp(closed_at),
           CASE WHEN status <> 'submitted' THEN to_timestamp(COALESCE(closed_at, created_at)) END,
           %(source)s, source_id, {H3_COLUMNS}
      FROM import_staging
    ON CONFLICT DO NOTHING
    RETURNING id, status, created_at, closed_at
), created AS (
    INSERT INTO reports_reportevent (report_id, kind, from_status, to_status, note, is_public, actor_label, created_at)
    SELECT id, 'created', '', 'submitted', '', true, 'Importación', created_at FROM inserted
), changed AS (
    INSERT INTO reports_reportevent (report_id, kind, from_status, to_status, note, is_public, actor_label, created_at)
    SELECT id, 'status', 'submitted', status, '', true, 'Importación', COALESCE(closed_at, created_at)
      FROM inserted WHERE status <> 'submitted'
)
SELECT count(*) FROM inserted
"""
# Which of these source ids are stored; `source_id <> ''` matches the partial unique index.
STORED_SOURCE_IDS_SQL = """
SELECT source_id FROM reports_report WHERE source = %(source)s AND source_id = ANY(%(ids)s) AND source_id <> ''
"""

# Bulk mode (see the module docstring). Partial indexes stay: they are cheap (the open-deadline index holds only
# open reports) and their predicate does not survive pg_get_indexdef's round trip textually unchanged.
BULK_TABLES = ("reports_report", "reports_reportevent")
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
