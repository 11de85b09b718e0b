"""The language switcher works for a first-time visitor of a cached page: no CSRF cookie, and the token in the
page (if any) somebody else's."""

import re

import pytest
from django.test import Client


def language_form(html: str) -> tuple[str, dict]:
    form = re.search(r'<form action="([^"]+)" method="post" class="lang">(.*?)</form>', html, re.S)
    fields = dict(re.findall(r'<input name="(\w+)" type="hidden" value="([^"]*)"', form[2]))
    return form[1], fields


@pytest.mark.django_db
def test_first_visitor_of_a_cached_page_switches_to_english_without_a_csrf_cookie():
    browser = Client(enforce_csrf_checks=True)
    action, fields = language_form(browser.get("/transparencia/").content.decode())
    browser.cookies.clear()  # a page from a cache came with no cookie

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
