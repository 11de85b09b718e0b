"""Statistically significant hotspots over H3 cells.

Cells are the 64-bit integers stored in the database. Two analyses:

* ``gi_star``: Getis-Ord Gi* local statistic with binary k-ring weights that
  include the cell itself, analytic z-scores (Ord & Getis 1995), conditional
  permutation pseudo p-values and a Benjamini-Hochberg false-discovery-rate
  correction across cells.
* ``emerging_hotspots``: cells whose counts grew significantly against the
  previous period of equal length (conditional binomial test, BH corrected).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from h3.api import basic_int as h3i
from scipy import stats

CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((1, 0.10), (2, 0.05), (3, 0.01))

# Bounds the (cells x permutations x neighbours) working arrays to ~100 MB.
_PERMUTATION_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class HotspotCell:
    """Gi* result for one cell.

    ``z`` is the analytic Gi* z-score and ``p_norm`` its one-sided normal
    p-value, sf(|z|), as esda reports it. ``p_sim`` is the conditional-permutation
    pseudo p-value in the same direction (the sign of z). ``q`` is the
    Benjamini-Hochberg q-value of the two-sided analytic p-value, 2 * p_norm,
    across all analysed cells: whether a cell is hot or cold is not chosen in
    advance. ``classification`` is ``sign(z)`` times 3/2/1 when q <= 0.01/0.05/0.10
    (99/95/90% confidence), else 0.
    """

    cell: int
    count: int
    z: float
    p_norm: float
    p_sim: float
    q: float
    classification: int


@dataclass(frozen=True)
class EmergingCell:
    cell: int
    current: int
    previous: int
    p: float
    q: float
    significant: bool


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (1995) q-values: the smallest FDR level at which each
    hypothesis is rejected. Monotone in ``p`` and capped at 1."""
    p = np.asarray(p, dtype=float)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * (m / np.arange(1, m + 1))
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def study_cells(cells_with_counts: dict[int, int], k: int = 1, fill: bool = True) -> list[int]:
    """The analysis set, sorted.

    With ``fill`` the cells with counts are joined by every cell in their
    k-ring that has no count (treated as zero). Reports only create rows for
    cells that had reports, so without filling, an isolated cluster would be
    compared only against other occupied cells and its empty surroundings
    would not pull its neighbourhood mean down; the fill makes "nothing
    happened here" part of the data. The set stays local (one k-ring halo)
    rather than covering a whole comuna polygon, so the analysis still only
    needs the counts.
    """
    return _study_cells(np.fromiter(cells_with_counts, dtype=np.int64, count=len(cells_with_counts)), k, fill).tolist()


def _study_cells(counted: np.ndarray, k: int, fill: bool) -> np.ndarray:
    if not fill:
        return np.unique(counted)
    disks = RINGS.disks(counted, k)
    return np.unique(disks[disks != NO_CELL])


NO_CELL = -1  # the padding of a pentagon's disk, which has fewer cells than a hexagon's


class Rings:
    """Each cell's k-disk (itself included), kept per k as a sorted array of cells and an (n, 3k(k+1)+1) array of
    their disks: a planner's maps ask for the same cells again and again, and asking H3 for them one by one was
    most of Gi*'s time (docs/performance.md). Cells never change, so the cache needs no invalidation; it is
    emptied when it passes ``limit`` cells (at k = 1, 64 bytes a cell: 32 MB; every res-9 and res-10 cell
    with a report in the 1M region, with their rings, is ~102,000). Each update replaces the arrays in one
    assignment, so a thread reads an old or a new pair, never a torn one.
    """

    def __init__(self, limit: int = 500_000):
        self.limit = limit
        self._by_k: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def disks(self, cells: np.ndarray, k: int) -> np.ndarray:
        """The disks of ``cells`` (int64), row by row, padded with NO_CELL."""
        width = 3 * k * (k + 1) + 1
        known, rings = self._by_k.get(k, (np.empty(0, np.int64), np.empty((0, width), np.int64)))
        at, found = sorted_positions(known, cells)
        if found.all():
            return rings[at]
        missing = np.unique(cells[~found])
        computed = np.full((missing.size, width), NO_CELL, dtype=np.int64)
        for row, cell in zip(computed, missing.tolist()):
            disk = h3i.grid_disk(cell, k)
            row[: len(disk)] = disk
        if known.size + missing.size > self.limit:
            # Start again from this call's cells: the ones already known keep their rows, the others are added.
            kept = np.unique(cells[found])
            known, rings = kept, rings[sorted_positions(known, kept)[0]]
        known, rings = np.concatenate([known, missing]), np.concatenate([rings, computed])
        order = np.argsort(known, kind="stable")
        known, rings = known[order], rings[order]
        self._by_k[k] = (known, rings)
        at, _found = sorted_positions(known, cells)
        return rings[at]


