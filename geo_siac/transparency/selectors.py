"""Indicators and public aggregates: each defined once here (formulas in docs/indicators.md) and reused by the
pages, the exports and the executive report."""

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Case, CharField, Count, F, JSONField, Min, Q, QuerySet, Sum, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, ExtractYear, TruncMonth
from django.utils import timezone
from django.utils.formats import localize
from django.utils.translation import gettext
from h3.api import basic_int as h3i

from geo_siac.catalogue.kinds import NEEDS_GROUND, DenialGround, LegalOutcome, RequestKind
from geo_siac.catalogue.kinds import response_days as kind_response_days
from geo_siac.catalogue.models import Category
from geo_siac.db import unique_row
from geo_siac.rates import per_1000
from geo_siac.reports.deadlines import CALENDAR_END, CALENDAR_START, SANTIAGO
from geo_siac.reports.models import Report, YearArchive
from geo_siac.reports.punctuality import deadline_met_share, late_sql, on_time_sql
from geo_siac.reports.responsibility import DEPARTMENT_NAME
from geo_siac.reports.selectors import counted_reports
from geo_siac.reports.states import CLOSED, DIGITAL_CHANNELS, Channel, Status
from geo_siac.transparency.models import CommitmentCharter, IndicatorSnapshot
from geo_siac.transparency.periods import is_named, last_month, last_twelve_months, named_period, trailing_year
from geo_siac.zones.models import Commune, PopulationCell, Zone
from geo_siac.zones.selectors import offered_categories

logger = logging.getLogger(__name__)

# The crew zone a report was routed to (`Report.zone`, a zone version) as "<CUT>/<key>": every version of a
# redrawn zone counts as the same zone, and the same key in two comunas as two zones. None: not routed to one.
ZONE_KEY = Case(
    When(zone__isnull=True, then=Value(None)),
    default=Concat(F("zone__commune__cut"), Value("/"), F("zone__key"), output_field=CharField()),
    output_field=CharField(),
)

# Dimension name -> the value each report is grouped by, in the order the exports list them. A new dimension
# is one more entry here: the pages, exports, snapshots and the executive report follow.
DIMENSIONS = {
    "commune": F("commune__cut"),
    "department": DEPARTMENT_NAME,  # routing's department, else the category's (reports.responsibility)
    "category_group": F("category__group__code"),
    "category": F("category__service_code"),
    "zone": ZONE_KEY,
    "channel": F("channel"),
    "kind": F("kind"),  # catalogue.kinds: service requests, reclamos, consultas... (docs/request-kinds.md)
    "month": TruncMonth("created_at", tzinfo=SANTIAGO),
}
# Groupings only the Carta de Compromisos' periods store, never exported: a category in one comuna, as
# "<CUT>/<service code>", so each comuna's charter shows its own requests' compliance (`charter_compliance`).
CHARTER_DIMENSIONS = {
    "commune_category": Concat(F("commune__cut"), Value("/"), F("category__service_code"), output_field=CharField()),
}
GROUPINGS = DIMENSIONS | CHARTER_DIMENSIONS

# What the indicators read of each report: its own columns, the facts report_change_status and the importer keep
# on it (first response, reopenings), and the survey answer.
_FACTS = {
    "fact_channel": F("channel"),
    "fact_kind": F("kind"),
    "fact_status": F("status"),
    "fact_created": F("created_at"),
    "fact_expected": F("expected_at"),
    "fact_closed": F("closed_at"),
    "fact_first_response": F("first_response_at"),
    "fact_reopened": F("times_reopened"),
    "fact_rating": F("survey__resolution_rating"),
}
RATINGS = range(1, 6)


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks: the definition the indicators use, which PostgreSQL's
    percentile_cont computes (tests check the SQL against this)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _literals(values: Iterable[str]) -> str:
    """States and channels are the code's own identifiers, never input, so they are inlined in the SQL."""
    values = sorted(values)
    if not all(value.isidentifier() for value in values):
        raise ValueError(f"not an identifier among {values}")
    return ", ".join(f"'{value}'" for value in values)


def _local_day(column: str) -> str:
    return f"({column} AT TIME ZONE '{SANTIAGO.key}')::date"


def _days(end: str, start: str) -> str:
    """Elapsed calendar days as (end - start).total_seconds() / 86400 in Python: the exact difference in seconds,
    rounded once to a double, then divided."""
    return f"(EXTRACT(EPOCH FROM {end}) - EXTRACT(EPOCH FROM {start}))::float8 / 86400"


