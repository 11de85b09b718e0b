import pytest
from h3.api import basic_int as h3i

from geo_siac.reports.models import Report
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.transparency.selectors import public_cells


def _reports_in_one_cell(make_report, count, point=PUENTE_ALTO_CENTRE):
    return [make_report(point=point) for _ in range(count)]


@pytest.mark.django_db
def test_a_cell_with_k_reports_is_shown_with_its_count(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 3
    _reports_in_one_cell(make_report, 3)

    assert [c["count"] for c in public_cells(Report.objects.all())] == [3]


@pytest.mark.django_db
def test_a_cell_with_k_minus_one_reports_is_not_shown_alone(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 3
    reports = _reports_in_one_cell(make_report, 2)

    cells = public_cells(Report.objects.all())

    assert cells == []
    assert reports[0].h3_res9 not in [c["cell"] for c in cells]


@pytest.mark.django_db
def test_small_neighbouring_cells_merge_into_their_parent_when_together_they_reach_k(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 3
    lat, lng = PUENTE_ALTO_CENTRE
    first = make_report(point=(lat, lng))
    parent = h3i.cell_to_parent(first.h3_res9, 8)
    sibling = next(c for c in h3i.cell_to_children(parent, 9) if c != first.h3_res9)
    make_report(point=h3i.cell_to_latlng(sibling))
    make_report(point=h3i.cell_to_latlng(sibling))

    cells = public_cells(Report.objects.all())

    assert cells == [{"cell": parent, "count": 3}]
