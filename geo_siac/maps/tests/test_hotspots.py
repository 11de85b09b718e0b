import warnings

import numpy as np
import pytest
from esda.crand import crand
from esda.getisord import G_Local, _g_local_star_crand
from h3.api import basic_int as h3i
from libpysal.weights import W

from geo_siac.maps import hotspots
from geo_siac.maps.hotspots import (
    NO_CELL,
    Rings,
    benjamini_hochberg,
    emerging_hotspots,
    gi_star,
    study_cells,
)

PUENTE_ALTO = h3i.latlng_to_cell(-33.61, -70.575, 9)


def planted_cluster() -> dict[int, int]:
    """One report in each of 397 cells, plus 40 in the 7-cell ring around the centre."""
    counts = {cell: 1 for cell in h3i.grid_disk(PUENTE_ALTO, 11)}
    counts[PUENTE_ALTO] += 10
    for cell in h3i.grid_disk(PUENTE_ALTO, 1):
        if cell != PUENTE_ALTO:
            counts[cell] += 5
    return counts


def pysal_weights(cells: list[int], k: int) -> W:
    """Binary k-ring weights without self-neighbours, ids = positions in ``cells``."""
    position = {cell: i for i, cell in enumerate(cells)}
    neighbours = {
        i: [position[n] for n in h3i.grid_disk(cell, k) if n in position and n != cell] for i, cell in enumerate(cells)
    }
    return W(neighbours, id_order=list(range(len(cells))), silence_warnings=True)


@pytest.fixture(scope="module")
def cluster_result():
    counts = planted_cluster()
    cells = study_cells(counts)
    y = np.array([counts.get(c, 0) for c in cells], dtype=float)
    return counts, cells, y, gi_star(counts, permutations=999, seed=7)


def test_study_cells_adds_zero_count_ring():
    lone = {PUENTE_ALTO: 5}
    assert study_cells(lone, fill=False) == [PUENTE_ALTO]
    assert study_cells(lone, k=1) == sorted(h3i.grid_disk(PUENTE_ALTO, 1))
    assert len(study_cells(lone, k=2)) == 19


def test_z_scores_and_p_norm_match_esda(cluster_result):
    _, cells, y, result = cluster_result
    assert [h.cell for h in result] == cells
    # permutations=0 leaves esda's weights untouched (crand zeroes the diagonal in place).
    reference = G_Local(y, pysal_weights(cells, 1), transform="B", star=True, permutations=0)
    # esda fills the missing diagonal with 1 for star=True and binary weights.
    assert np.all(reference.w.sparse.diagonal() == 1)

    z = np.array([h.z for h in result])
    p_norm = np.array([h.p_norm for h in result])
    np.testing.assert_allclose(z, reference.Zs, rtol=0, atol=1e-8)
    np.testing.assert_allclose(p_norm, reference.p_norm, rtol=0, atol=1e-12)


def test_z_scores_match_esda_without_fill_and_k2():
    cells = h3i.grid_disk(PUENTE_ALTO, 8)
    counts = {c: int(v) for c, v in zip(cells, np.random.default_rng(3).poisson(2.0, len(cells)))}
    cells = study_cells(counts, k=2, fill=False)
    y = np.array([counts[c] for c in cells], dtype=float)
    reference = G_Local(y, pysal_weights(cells, 2), transform="B", star=True, permutations=0)
    z = np.array([h.z for h in gi_star(counts, k=2, permutations=0, fill=False)])
    np.testing.assert_allclose(z, reference.Zs, rtol=0, atol=1e-8)


