"""Open-data formats: anonymised reports in the spirit of Open311's bulk export, and the indicators."""

import csv
import json
from collections.abc import Iterable, Iterator
from functools import lru_cache

from h3.api import basic_int as h3i

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.states import open311_status
from geo_siac.transparency.selectors import open_data_rows, transparency_reports

REPORT_COLUMNS = (
    "service_request_id",
    "status",
    "detailed_status",
    "service_code",
    "service_name",
    "comuna_cut",
    "channel",
    "requested_datetime",
    "updated_datetime",
    "closed_datetime",
    "expected_datetime",
    "h3_cell",
    "h3_resolution",
    "cell_lat",
    "cell_long",
    "description",
)

INDICATOR_COLUMNS = (
    "dimension",
    "value",
    "part",
    "volume",
    "digital_share",
    "first_response_median_days",
    "first_response_p90_days",
    "first_response_median_business_days",
    "first_response_p90_business_days",
    "closing_median_days",
    "closing_p90_days",
    "closing_median_business_days",
    "closing_p90_business_days",
    "closed_within_deadline_share",
    "deadline_met_share",
    "unanswered_share",
    "unanswered_past_deadline_share",
    "backlog",
    "backlog_median_age_days",
    "backlog_oldest_age_days",
    "reopened_share",
    "satisfaction_responses",
    "satisfaction_average",
    "per_1000_inhabitants",
)


def _iso(value) -> str:
    return value.isoformat() if value else ""


def _day(value) -> str:
    return value.astimezone(SANTIAGO).date().isoformat() if value else ""


@lru_cache(maxsize=1 << 14)
def _place(cell: int | None) -> dict:
    """Memoised: an export has one place per populated cell, repeated over many rows."""
    if cell is None:
        return {"h3_cell": None, "h3_resolution": None, "cell_lat": None, "cell_long": None}
    lat, lng = h3i.cell_to_latlng(cell)
    return {
        "h3_cell": h3i.int_to_str(cell),
        "h3_resolution": h3i.get_resolution(cell),
        "cell_lat": round(lat, 6),
        "cell_long": round(lng, 6),
    }


def anonymised_record(row: tuple) -> dict:
    """A report as published (a row of `selectors.open_data_rows`): the H3 cell it is published at (the
    k-anonymous one, res 9 to 6, or none) and that cell's centre stand for the place, and the free text is
    published only when the citizen allowed the report to be shown.

    A request of another kind than a service request (a complaint, query, suggestion, compliment or Ley 20.285
    request) is about a person's own dealings, and its minute and channel can name them (a suggestion left in the
    box at a desk): it has its local days only and no channel, and a Ley 20.285 request no status beyond
    open/closed, since its detailed closing would give away the outcome the yearly figures hide below k."""
    (pk, status, code, name, cut, channel, created, updated, closed, expected, is_public, description, kind, cell) = row
    moment = _iso if kind == RequestKind.SERVICE_REQUEST else _day
    return {
        "service_request_id": str(pk),
        "status": open311_status(status),
        "detailed_status": open311_status(status) if kind == RequestKind.INFORMATION else status,
        "service_code": code,
        "service_name": name,
        "comuna_cut": cut,
        "channel": channel if kind == RequestKind.SERVICE_REQUEST else "",
        "requested_datetime": moment(created),
        "updated_datetime": moment(updated),
        "closed_datetime": moment(closed),
        "expected_datetime": moment(expected),
        **_place(cell),
        "description": description if is_public else "",
    }


class _Echo:
    def write(self, value: str) -> str:
        return value


# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula (CSV injection: a citizen's
# "=HYPERLINK(...)" would become a link in a journalist's Excel). Free text goes out with a leading apostrophe,
# which spreadsheets hide and treat as "this is text".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value):
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def csv_lines(columns: Iterable[str], records: Iterable[dict], free_text: tuple[str, ...] = ()) -> Iterator[str]:
    """CSV text, one line at a time; the `free_text` columns (written by people, not by the system) are made
    safe for spreadsheets. Each record is a fresh dict, changed in place."""
    writer = csv.DictWriter(_Echo(), fieldnames=list(columns), extrasaction="ignore")
    yield writer.writeheader()
    for record in records:
        for column in free_text:
            record[column] = spreadsheet_text(record[column])
        yield writer.writerow(record)


def reports_csv(rows: Iterable[tuple]) -> Iterator[str]:
    return csv_lines(REPORT_COLUMNS, (anonymised_record(row) for row in rows), free_text=("description",))


def open_data_lines(name: str) -> Iterator[str]:
    """The pieces of an open-data report file (one of selectors.OPEN_DATA_FILES), read from the database now: what
    publish_open_data writes (a download serves only that file)."""
    rows = open_data_rows(transparency_reports())
    return reports_csv(rows) if name.endswith(".csv") else reports_geojson(rows)


def reports_geojson(rows: Iterable[tuple]) -> Iterator[str]:
    yield '{"type":"FeatureCollection","features":['
    separator = ""
    for row in rows:
        record = anonymised_record(row)
        place = (
            None
            if record["h3_cell"] is None
            else {"type": "Point", "coordinates": [record["cell_long"], record["cell_lat"]]}
        )
        feature = {"type": "Feature", "geometry": place, "properties": record}
        yield separator + json.dumps(feature, ensure_ascii=False)
        separator = ","
    yield "]}"


def dimension_value(value) -> str:
    if value is None:
        return ""
    return value.strftime("%Y-%m") if hasattr(value, "strftime") else str(value)


def indicator_records(results_by_dimension: dict[str, dict]) -> Iterator[dict]:
    """public_indicators' rows, two records each: its service requests' figures and its other kinds'."""
    for dimension, results in results_by_dimension.items():
        for value, result in results.items():
            service = {key: figure for key, figure in result.items() if key != "other_kinds"}
            for part, figures in (("service_request", service), ("other_kinds", result["other_kinds"])):
                yield {"dimension": dimension, "value": dimension_value(value), "part": part, **figures}


def indicators_csv(results_by_dimension: dict[str, dict]) -> Iterator[str]:
    # The values include department names, typed in the admin.
    return csv_lines(INDICATOR_COLUMNS, indicator_records(results_by_dimension), free_text=("value",))
