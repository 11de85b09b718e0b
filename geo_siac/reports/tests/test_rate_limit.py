"""Anonymous web submissions and follow requests are limited per client IP; the limit answers with a clear 429
page."""

from geo_siac.reports.models import Report
from geo_siac.testing import PUENTE_ALTO_CENTRE


def submit(client, n: int, ip: str = "203.0.113.7", **headers):
    lat, lng = PUENTE_ALTO_CENTRE
    return client.post(
        "/",
        {"token": f"t{n}", "lat": lat, "long": lng, "service_code": "microbasural", "description": "Basura"},
        REMOTE_ADDR=ip,
        **headers,
    )


def test_submissions_beyond_the_limit_get_429_and_are_not_stored(client, settings, communes):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 2
    assert [submit(client, n).status_code for n in range(3)] == [302, 302, 429]
    assert Report.objects.count() == 2
    assert "Demasiadas solicitudes seguidas" in submit(client, 4).content.decode()


def test_the_limit_is_per_client(client, settings, communes):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    assert submit(client, 1, ip="203.0.113.7").status_code == 302
    assert submit(client, 2, ip="198.51.100.4").status_code == 302


def test_behind_a_trusted_proxy_the_limit_is_per_client_not_per_proxy(client, settings, communes):
    settings.GEO_SIAC_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    assert submit(client, 1, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 302
    assert submit(client, 2, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 302
    # A forged entry in front of the proxy's own is not a fresh budget.
    assert submit(client, 3, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7").status_code == 429


def test_follow_requests_count_against_the_same_limit(client, settings, make_report):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 1
    report = make_report()
    url = f"/seguimiento/{report.tracking_code}/seguir/"
    assert client.post(url, {"email": "a@example.cl"}, REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.post(url, {"email": "b@example.cl"}, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert list(report.followers.values_list("email", flat=True)) == ["a@example.cl"]
