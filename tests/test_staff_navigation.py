"""Staff find their way: a login lands each person on their own workspace, every staff page has a navigation bar
with the pages their role may use, their name and a logout, and anonymous visitors go to the staff login."""

from unittest import mock

import django.contrib.admin.sites
import pytest
from django.contrib.auth import get_user_model

from geo_siac.testing import BROWSER_PASSWORD, browser_user, staff_account

STAFF_PAGES = [
    "/operador/",
    "/cuadrilla/",
    "/cuadrilla/supervision/",
    "/cuadrilla/avisos/",
    "/cuadrilla/plazos/",
    "/mapas/calor/",
    "/mapas/calor/mapa.html",
    "/mapas/calor/mapa.png",
    "/mapas/cobertura/",
    "/transparencia/informe/?commune=13201&month=2026-10",
    "/atencion/agenda/",
    "/atencion/eficiencia/",
]


def person(crews, role: str):
    if role == "planner":
        return staff_account("paula", first_name="Paula", last_name="Rojas", is_staff=True)
    return {
        "operator": crews["operator"],
        "crew": crews["member_a"],
        "supervisor": crews["supervisor"],
        "admin": crews["admin"],
    }[role]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_visitor_to_a_staff_page_is_sent_to_the_staff_login(client, communes, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/cuenta/ingresar/?next=/")


@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("operator", "/operador/"),
        ("crew", "/cuadrilla/"),
        ("supervisor", "/cuadrilla/supervision/"),
        ("planner", "/mapas/calor/"),
        ("admin", "/cuadrilla/supervision/"),
    ],
)
def test_login_without_next_lands_on_the_persons_own_workspace(client, crews, role, landing):
    user = browser_user(person(crews, role))
    response = client.post("/cuenta/ingresar/", {"username": user.username, "password": BROWSER_PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == landing
    assert response.status_code == 200


def test_login_with_a_safe_next_goes_there_and_an_outside_next_lands_on_the_workspace(client, crews):
    user = browser_user(crews["operator"])
    form = {"username": user.username, "password": BROWSER_PASSWORD}
    assert client.post("/cuenta/ingresar/", {**form, "next": "/seguimiento/"})["Location"] == "/seguimiento/"
    client.logout()
    response = client.post("/cuenta/ingresar/", {**form, "next": "https://phishing.example/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/operador/"


def test_a_person_with_no_staff_page_lands_on_the_public_site(client, db):
    client.force_login(get_user_model().objects.create_user("vecina"))
    assert client.get("/cuenta/inicio/")["Location"] == "/"


def nav_links(html: str) -> list[str]:
    nav = html.split('<nav class="staff-nav"', 1)[1].split("</nav>", 1)[0]
    return [part.split('"', 1)[0] for part in nav.split('href="')[1:]]


@pytest.mark.parametrize(
    ("role", "page", "links"),
    [
        ("operator", "/operador/", ["/operador/", "/atencion/agenda/", "/cuadrilla/avisos/"]),
        ("crew", "/cuadrilla/", ["/cuadrilla/", "/cuadrilla/avisos/"]),
        (
            "supervisor",
            "/cuadrilla/supervision/",
            ["/cuadrilla/", "/cuadrilla/supervision/", "/cuadrilla/plazos/", "/cuadrilla/avisos/"],
        ),
        (
            "planner",
            "/mapas/cobertura/",
            ["/mapas/calor/", "/mapas/cobertura/", "/transparencia/informe/", "/cuadrilla/avisos/"],
        ),
        (
            "admin",
            "/mapas/calor/",
            [
                "/operador/",
                "/cuadrilla/",
                "/cuadrilla/supervision/",
                "/cuadrilla/plazos/",
                "/mapas/calor/",
                "/mapas/cobertura/",
                "/atencion/agenda/",
                "/transparencia/informe/",
                "/admin/",
                "/cuadrilla/avisos/",
            ],
        ),
    ],
)
def test_staff_page_shows_the_pages_the_role_may_use_the_name_and_a_logout(client, crews, role, page, links):
    user = person(crews, role)
    client.force_login(user)
    html = client.get(page).content.decode()
    assert nav_links(html) == links
    assert f'href="{page}" aria-current="page"' in html
    assert (user.get_full_name() or user.username) in html
    assert '<form action="/cuenta/salir/" method="post"' in html


def test_the_logout_button_ends_the_session_and_shows_the_login(client, crews):
    client.force_login(crews["operator"])
    response = client.post("/cuenta/salir/")
    assert response["Location"] == "/cuenta/ingresar/"
    assert client.get("/operador/")["Location"].startswith("/cuenta/ingresar/")


def test_signed_in_crew_member_gets_403_not_a_login_loop_on_the_maps(client, crews):
    client.force_login(crews["member_a"])
    assert client.get("/mapas/calor/").status_code == 403


def test_a_staff_page_asks_the_admin_about_one_model_not_its_whole_index(client, crews, django_assert_max_num_queries):
    """The "Administración" link stops at the first model the admin would list: building the index reversed a URL
    for each of some sixty models on every staff page (10-22 ms)."""
    client.force_login(crews["admin"])
    client.get("/mapas/calor/")  # the session and the comunas' caches, as on any later page
    admin_urls = mock.patch.object(django.contrib.admin.sites, "reverse", wraps=django.contrib.admin.sites.reverse)
    with django_assert_max_num_queries(12), admin_urls as reverse:
        html = client.get("/mapas/calor/").content.decode()
    assert "/admin/" in nav_links(html)
    assert reverse.call_count == 0
