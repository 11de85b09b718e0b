"""An IPv6 client holds a whole /64 (RFC 6177; every residential line gets one): counted per address, it could give
each guess a fresh address and never meet a per-client limit. It is counted as its /64, as one IPv4 address."""

from django.test import RequestFactory

from geo_siac.testing import staff_account
from geo_siac.web.ratelimit import client_key

GUESS = "PA-XXXX-XXXX"


def test_every_address_of_one_ipv6_64_is_one_client():
    first = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::1")
    other = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2:ffff:abcd:1234:9")
    neighbour = RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:3::1")
    assert client_key(first) == client_key(other) != client_key(neighbour)


def test_an_ipv4_client_written_as_ipv6_is_its_ipv4_address():
    assert client_key(RequestFactory().get("/", REMOTE_ADDR="::ffff:203.0.113.7")) == "203.0.113.7"


def test_behind_a_trusted_proxy_the_ipv6_client_is_its_64_too(settings):
    settings.GEO_SIAC_TRUSTED_PROXIES = ["127.0.0.1"]
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="2001:db8:1:2::99")
    assert client_key(request) == client_key(RequestFactory().get("/", REMOTE_ADDR="2001:db8:1:2::5"))


def test_tracking_guesses_from_fresh_addresses_of_one_64_meet_the_limit(client, settings, communes):
    settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED = 3
    answers = [
        client.get(f"/seguimiento/{GUESS}/", REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}").status_code for n in range(5)
    ]
    assert answers == [404, 404, 404, 429, 429]


def test_password_guesses_from_fresh_addresses_of_one_64_meet_the_lockout(client, db, settings):
    settings.GEO_SIAC_LOGIN_FAILURES_ALLOWED = 2
    staff_account("operadora", password="clave-correcta-123", is_staff=True)

    def login(password, n):
        data = {"username": "operadora", "password": password}
        return client.post("/cuenta/ingresar/", data, REMOTE_ADDR=f"2001:db8:1:2::{n:x}").status_code

    assert [login("mala", n) for n in range(1, 3)] == [200, 200]
    assert login("clave-correcta-123", 3) == 429
