"""Project-wide checks: migrations match the models, pages and admin render, no asset comes from a CDN."""

import re
from io import StringIO

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from geo_siac.geo_admin import OL
from geo_siac.testing import PROJECT_ROOT

CDN = re.compile(r"""(?:src|href)=["']https?://""")


@pytest.mark.django_db
def test_migrations_match_models():
    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())


def test_home_page_lists_communes_and_categories(client, communes):
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Puente Alto" in body and "Retiro de escombros" in body
    assert not CDN.search(body)


def test_home_page_in_english(client, communes):
    client.cookies["django_language"] = "en"
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Debris removal" in response.content.decode()


@pytest.mark.parametrize("url", ["/admin/zones/commune/", "/admin/zones/servicepoint/", "/admin/reports/report/",
                                 "/admin/catalogue/category/", "/admin/notifications/notification/",
                                 "/admin/reports/surveyresponse/"])
def test_admin_lists_render(admin_client, make_report, url):
    make_report()
    assert admin_client.get(url).status_code == 200


def test_admin_map_widgets_load_openlayers_from_local_static_files(admin_client, make_report, communes):
    report = make_report()
    for url in (f"/admin/reports/report/{report.pk}/change/", f"/admin/zones/commune/{communes['13201'].pk}/change/"):
        body = admin_client.get(url).content.decode()
        assert f"/static/{OL}ol.js" in body
        assert not CDN.search(body), CDN.findall(body)
    assert (PROJECT_ROOT / "geo_siac" / "static" / OL / "ol.js").exists()


@pytest.mark.parametrize("url", ["/", "/salud/", "/transparencia/", "/transparencia/mapa/",
                                 "/transparencia/celdas.geojson", "/transparencia/compromisos/",
                                 "/transparencia/datos/"])
def test_public_pages_answer_head_like_get_without_a_body(client, communes, url):
    """Uptime monitors and link checkers ask with HEAD: the same status and headers as GET, no body, and never
    taken for a submission."""
    from geo_siac.reports.models import Report

    got = client.get(url)
    head = client.head(url)
    assert not Report.objects.exists()
    assert got.status_code == head.status_code == 200
    assert head["Content-Type"] == got["Content-Type"]
    assert head.content == b""
    assert client.put(url).status_code == 405


def test_favicon_ico_points_at_the_icon_among_the_static_files(client, communes):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith("geo_siac/favicon.svg")
    assert finders.find("geo_siac/favicon.svg") is not None
    page = client.get("/").content.decode()
    assert 'rel="icon"' in page and "geo_siac/favicon.svg" in page
