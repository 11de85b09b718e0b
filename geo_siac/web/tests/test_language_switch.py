"""The language switcher works for a first-time visitor of a cached page: the copy carries no CSRF token nor
cookie, and the switch needs neither."""

import re
from unittest.mock import patch

import pytest
from django.core.cache import cache
from django.test import Client

from geo_siac.transparency.services import indicator_snapshots_refresh


def language_form(html: str) -> tuple[str, dict]:
    form = re.search(r'<form action="([^"]+)" method="post" class="lang">(.*?)</form>', html, re.S)
    fields = dict(re.findall(r'<input name="(\w+)" type="hidden" value="([^"]*)"', form[2]))
    return form[1], fields


@pytest.fixture
def cached_page(db):
    """/transparencia/ as a first visitor stored it in the cache (the page is cached only once it has figures)."""
    indicator_snapshots_refresh()
    cache.clear()
    first = Client(enforce_csrf_checks=True).get("/transparencia/")
    assert first.status_code == 200 and "max-age=300" in first["Cache-Control"]
    return first


def cached_copy(client: Client):
    with patch("geo_siac.transparency.views._map_context", side_effect=AssertionError("not cached")):
        return client.get("/transparencia/")


def test_a_cached_public_page_hands_no_visitor_a_csrf_token_or_cookie(cached_page):
    second = cached_copy(Client(enforce_csrf_checks=True))

    assert second.content == cached_page.content
    for response in (cached_page, second):
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert not response.cookies and "Set-Cookie" not in response
        assert "Cookie" not in response["Vary"]


def test_second_visitor_of_a_cached_page_switches_to_english(cached_page):
    browser = Client(enforce_csrf_checks=True)
    page = cached_copy(browser)
    assert "max-age=300" in page["Cache-Control"] and "Set-Cookie" not in page and not browser.cookies
    action, fields = language_form(page.content.decode())

    response = browser.post(action, {**fields, "language": "en"})

    assert response.status_code == 302
    assert response["Location"] == "/transparencia/"
    assert response.cookies["django_language"].value == "en"
    assert "Transparency" in browser.get("/transparencia/").content.decode()


@pytest.mark.django_db
def test_language_switch_still_refuses_to_send_the_visitor_to_another_site():
    response = Client(enforce_csrf_checks=True).post(
        "/i18n/setlang/", {"language": "en", "next": "https://example.com/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies["django_language"].value == "en"