_CLOSED = _literals(CLOSED)
# One row per report with its measures. Business days between two dates are the difference of their numbers in
# the calendar table (deadlines.calendar_days); a date the calendar lacks is counted, and refused, below.
# GREATEST ignores NULLs, hence the CASEs around it.
_MEASURES_SQL = f"""
SELECT {{keys}}r.fact_channel AS channel, r.fact_rating AS rating,
       r.fact_kind = '{RequestKind.SERVICE_REQUEST.value}' AS is_service_request,
       r.fact_status IN ({_CLOSED}) AS is_closed,
       r.fact_status = '{Status.SUBMITTED.value}' AS unanswered,
       {late_sql("r.fact_status", "r.fact_expected", "p.as_of")} AS late,
       {on_time_sql("r.fact_status", "r.fact_closed", "r.fact_expected")} AS on_time,
       r.fact_reopened > 0 AS reopened,
       {_days("r.fact_first_response", "r.fact_created")} AS response_days,
       CASE WHEN r.fact_first_response IS NOT NULL THEN GREATEST(fr.business_days - cr.business_days, 0)::float8
       END AS response_business_days,
       CASE WHEN r.fact_status IN ({_CLOSED}) THEN {_days("r.fact_closed", "r.fact_created")} END AS closing_days,
       CASE WHEN r.fact_status IN ({_CLOSED}) THEN GREATEST(cl.business_days - cr.business_days, 0)::float8 END
           AS closing_business_days,
       CASE WHEN r.fact_status NOT IN ({_CLOSED}) THEN {_days("p.as_of", "r.fact_created")} END AS backlog_age,
       cr.day IS NULL OR (r.fact_first_response IS NOT NULL AND fr.day IS NULL)
           OR (r.fact_status IN ({_CLOSED}) AND cl.day IS NULL) AS outside_calendar
  FROM ({{reports}}) AS r
 CROSS JOIN (SELECT %s::timestamptz AS as_of) AS p
  LEFT JOIN reports_calendarday cr ON cr.day = {_local_day("r.fact_created")}
  LEFT JOIN reports_calendarday fr ON fr.day = {_local_day("r.fact_first_response")}
  LEFT JOIN reports_calendarday cl ON cl.day = {_local_day("r.fact_closed")}
"""
_MEDIAN_AND_P90 = "ARRAY[0.5, 0.9]"


def _aggregates(prefix: str = "", where: str = "") -> list[str]:
    """The SQL aggregates of one group, of its requests matching `where` (all without), named with `prefix`."""

    def only(condition: str = "") -> str:
        both = " AND ".join(f"({c})" for c in (condition, where) if c)
        return f" FILTER (WHERE {both})" if both else ""

    return [
        f"count(*){only()} AS {prefix}volume",
        *(f"count(*){only(f'channel = {_literals([c])}')} AS {prefix}channel_{c}" for c in Channel.values),
        f"count(*){only(f'channel IN ({_literals(DIGITAL_CHANNELS)})')} AS {prefix}digital",
        f"count(*){only('is_service_request')} AS {prefix}service_requests",
        *(
            f"percentile_cont({_MEDIAN_AND_P90}) WITHIN GROUP (ORDER BY {measure}){only()} AS {prefix}{measure}"
            for measure in ("response_days", "response_business_days", "closing_days", "closing_business_days")
        ),
        f"count(*){only('is_closed')} AS {prefix}closed",
        f"count(*){only('on_time')} AS {prefix}on_time",
        f"count(*){only('late')} AS {prefix}late",
        f"count(*){only('unanswered')} AS {prefix}unanswered",
        f"count(*){only('unanswered AND late')} AS {prefix}unanswered_late",
        f"count(backlog_age){only()} AS {prefix}backlog",
        f"percentile_cont(0.5) WITHIN GROUP (ORDER BY backlog_age){only()} AS {prefix}backlog_median_age",
        f"max(backlog_age){only()} AS {prefix}backlog_oldest_age",
        f"count(*){only('is_closed OR reopened')} AS {prefix}closed_once",
        f"count(*){only('reopened')} AS {prefix}reopened",
        f"count(rating){only()} AS {prefix}ratings",
        f"sum(rating){only()} AS {prefix}rating_sum",
        *(f"count(*){only(f'rating = {rating}')} AS {prefix}rating_{rating}" for rating in RATINGS),
    ]


# Each group's figures, and those of its service requests and of its other kinds (PARTS, what the public pages
# publish: docs/transparency.md, "Small counts").
PARTS = {"service_request": "is_service_request", "other_kinds": "NOT is_service_request"}
_AGGREGATES = ",\n       ".join(
    [
        *_aggregates(),
        *(aggregate for part, where in PARTS.items() for aggregate in _aggregates(f"{part}__", where)),
        "count(*) FILTER (WHERE outside_calendar) AS outside_calendar",
    ]
)


def _indicators_sql(keys: list[str], with_overall: bool) -> str:
    """Every indicator of every requested grouping in one pass: GROUPING SETS (one per dimension, () for all)."""
    measures = _MEASURES_SQL.replace("{keys}", "".join(f"r.{key}, " for key in keys))
    if not keys:
        return f"SELECT 0 AS grouping_set,\n       {_AGGREGATES}\n  FROM ({measures}) AS m"
    sets = [f"({key})" for key in keys] + (["()"] if with_overall else [])
    return (
        f"SELECT {', '.join(keys)}, GROUPING({', '.join(keys)}) AS grouping_set,\n       {_AGGREGATES}\n"
        f"  FROM ({measures}) AS m\n GROUP BY GROUPING SETS ({', '.join(sets)})"
    )


def _median_and_p90(values: list[float] | None) -> tuple[float | None, float | None]:
    return tuple(values) if values else (None, None)


def _result(row: dict) -> dict:
    """The indicators of one group from its SQL aggregates, with those of its PARTS."""
    parts = {part: _figures({k.removeprefix(f"{part}__"): v for k, v in row.items()}) for part in PARTS}
    return {**_figures(row), "parts": parts}


