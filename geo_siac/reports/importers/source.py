"""Reading a source file: chunks of text columns, the mapping's columns, and its dates."""

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from geo_siac.reports.importers.results import ImportFileError
from geo_siac.reports.mappings import Mapping

OUR_FIELDS = (
    "source_id",
    "created_at",
    "updated_at",
    "closed_at",
    "category",
    "channel",
    "status",
    "latitude",
    "longitude",
    "description",
    "address",
)


def open_chunks(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    if not path.exists():
        raise ImportFileError(f"No existe el archivo {path}.")
    try:
        reader = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            chunksize=chunk_rows,
            encoding="utf-8",
            sep=None if path.suffix.lower() not in (".csv", ".tsv") else ("\t" if path.suffix == ".tsv" else ","),
            engine="c",
            on_bad_lines="error",
        )
        yield from reader
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"{path.name} no está en UTF-8 (byte {exc.start}): conviértalo antes de importar."
        ) from exc
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
                lambda column, fmt=fmt: pd.to_datetime(column, format=fmt, errors="coerce", utc=True),
                values[with_offset],
            )
        naive = pending & ~aware
        if naive.any():
            result.loc[naive] = each_or_nat(localised(fmt), values[naive])
    return result
