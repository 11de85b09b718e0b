"""Indicators and public aggregates: each defined once here (formulas in docs/indicators.md) and reused by the
pages, the exports and the executive report."""

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from django.conf import settings
from django.db.models import Case, CharField, Count, Exists, F, Min, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Concat, TruncMonth
from django.utils import timezone
from h3.api import basic_int as h3i

from geo_siac.geo import h3_field
from geo_siac.reports.deadlines import SANTIAGO, business_days_between
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.states import CLOSED, DIGITAL_CHANNELS, OPEN, Status
from geo_siac.zones.models import PopulationCell, Zone

# The crew zone a report was routed to (`Report.zone`, a zone version) as "<CUT>/<key>": every version of a
# redrawn zone counts as the same zone, and the same key in two comunas as two zones. None: not routed to one.
ZONE_KEY = Case(When(zone__isnull=True, then=Value(None)),
                default=Concat(F("zone__commune__cut"), Value("/"), F("zone__key"), output_field=CharField()),
                output_field=CharField())

# Dimension name -> the value each report is grouped by.
DIMENSIONS = {
    "commune": F("commune__cut"),
    "category": F("category__service_code"),
    "category_group": F("category__group__code"),
    "department": F("category__department"),
    "channel": F("channel"),
    "month": TruncMonth("created_at", tzinfo=SANTIAGO),
    "zone": ZONE_KEY,
}


def _first_response_at():
    """The first status change out of `submitted`: the moment the municipality first answered."""
    return Subquery(
        ReportEvent.objects.filter(report=OuterRef("pk"), kind=EventKind.STATUS, from_status=Status.SUBMITTED)
        .order_by("created_at", "id").values("created_at")[:1]
    )


def _was_reopened():
    return Exists(ReportEvent.objects.filter(
        report=OuterRef("pk"), kind=EventKind.STATUS, from_status__in=sorted(CLOSED), to_status__in=sorted(OPEN)
    ))


