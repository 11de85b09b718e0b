"""Coverage reads: who lives how far from which service points, per comuna and H3 resolution.

Everything is computed in EPSG:32719 from cell centres (population cells from `load_population`) and
service points, with the pure algorithms in `geo_siac.maps.coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import h3.api.basic_int as h3i
import numpy as np
import pandas as pd
from django.db.models import Count
from pyproj import Transformer

from geo_siac.geo import METRIC_SRID, STORAGE_SRID, h3_field
from geo_siac.maps.coverage import (
    DEFAULT_THRESHOLDS_M,
    coverage_shares,
    greedy_max_cover,
    nearest_distances,
    two_step_fca,
)
from geo_siac.reports.models import Report
from geo_siac.zones.models import Commune, PopulationCell, ServicePoint

COVERAGE_RESOLUTIONS = (7, 8, 9, 10)
GROUPS = {"total": "pob_total", "under_15": "pob_under_15", "65_plus": "pob_65_plus"}
DEFAULT_CATCHMENT_M = 2000
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
        if not self.thresholds or any(t <= 0 for t in self.thresholds):
            raise ValueError("Los umbrales de distancia deben ser positivos.")


@dataclass
class Coverage:
    commune: Commune
    options: CoverageOptions
    cells: pd.DataFrame  # index cell (int); pob_*, lat, lng, x, y, distance_m, nearest_point, access, reports...
    points: pd.DataFrame  # index point id; name, kind, lat, lng, x, y, capacity, in_commune
    shares: dict[str, dict[int, dict[str, float]]]  # group -> threshold -> population, share


def service_points_near(commune: Commune, *, kinds=(), open_at: datetime | None = None) -> pd.DataFrame:
    """Service points in or within NEIGHBOUR_MARGIN_M of the comuna, of the given kinds, open at `open_at`."""
    queryset = ServicePoint.objects.filter(point__dwithin=(commune.geometry, _degrees(NEIGHBOUR_MARGIN_M)))
    if kinds:
        queryset = queryset.filter(kind__in=kinds)
    points = [p for p in queryset.order_by("id") if open_at is None or p.is_open_at(open_at)]
    frame = pd.DataFrame(
        {
            "name": [p.name for p in points], "kind": [p.kind for p in points],
            "lat": [p.point.y for p in points], "lng": [p.point.x for p in points],
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
    rows = list(PopulationCell.objects.filter(cut=cut, res=res).order_by("cell").values(
        "cell", "pob_total", "pob_under_15", "pob_65_plus"
    ))
    frame = pd.DataFrame(rows, columns=["cell", "pob_total", "pob_under_15", "pob_65_plus"]).set_index("cell")
    centres = [h3i.cell_to_latlng(int(cell)) for cell in frame.index]
    frame["lat"] = [lat for lat, _ in centres]
    frame["lng"] = [lng for _, lng in centres]
    frame["x"], frame["y"] = _TO_METRIC.transform(frame["lng"].to_numpy(), frame["lat"].to_numpy())
    return frame


def report_counts(commune: Commune, res: int) -> pd.Series:
    field = h3_field(res)
    rows = Report.objects.filter(commune=commune).values(field).annotate(n=Count("id")).values_list(field, "n")
    return pd.Series(dict(rows), dtype=float)


def coverage(commune: Commune, options: CoverageOptions = CoverageOptions()) -> Coverage:
    """Distance, shares within thresholds (all, under 15, 65+), 2SFCA and reports per 1,000 per cell."""
    cells = population_cells(commune.cut, options.res)
    points = service_points_near(commune, kinds=options.kinds, open_at=options.open_at)
    demand = cells[["x", "y"]].to_numpy()
    supply = points[["x", "y"]].to_numpy()
    distance, nearest = nearest_distances(demand, supply)
    cells["distance_m"] = distance
    point_ids = np.append(points.index.to_numpy(dtype=np.int64), -1)
    cells["nearest_point"] = point_ids[nearest]  # index -1 (no point at all) picks the trailing -1
    cells["access"] = two_step_fca(demand, cells["pob_total"].to_numpy(), supply, points["capacity"].to_numpy(),
                                   options.catchment_m)
    cells["reports"] = report_counts(commune, options.res).reindex(cells.index, fill_value=0.0)
    cells["reports_per_1000"] = np.divide(
        cells["reports"] * 1000, cells["pob_total"], out=np.zeros(len(cells)), where=cells["pob_total"] > 0
    )
    shares = {
        group: coverage_shares(cells[column].to_numpy(), distance, options.thresholds)
        for group, column in GROUPS.items()
    }
    return Coverage(commune=commune, options=options, cells=cells, points=points, shares=shares)


def underserved_cells(result: Coverage, *, beyond_m: float | None = None, limit: int = 20) -> pd.DataFrame:
    """Cells farther than `beyond_m` (default: the largest threshold) ranked by people x excess distance."""
    beyond = beyond_m if beyond_m is not None else max(result.options.thresholds)
    far = result.cells[result.cells["distance_m"] > beyond].copy()
    far["need"] = far["pob_total"] * (np.minimum(far["distance_m"], 1e6) - beyond) / 1000
    return far.sort_values(["need", "pob_total"], ascending=False).head(limit)


def recommend_sites(result: Coverage, *, k: int = 5, radius_m: float | None = None) -> pd.DataFrame:
    """Greedy maximal covering: up to k populated cells of the comuna that newly cover the most people.

    Demand already within `radius_m` (default: the middle threshold) of a service point counts as covered.
    """
    thresholds = sorted(result.options.thresholds)
    radius = radius_m if radius_m is not None else thresholds[len(thresholds) // 2]
    cells = result.cells
    xy = cells[["x", "y"]].to_numpy()
    picks = greedy_max_cover(xy, xy, cells["pob_total"].to_numpy(), radius, k,
                             already_covered=cells["distance_m"].to_numpy() <= radius)
    chosen = cells.iloc[[pick["index"] for pick in picks]][["lat", "lng", "pob_total", "distance_m"]].copy()
    total = cells["pob_total"].sum()
    chosen["gain"] = [pick["gain"] for pick in picks]
    chosen["gain_share"] = chosen["gain"] / total if total > 0 else 0.0
    chosen["radius_m"] = radius
    chosen.insert(0, "rank", range(1, len(chosen) + 1))
    return chosen
