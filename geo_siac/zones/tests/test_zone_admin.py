from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from geo_siac.testing import WEST_POINT


@pytest.mark.parametrize(
    "url", ["/admin/zones/zone/", "/admin/zones/crew/", "/admin/catalogue/department/", "/admin/zones/closedday/"]
)
def test_crew_and_zone_admin_lists_render(client, crews, url):
    client.force_login(crews["admin"])
    assert client.get(url).status_code == 200


def test_zone_polygon_is_read_only_in_the_admin_and_crews_are_edited_inline(client, crews):
    client.force_login(crews["admin"])
    page = client.get(f"/admin/zones/zone/{crews['west'].pk}/change/").content.decode()
    assert 'name="geometry"' not in page
    assert "Cuadrilla Poniente" in page and "responsibilities-TOTAL_FORMS" in page
    assert client.get("/admin/zones/zone/add/").status_code == 403


def test_admin_report_list_flags_overdue_reports_and_shows_the_crew(client, make_report, crews):
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() - timedelta(days=40)):
        make_report(point=WEST_POINT)
    client.force_login(crews["admin"])
    page = client.get("/admin/reports/report/").content.decode()
    assert "Cuadrilla Poniente" in page
    assert 'alt="True"' in page  # the overdue column's tick