def indicator_rows(reports: QuerySet[Report], dimensions: Iterable[str] = ()) -> Iterable[dict]:
    """One small dict per report with what the indicators need, and its value on each dimension as
    `key_<dimension>`."""
    keys = {f"key_{dimension}": DIMENSIONS[dimension] for dimension in dimensions}
    fields = reports.annotate(
        **keys, first_response_at=_first_response_at(), reopened=_was_reopened(),
        rating=F("survey__resolution_rating"),
    ).values(*keys, "channel", "status", "created_at", "expected_at", "closed_at", "first_response_at",
             "reopened", "rating")
    return fields.order_by().iterator(chunk_size=5000)


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (PostgreSQL percentile_cont, numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _calendar_days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def _business_days(start: datetime, end: datetime) -> int:
    return _business_days_between(start.astimezone(SANTIAGO).date(), end.astimezone(SANTIAGO).date())


@lru_cache(maxsize=1 << 16)
def _business_days_between(start: date, end: date) -> int:
    """Memoised: a year of reports has only a few thousand distinct (start, end) day pairs, and counting
    business days was 60% of computing the indicators of 200,000 reports."""
    return business_days_between(start, end)


@dataclass(slots=True)
class _Measured:
    """One report's durations, computed once however many groups it counts in."""

    channel: str
    response: tuple[float, int] | None  # (calendar days, business days) to the first response
    closing: tuple[float, int] | None  # the same to closing, when closed
    on_time: bool
    late: bool  # open and past its deadline
    unanswered: bool
    age: float
    reopened: bool
    rating: int | None


def _measure(row: dict, as_of: datetime) -> _Measured:
    created, first, closed = row["created_at"], row["first_response_at"], row["closed_at"]
    is_closed = row["status"] in CLOSED
    return _Measured(
        channel=row["channel"],
        response=(_calendar_days(created, first), _business_days(created, first)) if first else None,
        closing=(_calendar_days(created, closed), _business_days(created, closed)) if is_closed else None,
        on_time=is_closed and closed <= row["expected_at"],
        late=not is_closed and row["expected_at"] < as_of,
        unanswered=row["status"] == Status.SUBMITTED,
        age=_calendar_days(created, as_of),
        reopened=bool(row["reopened"]),
        rating=row["rating"],
    )


@dataclass
class _Accumulator:
    volume: int = 0
    channels: Counter = None
    response_calendar: list = None
    response_business: list = None
    closing_calendar: list = None
    closing_business: list = None
    closed: int = 0
    closed_on_time: int = 0
    due: int = 0
    unanswered: int = 0
    unanswered_late: int = 0
    backlog_ages: list = None
    closed_once: int = 0
    reopened: int = 0
    ratings: Counter = None

    def __post_init__(self):
        self.channels, self.ratings = Counter(), Counter()
        self.response_calendar, self.response_business = [], []
        self.closing_calendar, self.closing_business, self.backlog_ages = [], [], []

    def add(self, m: "_Measured") -> None:
        self.volume += 1
        self.channels[m.channel] += 1
        if m.response is not None:
            self.response_calendar.append(m.response[0])
            self.response_business.append(m.response[1])
        if m.closing is not None:
            self.closed += 1
            self.closed_on_time += m.on_time
            self.closing_calendar.append(m.closing[0])
            self.closing_business.append(m.closing[1])
        else:
            self.backlog_ages.append(m.age)
        self.due += m.closing is not None or m.late
        if m.unanswered:
            self.unanswered += 1
            self.unanswered_late += m.late
        if m.closing is not None or m.reopened:
            self.closed_once += 1
            self.reopened += m.reopened
        if m.rating is not None:
            self.ratings[m.rating] += 1

    def result(self) -> dict:
        digital = sum(n for channel, n in self.channels.items() if channel in DIGITAL_CHANNELS)
        answers = sum(self.ratings.values())
        return {
            "volume": self.volume,
            "channel_mix": dict(self.channels),
            "digital_share": _share(digital, self.volume),
            "first_response_median_days": percentile(self.response_calendar, 0.5),
            "first_response_p90_days": percentile(self.response_calendar, 0.9),
            "first_response_median_business_days": percentile(self.response_business, 0.5),
            "first_response_p90_business_days": percentile(self.response_business, 0.9),
            "closing_median_days": percentile(self.closing_calendar, 0.5),
            "closing_p90_days": percentile(self.closing_calendar, 0.9),
            "closing_median_business_days": percentile(self.closing_business, 0.5),
            "closing_p90_business_days": percentile(self.closing_business, 0.9),
            "closed": self.closed,
            "closed_within_deadline_share": _share(self.closed_on_time, self.closed),
            "deadline_met_share": _share(self.closed_on_time, self.due),
            "unanswered_share": _share(self.unanswered, self.volume),
            "unanswered_past_deadline_share": _share(self.unanswered_late, self.unanswered),
            "backlog": len(self.backlog_ages),
            "backlog_median_age_days": percentile(self.backlog_ages, 0.5),
            "backlog_oldest_age_days": max(self.backlog_ages, default=None),
            "reopened_share": _share(self.reopened, self.closed_once),
            "satisfaction_responses": answers,
            "satisfaction_average": (sum(r * n for r, n in self.ratings.items()) / answers) if answers else None,
            "satisfaction_distribution": {rating: self.ratings[rating] for rating in range(1, 6)},
        }


def indicators(reports: QuerySet[Report], dimension: str | None = None, *, as_of: datetime | None = None) -> dict:
    """Indicators of `reports` per value of `dimension` (or one entry keyed None for all), at `as_of` (now)."""
    return indicators_by(reports, [dimension], as_of=as_of)[dimension]


def indicators_by(reports: QuerySet[Report], dimensions: Iterable[str | None], *,
                  as_of: datetime | None = None) -> dict:
    """{dimension: {value: indicators}} for several dimensions in one read of the reports (None: all)."""
    as_of = as_of or timezone.now()
    dimensions = list(dimensions)
    groups: dict = {dimension: defaultdict(_Accumulator) for dimension in dimensions}
    for row in indicator_rows(reports, [d for d in dimensions if d is not None]):
        measured = _measure(row, as_of)
        for dimension in dimensions:
            groups[dimension][row[f"key_{dimension}"] if dimension else None].add(measured)
    results = {dimension: {key: acc.result() for key, acc in accs.items()} for dimension, accs in groups.items()}
    for cut, result in results.get("commune", {}).items():
        result["per_1000_inhabitants"] = per_thousand(result["volume"], commune_population(cut))
    return results


def commune_population(cut: str) -> float | None:
    """Population of the comuna from its H3 population cells (every resolution sums to the same total)."""
    finest = PopulationCell.objects.filter(cut=cut).aggregate(res=Min("res"))["res"]
    if finest is None:
        return None
    return PopulationCell.objects.filter(cut=cut, res=finest).aggregate(total=Sum("pob_total"))["total"]


def zone_names() -> dict[str, str]:
    """Each zone's ZONE_KEY -> the name of its latest version, with its comuna's name."""
    names = {}
    for cut, key, name, commune in Zone.objects.order_by("commune__cut", "key", "version").values_list(
            "commune__cut", "key", "name", "commune__name"):
        names[f"{cut}/{key}"] = f"{name} ({commune})"
    return names


def per_thousand(volume: int, population: float | None) -> float | None:
    return volume * 1000 / population if population else None


def received_between(reports: QuerySet[Report], start: date, end: date) -> QuerySet[Report]:
    """Those of `reports` received on local (Santiago) days start <= day < end."""
    return reports.filter(created_at__date__gte=start, created_at__date__lt=end)


def public_cells(reports: QuerySet[Report], *, min_count: int | None = None) -> list[dict]:
    """Report counts per H3 res-9 cell for the public map. A cell with fewer than `min_count` reports is merged
    into its res-8 parent, and a parent that is still under `min_count` is left out, so no shown cell can
    single out fewer than `min_count` reports."""
    k = min_count if min_count is not None else settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT
    counts = Counter(dict(reports.order_by().values_list("h3_res9").annotate(n=Count("id"))))
    shown = [{"cell": cell, "count": n} for cell, n in counts.items() if n >= k]
    parents: Counter = Counter()
    for cell, n in counts.items():
        if n < k:
            parents[h3i.cell_to_parent(cell, 8)] += n
    shown += [{"cell": cell, "count": n} for cell, n in parents.items() if n >= k]
    return sorted(shown, key=lambda c: (-c["count"], c["cell"]))


def cells_geojson(cells: list[dict]) -> dict:
    features = []
    for cell in cells:
        ring = [[lng, lat] for lat, lng in h3i.cell_to_boundary(cell["cell"])]
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
            "properties": {"h3": h3i.int_to_str(cell["cell"]), "resolution": h3i.get_resolution(cell["cell"]),
                           "count": cell["count"]},
        })
    return {"type": "FeatureCollection", "features": features}


