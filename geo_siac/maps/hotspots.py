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
    cells = set(cells_with_counts)
    if fill:
        for cell in cells_with_counts:
            cells.update(h3i.grid_disk(cell, k))
    return sorted(cells)


def _neighbour_lists(cells: list[int], k: int) -> list[list[int]]:
    """Positions of each cell's k-ring members (itself included) within ``cells``."""
    position = {cell: i for i, cell in enumerate(cells)}
    return [[position[n] for n in h3i.grid_disk(cell, k) if n in position] for cell in cells]


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


def _flat_neighbours(
    neighbours: list[list[int]],
) -> tuple[np.ndarray, np.ndarray]:
    """Padded (n, max_others) index array of neighbours other than self, -1 padded,
    and the number of such neighbours per cell."""
    others = [[j for j in ring if j != i] for i, ring in enumerate(neighbours)]
    counts = np.array([len(o) for o in others], dtype=np.int64)
    padded = np.full((len(others), int(counts.max())), -1, dtype=np.int64)
    for i, o in enumerate(others):
        padded[i, : len(o)] = o
    return padded, counts


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
    cells = study_cells(counts, k=k, fill=fill)
    if not cells:
        return []
    y = np.array([counts.get(cell, 0) for cell in cells], dtype=np.int64)
    neighbours = _neighbour_lists(cells, k)
    other_index, n_others = _flat_neighbours(neighbours)
    cardinality = n_others + 1
    observed_other_sum = np.where(other_index >= 0, y[other_index], 0).sum(axis=1)

    z = _gi_star_z(y.astype(float), observed_other_sum + y, cardinality)
    p_norm = stats.norm.sf(np.abs(z))
    q = benjamini_hochberg(np.minimum(2.0 * p_norm, 1.0))
    if permutations > 0 and n_others.max(initial=0) > 0:
        p_sim = _conditional_pseudo_p(y, observed_other_sum, n_others, z >= 0, permutations, seed)
    else:
        p_sim = np.full(y.size, np.nan)
    classification = _classify(z, q)

    return [
        HotspotCell(
            cell=cell,
            count=int(y[i]),
            z=float(z[i]),
            p_norm=float(p_norm[i]),
            p_sim=float(p_sim[i]),
            q=float(q[i]),
            classification=int(classification[i]),
        )
        for i, cell in enumerate(cells)
    ]


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
