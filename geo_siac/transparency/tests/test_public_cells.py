"""The public map counts reports per published cell (reports.privacy), the open data's cells."""

import pytest
from h3.api import basic_int as h3i

from geo_siac.reports.models import Report
from geo_siac.reports.services import report_public_cells_refresh
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.transparency.selectors import public_cells


def _reports_in_one_cell(make_report, count, point=PUENTE_ALTO_CENTRE):
    return [make_report(point=point) for _ in range(count)]


@pytest.mark.django_db
def test_a_cell_with_k_reports_is_shown_with_its_count(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 3
    _reports_in_one_cell(make_report, 3)
    report_public_cells_refresh()

    assert [c["count"] for c in public_cells(Report.objects.all())] == [3]


@pytest.mark.django_db
def test_a_cell_with_k_minus_one_reports_is_not_shown_alone(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 3
    reports = _reports_in_one_cell(make_report, 2)
    report_public_cells_refresh()

    cells = public_cells(Report.objects.all())

    assert cells == []
    assert reports[0].h3_res9 not in [c["cell"] for c in cells]


@pytest.mark.django_db
def test_small_neighbouring_cells_are_shown_together_at_the_res8_cell_that_holds_them(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 3
    first = make_report(point=PUENTE_ALTO_CENTRE)
    sibling = next(
        c
        for c in sorted(h3i.cell_to_children(first.h3_res8, 9))
        if c != first.h3_res9 and h3i.latlng_to_cell(*h3i.cell_to_latlng(c), 8) == first.h3_res8
    )
    make_report(point=h3i.cell_to_latlng(sibling))
    make_report(point=h3i.cell_to_latlng(sibling))
    report_public_cells_refresh()

    cells = public_cells(Report.objects.all())

    assert cells == [{"cell": first.h3_res8, "count": 3}]


@pytest.mark.django_db
def test_a_published_cell_is_shown_only_when_the_period_holds_k_of_its_reports(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 3
    reports = _reports_in_one_cell(make_report, 3)
    report_public_cells_refresh()

    assert public_cells(Report.objects.exclude(pk=reports[0].pk)) == []