def _figures(row: dict) -> dict:
    """The indicators of one group (or part) from its SQL aggregates (formulas: docs/indicators.md)."""
    response, response_business = (_median_and_p90(row[m]) for m in ("response_days", "response_business_days"))
    closing, closing_business = (_median_and_p90(row[m]) for m in ("closing_days", "closing_business_days"))
    return {
        "volume": row["volume"],
        "channel_mix": {channel: row[f"channel_{channel}"] for channel in Channel.values if row[f"channel_{channel}"]},
        "service_requests": row["service_requests"],
        "digital_share": _share(row["digital"], row["volume"]),
        "first_response_median_days": response[0],
        "first_response_p90_days": response[1],
        "first_response_median_business_days": response_business[0],
        "first_response_p90_business_days": response_business[1],
        "closing_median_days": closing[0],
        "closing_p90_days": closing[1],
        "closing_median_business_days": closing_business[0],
        "closing_p90_business_days": closing_business[1],
        "closed": row["closed"],
        "closed_within_deadline_share": _share(row["on_time"], row["closed"]),
        "deadline_met_share": deadline_met_share(on_time=row["on_time"], closed=row["closed"], late=row["late"]),
        "unanswered_share": _share(row["unanswered"], row["volume"]),
        "unanswered_past_deadline_share": _share(row["unanswered_late"], row["unanswered"]),
        "backlog": row["backlog"],
        "backlog_median_age_days": row["backlog_median_age"],
        "backlog_oldest_age_days": row["backlog_oldest_age"],
        "reopened_share": _share(row["reopened"], row["closed_once"]),
        "satisfaction_responses": row["ratings"],
        "satisfaction_average": row["rating_sum"] / row["ratings"] if row["ratings"] else None,
        "satisfaction_distribution": {rating: row[f"rating_{rating}"] for rating in RATINGS},
    }


def indicators(reports: QuerySet[Report], dimension: str | None = None, *, as_of: datetime | None = None) -> dict:
    """Indicators of `reports` per value of `dimension` (or one entry keyed None for all), at `as_of` (now)."""
    return indicators_by(reports, [dimension], as_of=as_of)[dimension]


def indicators_by(
    reports: QuerySet[Report], dimensions: Iterable[str | None], *, as_of: datetime | None = None
) -> dict:
    """{dimension: {value: indicators}} for several dimensions (None: all) in one SQL statement over `reports`."""
    as_of = as_of or timezone.now()
    dimensions = list(dict.fromkeys(dimensions))
    named = [dimension for dimension in dimensions if dimension is not None]
    keys = [f"key_{dimension}" for dimension in named]
    selection = reports.order_by().annotate(**{f"key_{d}": GROUPINGS[d] for d in named}, **_FACTS)
    selection = selection.values(*keys, *_FACTS)
    compiler = selection.query.get_compiler(using=selection.db)
    results: dict = {dimension: {} for dimension in dimensions}
    try:
        reports_sql, params = compiler.as_sql()
    except EmptyResultSet:  # e.g. Report.objects.none(): nothing to group
        return results
    sql = _indicators_sql(keys, with_overall=None in dimensions).replace("{reports}", reports_sql)
    with connections[selection.db].cursor() as cursor:
        cursor.execute(sql, [*params, as_of])
        columns = [column.name for column in cursor.description]
        rows = cursor.fetchall()
    # The keys come back as the database gives them; Django's converters make them what the ORM would return
    # (the month as an aware datetime, for instance).
    converters = compiler.get_converters([selection.query.annotations[key] for key in keys])
    rows = compiler.apply_converters(rows, converters) if converters else rows
    full = (1 << len(keys)) - 1
    dimension_of = {full: None} | {full - (1 << (len(keys) - 1 - i)): d for i, d in enumerate(named)}
    for row in rows:
        row = dict(zip(columns, row, strict=True))
        if row["outside_calendar"]:
            raise ValueError(
                f"{row['outside_calendar']} reports have dates outside the business-day calendar "
                f"({CALENDAR_START} to {CALENDAR_END}, reports_calendarday)."
            )
        if row["volume"]:  # the overall row of an empty selection
            dimension = dimension_of[row["grouping_set"]]
            results[dimension][row[f"key_{dimension}"] if dimension else None] = _result(row)
    for cut, result in results.get("commune", {}).items():
        for figures in (result, *result["parts"].values()):
            figures["per_1000_inhabitants"] = per_1000(figures["volume"], commune_population(cut))
    return results


# The open-data report files publish_open_data writes and the downloads serve.
OPEN_DATA_FILES = ("solicitudes.csv", "solicitudes.geojson")


@dataclass(frozen=True)
class OpenDataFile:
    path: Path
    written_at: datetime
    is_stale: bool  # older than GEO_SIAC_OPEN_DATA_MAX_AGE_MINUTES: the timer has stopped


def open_data_file(name: str) -> OpenDataFile | None:
    """The published file `name` (one of OPEN_DATA_FILES), or None when publish_open_data has not written it."""
    path = Path(settings.GEO_SIAC_OPEN_DATA_DIR) / name
    try:
        written_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except FileNotFoundError:
        return None
    oldest = timezone.now() - timedelta(minutes=settings.GEO_SIAC_OPEN_DATA_MAX_AGE_MINUTES)
    return OpenDataFile(path, written_at, written_at < oldest)


# The relative periods the public pages and exports show, with the dimensions each needs: what refresh_indicators
# stores on its timer. Named periods (a calendar year "2025", a month "2025-03") are stored on demand, with every
# dimension, and the pages offer those that are stored (`named_periods`).
PUBLISHED = {
    "trailing_year": (trailing_year, (None, *DIMENSIONS)),
    "last_month": (last_month, ("commune_category",)),
    "last_twelve_months": (last_twelve_months, ("commune_category",)),
}
NAMED_DIMENSIONS = (None, *DIMENSIONS)


