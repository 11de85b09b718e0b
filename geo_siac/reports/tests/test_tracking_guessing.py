"""Tracking codes cannot be guessed without limit: failed lookups are counted per client on every page that looks
a code up, and past GEO_SIAC_TRACKING_FAILURES_ALLOWED each lookup is refused with 429 and Retry-After."""

import pytest

GUESS = "PA-XXXX-XXXX"


def web_lookup(client, path: str, code: str, ip: str):
    if path == "codigo":
        return client.get("/seguimiento/", {"codigo": code}, REMOTE_ADDR=ip)
    if path == "token":
        return client.get(f"/open311/v2/tokens/{code}.json", REMOTE_ADDR=ip)
    return client.get(f"/{path}/{code}/", REMOTE_ADDR=ip)


ENTRY_POINTS = ["seguimiento", "enviada", "codigo", "token"]


@pytest.mark.parametrize("path", ENTRY_POINTS)
def test_failed_lookups_past_the_limit_are_refused_with_retry_after(client, settings, make_report, path):
    settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED = 3
    settings.GEO_SIAC_TRACKING_FAILURES_WINDOW_SECONDS = 600
    report = make_report()
    assert [web_lookup(client, path, GUESS, "203.0.113.7").status_code for _ in range(3)] == [404] * 3
    refused = web_lookup(client, path, GUESS, "203.0.113.7")
    assert refused.status_code == 429 and refused["Retry-After"] == "600"
    # Past the limit a right code is refused too: otherwise the answer would still tell a guess it was right.
    assert web_lookup(client, path, report.tracking_code, "203.0.113.7").status_code == 429


def test_the_refusal_page_tells_the_citizen_what_happened(client, settings, communes):
    settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED = 1
    web_lookup(client, "codigo", GUESS, "203.0.113.7")
    page = web_lookup(client, "codigo", GUESS, "203.0.113.7").content.decode()
    assert "Demasiados códigos no encontrados" in page


def test_the_four_entry_points_share_one_count(client, settings, communes):
    settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED = 3
    assert [web_lookup(client, path, GUESS, "203.0.113.7").status_code for path in ENTRY_POINTS] == [404, 404, 404, 429]


def test_a_citizen_reading_a_valid_code_is_never_limited(client, settings, make_report):
    settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED = 2
    report = make_report()
    for path in ENTRY_POINTS * 3:
        assert web_lookup(client, path, report.tracking_code, "203.0.113.7").status_code in (200, 302)
    # The valid lookups used none of the budget: the third failure is the first refused.
    assert [web_lookup(client, "seguimiento", GUESS, "203.0.113.7").status_code for _ in range(3)] == [404, 404, 429]


def test_another_clients_failures_do_not_limit_this_one(client, settings, make_report):
    settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED = 1
    report = make_report()
    web_lookup(client, "seguimiento", GUESS, "203.0.113.7")
    assert web_lookup(client, "seguimiento", GUESS, "203.0.113.7").status_code == 429
    assert web_lookup(client, "seguimiento", report.tracking_code, "198.51.100.4").status_code == 200


def test_following_an_unknown_code_counts_as_a_failed_lookup(client, settings, communes):
    settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED = 1
    client.post(f"/seguimiento/{GUESS}/seguir/", {"email": "a@example.cl"}, REMOTE_ADDR="203.0.113.7")
    assert (
        client.post(f"/seguimiento/{GUESS}/seguir/", {"email": "a@example.cl"}, REMOTE_ADDR="203.0.113.7").status_code
        == 429
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_count(client, settings, make_report):
    settings.GEO_SIAC_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.GEO_SIAC_TRACKING_FAILURES_ALLOWED = 1
    report = make_report()

    def through_proxy(code, client_address):
        return client.get(f"/seguimiento/{code}/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=client_address)

    through_proxy(GUESS, "203.0.113.7")
    assert through_proxy(GUESS, "203.0.113.7").status_code == 429
    assert through_proxy(report.tracking_code, "198.51.100.4").status_code == 200
    # A forged entry in front of the proxy's own does not make the guesser a new client.
    assert through_proxy(GUESS, "192.0.2.1, 203.0.113.7").status_code == 429