def test_pseudo_p_values_agree_with_esda_conditional_randomisation(cluster_result):
    counts, cells, y, _ = cluster_result
    # One set of draws is shared by all cells, so Monte Carlo errors are correlated
    # across cells; 9999 draws keep the s.e. of each p-value <= 0.005.
    permutations = 9999
    result = gi_star(counts, permutations=permutations, seed=7)
    z = np.array([h.z for h in result])
    ours = np.array([h.p_sim for h in result])

    esda_p = {}
    for alternative in ("greater", "lesser"):
        lg = G_Local(y, pysal_weights(cells, 1), transform="B", star=True, permutations=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            esda_p[alternative], _ = crand(
                y,
                lg.w,
                lg.Gs,
                permutations,
                False,
                1,
                _g_local_star_crand,
                scaling=y.sum(),
                seed=11,
                alternative=alternative,
            )
    theirs = np.where(z >= 0, esda_p["greater"], esda_p["lesser"])

    difference = ours - theirs
    assert abs(difference.mean()) < 0.005
    assert np.abs(difference).max() < 0.03
    assert np.corrcoef(ours, theirs)[0, 1] > 0.99


def test_planted_cluster_centre_is_99_percent_hotspot(cluster_result):
    counts, _, _, result = cluster_result
    by_cell = {h.cell: h for h in result}
    centre = by_cell[PUENTE_ALTO]
    assert centre.classification == 3
    assert centre.count == 11
    assert centre.p_sim == pytest.approx(1 / 1000)
    ring = set(h3i.grid_disk(PUENTE_ALTO, 1))
    assert all(by_cell[c].classification == 3 for c in ring)
    assert not any(h.classification < 0 for h in result)
    far = [h for h in result if h3i.grid_distance(PUENTE_ALTO, h.cell) >= 4]
    assert far and all(h.classification == 0 for h in far)


@pytest.mark.parametrize("seed", range(5))
def test_uniform_poisson_field_has_almost_no_hotspots(seed):
    cells = h3i.grid_disk(PUENTE_ALTO, 13)
    field = np.random.default_rng(seed).poisson(3.0, len(cells))
    result = gi_star({c: int(v) for c, v in zip(cells, field)}, permutations=99, seed=seed)
    flagged = sum(abs(h.classification) >= 2 for h in result)
    assert flagged <= 0.01 * len(result)


def test_constant_field_has_no_hotspots():
    counts = {c: 2 for c in h3i.grid_disk(PUENTE_ALTO, 3)}
    result = gi_star(counts, fill=False, permutations=49)
    assert all(h.z == 0 and h.classification == 0 for h in result)


def test_empty_input():
    assert gi_star({}) == []
    assert emerging_hotspots({}, {}) == []


def test_benjamini_hochberg_worked_example():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2])
    # sorted p: .005 .01 .03 .04 .2 ; m*p/rank: .025 .025 .05 .05 .2 ; running min from the top
    np.testing.assert_allclose(benjamini_hochberg(p), [0.025, 0.05, 0.05, 0.025, 0.2])


def test_benjamini_hochberg_is_monotone_and_capped():
    p = np.random.default_rng(0).uniform(size=200) ** 2
    q = benjamini_hochberg(p)
    order = np.argsort(p)
    assert np.all(np.diff(q[order]) >= 0)
    assert np.all(q >= p) and np.all(q <= 1)
    assert benjamini_hochberg(np.array([0.9, 0.95])).tolist() == [0.95, 0.95]


def test_emerging_hotspots_flags_real_growth_only():
    grew, steady, quiet = h3i.grid_disk(PUENTE_ALTO, 1)[:3]
    result = {e.cell: e for e in emerging_hotspots({grew: 30, steady: 12}, {grew: 2, steady: 10, quiet: 4})}
    assert result[grew].significant and result[grew].q < 0.05
    assert not result[steady].significant
    assert result[steady].p == pytest.approx(0.4159, abs=1e-4)
    assert result[quiet].current == 0 and result[quiet].p == 1.0


def test_kept_disks_are_h3s_and_a_full_cache_starts_again():
    pentagon = h3i.get_pentagons(9)[0]
    cells = np.array(sorted([pentagon, *h3i.grid_disk(PUENTE_ALTO, 2)]), dtype=np.int64)
    rings = Rings(limit=30)
    for _ in range(2):  # computed, then read back
        disks = rings.disks(cells, 1)
        assert [sorted(c for c in row if c != NO_CELL) for row in disks.tolist()] == [
            sorted(h3i.grid_disk(c, 1)) for c in cells.tolist()
        ]
    assert (disks[cells.tolist().index(pentagon)] == NO_CELL).sum() == 1  # a pentagon has 5 neighbours, not 6
    more = np.array(sorted(h3i.grid_ring(PUENTE_ALTO, 5)), dtype=np.int64)
    assert [sorted(row) for row in rings.disks(more, 1).tolist()] == [sorted(h3i.grid_disk(c, 1)) for c in more]
    assert rings.disks(cells[:3], 1).shape == (3, 7)
    # A call that passes the limit with cells already kept and new ones: every disk is still its own cell's.
    mixed = np.array(sorted({*cells.tolist()[:10], *h3i.grid_ring(PUENTE_ALTO, 7)}), dtype=np.int64)
    assert mixed.size > 30
    for _ in range(2):
        assert [sorted(c for c in row if c != NO_CELL) for row in rings.disks(mixed, 1).tolist()] == [
            sorted(h3i.grid_disk(c, 1)) for c in mixed.tolist()
        ]


def test_gi_star_is_the_same_with_a_cache_that_overflows_on_every_map(monkeypatch):
    counts = {cell: 1 + i % 7 for i, cell in enumerate(h3i.grid_disk(PUENTE_ALTO, 6))}
    expected = repr(gi_star(counts, permutations=0))  # repr: p_sim is NaN without permutations, and NaN != NaN
    monkeypatch.setattr(hotspots, "RINGS", Rings(limit=len(counts) + 10))
    for _ in range(2):
        assert repr(gi_star(counts, permutations=0)) == expected
