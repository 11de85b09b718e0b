"""Reads of the maps app.

- Coverage: who lives how far from which service points, per comuna and H3 resolution. Everything is computed
  in EPSG:32719 from cell centres (population cells from `load_population`) and service points, with the pure
  algorithms in `geo_siac.maps.coverage`.
- Heat maps: report counts per H3 cell, per week, and the hotspot analyses over them. Counts are a plain
  GROUP BY on the stored ``h3_resN`` column, or without a filter but the comunas and categories a sum of the stored
  counts (``CellCount``, ``CategoryCellCount``, docs/maps.md). Rates divide them by
  the census population of the same cells (``cell_population``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Literal

import geopandas as gpd
import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
import shapely
from django.contrib.gis.db.models import Union
from django.contrib.gis.geos import GEOSGeometry
from django.db import connection, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncWeek
from pyproj import Transformer

from geo_siac.catalogue.models import Category, CategoryGroup
from geo_siac.db import parallel_query
from geo_siac.geo import H3_RESOLUTIONS, METRIC_SRID, STORAGE_SRID, h3_field
from geo_siac.geo_frames import areal_interpolate, h3_cells_gdf
from geo_siac.maps.coverage import (
    DEFAULT_THRESHOLDS_M,
    coverage_shares,
    exact_max_cover,
    greedy_max_cover,
    nearest_distances,
    two_step_fca,
)
from geo_siac.maps.hotspots import emerging_hotspots, gi_star_arrays, sorted_positions
from geo_siac.maps.models import CategoryCellCount, CellCount
from geo_siac.rates import per_1000, per_1000_many
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.zones.models import CensusZone, Commune, PopulationCell, ServicePoint, Zone
from geo_siac.zones.tenancy import in_communes

COVERAGE_RESOLUTIONS = (7, 8, 9, 10)
GROUPS = {"total": "pob_total", "under_15": "pob_under_15", "65_plus": "pob_65_plus"}
DEFAULT_CATCHMENT_M = 2000
# Longer than any comuna is wide, and a number numpy's floats hold.
MAX_THRESHOLD_M = 500_000
MAX_THRESHOLDS = 10
# Points farther than this outside the comuna cannot be the nearest for anyone inside who has one closer.
NEIGHBOUR_MARGIN_M = 5000
# A point without a recorded capacity counts as one unit, so 2SFCA then reads "points per 1,000 inhabitants".
DEFAULT_CAPACITY = 1.0

_TO_METRIC = Transformer.from_crs(STORAGE_SRID, METRIC_SRID, always_xy=True)


@dataclass(frozen=True)
class CoverageOptions:
    res: int = 9
    kinds: tuple[str, ...] = ()
    open_at: datetime | None = None
    thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS_M
    catchment_m: float = DEFAULT_CATCHMENT_M

    def __post_init__(self):
        if self.res not in COVERAGE_RESOLUTIONS:
            raise ValueError(f"Resolución H3 no admitida: {self.res} (use {COVERAGE_RESOLUTIONS}).")
        if not self.thresholds or any(t <= 0 or t > MAX_THRESHOLD_M for t in self.thresholds):
            raise ValueError(f"Los umbrales de distancia deben estar entre 1 y {MAX_THRESHOLD_M} m.")
        if len(self.thresholds) > MAX_THRESHOLDS:
            raise ValueError(f"A lo más {MAX_THRESHOLDS} umbrales de distancia.")


@dataclass
class Coverage:
    commune: Commune
    options: CoverageOptions
    cells: pd.DataFrame  # index cell (int); pob_*, lat, lng, x, y, distance_m, nearest_point, access, reports...
    points: pd.DataFrame  # index point id; name, kind, lat, lng, x, y, capacity, in_commune
    shares: dict[str, dict[int, dict[str, float]]]  # group -> threshold -> population, share
    # With `open_at`: the points whose hours are unknown, and the shares if they all were open then.
    unknown_hours: pd.DataFrame
    shares_if_unknown_open: dict[str, dict[int, dict[str, float]]] | None


def service_points_near(
    commune: Commune, *, kinds=(), open_at: datetime | None = None, margin_m: float = NEIGHBOUR_MARGIN_M
) -> pd.DataFrame:
    """Service points in or within `margin_m` of the comuna, of the given kinds, known to be open at `open_at`."""
    points = [p for p in _points_near(commune, kinds, margin_m) if open_at is None or p.is_open_at(open_at)]
    return _points_frame(points, commune)


def service_points_of_unknown_hours(
    commune: Commune, *, kinds=(), margin_m: float = NEIGHBOUR_MARGIN_M
) -> pd.DataFrame:
    """The points `service_points_near` would consider whose opening hours nobody has entered."""
    return _points_frame(list(_points_near(commune, kinds, margin_m).filter(opening_hours__isnull=True)), commune)


def _points_near(commune: Commune, kinds, margin_m: float) -> QuerySet[ServicePoint]:
    queryset = ServicePoint.objects.filter(point__dwithin=(commune.geometry, _degrees(margin_m)))
    return (queryset.filter(kind__in=kinds) if kinds else queryset).order_by("id")


def _points_frame(points: list[ServicePoint], commune: Commune) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "name": [p.name for p in points],
            "kind": [p.kind for p in points],
            "lat": [p.point.y for p in points],
            "lng": [p.point.x for p in points],
            "capacity": [float(p.capacity_per_day or DEFAULT_CAPACITY) for p in points],
            "in_commune": [p.commune_id == commune.pk for p in points],
        },
        index=pd.Index([p.pk for p in points], name="point"),
    )
    frame["x"], frame["y"] = _TO_METRIC.transform(frame["lng"].to_numpy(), frame["lat"].to_numpy())
    return frame


def _degrees(metres: float) -> float:
    """A generous bound in degrees at Santiago's latitude (1° of longitude is ~93 km there)."""
    return metres / 90_000


