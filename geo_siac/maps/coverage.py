"""Coverage algorithms for service points, in projected metres.

Pure numerics on numpy arrays (no Django); H3 cell frames and areal interpolation are in geo_siac/geo_frames.py.
Callers project to a metric CRS first, EPSG:32719 (UTM 19S) for the Región Metropolitana. Distances are Euclidean
in that plane and every radius or threshold is inclusive (``d <= r``).
"""

from __future__ import annotations

from itertools import combinations
from math import comb
from typing import Any, Literal

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.spatial import cKDTree

DEFAULT_THRESHOLDS_M: tuple[int, ...] = (500, 1000, 2000)
MAX_EXHAUSTIVE_COMBINATIONS = 200_000


def nearest_distances(demand_xy: np.ndarray, supply_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from each demand point to its nearest supply point, and that point's index.

    With no supply points every distance is ``inf`` and every index ``-1``.
    """
    demand = _points(demand_xy, "demand_xy")
    supply = _points(supply_xy, "supply_xy")
    if len(supply) == 0:
        return np.full(len(demand), np.inf), np.full(len(demand), -1, dtype=np.intp)
    dist, idx = cKDTree(supply).query(demand, k=1)
    return np.asarray(dist, dtype=float), np.asarray(idx, dtype=np.intp)


def coverage_shares(
    population: np.ndarray, distance_m: np.ndarray, thresholds: tuple[int, ...] = DEFAULT_THRESHOLDS_M
) -> dict[int, dict[str, float]]:
    """Population within each distance threshold, and its share of the total (0.0 if the total is 0)."""
    pop = np.asarray(population, dtype=float)
    dist = np.asarray(distance_m, dtype=float)
    if pop.shape != dist.shape:
        raise ValueError("population y distance_m deben tener el mismo largo.")
    total = pop.sum()
    shares = {}
    for threshold in thresholds:
        covered = float(pop[dist <= threshold].sum())
        shares[int(threshold)] = {"population": covered, "share": covered / total if total > 0 else 0.0}
    return shares


def two_step_fca(
    demand_xy: np.ndarray,
    population: np.ndarray,
    supply_xy: np.ndarray,
    capacity: np.ndarray,
    catchment_m: float,
    decay: Literal["gaussian"] | None = None,
    *,
    per: float = 1000.0,
    at_xy: np.ndarray | None = None,
) -> np.ndarray:
    """Two-step floating catchment area accessibility (Luo & Wang 2003).

    Step 1: ``R_j = S_j / sum(P_k * w(d_kj))``, step 2: ``A_i = sum(R_j * w(d_ij))``, over pairs
    within ``catchment_m``. ``w`` is 1 (classic 2SFCA) or, with ``decay="gaussian"``, the Gaussian
    weight of Dai (2010): ``(exp(-d²/2d0²) - exp(-1/2)) / (1 - exp(-1/2))``, which falls from 1 at
    d=0 to 0 at d0. A supply point with no demand in its catchment gets ``R_j = 0``.
    The result is supply per ``per`` inhabitants (default: per 1,000), i.e. ``A_i * per``, at each
    demand point, or at each of ``at_xy`` when given: step 1 then counts every demand point (e.g. the
    whole region's people) and step 2 is read only where asked (e.g. one comuna's cells).
    """
    demand = _points(demand_xy, "demand_xy")
    supply = _points(supply_xy, "supply_xy")
    targets = demand if at_xy is None else _points(at_xy, "at_xy")
    pop = _weights(population, len(demand), "population")
    cap = _weights(capacity, len(supply), "capacity")
    if catchment_m <= 0:
        raise ValueError("catchment_m debe ser positivo.")
    if decay not in (None, "gaussian"):
        raise ValueError(f"decay desconocido: {decay!r} (use None o 'gaussian').")
    weight = (lambda d: _gaussian_weight(d, catchment_m)) if decay == "gaussian" else np.ones_like
    i, j = _pairs_within(supply, demand, catchment_m)
    served = np.bincount(j, weights=pop[i] * weight(np.hypot(*(demand[i] - supply[j]).T)), minlength=len(supply))
    ratio = np.divide(cap, served, out=np.zeros(len(supply)), where=served > 0)
    i, j = _pairs_within(supply, targets, catchment_m)
    reach = ratio[j] * weight(np.hypot(*(targets[i] - supply[j]).T))
    return np.bincount(i, weights=reach, minlength=len(targets)) * per


def _gaussian_weight(d: np.ndarray, d0: float) -> np.ndarray:
    edge = np.exp(-0.5)
    return (np.exp(-0.5 * (d / d0) ** 2) - edge) / (1 - edge)


def greedy_max_cover(
    candidate_xy: np.ndarray,
    demand_xy: np.ndarray,
    population: np.ndarray,
    radius_m: float,
    k: int,
    already_covered: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Greedy maximal covering location: up to ``k`` candidates, in the order picked.

    Each step takes the candidate covering the most still-uncovered population (ties: lowest
    index); ``gain`` is that population. Demand flagged in ``already_covered`` (e.g. by existing
    service points) counts as covered from the start. Stops early when no candidate adds anything.
    """
    cover, uncovered = _cover_problem(candidate_xy, demand_xy, population, radius_m, k, already_covered)
    picks: list[dict[str, Any]] = []
    for _ in range(min(k, cover.shape[0])):
        gains = cover @ uncovered
        gains[[pick["index"] for pick in picks]] = -1.0
        best = int(np.argmax(gains))  # first maximum: lowest index on ties
        if gains[best] <= 0:
            break
        picks.append({"index": best, "gain": float(gains[best])})
        uncovered[cover.indices[cover.indptr[best] : cover.indptr[best + 1]]] = 0.0
    return picks


def exhaustive_max_cover(
    candidate_xy: np.ndarray,
    demand_xy: np.ndarray,
    population: np.ndarray,
    radius_m: float,
    k: int,
    already_covered: np.ndarray | None = None,
) -> tuple[list[int], float]:
    """Optimal ``min(k, m)`` candidates by brute force and the population they newly cover.

    Same inputs and total as :func:`greedy_max_cover` (the sum of its gains), for checking it on
    small instances; the lexicographically first optimum wins ties. Refuses more than
    ``MAX_EXHAUSTIVE_COMBINATIONS`` subsets.
    """
    cover, uncovered = _cover_problem(candidate_xy, demand_xy, population, radius_m, k, already_covered)
    m = cover.shape[0]
    size = min(k, m)
    if comb(m, size) > MAX_EXHAUSTIVE_COMBINATIONS:
        raise ValueError(
            f"Demasiadas combinaciones para la búsqueda exhaustiva: C({m}, {size}) = {comb(m, size)} "
            f"(máximo {MAX_EXHAUSTIVE_COMBINATIONS})."
        )
    covers = cover.toarray().astype(bool)
    best_subset: list[int] = []
    best_total = -1.0
    for subset in combinations(range(m), size):
        total = float(uncovered[covers[list(subset)].any(axis=0)].sum())
        if total > best_total:
            best_subset, best_total = list(subset), total
    return best_subset, best_total


def exact_max_cover(
    candidate_xy: np.ndarray,
    demand_xy: np.ndarray,
    population: np.ndarray,
    radius_m: float,
    k: int,
    already_covered: np.ndarray | None = None,
) -> list[dict[str, Any]]:
    """Optimal maximal covering location (Church & ReVelle 1974) as an integer program, solved by HiGHS.

    Same inputs and output as :func:`greedy_max_cover`: maximise ``sum(w_i y_i)`` subject to
    ``y_i <= sum(x_j for j covering i)``, ``sum(x_j) <= k``, ``x_j`` binary and ``0 <= y_i <= 1``
    (at an optimum ``y_i = min(1, sum x_j)``, so ``y`` needs no integrality). The chosen candidates
    are listed in the order greedy would take them among themselves, each with its marginal gain, so
    the gains add up to the optimum; a chosen candidate that adds nothing is left out.
    """
    cover, uncovered = _cover_problem(candidate_xy, demand_xy, population, radius_m, k, already_covered)
    # Demand that is covered already or that no candidate reaches cannot change the optimum.
    wanted = np.flatnonzero((uncovered > 0) & (cover.sum(axis=0) > 0))
    useful = np.flatnonzero(cover[:, wanted].sum(axis=1) > 0)
    if k == 0 or len(wanted) == 0:
        return []
    m, n = len(useful), len(wanted)
    links = sparse.hstack([-cover[useful][:, wanted].T, sparse.identity(n)], format="csr")
    budget = np.concatenate([np.ones(m), np.zeros(n)])[None, :]
    solved = milp(
        np.concatenate([np.zeros(m), -uncovered[wanted]]),
        constraints=[LinearConstraint(links, -np.inf, 0), LinearConstraint(budget, 0, k)],
        integrality=np.concatenate([np.ones(m), np.zeros(n)]),
        bounds=Bounds(0, 1),
        # HiGHS's presolve took half the time on these programs and never shrank them much (docs/performance.md).
        options={"mip_rel_gap": 0, "presolve": False},
    )
    if solved.status != 0:
        raise RuntimeError(f"El solver exacto no llegó al óptimo: {solved.message}")
    chosen = useful[solved.x[:m] > 0.5]
    picks = greedy_max_cover(
        np.asarray(candidate_xy, dtype=float)[chosen], demand_xy, population, radius_m, len(chosen), already_covered
    )
    return [{"index": int(chosen[pick["index"]]), "gain": pick["gain"]} for pick in picks]


def _cover_problem(
    candidate_xy: np.ndarray,
    demand_xy: np.ndarray,
    population: np.ndarray,
    radius_m: float,
    k: int,
    already_covered: np.ndarray | None,
) -> tuple[sparse.csr_array, np.ndarray]:
    """Candidate x demand 0/1 coverage matrix and the population not yet covered."""
    candidates = _points(candidate_xy, "candidate_xy")
    demand = _points(demand_xy, "demand_xy")
    uncovered = _weights(population, len(demand), "population").copy()
    if k < 0:
        raise ValueError("k no puede ser negativo.")
    if radius_m < 0:
        raise ValueError("radius_m no puede ser negativo.")
    if already_covered is not None:
        covered = np.asarray(already_covered, dtype=bool)
        if covered.shape != uncovered.shape:
            raise ValueError("already_covered debe tener un valor por punto de demanda.")
        uncovered[covered] = 0.0
    i, j = _pairs_within(candidates, demand, radius_m)
    cover = sparse.csr_array((np.ones(len(i)), (j, i)), shape=(len(candidates), len(demand)))
    return cover, uncovered


def _pairs_within(centres: np.ndarray, demand: np.ndarray, radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(demand index, centre index) of every pair within ``radius_m``, distance included."""
    if len(centres) == 0 or len(demand) == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    hits = cKDTree(demand).query_ball_point(centres, r=radius_m)
    j = np.repeat(np.arange(len(centres)), [len(h) for h in hits])
    i = np.concatenate([np.asarray(h, dtype=np.intp) for h in hits])
    return i, j


def _points(xy: np.ndarray, name: str) -> np.ndarray:
    points = np.asarray(xy, dtype=float)
    if points.size == 0:
        points = points.reshape(0, 2)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"{name} debe ser un arreglo de forma (n, 2) con coordenadas x, y en metros.")
    return points


def _weights(values: np.ndarray, n: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (n,):
        raise ValueError(f"{name} debe tener {n} valores, uno por punto.")
    if np.any(array < 0) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} debe contener valores finitos y no negativos.")
    return array
