"""The open-data export places each report at the finest H3 cell that holds at least k of the exported reports of
its comuna (reports.privacy: a coarser cell counts only the reports its finer cells could not publish)."""

import random
from collections import Counter

import pytest
from h3.api import basic_int as h3i

from geo_siac.reports.models import Report
from geo_siac.reports.services import report_public_cells_refresh
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.transparency.selectors import open_data_rows

K = 3
CENTRE_CELL = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9)


def _published(k=K) -> dict[int, int | None]:
    """Report id -> the cell its row is published at, once the places are decided with this k."""
    report_public_cells_refresh(min_count=k)
    return {row[0]: row[-1] for row in open_data_rows(Report.objects.all())}


def _centres_inside(parent: int, res: int) -> list[tuple[float, float]]:
    """Centres of the parent's children at `res` that lie in the parent itself (H3 is not exactly nested)."""
    parent_res = h3i.get_resolution(parent)
    return [
        h3i.cell_to_latlng(child)
        for child in sorted(h3i.cell_to_children(parent, res))
        if h3i.latlng_to_cell(*h3i.cell_to_latlng(child), parent_res) == parent
    ]


@pytest.mark.django_db
def test_reports_of_a_res9_cell_with_k_reports_are_published_at_that_cell(make_report):
    reports = [make_report() for _ in range(K)]

    assert _published() == {r.pk: CENTRE_CELL for r in reports}


@pytest.mark.django_db
def test_small_res9_cells_that_together_reach_k_are_published_at_their_res8_cell(make_report):
    res8 = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 8)
    points = _centres_inside(res8, 9)[:K]
    reports = [make_report(point=point) for point in points]

    published = _published()

    assert len({r.h3_res9 for r in reports}) == K  # each alone in its res-9 cell
    assert published == {r.pk: res8 for r in reports}
    assert {h3i.get_resolution(cell) for cell in published.values()} == {8}


@pytest.mark.django_db
def test_a_report_alone_beside_a_published_cell_is_not_published_at_their_common_res8_cell(make_report):
    # The res-8 cell holds K + 1 reports, but K of them are already published at res 9: publishing the last
    # one at res 8 would single it out ("the one that is not in the res-9 cell"). It goes up, and alone up to
    # res 6 it has no place.
    crowd = [make_report() for _ in range(K)]
    neighbour = next(
        cell
        for cell in h3i.grid_ring(CENTRE_CELL, 1)
        if h3i.latlng_to_cell(*h3i.cell_to_latlng(cell), 8) == crowd[0].h3_res8
    )
    alone = make_report(point=h3i.cell_to_latlng(neighbour))

    published = _published()

    assert alone.h3_res8 == crowd[0].h3_res8 and alone.h3_res9 != crowd[0].h3_res9
    assert published == {**{r.pk: CENTRE_CELL for r in crowd}, alone.pk: None}


@pytest.mark.django_db
def test_reports_alone_in_their_res8_cells_are_published_at_res7_when_together_they_reach_k(make_report):
    res7 = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 7)
    reports = [make_report(point=point) for point in _centres_inside(res7, 8)[:K]]

    assert len({r.h3_res8 for r in reports}) == K
    assert _published() == {r.pk: res7 for r in reports}


@pytest.mark.django_db
def test_fewer_than_k_reports_even_at_res6_are_published_without_a_place(make_report):
    reports = [make_report() for _ in range(K - 1)]

    assert _published() == {r.pk: None for r in reports}
    assert _published(k=K - 1) == {r.pk: CENTRE_CELL for r in reports}


@pytest.mark.django_db
def test_every_published_cell_holds_the_report_and_stands_for_at_least_k_rows(make_report):
    rng = random.Random(8)
    lat, lng = PUENTE_ALTO_CENTRE
    reports = {
        r.pk: r
        for r in (
            make_report(point=(lat + rng.uniform(-0.012, 0.012), lng + rng.uniform(-0.025, 0.005))) for _ in range(60)
        )
    }

    published = _published(k=5)

    rows_per_cell = Counter(cell for cell in published.values() if cell is not None)
    assert rows_per_cell and min(rows_per_cell.values()) >= 5
    for pk, cell in published.items():
        if cell is not None:
            assert getattr(reports[pk], f"h3_res{h3i.get_resolution(cell)}") == cell
    assert set(published) == set(reports)
    assert len({h3i.get_resolution(cell) for cell in rows_per_cell}) > 1  # the sample reaches the coarser levels


@pytest.mark.django_db
def test_the_rows_carry_their_stored_place_in_one_query(make_report, django_assert_num_queries):
    [make_report() for _ in range(K)]
    report_public_cells_refresh(min_count=K)

    with django_assert_num_queries(1):
        assert [row[-1] for row in open_data_rows(Report.objects.all())] == [CENTRE_CELL] * K