def population_cells(cut: str, res: int) -> pd.DataFrame:
    rows = list(
        PopulationCell.objects.filter(cut=cut, res=res)
        .order_by("cell")
        .values("cell", "pob_total", "pob_under_15", "pob_65_plus")
    )
    frame = pd.DataFrame(rows, columns=["cell", "pob_total", "pob_under_15", "pob_65_plus"]).set_index("cell")
    return _with_centres(frame)


def population_sources(cuts: Iterable[str]) -> list[tuple[str, str]]:
    """The censuses and files the comunas' population was loaded from, as load_population recorded them
    (CensusZone.census and .source), for the maps to cite; empty when none is loaded."""
    zones = CensusZone.objects.filter(cut__in=list(cuts)).exclude(source="")
    return sorted(set(zones.values_list("census", "source")))


def demand_cells(commune: Commune, res: int, *, margin_m: float) -> pd.DataFrame:
    """People per cell in every loaded comuna within `margin_m` of this one, a border cell's rows summed.

    2SFCA's demand: a point near the border serves its neighbours too (docs/coverage.md).
    """
    cuts = Commune.objects.filter(geometry__dwithin=(commune.geometry, _degrees(margin_m))).values("cut")
    rows = list(
        PopulationCell.objects.filter(res=res, cut__in=cuts)
        .order_by("cell")
        .values("cell")
        .annotate(pob_total=Sum("pob_total"))
    )
    return _with_centres(pd.DataFrame(rows, columns=["cell", "pob_total"]).set_index("cell"))


def _with_centres(frame: pd.DataFrame) -> pd.DataFrame:
    centres = [h3i.cell_to_latlng(int(cell)) for cell in frame.index]
    frame["lat"] = [lat for lat, _ in centres]
    frame["lng"] = [lng for _, lng in centres]
    frame["x"], frame["y"] = _TO_METRIC.transform(frame["lng"].to_numpy(), frame["lat"].to_numpy())
    return frame


def report_counts(commune: Commune, res: int) -> pd.Series:
    return pd.Series(cell_counts(res, CellFilters(within=frozenset({commune.pk}))), dtype=float)


def coverage(commune: Commune, options: CoverageOptions = CoverageOptions()) -> Coverage:
    """Distance, shares within thresholds (all, under 15, 65+), 2SFCA and reports per 1,000 per cell."""
    cells = population_cells(commune.cut, options.res)
    # A point up to one catchment away from a cell shares its capacity with that cell.
    margin = max(NEIGHBOUR_MARGIN_M, options.catchment_m)
    points = service_points_near(commune, kinds=options.kinds, open_at=options.open_at, margin_m=margin)
    xy = cells[["x", "y"]].to_numpy()
    supply = points[["x", "y"]].to_numpy()
    distance, nearest = nearest_distances(xy, supply)
    cells["distance_m"] = distance
    point_ids = np.append(points.index.to_numpy(dtype=np.int64), -1)
    cells["nearest_point"] = point_ids[nearest]  # index -1 (no point at all) picks the trailing -1
    demand = demand_cells(commune, options.res, margin_m=margin + options.catchment_m)
    cells["access"] = two_step_fca(
        demand[["x", "y"]].to_numpy(),
        demand["pob_total"].to_numpy(),
        supply,
        points["capacity"].to_numpy(),
        options.catchment_m,
        at_xy=xy,
    )
    cells["reports"] = report_counts(commune, options.res).reindex(cells.index, fill_value=0.0)
    cells["reports_per_1000"] = per_1000_many(cells["reports"], cells["pob_total"])
    unknown = (
        service_points_of_unknown_hours(commune, kinds=options.kinds, margin_m=margin)
        if options.open_at is not None
        else _points_frame([], commune)
    )
    if_open = None
    if not unknown.empty:
        nearest_unknown, _ = nearest_distances(xy, unknown[["x", "y"]].to_numpy())
        if_open = _shares(cells, np.minimum(distance, nearest_unknown), options.thresholds)
    return Coverage(
        commune=commune,
        options=options,
        cells=cells,
        points=points,
        shares=_shares(cells, distance, options.thresholds),
        unknown_hours=unknown,
        shares_if_unknown_open=if_open,
    )


