import pytest


@pytest.mark.parametrize("url", ["/admin/zones/zone/", "/admin/zones/crew/", "/admin/zones/department/",
                                 "/admin/zones/closedday/"])
def test_crew_and_zone_admin_lists_render(client, crews, url):
    client.force_login(crews["admin"])
    assert client.get(url).status_code == 200


def test_zone_polygon_is_read_only_in_the_admin_and_crews_are_edited_inline(client, crews):
    client.force_login(crews["admin"])
    page = client.get(f"/admin/zones/zone/{crews['west'].pk}/change/").content.decode()
    assert 'name="geometry"' not in page
    assert "Cuadrilla Poniente" in page and "responsibilities-TOTAL_FORMS" in page
    assert client.get("/admin/zones/zone/add/").status_code == 403
