"""Synthetic reports for the demo and the benchmarks: plausible points (uniform background plus clusters)
inside the active comunas, categories, channels and a status history. Never used as real data."""

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import shapely

from geo_siac.catalogue.catalogue import CATEGORIES

CHANNELS = (("web", 0.45), ("phone", 0.25), ("in_person", 0.12), ("open311", 0.08), ("email", 0.06), ("social", 0.04))
HEADER = (
    "source_id",
    "created_at",
    "closed_at",
    "service_code",
    "channel",
    "status",
    "lat",
    "lng",
    "description",
    "address",
)


def points_in(geometries: list, n: int, rng: np.random.Generator, cluster_share: float = 0.3):
    """n points inside the union of the geometries: a uniform background and gaussian clusters (~300 m)."""
    union = shapely.union_all(geometries)
    shapely.prepare(union)
    x0, y0, x1, y1 = union.bounds
    centres = []
    while len(centres) < 20:
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if shapely.intersects_xy(union, cx, cy):
            centres.append((cx, cy))
    centres = np.array(centres)
    xs, ys = np.empty(0), np.empty(0)
    while len(xs) < n:
        m = int((n - len(xs)) * 1.6) + 64
        clustered = rng.random(m) < cluster_share
        pick = centres[rng.integers(0, len(centres), m)]
        x = np.where(clustered, pick[:, 0] + rng.normal(0, 0.003, m), rng.uniform(x0, x1, m))
        y = np.where(clustered, pick[:, 1] + rng.normal(0, 0.003, m), rng.uniform(y0, y1, m))
        inside = shapely.intersects_xy(union, x, y)
        xs, ys = np.concatenate([xs, x[inside]]), np.concatenate([ys, y[inside]])
    return xs[:n], ys[:n]


def points_by_weight(geometries: list, weights: np.ndarray, n: int, rng: np.random.Generator):
    """n points spread over the geometries in proportion to their weights (census zones by population), uniform
    inside each one."""
    # A zone without area (a degenerate census polygon) could never receive a point.
    weights = np.where([geometry.area > 0 for geometry in geometries], np.asarray(weights, dtype=float), 0.0)
    counts = rng.multinomial(n, weights / weights.sum())
    xs, ys = [], []
    for geometry, count in zip(geometries, counts, strict=True):
        if not count:
            continue
        shapely.prepare(geometry)
        x0, y0, x1, y1 = geometry.bounds
        got_x, got_y, missing = [], [], count
        while missing:
            # Drawn in the box, kept inside: a zone covers on average about half of its box.
            m = missing * 3 + 16
            x, y = rng.uniform(x0, x1, m), rng.uniform(y0, y1, m)
            inside = shapely.intersects_xy(geometry, x, y)
            got_x.append(x[inside][:missing])
            got_y.append(y[inside][:missing])
            missing -= len(got_x[-1])
        xs.extend(got_x)
        ys.extend(got_y)
    order = rng.permutation(n)
    return np.concatenate(xs)[order], np.concatenate(ys)[order]


def write_synthetic_csv(
    path: Path,
    n: int,
    geometries: list,
    *,
    seed: int = 0,
    days: int = 365,
    prefix: str = "syn",
    end: datetime | None = None,
    batch: int = 200_000,
    population: np.ndarray | None = None,
) -> Path:
    """Write n synthetic reports in the importer's native layout, in batches (constant memory). With `population`
    (one figure per geometry) the points follow it instead of a uniform background with clusters."""
    rng = np.random.default_rng(seed)
    end = end or datetime.now(UTC).replace(microsecond=0)
    codes = [c[0] for c in CATEGORIES]
    weights = np.linspace(2, 1, len(codes))
    weights /= weights.sum()
    channels, channel_p = zip(*CHANNELS)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for start in range(0, n, batch):
            m = min(batch, n - start)
            lng, lat = (
                points_in(geometries, m, rng)
                if population is None
                else points_by_weight(geometries, population, m, rng)
            )
            age_days = rng.uniform(0, days, m)
            created = [end - timedelta(days=float(a)) for a in age_days]
            resolve_days = rng.gamma(2.0, 4.0, m)
            closed_mask = resolve_days < age_days
            status = np.where(
                closed_mask,
                rng.choice(["resolved", "resolved", "resolved", "closed_duplicate", "closed_not_municipal"], m),
                rng.choice(["submitted", "acknowledged", "in_progress"], m),
            )
            category = rng.choice(codes, m, p=weights)
            channel = rng.choice(channels, m, p=channel_p)
            for i in range(m):
                closed = (created[i] + timedelta(days=float(resolve_days[i]))).isoformat() if closed_mask[i] else ""
                writer.writerow(
                    (
                        f"{prefix}-{start + i}",
                        created[i].isoformat(),
                        closed,
                        category[i],
                        channel[i],
                        status[i],
                        f"{lat[i]:.6f}",
                        f"{lng[i]:.6f}",
                        "Reporte sintético de demostración.",
                        "",
                    )
                )
    return path
