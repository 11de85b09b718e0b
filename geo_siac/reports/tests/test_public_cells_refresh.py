"""report_public_cells_refresh stores where each report is placed in public (reports.privacy)."""

import pytest

from geo_siac.catalogue.models import Category
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_public_cells_refresh


def _cells() -> dict[int, int | None]:
    return dict(Report.objects.values_list("pk", "public_cell"))


@pytest.mark.django_db
def test_reports_sharing_a_cell_get_it_and_a_second_refresh_changes_nothing(make_report):
    reports = [make_report() for _ in range(2)]

    assert report_public_cells_refresh(min_count=2) == 2
    assert _cells() == {r.pk: r.h3_res9 for r in reports}
    assert report_public_cells_refresh(min_count=2) == 0


@pytest.mark.django_db
def test_a_report_of_a_category_hidden_from_the_public_loses_its_place_at_the_next_refresh(make_report):
    hidden, shown = make_report(category="grafiti"), make_report()
    report_public_cells_refresh(min_count=1)
    Category.objects.filter(service_code="grafiti").update(is_public=False)

    report_public_cells_refresh(min_count=1)

    assert _cells() == {hidden.pk: None, shown.pk: shown.h3_res9}


@pytest.mark.django_db
def test_with_no_reports_the_refresh_places_nothing(communes):
    assert report_public_cells_refresh() == 0
