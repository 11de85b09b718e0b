"""Reads for the heat maps: report counts per H3 cell, per week, and the hotspot analyses over them.

Counts are a plain GROUP BY on the stored ``h3_resN`` column (docs/maps.md explains why there is no rollup).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncWeek

from geo_siac.geo import H3_RESOLUTIONS, h3_field
from geo_siac.maps.hotspots import emerging_hotspots, gi_star
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report


@dataclass(frozen=True)
class CellFilters:
    """Which reports a map counts. Empty tuples and None mean "no filter".

    Zones (crew zones) come with the zones issue: add a ``zones`` tuple here and one line in
    :func:`filtered_reports` (``location__within`` the zones' union, or a stored zone id) when they land.
    """

    communes: tuple[str, ...] = ()  # CUT codes
    categories: tuple[str, ...] = ()  # service codes
    groups: tuple[str, ...] = ()  # category group codes
    statuses: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive

    def previous_period(self) -> CellFilters | None:
        """The same filters over the equal-length period just before [since, until)."""
        if self.since is None or self.until is None:
            return None
        return replace(self, since=self.since - (self.until - self.since), until=self.since)


def filtered_reports(filters: CellFilters) -> QuerySet[Report]:
    reports = Report.objects.all()
    if filters.communes:
        reports = reports.filter(commune__cut__in=filters.communes)
    if filters.categories:
        reports = reports.filter(category__service_code__in=filters.categories)
    if filters.groups:
        reports = reports.filter(category__group__code__in=filters.groups)
    if filters.statuses:
        reports = reports.filter(status__in=filters.statuses)
    if filters.channels:
        reports = reports.filter(channel__in=filters.channels)
    if filters.since is not None:
        reports = reports.filter(created_at__gte=filters.since)
    if filters.until is not None:
        reports = reports.filter(created_at__lt=filters.until)
    return reports


def _check_resolution(res: int) -> str:
    if res not in H3_RESOLUTIONS:
        raise ValueError(f"H3 resolution must be one of {H3_RESOLUTIONS}, not {res}")
    return h3_field(res)


def cell_counts(res: int, filters: CellFilters = CellFilters()) -> dict[int, int]:
    """Reports per H3 cell (64-bit int) at ``res``; cells without reports are absent."""
    column = _check_resolution(res)
    rows = filtered_reports(filters).order_by().values_list(column).annotate(n=Count("*"))
    return dict(rows)


def cell_counts_by_group(res: int, filters: CellFilters = CellFilters()) -> dict[str, dict[int, int]]:
    """Reports per cell for each category group code."""
    column = _check_resolution(res)
    rows = filtered_reports(filters).order_by().values_list("category__group__code", column).annotate(n=Count("*"))
    by_group: dict[str, dict[int, int]] = {}
    for group, cell, n in rows:
        by_group.setdefault(group, {})[cell] = n
    return by_group


def _week(column: str = "created_at"):
    return TruncWeek(column, tzinfo=SANTIAGO)


def cell_counts_by_week(res: int, filters: CellFilters = CellFilters()) -> dict[datetime, dict[int, int]]:
    """Reports per cell for each week (Monday 00:00, Santiago time), oldest week first."""
    column = _check_resolution(res)
    rows = (
        filtered_reports(filters).order_by().annotate(week=_week()).values_list("week", column).annotate(n=Count("*"))
    )
    by_week: dict[datetime, dict[int, int]] = {}
    for week, cell, n in sorted(rows, key=lambda row: row[0]):
        by_week.setdefault(week, {})[cell] = n
    return by_week


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


@dataclass(frozen=True)
class CellRow:
    """One cell of a map: its count, per-capita rate, Gi* result and whether it is emerging.

    ``rate`` stays None until population per cell is loaded (census issue). ``emerging`` is None when the filters
    have no closed date range to compare against the previous period.
    """

    cell: int
    count: int
    rate: float | None
    z: float
    q: float
    hotspot: int
    emerging: bool | None


def cell_table(res: int, filters: CellFilters = CellFilters(), k: int = 1) -> list[CellRow]:
    """Cells with reports, plus empty cells found to be significant cold spots, sorted by cell."""
    counts = cell_counts(res, filters)
    previous = filters.previous_period()
    growth = {}
    if previous is not None:
        growth = {e.cell: e.significant for e in emerging_hotspots(counts, cell_counts(res, previous))}
    return [
        CellRow(
            cell=h.cell, count=h.count, rate=None, z=h.z, q=h.q, hotspot=h.classification,
            emerging=growth.get(h.cell, False) if previous is not None else None,
        )
        for h in gi_star(counts, k=k, permutations=0)
        if h.count > 0 or h.classification != 0
    ]