def _shares(cells: pd.DataFrame, distance: np.ndarray, thresholds: tuple[int, ...]) -> dict:
    return {group: coverage_shares(cells[column].to_numpy(), distance, thresholds) for group, column in GROUPS.items()}


def underserved_cells(result: Coverage, *, beyond_m: float | None = None, limit: int = 20) -> pd.DataFrame:
    """Cells farther than `beyond_m` (default: the largest threshold) ranked by people x excess distance."""
    beyond = beyond_m if beyond_m is not None else max(result.options.thresholds)
    far = result.cells[result.cells["distance_m"] > beyond].copy()
    far["need"] = far["pob_total"] * (np.minimum(far["distance_m"], 1e6) - beyond) / 1000
    return far.sort_values(["need", "pob_total"], ascending=False).head(limit)


def recommend_sites(
    result: Coverage, *, k: int = 5, radius_m: float | None = None, method: Literal["greedy", "exact"] = "greedy"
) -> pd.DataFrame:
    """Maximal covering: up to k populated cells of the comuna that newly cover the most people.

    Demand already within `radius_m` (default: the middle threshold) of a service point counts as covered.
    `method` "greedy" picks one best site after another; "exact" solves the integer program (the optimum), its
    sites ranked as greedy would take them among themselves.
    """
    if method not in SITE_METHODS:
        raise ValueError(f"Método desconocido: {method!r} (use {' o '.join(SITE_METHODS)}).")
    thresholds = sorted(result.options.thresholds)
    radius = radius_m if radius_m is not None else thresholds[len(thresholds) // 2]
    cells = result.cells
    xy = cells[["x", "y"]].to_numpy()
    picks = SITE_METHODS[method](
        xy, xy, cells["pob_total"].to_numpy(), radius, k, already_covered=cells["distance_m"].to_numpy() <= radius
    )
    chosen = cells.iloc[[pick["index"] for pick in picks]][["lat", "lng", "pob_total", "distance_m"]].copy()
    total = cells["pob_total"].sum()
    chosen["gain"] = [pick["gain"] for pick in picks]
    chosen["gain_share"] = chosen["gain"] / total if total > 0 else 0.0
    chosen["radius_m"] = radius
    chosen.insert(0, "rank", range(1, len(chosen) + 1))
    return chosen


SITE_METHODS = {"greedy": greedy_max_cover, "exact": exact_max_cover}


def greedy_gap(greedy: pd.DataFrame, exact: pd.DataFrame) -> float:
    """How far below the optimum the greedy sites fall, as a share of the optimum (0.0 when nothing is coverable)."""
    optimum = exact["gain"].sum()
    return float(1 - greedy["gain"].sum() / optimum) if optimum > 0 else 0.0


@dataclass(frozen=True)
class CellFilters:
    """Which reports a map counts. Empty tuples and None mean "no filter".

    ``zones`` are Zone ids: a report counts when its point lies in one of those zone versions' polygons (on the
    edge counts too), whatever zone it was routed to, if any. docs/maps.md says why the stored zone is not used.
    """

    communes: tuple[str, ...] = ()  # CUT codes
    categories: tuple[str, ...] = ()  # service codes
    groups: tuple[str, ...] = ()  # category group codes
    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    zones: tuple[int, ...] = ()  # Zone ids
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    # The pks of the comunas the viewer works for (zones.tenancy), None for every one: a staff map never counts a
    # request of another municipality, whatever the other filters say.
    within: frozenset[int] | None = None

    def previous_period(self) -> CellFilters | None:
        """The same filters over the equal-length period just before [since, until)."""
        if self.since is None or self.until is None:
            return None
        return replace(self, since=self.since - (self.until - self.since), until=self.since)


def filtered_reports(filters: CellFilters) -> QuerySet[Report]:
    """The reports the maps count: those with a place (a request without one has no cell), under the filters. The
    cells are all set or all empty (a CHECK), and h3_res9 is in both heat-map indexes, so counts stay index-only."""
    reports = Report.objects.filter(h3_res9__isnull=False)
    if filters.within is not None:
        reports = in_communes(reports, "commune", filters.within)
    # The comunas and categories go to PostgreSQL as ids, not joins: the newest report of a category or comuna (the
    # week layers) is then read at the end of an index, not by counting every one of its reports (docs/performance.md).
    if filters.communes:
        communes = Commune.objects.filter(cut__in=filters.communes).values_list("pk", flat=True)
        reports = in_communes(reports, "commune", list(communes))
    if filters.categories:
        categories = list(Category.objects.filter(service_code__in=filters.categories).values_list("pk", flat=True))
        reports = reports.filter(category__in=categories) if categories else reports.filter(pk__isnull=True)
    if filters.groups:
        reports = reports.filter(category__group__code__in=filters.groups)
    if filters.statuses:
        reports = reports.filter(status__in=filters.statuses)
    if filters.channels:
        reports = reports.filter(channel__in=filters.channels)
    if filters.zones:
        area = zones_area(filters.zones)
        reports = reports.filter(location__intersects=area) if area is not None else reports.none()
    if filters.since is not None:
        reports = reports.filter(created_at__gte=filters.since)
    if filters.until is not None:
        reports = reports.filter(created_at__lt=filters.until)
    return reports


def zones_area(zone_ids: Iterable[int]) -> GEOSGeometry | None:
    """The union of the zones' polygons (None when none of the ids exists)."""
    return Zone.objects.filter(pk__in=list(zone_ids)).aggregate(area=Union("geometry"))["area"]


def _check_resolution(res: int) -> str:
    if res not in H3_RESOLUTIONS:
        raise ValueError(f"H3 resolution must be one of {H3_RESOLUTIONS}, not {res}")
    return h3_field(res)


# The maps whose live count reads every report of the region (docs/maps.md); see maps/0001 for why not coarser ones.
STORED_RESOLUTIONS = (9, 10)


def counts_are_stored(res: int, filters: CellFilters) -> bool:
    """Whether the stored counts hold these: they have the comuna, the category (and so its group) and the res 9
    and 10 cells of each report, nothing else."""
    # Named by what it allows, so that a filter added to CellFilters later is counted live until it is stored.
    kept = replace(filters, communes=(), within=None, categories=(), groups=())
    return res in STORED_RESOLUTIONS and kept == CellFilters()


def stored_counts(
    filters: CellFilters, *, per_category: bool = False
) -> QuerySet[CellCount] | QuerySet[CategoryCellCount]:
    """The stored rows of the comunas and categories the filters count in (see counts_are_stored): CellCount, or
    CategoryCellCount with a category or group filter or when asked `per_category`."""
    per_category = per_category or bool(filters.categories or filters.groups)
    counts = CategoryCellCount.objects.all() if per_category else CellCount.objects.all()
    if filters.within is not None:
        counts = in_communes(counts, "commune", filters.within)
    if filters.communes:
        counts = counts.filter(commune__cut__in=filters.communes)
    if filters.categories:
        counts = counts.filter(category__service_code__in=filters.categories)
    if filters.groups:
        counts = counts.filter(category__group__code__in=filters.groups)
    return counts


def cell_counts(res: int, filters: CellFilters = CellFilters()) -> dict[int, int]:
    """Reports per H3 cell (64-bit int) at ``res``; cells without reports are absent. Without a filter but the
    comunas and categories, summed from the stored counts (the live count reads every report counted, docs/maps.md)."""
    column = _check_resolution(res)
    if counts_are_stored(res, filters):
        rows = stored_counts(filters).filter(res=res).values_list("cell").annotate(n=Sum("reports")).filter(n__gt=0)
        reading = sorted_aggregate()
    else:
        rows = filtered_reports(filters).order_by().values_list(column).annotate(n=Count("*"))
        reading = parallel_query()
    # The ORM's row handling was a sizeable share of big maps (docs/performance.md): its SQL is run as is and the
    # (cell, count) tuples become the dict directly.
    sql, params = rows.query.sql_with_params()
    with reading, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


@contextmanager
def sorted_aggregate():
    """Sum the stored counts in the primary key's order. PostgreSQL guesses a few thousand cells where the region
    has ~73,000 at res 10 and hashes them, spilling to disk: 140-190 ms against 50 ms walking the key (1M reports,
    docs/performance.md). Put back when the block ends, as parallel_query does."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SHOW enable_hashagg")
        previous = cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_hashagg = off")
        yield
        cursor.execute("SELECT set_config('enable_hashagg', %s, true)", [previous])


def cell_counts_by_group(res: int, filters: CellFilters = CellFilters()) -> dict[str, dict[int, int]]:
    """Reports per cell for each category group code, each group's cells in order."""
    column = _check_resolution(res)
    if counts_are_stored(res, filters):
        rows = (
            stored_counts(filters, per_category=True)
            .filter(res=res)
            .values_list("category__group__code", "cell")
            .annotate(n=Sum("reports"))
            .filter(n__gt=0)
            .order_by("category__group__code", "cell")
        )
        reading = sorted_aggregate()
    else:
        rows = (
            filtered_reports(filters)
            .values_list("category__group__code", column)
            .annotate(n=Count("*"))
            .order_by("category__group__code", column)
        )
        reading = parallel_query()
    by_group: dict[str, dict[int, int]] = {}
    with reading:
        rows = list(rows)
    for group, cell, n in rows:
        by_group.setdefault(group, {})[cell] = n
    return by_group


def _week(column: str = "created_at"):
    return TruncWeek(column, tzinfo=SANTIAGO)


def cell_counts_by_week(
    res: int, filters: CellFilters = CellFilters(), *, last: int | None = None
) -> dict[datetime, dict[int, int]]:
    """Reports per cell for each week (Monday 00:00, Santiago time), oldest week first; with `last`, only the last
    `last` weeks that have reports."""
    column = _check_resolution(res)
    reports = filtered_reports(filters).order_by().annotate(week=_week())
    if last is not None:
        # Five years of weeks are ~60,000 (week, cell) rows at 1M reports, a second of Python to read for the 8 a
        # map shows (docs/performance.md): read from the week `last` - 1 before the newest; a gap in those weeks
        # means fewer than `last`, and then every week is read.
        newest = reports.aggregate(newest=Max("created_at"))["newest"]
        if newest is None:
            return {}
        local = newest.astimezone(SANTIAGO).date()
        first = datetime.combine(local - timedelta(days=local.weekday(), weeks=last - 1), time.min, tzinfo=SANTIAGO)
        # A day early, whatever the offsets, through the created_at index; then only the whole weeks from `first`.
        recent = _weeks(reports.filter(created_at__gte=first - timedelta(days=1)), column)
        recent = {week: counts for week, counts in recent.items() if week >= first}
        # A period that starts at or after `first` has all its weeks in `recent`, however few.
        if len(recent) >= last or (filters.since is not None and filters.since >= first):
            return dict(list(recent.items())[-last:])
    weeks = _weeks(reports, column)
    return weeks if last is None else dict(list(weeks.items())[-last:])


def _weeks(reports: QuerySet[Report], column: str) -> dict[datetime, dict[int, int]]:
    rows = reports.values_list("week", column).annotate(n=Count("*"))
    # The ORM made each row's week an aware datetime, ~12,000 times for a month's map; the weeks are a handful, so
    # its converters run once per distinct week (docs/performance.md).
    compiler = rows.query.get_compiler(using=rows.db)
    sql, params = compiler.as_sql()
    converters, week_expression = compiler.get_converters([compiler.select[0][0]]).get(0, ((), None))
    with parallel_query(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    return _cells_by_week(fetched, converters, week_expression)


def _cells_by_week(rows, converters, week_expression) -> dict[datetime, dict[int, int]]:
    """{week: {cell: n}} of (raw week, cell, n) rows, weeks in order, the week converters run once per distinct week."""
    weeks = {}
    for raw in {row[0] for row in rows}:
        week = raw
        for converter in converters:
            week = converter(week, week_expression, connection)
        weeks[raw] = week
    by_week: dict[datetime, dict[int, int]] = {}
    # Each week's cells in order, as the group layers': the layer's HTML does not depend on PostgreSQL's hashing.
    for raw, cell, n in sorted(rows, key=lambda row: (weeks[row[0]], row[1])):
        by_week.setdefault(weeks[raw], {})[cell] = n
    return by_week


# A period map reads its period and the previous one once, up to this length (docs/maps.md, "Reads by date"):
# beyond it the week layers (the last weeks only) are read apart, rather than hashing every week of a long period.
PERIOD_READ_ONCE = timedelta(days=62)


@dataclass(frozen=True)
class PeriodCounts:
    """What a period map counts, read at once: its cell counts, the previous period's, the counts per category
    group and those of the last weeks, equal to cell_counts, cell_counts(previous_period()), cell_counts_by_group
    and cell_counts_by_week(last=...)."""

    counts: dict[int, int]
    previous: dict[int, int]
    by_group: dict[str, dict[int, int]]
    by_week: dict[datetime, dict[int, int]]


def reads_period_once(res: int, filters: CellFilters) -> bool:
    """Whether period_cell_counts answers these filters: a closed period, no longer than PERIOD_READ_ONCE, counted
    live (a period is never in the stored counts)."""
    if filters.since is None or filters.until is None or counts_are_stored(res, filters):
        return False
    return filters.until - filters.since <= PERIOD_READ_ONCE


def h3_parent_bits(res: int) -> tuple[int, int]:
    """(keep, put): a finer H3 cell's 64-bit index `& keep | put` is its parent's at `res`. The resolution is bits
    52-55 and the digit of resolution r bits 3 * (15 - r) to 3 * (15 - r) + 2, 7 (all ones) past the cell's own."""
    digits = (1 << 3 * (15 - res)) - 1
    return ~((15 << 52) | digits), (res << 52) | digits


def cells_may_exceed(res: int, filters: CellFilters, limit: int) -> bool:
    """Whether a map of these filters may have more than `limit` cells, from an upper bound in the stored counts of
    the same comunas (and categories or groups), which the other filters (period, status, channel, zone) only take
    reports from. At res 9 and 10, their rows with a report, at most limit + 1 of them read: a row is a (comuna,
    cell) or a (comuna, category, cell), so they are at least the cells. Coarser, the distinct parents at `res` of
    the res-9 cells with a report. Stored counts behind the reports (an import not yet recounted) make the bound low,
    and a map that reads its period once then reads it for a note only: the page is the same either way."""
    rows = stored_counts(filters).filter(res=max(res, STORED_RESOLUTIONS[0]), reports__gt=0)
    if res < STORED_RESOLUTIONS[0]:
        keep, put = h3_parent_bits(res)
        rows = rows.annotate(parent=F("cell").bitand(keep).bitor(put)).values("parent").distinct()
    return rows[: limit + 1].count() > limit


def period_cell_counts(res: int, filters: CellFilters, *, last: int) -> PeriodCounts:
    """A period map's counts from one read of [previous period's start, until), where cell_counts, the previous
    period's cell_counts, cell_counts_by_group and cell_counts_by_week each walked the period's index entries
    (docs/performance.md). One statement, two GROUPING SETS: (group, cell), the previous period's rows under group
    -1, and (week, cell) of the period's rows; the period's counts per cell are its groups' summed. The same answers
    as the four reads: test_period_read_once_equals_the_separate_reads."""
    column = _check_resolution(res)
    previous = filters.previous_period()
    if previous is None:
        raise ValueError("period_cell_counts needs a closed period (since and until).")
    rows = (
        filtered_reports(replace(filters, since=previous.since))
        .order_by()
        .annotate(
            current=ExpressionWrapper(Q(created_at__gte=filters.since), output_field=BooleanField()),
            week=_week(),
        )
        .values_list("current", "category__group_id", "week", column)
    )
    compiler = rows.query.get_compiler(using=rows.db)
    inner, params = compiler.as_sql()
    converters, week_expression = compiler.get_converters([compiler.select[2][0]]).get(0, ((), None))
    # The week is computed for the period's rows only (the CASE, inlined into the scan), and each row is hashed twice,
    # where the four reads hashed the period's rows three times and the previous period's once.
    group, week = "CASE WHEN s.current THEN s.group_id ELSE -1 END", "CASE WHEN s.current THEN s.week END"
    sql = (
        f"SELECT GROUPING({group}), {group}, {week}, s.cell, COUNT(*) "
        f"FROM ({inner}) AS s (current, group_id, week, cell) "
        f"GROUP BY GROUPING SETS (({group}, s.cell), ({week}, s.cell)) "
        f"HAVING GROUPING({group}) = 0 OR {week} IS NOT NULL"
    )
    with parallel_query(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    codes = dict(CategoryGroup.objects.values_list("pk", "code"))
    counts: dict[int, int] = defaultdict(int)
    before, groups, weeks = {}, [], []
    for by_week, group_id, raw_week, cell, n in fetched:
        if by_week:
            weeks.append((raw_week, cell, n))
        elif group_id == -1:
            before[cell] = n
        else:
            groups.append((codes[group_id], cell, n))
            counts[cell] += n
    by_group: dict[str, dict[int, int]] = {}
    for code, cell, n in sorted(groups):
        by_group.setdefault(code, {})[cell] = n
    by_week = _cells_by_week(weeks, converters, week_expression)
    return PeriodCounts(
        counts=dict(sorted(counts.items())),
        previous=before,
        by_group=by_group,
        by_week=dict(list(by_week.items())[-last:]),
    )


def weekly_counts_by_category(filters: CellFilters = CellFilters()) -> list[dict]:
    """One row per (week, category): ``{"week", "category", "count"}``, oldest week first."""
    rows = (
        filtered_reports(filters)
        .order_by()
        .annotate(week=_week())
        .values("week", "category__service_code")
        .annotate(count=Count("*"))
        .order_by("week", "category__service_code")
    )
    return [{"week": r["week"], "category": r["category__service_code"], "count": r["count"]} for r in rows]


def cell_population(res: int, cells: Iterable[int], filters: CellFilters = CellFilters()) -> dict[int, float]:
    """Inhabitants (Censo 2017) of each cell within the area the filters count reports in; unknown cells are absent.

    The area is the filtered comunas (every served comuna when none is given) or, with a zone filter, the part of
    each cell inside the zones. A cell is unknown when it overlaps a comuna of that area whose population is not
    loaded (``load_population``; PopulationCell at ``res``, or CensusZone for zones). Known cells with nobody in
    them are 0.0.
    """
    _check_resolution(res)
    cells = list(dict.fromkeys(int(cell) for cell in cells))
    if not cells:
        return {}
    if filters.zones:
        return _zone_cell_population(cells, filters.zones)
    return _commune_cell_population(res, cells, filters.communes)


def _commune_cell_population(res: int, cells: list[int], cuts: tuple[str, ...]) -> dict[int, float]:
    """Summed over the comunas' PopulationCell rows at ``res`` (a border cell has one row per comuna)."""
    scope = frozenset(cuts) or frozenset(Commune.objects.active().values_list("cut", flat=True))
    loads = frozenset(
        PopulationCell.objects.filter(res=res, cut__in=scope)
        .order_by()
        .values_list("cut")
        .annotate(rows=Count("*"), last=Max("pk"), people=Sum("pob_total"))
    )
    known = {cut for cut, *_version in loads}
    if not known:
        return {}
    unknown = Commune.objects.filter(cut__in=scope - known)
    # load_population replaces a comuna's rows (new ids), a figure corrected in place moves the sum, and a comuna's
    # boundary edit moves its updated_at.
    version = (loads, frozenset(unknown.values_list("pk", "updated_at")))
    cached = POPULATION.values((res, scope), version, cells)
    missing = [cell for cell, value in zip(cells, cached) if value is None]
    if missing:
        computed = _cell_population_from_database(res, missing, known, unknown)
        POPULATION.add((res, scope), version, missing, [computed.get(cell, UNKNOWN) for cell in missing])
        cached = [computed.get(cell, UNKNOWN) if value is None else value for cell, value in zip(cells, cached)]
    return {cell: value for cell, value in zip(cells, cached) if value == value}  # NaN: unknown


def _cell_population_from_database(
    res: int, cells: list[int], known: set[str], unknown: QuerySet[Commune]
) -> dict[int, float]:
    # One array parameter: the ORM resolved an IN list's ~10,000 cells one by one (docs/performance.md).
    rows = (
        PopulationCell.objects.filter(res=res, cut__in=known, cell__any=cells)
        .order_by()
        .values_list("cell")
        .annotate(total=Sum("pob_total"))
    )
    population = {cell: 0.0 for cell in cells} | dict(rows)
    for cell in _cells_overlapping(cells, [_shape(c.geometry) for c in unknown]):
        del population[cell]
    return population


UNKNOWN = float("nan")


class CellValueCache:
    """One float per cell for each key, valid while the key's data version stays the same: the census population
    of a map's cells, which changes only when load_population runs, took a query and, beside a comuna without a
    census, a polygon test per cell on every map (docs/performance.md). Cells are added as maps ask for them; a
    new version replaces the key's values, and past ``limit`` cells in all the cache starts again.
    """

    def __init__(self, limit: int = 2_000_000):
        self.limit = limit
        self._by_key: dict = {}

    def values(self, key, version, cells: list[int]) -> list[float | None]:
        """Each cell's value (NaN for a cell known to have none), None where it is not cached."""
        entry = self._by_key.get(key)
        if entry is None or entry[0] != version:
            return [None] * len(cells)
        _version, known, values = entry
        at, found = sorted_positions(known, np.array(cells, dtype=np.int64))
        return [value if hit else None for value, hit in zip(values[at].tolist(), found.tolist())]

    def add(self, key, version, cells: list[int], values: list[float]) -> None:
        entry = self._by_key.get(key)
        known, stored = (entry[1], entry[2]) if entry is not None and entry[0] == version else (_NO_CELLS, _NO_VALUES)
        if sum(each[1].size for each in self._by_key.values()) + len(cells) > self.limit:
            self._by_key.clear()
            known, stored = _NO_CELLS, _NO_VALUES
        known = np.concatenate([known, np.array(cells, dtype=np.int64)])
        stored = np.concatenate([stored, np.array(values, dtype=float)])
        order = np.argsort(known, kind="stable")
        # One assignment: another thread reads the old entry or the new one, never half of each.
        self._by_key[key] = (version, known[order], stored[order])


_NO_CELLS, _NO_VALUES = np.empty(0, dtype=np.int64), np.empty(0)
POPULATION = CellValueCache()


def _zone_cell_population(cells: list[int], zone_ids: tuple[int, ...]) -> dict[int, float]:
    """Areal interpolation of each zone comuna's census zones onto (cell ∩ zones), in EPSG:32719.

    It is how load_population builds PopulationCell, with the cells cut by the zones: census zones are
    divided by area share, so a census zone half inside a clipped cell gives it half its people.
    """
    population = {cell: 0.0 for cell in cells}
    grid = h3_cells_gdf([h3i.int_to_str(cell) for cell in cells], crs=f"EPSG:{METRIC_SRID}")
    by_cut = defaultdict(list)
    for zone in Zone.objects.filter(pk__in=zone_ids).select_related("commune"):
        by_cut[zone.commune.cut].append(_shape(zone.geometry))
    unknown = []
    for cut, shapes in by_cut.items():
        area = shapely.union_all(shapes)
        census = list(
            CensusZone.objects.filter(cut=cut, geometry__intersects=_geos(area)).values_list("pob_total", "geometry")
        )
        if not census:
            if not CensusZone.objects.filter(cut=cut).exists():
                unknown.append(area)
            continue
        sources = gpd.GeoDataFrame(
            {"pob_total": [float(p) for p, _g in census]}, geometry=[_shape(g) for _p, g in census], crs=STORAGE_SRID
        )
        inside = grid.geometry.intersection(gpd.GeoSeries([area], crs=STORAGE_SRID).to_crs(grid.crs).iloc[0])
        values = areal_interpolate(sources.to_crs(grid.crs), ["pob_total"], gpd.GeoDataFrame(geometry=inside))
        for cell, value in zip(cells, values["pob_total"]):
            population[cell] += float(value)
    for cell in _cells_overlapping(cells, unknown):
        del population[cell]
    return population


def _shape(geometry: GEOSGeometry) -> shapely.Geometry:
    return shapely.from_wkb(bytes(geometry.wkb))


def _geos(geometry: shapely.Geometry) -> GEOSGeometry:
    return GEOSGeometry(memoryview(shapely.to_wkb(geometry)), srid=STORAGE_SRID)


def _cells_overlapping(cells: list[int], areas: list[shapely.Geometry]) -> list[int]:
    if not areas:
        return []
    area = shapely.union_all(areas)
    shapely.prepare(area)
    # The polygons made in one call: one shapely.Polygon per cell was most of a 10,000-cell map's population step
    # (docs/performance.md). A cell has 5 to 10 vertices, hence the ring indices.
    boundaries = [h3i.cell_to_boundary(cell) for cell in cells]
    vertices = np.array([(lng, lat) for boundary in boundaries for lat, lng in boundary])
    rings = np.repeat(np.arange(len(cells)), [len(boundary) for boundary in boundaries])
    hits = shapely.intersects(shapely.polygons(shapely.linearrings(vertices, indices=rings)), area)
    return [cell for cell, hit in zip(cells, hits) if hit]


@dataclass(frozen=True)
class CellRow:
    """One cell of a map: its count, population and per-capita rate, Gi* result and whether it is emerging.

    ``population`` is None where it is unknown (see :func:`cell_population`), and ``rate`` (reports per 1,000
    inhabitants) is None where the population is unknown or zero. ``emerging`` is None when the filters have no
    closed date range to compare against the previous period.
    """

    cell: int
    count: int
    population: float | None
    rate: float | None
    z: float
    q: float
    hotspot: int
    emerging: bool | None


def cell_table(
    res: int,
    filters: CellFilters = CellFilters(),
    k: int = 1,
    *,
    counts: dict[int, int] | None = None,
    previous_counts: dict[int, int] | None = None,
) -> list[CellRow]:
    """Cells with reports, plus empty cells found to be significant cold spots, sorted by cell. `counts` are the
    filters' cell_counts, and `previous_counts` the previous period's, when the caller has them already."""
    counts = cell_counts(res, filters) if counts is None else counts
    previous = filters.previous_period()
    growth = {}
    if previous is not None:
        if previous_counts is None:
            previous_counts = cell_counts(res, previous)
        growth = {e.cell: e.significant for e in emerging_hotspots(counts, previous_counts)}
    hotspots = gi_star_arrays(counts, k=k, permutations=0)
    kept = (hotspots.counts > 0) | (hotspots.classification != 0)
    cells = hotspots.cells[kept].tolist()
    population = cell_population(res, cells, filters)
    return [
        CellRow(
            cell=cell,
            count=count,
            population=population.get(cell),
            rate=per_1000(count, population.get(cell)),
            z=z,
            q=q,
            hotspot=hotspot,
            emerging=growth.get(cell, False) if previous is not None else None,
        )
        for cell, count, z, q, hotspot in zip(
            cells,
            hotspots.counts[kept].tolist(),
            hotspots.z[kept].tolist(),
            hotspots.q[kept].tolist(),
            hotspots.classification[kept].tolist(),
        )
    ]