def transparency_reports() -> QuerySet[Report]:
    """What the public pages, exports and indicators count: reports in categories shown to the public."""
    return Report.objects.filter(category__is_public=True)


OPEN_DATA_FIELDS = ("id", "status", "category__service_code", "category__name_es", "commune__cut", "channel",
                    "created_at", "updated_at", "closed_at", "expected_at", "public_visibility", "description")
# Where an exported report may be placed, finest first: H3 res 9 (about 0.1 km²) up to res 6 (about 36 km²).
OPEN_DATA_RESOLUTIONS = (9, 8, 7, 6)
_OPEN_DATA_CELLS = tuple(h3_field(res) for res in OPEN_DATA_RESOLUTIONS)


def open_data_cells(reports: QuerySet[Report], *, min_count: int | None = None) -> dict[tuple, int | None]:
    """The cell each of `reports` is published at in the open data, keyed by the report's stored cells at
    OPEN_DATA_RESOLUTIONS (None: published without a place).

    The public map's rule (`public_cells`) carried down to res 6: a res-9 cell holding at least k reports is
    published; the reports of the smaller ones move up to their res-8 cell, which is published when those
    reports together reach k (the reports already published at res 9 do not count again); what is still left
    moves up to res 7, then res 6, and the rest has no place. So every published cell is the place of at least
    k rows of the export, counting only the rows placed at it: subtracting finer cells never isolates fewer.

    One GROUP BY in SQL, before any row is streamed; the result has an entry per distinct combination of
    cells (about one per populated res-9 cell), however many reports there are."""
    k = min_count if min_count is not None else settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT
    groups = reports.order_by().values_list(*_OPEN_DATA_CELLS).annotate(n=Count("id"))
    pending = {row[:-1]: row[-1] for row in groups}
    published: dict[tuple, int | None] = {}
    for level in range(len(OPEN_DATA_RESOLUTIONS)):
        counts: Counter = Counter()
        for cells, n in pending.items():
            counts[cells[level]] += n
        published.update({cells: cells[level] for cells in pending if counts[cells[level]] >= k})
        pending = {cells: n for cells, n in pending.items() if counts[cells[level]] < k}
    published.update(dict.fromkeys(pending))
    return published


def open_data_rows(reports: QuerySet[Report], *, chunk_size: int = 2000,
                   min_count: int | None = None) -> Iterator[tuple]:
    """OPEN_DATA_FIELDS per report, oldest first, and then the cell its place is published at
    (`open_data_cells`, counted before the first row; None: no place). The rows come through a server-side
    cursor, so any number of them streams in constant memory. No location, address, contact data or photo is
    read at all, only the stored H3 cells."""
    published = open_data_cells(reports, min_count=min_count)
    rows = reports.order_by("id").values_list(*OPEN_DATA_FIELDS, *_OPEN_DATA_CELLS).iterator(chunk_size=chunk_size)
    width = len(OPEN_DATA_FIELDS)
    # A report filed after the count is in no counted group: .get() leaves it without a place.
    return (row[:width] + (published.get(row[width:]),) for row in rows)
