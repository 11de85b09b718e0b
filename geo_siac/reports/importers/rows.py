"""Checking a chunk's rows with report_create's rule table, then computing what each stored report needs."""

import numpy as np
import pandas as pd

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.geo import h3_cells_many
from geo_siac.reports.deadlines import SANTIAGO, deadline
from geo_siac.reports.importers.communes import CommuneIndex
from geo_siac.reports.importers.results import ImportFileError, ImportSummary
from geo_siac.reports.importers.source import parse_dates
from geo_siac.reports.mappings import Mapping
from geo_siac.reports.states import CLOSED, Status
from geo_siac.reports.tracking import tracking_codes
from geo_siac.reports.validation import (
    channel_error,
    coordinate_columns,
    date_out_of_range_message,
    date_range,
    text_columns_errors,
    unknown_category_message,
)
from geo_siac.zones.selectors import closed_days, commune_response_days


class ChunkPreparer:
    """What a chunk's rows are checked against and completed with, read once per import: the comunas, the active
    categories and the response days each comuna set for them, the installation's closed days and, with `place_in`,
    where the source's points are moved. History is not refused for a category its comuna no longer takes: the comuna
    may have taken it when the request was filed."""

    def __init__(self, *, mapping: Mapping, place_in: str | None):
        self.mapping = mapping
        self.communes = CommuneIndex.load(only_cut=place_in)
        self.placement = None
        if place_in:
            if mapping.source_bbox is None:
                raise ImportFileError("Para trasladar puntos (--place-in) la correspondencia debe indicar source_bbox.")
            self.placement = (mapping.source_bbox, self.communes.bounds)
        # History is of service requests (a point each): a topic of another kind is an unknown category here.
        categories = list(
            Category.objects.filter(is_active=True, kind=RequestKind.SERVICE_REQUEST).values_list(
                "service_code", "pk", "response_days"
            )
        )
        # Two plain dicts: Series.map looks a dict up in one vectorised pass, a lambda once per row.
        self.category_pks = {code: pk for code, pk, _days in categories}
        self.category_days = {code: days for code, _pk, days in categories}
        self.commune_days = commune_response_days()
        self.closed_days = closed_days()

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
        category_pk = codes.map(self.category_pks)
        unknown = category_pk.isna().to_numpy()
        shown = codes.fillna(source_category)
        for value in shown[unknown & (reason == None)].unique():  # noqa: E711
            reject(unknown & (shown == value).to_numpy(), "category", unknown_category_message(value))
        days = codes.map(self.category_days)

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
            reject_each(
                {i: ("location", m) for i, m in zip(outside, messages, strict=True)}, "fuera de las comunas atendidas"
            )

        created = parse_dates(text("created_at"), self.mapping)
        closed = parse_dates(text("closed_at"), self.mapping)
        updated = parse_dates(text("updated_at"), self.mapping)
        reject(created.isna().to_numpy(), "created_at", "fecha de creación ausente o ilegible")
        bad_closed = (text("closed_at") != "") & closed.isna()
        reject(bad_closed.to_numpy(), "closed_at", "fecha de cierre ilegible")
        earliest, latest = (pd.Timestamp(bound) for bound in date_range(pd.Timestamp.now(tz="UTC")))
        for dates, name, what in (
            (created, "created_at", "creación"),
            (closed, "closed_at", "cierre"),
            (updated, "updated_at", "actualización"),
        ):
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

        ok = reason == None  # noqa: E711
        rejects = list(zip(chunk.index[~ok], field_of[~ok], reason[~ok], strict=True))
        rows = np.flatnonzero(ok)
        # The dates stay datetime arrays (to_numpy would box each as a Timestamp object, a fifth of the reader's time).
        good = pd.DataFrame(
            {
                "row_no": chunk.index[rows],
                "source_id": source_id.iloc[rows].to_numpy(),
                "commune_idx": commune_idx[rows],
                "category_id": category_pk.iloc[rows].astype("int64").to_numpy(),
                "lng": lng[rows],
                "lat": lat[rows],
                "description": description.iloc[rows].to_numpy(),
                "address": address.iloc[rows].to_numpy(),
                "status": status.iloc[rows].to_numpy(),
                "channel": channel.iloc[rows].to_numpy(),
                "created_at": created.iloc[rows].array,
                "updated_at": updated.iloc[rows].array,
                "closed_at": closed.iloc[rows].array,
                "days": days.iloc[rows].astype("int64").to_numpy(),
            }
        )
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
        if self.commune_days:
            pairs = zip(good["commune_id"], good["category_id"], good["days"], strict=True)
            good["days"] = [self.commune_days.get((commune, category), days) for commune, category, days in pairs]
        good["expected_at"] = deadlines(good["created_at"], good.pop("days"), closed_days=self.closed_days)
        return good


def deadlines(created: pd.Series, days: pd.Series, *, closed_days: frozenset) -> pd.Series:
    """deadlines.deadline for each row, computed once per distinct (local day, response days) pair."""
    keys = pd.DataFrame({"day": created.dt.tz_convert(SANTIAGO).dt.date, "days": days})
    unique = keys.drop_duplicates()
    unique["due"] = [deadline(d, int(n), closed_days=closed_days) for d, n in zip(unique["day"], unique["days"])]
    return keys.merge(unique, on=["day", "days"], how="left")["due"].set_axis(created.index)