@dataclass(frozen=True)
class Published:
    """The indicators of a published period [start, end), judged at `as_of`."""

    start: date
    end: date
    as_of: datetime
    results: dict
    is_stale: bool = False  # a relative period's snapshot older than GEO_SIAC_INDICATORS_MAX_AGE_MINUTES


def period_range(period: str, as_of: datetime) -> tuple[date, date]:
    """The local days [start, end) of a relative period computed at `as_of`, or of a named one; ValueError when
    `period` is neither."""
    if period in PUBLISHED:
        return PUBLISHED[period][0](as_of.astimezone(SANTIAGO).date())
    return named_period(period)


def _stale_before() -> datetime:
    return timezone.now() - timedelta(minutes=settings.GEO_SIAC_INDICATORS_MAX_AGE_MINUTES)


def published_indicators(period: str, dimensions: Iterable[str | None]) -> Published | None:
    """The indicators of a published period from its snapshot, whatever its age (`is_stale` when a relative period's
    is older than GEO_SIAC_INDICATORS_MAX_AGE_MINUTES), or None while there is none holding every dimension asked
    for (before the first refresh_indicators, or a dimension added since). Never computed on a request: at a
    million reports that takes seconds, at twenty million minutes (docs/indicators.md, "Published snapshots")."""
    dimensions = list(dimensions)
    snapshot = unique_row(IndicatorSnapshot.objects.filter(period=period))
    stored = decode_results(snapshot.results) if snapshot else {}
    missing = [dimension for dimension in dimensions if dimension not in stored]
    if snapshot is None or missing:
        logger.warning(
            "No indicator snapshot of %s with %s: the pages say the figures are being prepared until "
            "refresh_indicators stores it (is its timer running?)",
            period,
            missing,
        )
        return None
    is_stale = period in PUBLISHED and snapshot.as_of < _stale_before()
    if is_stale:
        logger.warning(
            "The indicator snapshot of %s dates from %s: is refresh_indicators' timer running?",
            period,
            snapshot.as_of.isoformat(),
        )
    return Published(snapshot.start, snapshot.end, snapshot.as_of, {d: stored[d] for d in dimensions}, is_stale)


def needed_dimensions(period: str) -> tuple:
    """The dimensions a period's snapshot must hold: those its pages and exports read."""
    return PUBLISHED[period][1] if period in PUBLISHED else NAMED_DIMENSIONS


def incomplete_snapshots() -> list[tuple[str, datetime]]:
    """The stored snapshots (period, as_of) lacking a dimension their period needs, e.g. one added to the code since
    they were stored, oldest first: their pages say "being prepared" until refresh_indicators stores them again."""
    return _incomplete(_stored_dimensions())


def _stored_dimensions() -> list[tuple[str, datetime, list]]:
    """Every snapshot's period, as_of and dimension names, in one query that reads nothing else of its results. One
    stored before its rows had PARTS reads as having none: it is mended like one missing a dimension (else the pages
    would show its service requests' figures as unknown)."""
    return list(
        IndicatorSnapshot.objects.annotate(
            dimensions=RawSQL(
                "CASE WHEN jsonb_path_exists(results, '$[*][1][*][1] ? (!exists(@.parts))') THEN '[]'::jsonb"
                " ELSE jsonb_path_query_array(results, '$[*][0]') END",
                [],
                output_field=JSONField(),
            )
        ).values_list("period", "as_of", "dimensions")
    )


def _incomplete(stored: list[tuple[str, datetime, list]]) -> list[tuple[str, datetime]]:
    """Named periods of an archived year are left out: their reports left the live tables, so their snapshot is
    what was published and cannot be computed again (archive_year asks for it to be published first)."""
    incomplete = [
        (period, as_of) for period, as_of, dimensions in stored if not set(needed_dimensions(period)) <= set(dimensions)
    ]
    if any(is_named(period) for period, _as_of in incomplete):  # only then a query more (the health check's case)
        archived = {str(year) for year in YearArchive.objects.values_list("year", flat=True)}
        incomplete = [
            (period, as_of) for period, as_of in incomplete if not (is_named(period) and period[:4] in archived)
        ]
    return sorted(incomplete, key=lambda row: row[1])


def indicators_health() -> dict:
    """Whether refresh_indicators keeps the snapshots fresh and whole, for the health check (/salud/): one query on a
    handful of rows, of their results only the dimension names. "missing" while a relative period's was never
    stored or a stored one lacks a dimension its pages need (`incomplete` names them), "stale" when a relative
    period's is older than GEO_SIAC_INDICATORS_MAX_AGE_MINUTES; `as_of` is the oldest relative one's."""
    stored = _stored_dimensions()
    relative = {period: as_of for period, as_of, _dimensions in stored if period in PUBLISHED}
    oldest = min(relative.values(), default=None)
    incomplete = [period for period, _as_of in _incomplete(stored)]
    if len(relative) < len(PUBLISHED) or incomplete:
        status = "missing"
    else:
        status = "stale" if oldest < _stale_before() else "ok"
    return {
        "status": status,
        "as_of": oldest.isoformat() if oldest else None,
        "max_age_minutes": settings.GEO_SIAC_INDICATORS_MAX_AGE_MINUTES,
        "incomplete": incomplete,
    }