RINGS = Rings()


def sorted_positions(sorted_cells: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``cells`` is in ``sorted_cells`` (0 where absent) and whether it is there."""
    if sorted_cells.size == 0:
        return np.zeros(cells.shape, dtype=np.int64), np.zeros(cells.shape, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_cells, cells), sorted_cells.size - 1)
    found = sorted_cells[at] == cells
    return np.where(found, at, 0), found


def _ring_sums(cells: np.ndarray, y: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's sum of ``y`` over its k-disk within ``cells`` (itself included) and the number of such cells."""
    at, inside = sorted_positions(cells, RINGS.disks(cells, k))
    return np.where(inside, y[at], 0).sum(axis=1), inside.sum(axis=1)


def _gi_star_z(y: np.ndarray, neighbour_sum: np.ndarray, cardinality: np.ndarray) -> np.ndarray:
    """Ord & Getis (1995) Gi* z-score for binary weights including the self-weight:

    z_i = (sum_j w_ij y_j - ybar W_i) / (S sqrt((n W_i - W_i^2) / (n - 1)))

    with W_i the number of cells in the ring (itself included) and S the
    population standard deviation. Cells whose ring covers the whole study set,
    or a constant field, carry no information and get z = 0.
    """
    n = y.size
    mean = y.mean()
    std = y.std()
    spread = std * np.sqrt(cardinality * (n - cardinality) / max(n - 1, 1))
    numerator = neighbour_sum - mean * cardinality
    z = np.zeros(n)
    np.divide(numerator, spread, out=z, where=spread > 0)
    return z


def _conditional_pseudo_p(
    y: np.ndarray,
    observed_other_sum: np.ndarray,
    n_others: np.ndarray,
    upper_tail: np.ndarray,
    permutations: int,
    seed: int | None,
) -> np.ndarray:
    """Conditional-permutation pseudo p-values, as esda's ``crand``.

    Cell i keeps its own value and its ring is refilled with values drawn
    without replacement from the other n - 1 cells. As in esda, one set of
    draws (permutations x max cardinality indices into the n - 1 others) is
    shared by all cells; index j maps to cell j + (j >= i), i.e. skipping i.
    With binary weights and a fixed self term, Gi* is monotone in the sum of
    the other ring members, so integer sums are compared instead of statistics.

    The tail is fixed by the sign of z (esda's "greater"/"lesser"), not esda's
    default "directed" rule: with tied counts that rule gives p = 1/(P+1) to a
    cell sitting at the bottom of an all-equal reference distribution.
    """
    n = y.size
    width = int(n_others.max())
    rng = np.random.default_rng(seed)
    draws = np.array(
        [rng.choice(n - 1, size=width, replace=False) for _ in range(permutations)],
        dtype=np.int64,
    )
    drawn_value = y[draws]
    drawn_value_shifted = y[draws + 1]
    column_used = np.arange(width)[None, None, :] < n_others[:, None, None]

    as_extreme = np.empty(n, dtype=np.int64)
    chunk = max(1, _PERMUTATION_CHUNK_ELEMENTS // (permutations * width))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        cell_index = np.arange(start, stop)[:, None, None]
        values = np.where(draws[None] >= cell_index, drawn_value_shifted[None], drawn_value[None])
        random_sums = (values * column_used[start:stop]).sum(axis=2)
        observed = observed_other_sum[start:stop, None]
        extreme = np.where(upper_tail[start:stop, None], random_sums >= observed, random_sums <= observed)
        as_extreme[start:stop] = extreme.sum(axis=1)
    return (as_extreme + 1) / (permutations + 1)


def _classify(z: np.ndarray, q: np.ndarray) -> np.ndarray:
    confidence = np.zeros(z.size, dtype=np.int64)
    for level, alpha in CONFIDENCE_LEVELS:
        confidence[q <= alpha] = level
    return np.sign(z).astype(np.int64) * confidence


def gi_star(
    counts: dict[int, int],
    k: int = 1,
    permutations: int = 999,
    seed: int | None = 0,
    fill: bool = True,
) -> list[HotspotCell]:
    """Getis-Ord Gi* hotspot analysis over H3 cells, sorted by cell.

    Classification uses BH q-values of the analytic two-sided p-values. The
    permutation pseudo p-values are reported but not used for it: with 999
    permutations they cannot go below 0.001, so BH at 0.01 over a few hundred
    cells could never reach 99% unless a tenth of the cells were at that floor.
    ``permutations=0`` skips the simulation and reports ``p_sim`` as NaN.
    """
    r = gi_star_arrays(counts, k=k, permutations=permutations, seed=seed, fill=fill)
    columns = (r.cells, r.counts, r.z, r.p_norm, r.p_sim, r.q, r.classification)
    return [HotspotCell(*row) for row in zip(*(column.tolist() for column in columns))]


@dataclass(frozen=True)
class HotspotArrays:
    """gi_star's result as one array per field, row i for cells[i] (sorted): what a map of thousands of cells
    filters before it makes a row of each."""

    cells: np.ndarray
    counts: np.ndarray
    z: np.ndarray
    p_norm: np.ndarray
    p_sim: np.ndarray
    q: np.ndarray
    classification: np.ndarray


def gi_star_arrays(
    counts: dict[int, int], k: int = 1, permutations: int = 999, seed: int | None = 0, fill: bool = True
) -> HotspotArrays:
    """:func:`gi_star` without a Python object per cell."""
    counted = np.fromiter(counts, dtype=np.int64, count=len(counts))
    cells = _study_cells(counted, k, fill)
    y = np.zeros(cells.size, dtype=np.int64)
    y[np.searchsorted(cells, counted)] = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
    if not cells.size:
        empty = np.empty(0)
        return HotspotArrays(cells, y, empty, empty, empty, empty, np.empty(0, dtype=np.int64))
    neighbour_sum, cardinality = _ring_sums(cells, y, k)
    z = _gi_star_z(y.astype(float), neighbour_sum, cardinality)
    p_norm = stats.norm.sf(np.abs(z))
    q = benjamini_hochberg(np.minimum(2.0 * p_norm, 1.0))
    n_others = cardinality - 1
    if permutations > 0 and n_others.max(initial=0) > 0:
        p_sim = _conditional_pseudo_p(y, neighbour_sum - y, n_others, z >= 0, permutations, seed)
    else:
        p_sim = np.full(y.size, np.nan)
    return HotspotArrays(cells, y, z, p_norm, p_sim, q, _classify(z, q))


def emerging_hotspots(current: dict[int, int], previous: dict[int, int], alpha: float = 0.05) -> list[EmergingCell]:
    """Cells whose counts grew significantly against the previous equal-length period.

    Conditional on n = current + previous reports, under "no change" each
    report falls in either period with probability 1/2, so the one-sided
    p-value is P(Binomial(n, 1/2) >= current). This removes the unknown cell
    rate from the test. q-values are BH-corrected across all listed cells;
    ``significant`` means q <= alpha. Sorted by cell.
    """
    cells = sorted(set(current) | set(previous))
    cur = np.array([current.get(c, 0) for c in cells], dtype=np.int64)
    prev = np.array([previous.get(c, 0) for c in cells], dtype=np.int64)
    p = stats.binom.sf(cur - 1, cur + prev, 0.5)
    q = benjamini_hochberg(p)
    return [
        EmergingCell(
            cell=cell,
            current=int(cur[i]),
            previous=int(prev[i]),
            p=float(p[i]),
            q=float(q[i]),
            significant=bool(q[i] <= alpha),
        )
        for i, cell in enumerate(cells)
    ]
