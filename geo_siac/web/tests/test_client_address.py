"""The client address every per-client limit counts: REMOTE_ADDR, or X-Forwarded-For read only through the proxies
listed in GEO_SIAC_TRUSTED_PROXIES."""

import os
import subprocess
import sys

import pytest
from django.test import RequestFactory

from geo_siac.testing import PROJECT_ROOT
from geo_siac.web.ratelimit import client_key


def request_from(remote_addr: str, forwarded_for: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)


def test_behind_one_trusted_proxy_the_entry_it_appended_is_the_client(settings):
    settings.GEO_SIAC_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_key(request_from("127.0.0.1", "203.0.113.5")) == "203.0.113.5"
    # Not through the proxy: the header is the client's own word.
    assert client_key(request_from("198.51.100.7", "203.0.113.5")) == "198.51.100.7"
    settings.GEO_SIAC_TRUSTED_PROXIES = []
    assert client_key(request_from("127.0.0.1", "203.0.113.5")) == "127.0.0.1"


def test_entries_the_client_forged_before_the_proxys_own_are_ignored(settings):
    settings.GEO_SIAC_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client_key(request_from("127.0.0.1", "127.0.0.1, 10.9.9.9, 203.0.113.5")) == "203.0.113.5"


def test_a_chain_of_trusted_proxies_given_as_networks_is_walked_back_to_the_client(settings):
    settings.GEO_SIAC_TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]
    forwarded = "192.0.2.66, 203.0.113.5, 10.1.2.3, 2001:db8::7"
    assert client_key(request_from("127.0.0.1", forwarded)) == "203.0.113.5"
    # A trusted proxy that sent no header (its own health check) is the client.
    assert client_key(request_from("10.1.2.3")) == "10.1.2.3"


@pytest.mark.parametrize("proxies", ["127.0.0.1,nginx", "300.1.1.1"])
def test_a_trusted_proxy_that_is_not_an_address_stops_the_start_with_its_name(proxies):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "geo_siac.settings", "GEO_SIAC_TRUSTED_PROXIES": proxies},
    )
    assert result.returncode != 0
    assert "GEO_SIAC_TRUSTED_PROXIES" in result.stderr and proxies.split(",")[-1] in result.stderr