def compute_published(period: str, dimensions: Iterable[str | None] | None = None, *, as_of: datetime) -> Published:
    """The indicators of a period as of `as_of` (the dimensions it publishes by default), from the reports."""
    start, end = period_range(period, as_of)
    published_dimensions = PUBLISHED[period][1] if period in PUBLISHED else NAMED_DIMENSIONS
    reports = received_between(transparency_reports(), start, end)
    return Published(start, end, as_of, indicators_by(reports, dimensions or published_dimensions, as_of=as_of))


def named_periods() -> list[tuple[str, date]]:
    """The stored named periods (period, first day), years first, each newest first: what the pages offer."""
    stored = IndicatorSnapshot.objects.exclude(period__in=PUBLISHED).values_list("period", "start")
    newest_first = sorted(stored, key=lambda row: row[1], reverse=True)
    return sorted(newest_first, key=lambda row: len(row[0]))


def _encode_key(value):
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def _decode_key(value):
    if isinstance(value, dict):
        ((kind, text),) = value.items()
        return datetime.fromisoformat(text) if kind == "datetime" else date.fromisoformat(text)
    return value


def encode_results(results: dict) -> list:
    """indicators_by's result as JSON: pairs instead of mappings, since its keys are None, months and numbers."""
    return [
        [dimension, [[_encode_key(key), result] for key, result in by_key.items()]]
        for dimension, by_key in results.items()
    ]


def _decode_figures(result: dict) -> dict:
    decoded = {
        **result,
        "satisfaction_distribution": {int(r): n for r, n in result["satisfaction_distribution"].items()},
    }
    if "parts" in result:
        decoded["parts"] = {part: _decode_figures(figures) for part, figures in result["parts"].items()}
    return decoded


def decode_results(encoded: list) -> dict:
    return {
        dimension: {_decode_key(key): _decode_figures(result) for key, result in pairs} for dimension, pairs in encoded
    }


def commune_population(cut: str) -> float | None:
    """Population of the comuna from its H3 population cells (every resolution sums to the same total)."""
    finest = PopulationCell.objects.filter(cut=cut).aggregate(res=Min("res"))["res"]
    if finest is None:
        return None
    return PopulationCell.objects.filter(cut=cut, res=finest).aggregate(total=Sum("pob_total"))["total"]


def zone_keys_in_force(start: date, end: date) -> set[str]:
    """The ZONE_KEY of every zone in force some time in the local days [start, end): drawn before the period ends
    and not retired before it starts (a zone drawn since, or retired before, had no share in its requests)."""
    zones = Zone.objects.filter(created_at__lt=local_midnight(end)).filter(
        Q(retired_at__isnull=True) | Q(retired_at__gt=local_midnight(start))
    )
    return {f"{cut}/{key}" for cut, key in zones.values_list("commune__cut", "key")}


def zone_names() -> dict[str, str]:
    """Each zone's ZONE_KEY -> the name of its latest version, with its comuna's name."""
    names = {}
    for cut, key, name, commune in Zone.objects.order_by("commune__cut", "key", "version").values_list(
        "commune__cut", "key", "name", "commune__name"
    ):
        names[f"{cut}/{key}"] = f"{name} ({commune})"
    return names


def local_midnight(day: date) -> datetime:
    """The first instant of a local (Santiago) day. When the clocks jump from 00:00 to 01:00 (September), zoneinfo
    reads the missing 00:00 with the offset before the jump, which is that day's 01:00."""
    return datetime.combine(day, time.min, tzinfo=SANTIAGO)


def received_between(reports: QuerySet[Report], start: date, end: date) -> QuerySet[Report]:
    """Those of `reports` received on local (Santiago) days start <= day < end. A range on created_at, not on its
    local date, so PostgreSQL uses the index and estimates the rows (which decides how it joins the calendar)."""
    return reports.filter(created_at__gte=local_midnight(start), created_at__lt=local_midnight(end))


def public_cells(reports: QuerySet[Report], *, min_count: int | None = None) -> list[dict]:
    """Report counts per published cell (`Report.public_cell`, reports.privacy) for the public map: the cells and
    the grid of the open data, so the map shows nothing the open data's rows do not (differencing the two cannot
    single anyone out). A cell is shown when at least `min_count` of `reports` are placed at it."""
    k = min_count if min_count is not None else settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT
    counts = reports.filter(public_cell__isnull=False).order_by().values_list("public_cell").annotate(n=Count("id"))
    shown = [{"cell": cell, "count": n} for cell, n in counts if n >= k]
    return sorted(shown, key=lambda c: (-c["count"], c["cell"]))


def cells_geojson(cells: list[dict]) -> dict:
    """The cells as hexagons. Vertices to 6 decimals (about 0.1 m, as RFC 7946 suggests): full float precision
    made the public map's download several times larger for nothing (docs/performance.md)."""
    features = []
    for cell in cells:
        ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3i.cell_to_boundary(cell["cell"])]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
                "properties": {
                    "h3": h3i.int_to_str(cell["cell"]),
                    "resolution": h3i.get_resolution(cell["cell"]),
                    "count": cell["count"],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def transparency_reports() -> QuerySet[Report]:
    """What the public pages, exports and indicators count: reports in categories shown to the public, each problem
    once (a merged duplicate counts in its original)."""
    return counted_reports().filter(category__is_public=True)


OPEN_DATA_FIELDS = (
    "id",
    "status",
    "category__service_code",
    "category__name_es",
    "commune__cut",
    "channel",
    "created_at",
    "updated_at",
    "closed_at",
    "expected_at",
    "public_visibility",
    "description",
    "kind",
)


def open_data_rows(reports: QuerySet[Report], *, chunk_size: int = 2000) -> Iterator[tuple]:
    """OPEN_DATA_FIELDS per report, oldest first, and then the cell its place is published at (`public_cell`,
    the place every public output gives it; None: no place). The rows come through a server-side cursor, so any
    number of them streams in constant memory. No location, address, contact data or photo is read at all."""
    return reports.order_by("id").values_list(*OPEN_DATA_FIELDS, "public_cell").iterator(chunk_size=chunk_size)


# The Ley 20.285 yearly figures: the outcomes a municipality reports of its access-to-information requests.
# Every request received in the year falls in exactly one of these (docs/transparency.md, "Ley 20.285").
INFORMATION_OUTCOMES = ("answered_in_time", "answered_late", "referred", "withdrawn", "closed_otherwise", "pending")


def information_reports(commune: Commune | None = None) -> QuerySet[Report]:
    """The access-to-information requests the figures count: every one (each once), whatever its topic's
    visibility, since the law asks for all of them; only counts ever leave this selector."""
    reports = counted_reports().filter(kind=RequestKind.INFORMATION)
    return reports.filter(commune=commune) if commune is not None else reports


def information_years(commune: Commune | None = None) -> list[int]:
    """The years (by the local day received) with access-to-information requests, newest first."""
    years = information_reports(commune).annotate(year=ExtractYear("created_at", tzinfo=SANTIAGO))
    return sorted(set(years.values_list("year", flat=True)), reverse=True)


def information_figures(year: int, commune: Commune | None = None) -> dict:
    """The year's figures of the access-to-information requests received on its local days (the Consejo para la
    Transparencia counts a request in the year it came in, however late it is answered), as they stand now.

    Answered: closed with its legal outcome (`Report.legal_outcome`), in time when closed by its deadline, the
    extension included. Extended: given the one extension, whatever happened next. Denied by ground: each whole or
    partial denial under its art. 21 / art. 20 ground. Referred: closed by a referral. Withdrawn: deemed withdrawn
    for an unanswered subsanación. Pending: still open."""
    reports = received_between(information_reports(commune), date(year, 1, 1), date(year + 1, 1, 1))
    closed, answered = Q(status__in=CLOSED), Q(status__in=CLOSED) & ~Q(legal_outcome="")
    referred = Q(status=Status.CLOSED_NOT_MUNICIPAL, referred_to__isnull=False)
    withdrawn = Q(status=Status.CLOSED_WITHDRAWN)
    counts = reports.aggregate(
        received=Count("id"),
        answered_in_time=Count("id", filter=answered & Q(closed_at__lte=F("expected_at"))),
        answered_late=Count("id", filter=answered & Q(closed_at__gt=F("expected_at"))),
        extended=Count("id", filter=Q(deadline_extended_at__isnull=False)),
        referred=Count("id", filter=referred),
        withdrawn=Count("id", filter=withdrawn),
        closed_otherwise=Count("id", filter=closed & ~answered & ~referred & ~withdrawn),
        pending=Count("id", filter=~closed),
        **{
            f"outcome_{outcome}": Count("id", filter=answered & Q(legal_outcome=outcome))
            for outcome in LegalOutcome.values
        },
    )
    grounds = (
        reports.filter(answered, legal_outcome__in=NEEDS_GROUND)
        .order_by()
        .values_list("denial_ground")
        .annotate(n=Count("id"))
    )
    return {
        "year": year,
        **{key: value for key, value in counts.items() if not key.startswith("outcome_")},
        "by_outcome": {outcome: counts[f"outcome_{outcome}"] for outcome in LegalOutcome.values},
        "not_held": counts[f"outcome_{LegalOutcome.NOT_HELD}"],
        "denied_by_ground": {ground: n for ground, n in sorted(grounds)},
    }


def suppressed(group: dict, k: int, sizes: dict | None = None) -> dict:
    """The counts of one group whose total is published or can be worked out, with None for each count shown as
    "fewer than k": every count from 1 to k-1, and when that leaves just one, the group's next smallest count too
    (a zero if need be), so that the total minus the counts shown never gives a hidden one back. With `sizes` (each
    value's requests, whose figures the rows carry), the next smallest are hidden until the hidden rows hold k
    requests at least, so that the total's figures minus those shown are never those of fewer than k requests."""
    hidden = {key for key, n in group.items() if 0 < n < k}

    def hide_next() -> None:
        hidden.add(min((key for key in group if key not in hidden), key=lambda key: group[key]))

    if len(hidden) == 1 and len(group) > 1:
        hide_next()
    while hidden and sizes is not None and sum(sizes[key] for key in hidden) < k and len(hidden) < len(group):
        hide_next()
    return {key: None if key in hidden else n for key, n in group.items()}


# The public breakdowns' small counts are hidden as the Ley 20.285 figures' are (`suppressed`), by one rule for
# every dimension (docs/transparency.md, "Small counts"): the count kept at 0 or at least k is a row's requests of
# the kinds other than a service request. The open data gives every service request's channel and minute, and
# another request only by its day and topic (a suggestion left in a desk's QR box names who left it), so what a
# row adds to it is the channel and the figures (times, satisfaction) of its requests of the other kinds.
def other_kinds(result: dict) -> int:
    """A row's requests of other kinds than a service request; a snapshot stored before `service_requests`
    existed counts every request as of another kind (more is hidden, never less)."""
    return result["volume"] - result.get("service_requests", 0)


# The groups of values whose totals are published or can be worked out, where they are not the whole dimension.
# Channel: split by whether it is digital (the digital share is published). Open311 and the importer take only
# service requests, so their count of other kinds is 0 for anyone who reads the code: they are never hidden and
# never stand in for a hidden count. Kind: every kind, service requests included, since the volume minus their row
# would give the other kinds' figures. Every value of these is in its group, used or not, so that one nobody used
# stands in for a hidden count.
SMALL_COUNT_GROUPS = {
    "channel": (
        tuple(c for c in Channel.values if c in DIGITAL_CHANNELS and c != Channel.OPEN311),
        tuple(c for c in Channel.values if c not in DIGITAL_CHANNELS and c != Channel.IMPORT),
    ),
    "kind": (tuple(RequestKind.values),),
}
# Dimensions whose count kept at 0 or at least k is the whole volume, not other_kinds: a zone's median closing
# time of one service request is its closed_at - created_at in the open data, placing it in the zone (finer than
# its cell when the zone crosses it, or when the request has no published cell).
FULL_COUNT_DIMENSIONS = {"zone"}


def small_count_groups(dimension: str, values: Iterable) -> tuple[tuple, ...]:
    """The groups `suppressed` is applied to in one dimension: SMALL_COUNT_GROUPS', else all its values in one,
    since their total is the overall's (a category, a department, a comuna, a month...)."""
    return SMALL_COUNT_GROUPS.get(dimension, (tuple(values),))


# Figures the indicators compute for the rule above, never published: a group's count per channel (a small one
# could be worked out of a month's or a category's; channels are published as the channel dimension only) and of
# service requests (beside a channel's volume, it would give that channel's count of the other kinds).
NOT_PUBLISHED = ("channel_mix", "service_requests", "parts")


def _hidden(parts: dict, dimension: str, k: int) -> set:
    """The values of one dimension whose part (service requests' or other kinds', {value: figures}) `suppressed`
    hides, in each of its groups: those of 1 to k-1 requests and the stand-ins, the values with the fewest requests
    of those with the next smallest counts (a channel nobody used rather than the web's hundreds), as many as the
    hidden parts need to hold k requests."""
    hidden, volume = set(), {}
    partition = small_count_groups(dimension, parts)
    for part in partition:
        volume |= {value: parts[value]["volume"] if value in parts else 0 for value in part}
        smallest_first = sorted(part, key=lambda value: volume[value])
        shown = suppressed({value: volume[value] for value in smallest_first}, k, sizes=volume)
        hidden |= {value for value, n in shown.items() if n is None}
    # A whole group hidden with fewer than k requests: the overall's figures minus the other groups' would be theirs.
    if hidden and sum(volume[value] for value in hidden) < k:
        hidden = set(volume)
    return hidden


def _parts(result: dict) -> tuple[dict | None, dict]:
    """A row's service requests' and other kinds' figures; a snapshot stored before PARTS existed has neither, and
    its whole row is taken as of other kinds (more is hidden, never less)."""
    if "parts" in result:
        return result["parts"]["service_request"], result["parts"]["other_kinds"]
    return None, result


def _public(figures: dict | None, blank: dict) -> dict:
    return {key: figure for key, figure in (figures or blank).items() if key not in NOT_PUBLISHED}


def public_indicators(results: dict, k: int | None = None) -> dict:
    """indicators_by's results as every public page and export gives them (docs/transparency.md, "Small counts"):
    each row its service requests' figures, always shown (the open data has those requests with their channel and
    minute; in FULL_COUNT_DIMENSIONS hidden as below), and under "other_kinds" its other requests' figures, blank
    (every figure None) when they are 1 to k-1 requests, beside others of its group until the hidden ones hold k
    requests at least (`suppressed`). The overall's other kinds keep their count (any reader's count of the open
    data) and lose their other figures when they are 1 to k-1. No NOT_PUBLISHED figure is published."""
    k = k if k is not None else settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT
    public = {}
    for dimension, groups in results.items():
        if not groups:
            public[dimension] = {}
            continue
        split = {value: _parts(result) for value, result in groups.items()}
        blank = dict.fromkeys(key for key in next(iter(split.values()))[1] if key != "parts")
        zero = {**blank, "volume": 0}
        services = {value: service for value, (service, _other) in split.items() if service is not None}
        unknown = None if len(services) < len(split) else zero  # a value's before PARTS: no service figure known

        others = {value: other for value, (_service, other) in split.items()}
        if dimension is None:
            hidden_services, hidden_others = set(), set()
            other = others[None]
            if 0 < other["volume"] < k:
                others[None] = {**blank, "volume": other["volume"]}
        else:
            hidden_services = _hidden(services, dimension, k) if dimension in FULL_COUNT_DIMENSIONS else set()
            hidden_others = _hidden(others, dimension, k)
        grouped = [value for part in small_count_groups(dimension, groups) for value in part] if dimension else []
        values = [*(v for v in grouped if v in groups or v in hidden_others | hidden_services), *groups]
        public[dimension] = {
            value: {
                **_public(None if value in hidden_services else services.get(value, unknown), blank),
                "other_kinds": _public(None if value in hidden_others else others.get(value, zero), blank),
            }
            for value in dict.fromkeys(values)
        }
    return public


def kinds_as_published(by_kind: dict) -> dict:
    """public_indicators' kind rows as one figure set each: a kind is all of one part, the service requests' row
    its service requests, any other its other kinds (None figures when hidden)."""
    return {kind: r if kind == RequestKind.SERVICE_REQUEST else r["other_kinds"] for kind, r in by_kind.items()}


def charter_compliance(results: dict, k: int | None = None) -> dict[str, dict]:
    """The Carta de Compromisos' cells of `commune_category` results as published: only the share of deadlines met,
    and only for a cell of k requests at least (GEO_SIAC_PUBLIC_MIN_CELL_COUNT), the others `reserved`. No volume or
    other count of these cells is published: beside the comuna's and the category's totals on /transparencia/, any
    one would give a hidden cell back by subtraction, and a share without its count adds up to nothing."""
    k = k if k is not None else settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT
    return {
        key: {"reserved": True}
        if result["volume"] < k
        else {"reserved": False, "deadline_met_share": result["deadline_met_share"]}
        for key, result in results.items()
    }


# Each group of the Ley 20.285 figures with a total that is shown or worked out: how the closed requests ended
# (received minus pending, both also in the open data), the answers by outcome, and the denials by ground.
CLOSED_OUTCOMES = ("answered_in_time", "answered_late", "referred", "withdrawn", "closed_otherwise")


def public_information_figures(figures: dict, k: int | None = None) -> dict:
    """The figures as the public page shows them: every count of a request's outcome, ground or extension below
    the public cell threshold k (GEO_SIAC_PUBLIC_MIN_CELL_COUNT) hidden, since the open data dates each request
    and a count of 1 names the one that just closed. Received and pending are any reader's count of the open data."""
    k = k if k is not None else settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT
    grounds = {code: figures["denied_by_ground"].get(code, 0) for code in DenialGround.values}
    outcomes = suppressed(figures["by_outcome"], k)
    return {
        **figures,
        **suppressed({key: figures[key] for key in CLOSED_OUTCOMES}, k),
        **suppressed({"extended": figures["extended"]}, k),
        "by_outcome": outcomes,
        "not_held": outcomes[LegalOutcome.NOT_HELD],
        "denied_by_ground": {code: n for code, n in suppressed(grounds, k).items() if n != 0},
        "min_count": k,
    }


@dataclass(frozen=True)
class InformationLine:
    """One row of the Ley 20.285 table, as the public page, the executive report's HTML and its PDF print it."""

    label: str
    text: str  # the count, "menos de k" when hidden, "" for a group's heading
    key: str = ""  # the cell's id in the HTML ("info-<key>"), where tests and readers look a count up
    indent: bool = False  # a line of the group above it


def count_text(count: int | None, k: int | None) -> str:
    """A count as the tables print it: None is one hidden by `suppressed`, shown as "fewer than k"."""
    return gettext("menos de %(k)s") % {"k": k} if count is None else localize(count)


def information_lines(figures: dict) -> list[InformationLine]:
    """The figures' table, row by row in one place: `information_figures`' exact counts, or those of
    `public_information_figures` with its hidden ones."""
    k = figures.get("min_count")

    def line(label: str, key: str) -> InformationLine:
        return InformationLine(label, count_text(figures[key], k), key)

    grounds = [
        InformationLine(str(label), count_text(figures["denied_by_ground"][code], k), indent=True)
        for code, label in DenialGround.choices
        if code in figures["denied_by_ground"]
    ]
    return [
        line(gettext("Recibidas"), "received"),
        line(gettext("Respondidas dentro del plazo"), "answered_in_time"),
        line(gettext("Respondidas fuera de plazo"), "answered_late"),
        InformationLine(gettext("Respondidas, por resultado"), ""),
        *(
            InformationLine(str(label), count_text(figures["by_outcome"][code], k), f"outcome-{code}", indent=True)
            for code, label in LegalOutcome.choices
        ),
        line(gettext("Con prórroga del plazo (art. 14)"), "extended"),
        InformationLine(gettext("Denegadas, total o parcialmente, por causal"), "" if grounds else "0"),
        *grounds,
        line(gettext("Derivadas al organismo competente"), "referred"),
        line(gettext("Desistidas (sin subsanación, art. 12)"), "withdrawn"),
        *([line(gettext("Cerradas de otro modo"), "closed_otherwise")] if figures["closed_otherwise"] != 0 else []),
        line(gettext("Pendientes"), "pending"),
    ]


def commitment_charter(commune) -> CommitmentCharter | None:
    return unique_row(CommitmentCharter.objects.filter(commune=commune))


def communes_with_charter():
    """The served comunas that published a charter, for the shared host's page to link each."""
    return Commune.objects.active().filter(commitment_charter__isnull=False).defer("geometry").order_by("name")


@dataclass(frozen=True)
class Commitment:
    category: object  # catalogue.Category
    department_name: str
    response_days: int  # the deadline the comuna's requests get: its days, capped by the kind's legal term


def commune_commitments(communes: Iterable[Commune] | None = None) -> list[tuple[Commune, list[Commitment]]]:
    """The Carta de Compromisos' table of each comuna (by default every served one, by name): the public categories
    it takes, who answers them there and in how many business days (zones.selectors.terms_of, the rule report_create
    gives deadlines by)."""
    if communes is None:
        communes = Commune.objects.active().defer("geometry").order_by("name")
    public = list(Category.objects.public().select_related("group", "department").order_by("group__order", "name_es"))
    table = []
    for commune in communes:
        rows = [
            Commitment(
                category,
                terms.department.name if terms.department else "",
                kind_response_days(category.kind, terms.response_days),
            )
            for category, terms in offered_categories(commune, public)
        ]
        table.append((commune, rows))
    return table
