"""A request never computes the indicators: the public pages and exports serve the newest snapshot whatever its age,
dated, with a notice when it is older than GEO_SIAC_INDICATORS_MAX_AGE_MINUTES, or say the figures are being prepared
while there is none; the health check reports a stale or missing snapshot; one refresh computes at a time."""

import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from geo_siac.db import advisory_lock_id
from geo_siac.reports.models import Report
from geo_siac.testing import other_session
from geo_siac.transparency import selectors, services
from geo_siac.transparency.management.commands import refresh_indicators
from geo_siac.transparency.models import IndicatorSnapshot
from geo_siac.transparency.selectors import published_indicators
from geo_siac.transparency.services import REFRESH_LOCK, indicator_snapshots_refresh

PAGES = ["/transparencia/", "/transparencia/compromisos/"]
EXPORTS = ["/transparencia/datos/indicadores.csv", "/transparencia/datos/indicadores.json"]
REPORTS_TABLE = Report._meta.db_table


@pytest.fixture
def three_reports(make_report):
    return [make_report() for _ in range(3)]


def get_reading_no_report(client, url, **headers):
    """The response, after checking that answering it read no report (nothing was computed on the request)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert not [q["sql"] for q in queries if REPORTS_TABLE in q["sql"]], f"{url} read the reports"
    return response, body.decode()


@pytest.mark.django_db
def test_a_stale_snapshot_is_served_with_its_date_and_a_notice_without_computing(
    client, three_reports, make_report, settings
):
    settings.GEO_SIAC_INDICATORS_MAX_AGE_MINUTES = 30
    as_of = timezone.now() - timedelta(hours=5)
    # Received before the snapshot: else, within five hours after local midnight, its day would hold none of them.
    Report.objects.update(created_at=F("created_at") - timedelta(hours=6))
    indicator_snapshots_refresh(as_of=as_of)
    make_report()  # arrived after the snapshot

    response, page = get_reading_no_report(client, "/transparencia/")

    assert response.status_code == 200
    assert '<dd id="headline-volume">3</dd>' in page
    local = timezone.localtime(as_of)
    assert f"Datos al {local.day} de " in page and f"{local:%H:%M}." in page
    assert 'id="stale-notice"' in page and "Estas cifras no se han actualizado desde esa fecha" in page
    assert "actualizadas cada pocos minutos" not in page
    data = get_reading_no_report(client, "/transparencia/datos/indicadores.json")[0].json()
    assert data["stale"] is True and data["as_of"].startswith(f"{as_of:%Y-%m-%dT%H:%M}")
    assert next(r for r in data["indicators"] if r["dimension"] == "commune")["volume"] == 3
    _, commitments = get_reading_no_report(client, "/transparencia/compromisos/")
    assert 'id="stale-notice"' in commitments


@pytest.mark.django_db
def test_a_fresh_snapshot_is_dated_without_the_notice(client, three_reports):
    indicator_snapshots_refresh()

    for url in PAGES:
        _, page = get_reading_no_report(client, url)
        assert 'id="as-of"' in page and "Datos al " in page
        assert 'id="stale-notice"' not in page and 'id="preparing-notice"' not in page
    assert "actualizadas cada pocos minutos" in get_reading_no_report(client, "/transparencia/")[1]
    response, _ = get_reading_no_report(client, EXPORTS[0])
    assert response.status_code == 200 and response["Last-Modified"]
    open_data = client.get("/transparencia/datos/").content.decode()
    assert "stale: si la actualización periódica de las cifras se ha atrasado." in open_data  # the JSON's field


@pytest.mark.django_db
def test_without_a_snapshot_the_pages_say_the_figures_are_being_prepared(client, three_reports):
    for url in PAGES:
        response, page = get_reading_no_report(client, url)
        assert response.status_code == 200
        assert (
            "Las cifras aún no están calculadas. Se calculan periódicamente y aparecerán aquí cuando termine el cálculo."
            in page
        )
        assert "minutos" not in page  # the first run on a large installation can take far longer: no time promised
        assert 'id="headline-volume"' not in page and "sin solicitudes" not in page
    _, index = get_reading_no_report(client, "/transparencia/")
    assert 'id="transparency-map"' in index  # the map does not depend on the snapshot
    for url in EXPORTS:
        response, body = get_reading_no_report(client, url)
        assert response.status_code == 503 and int(response["Retry-After"]) > 0
        assert (
            body
            == "Los indicadores aún no están calculados. Se calculan periódicamente: vuelva a intentarlo más tarde."
        )
    assert not IndicatorSnapshot.objects.exists()


@pytest.mark.django_db
def test_a_snapshot_without_a_requested_dimension_is_being_prepared_not_computed(client, three_reports):
    """A dimension added after the last refresh is neither shown empty nor computed on the request."""
    indicator_snapshots_refresh()
    snapshot = IndicatorSnapshot.objects.get(period="trailing_year")
    snapshot.results = [pair for pair in snapshot.results if pair[0] != "commune"]
    snapshot.save()

    assert published_indicators("trailing_year", [None, "commune"]) is None
    response, _ = get_reading_no_report(client, "/transparencia/datos/indicadores.json")
    assert response.status_code == 503
    _, page = get_reading_no_report(client, "/transparencia/")  # the page's own dimensions are all there
    assert '<dd id="headline-volume">3</dd>' in page


@pytest.mark.django_db
def test_the_notices_speak_english_when_asked(client, three_reports, settings):
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}
    _, preparing = get_reading_no_report(client, "/transparencia/", **english)
    assert (
        "The figures have not been calculated yet. They are calculated periodically and will appear here when"
        in preparing
    )
    settings.GEO_SIAC_INDICATORS_MAX_AGE_MINUTES = 30
    indicator_snapshots_refresh(as_of=timezone.now() - timedelta(hours=2))
    _, stale = get_reading_no_report(client, "/transparencia/compromisos/", **english)
    assert "Data as of " in stale
    assert "These figures have not been updated since that date: they do not include the requests" in stale
    response, body = get_reading_no_report(client, "/transparencia/datos/indicadores.json?periodo=2020", **english)
    assert response.status_code == 404  # a named period never stored is still refused, as before


@pytest.mark.django_db
def test_health_reports_a_missing_then_stale_snapshot_and_stays_one_quick_query(
    client, three_reports, settings, django_assert_max_num_queries
):
    settings.GEO_SIAC_INDICATORS_MAX_AGE_MINUTES = 30

    missing = client.get("/salud/")
    indicator_snapshots_refresh(as_of=timezone.now() - timedelta(minutes=31))
    stale = client.get("/salud/")
    indicator_snapshots_refresh()
    with django_assert_max_num_queries(2):  # SELECT 1, then the snapshots' dates
        fresh = client.get("/salud/")

    assert [r.status_code for r in (missing, stale, fresh)] == [200, 200, 200]  # a balancer keeps the servers
    assert missing.json()["status"] == "degraded" and missing.json()["indicators"]["status"] == "missing"
    assert stale.json()["status"] == "degraded" and stale.json()["indicators"]["status"] == "stale"
    assert stale.json()["indicators"]["max_age_minutes"] == 30
    assert fresh.json()["status"] == "ok" and fresh.json()["indicators"]["status"] == "ok"
    assert fresh.json()["indicators"]["as_of"] == IndicatorSnapshot.objects.order_by("as_of")[0].as_of.isoformat()


@pytest.mark.django_db
def test_the_preparing_page_is_cached_by_no_one_so_the_figures_show_once_stored(client, three_reports):
    cache.clear()
    for url in PAGES:
        preparing = client.get(url)
        assert 'id="preparing-notice"' in preparing.content.decode()
        assert "no-store" in preparing["Cache-Control"] and "private" in preparing["Cache-Control"]

    call_command("refresh_indicators", stdout=StringIO())

    for url in PAGES:
        shown = client.get(url)
        assert 'id="preparing-notice"' not in shown.content.decode() and 'id="as-of"' in shown.content.decode()
        assert "max-age=300" in shown["Cache-Control"]  # figures are cached as before
    assert '<dd id="headline-volume">3</dd>' in client.get("/transparencia/").content.decode()


def _without_dimension(period: str, dimension: str) -> None:
    snapshot = IndicatorSnapshot.objects.get(period=period)
    snapshot.results = [pair for pair in snapshot.results if pair[0] != dimension]
    snapshot.save()


@pytest.mark.django_db
def test_the_timer_run_stores_again_a_named_period_lacking_a_dimension_at_its_own_as_of(client, three_reports):
    """A dimension added by a release: the year's page says "being prepared", /salud/ says so, and the next timer
    run (no --period) mends it, judged at the instant it was first stored."""
    year = f"{timezone.localdate():%Y}"
    call_command("refresh_indicators", "--period", year, stdout=StringIO())
    call_command("refresh_indicators", stdout=StringIO())
    stored_at = IndicatorSnapshot.objects.get(period=year).as_of
    _without_dimension(year, "zone")
    cache.clear()

    health = client.get("/salud/").json()
    assert health["status"] == "degraded" and health["indicators"]["status"] == "missing"
    assert health["indicators"]["incomplete"] == [year]
    assert 'id="preparing-notice"' in client.get(f"/transparencia/?periodo={year}").content.decode()

    out = StringIO()
    call_command("refresh_indicators", stdout=out)

    assert f"{year}: " in out.getvalue()
    mended = IndicatorSnapshot.objects.get(period=year)
    assert mended.as_of == stored_at and "zone" in selectors.decode_results(mended.results)
    health = client.get("/salud/").json()
    assert health["status"] == "ok" and health["indicators"]["incomplete"] == []
    page = client.get(f"/transparencia/?periodo={year}").content.decode()
    assert 'id="preparing-notice"' not in page and '<dd id="headline-volume">3</dd>' in page


@pytest.mark.django_db
def test_each_timer_run_mends_a_bounded_number_of_named_periods_oldest_first(three_reports, monkeypatch):
    monkeypatch.setattr(refresh_indicators, "MENDED_PER_RUN", 1)
    today = timezone.localdate()
    month, year = f"{today:%Y-%m}", f"{today:%Y}"
    for period in (month, year):  # the month stored first, so the older
        call_command("refresh_indicators", "--period", period, stdout=StringIO())
        _without_dimension(period, "month")

    call_command("refresh_indicators", stdout=StringIO())
    assert [period for period, _as_of in selectors.incomplete_snapshots()] == [year]
    call_command("refresh_indicators", stdout=StringIO())
    assert selectors.incomplete_snapshots() == []


@pytest.mark.django_db(transaction=True)
def test_a_refresh_waits_for_another_and_then_stores_the_relative_periods(three_reports):
    other = other_session()
    with other.cursor() as cursor:  # a --period history run, inside its transaction
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_lock_id(REFRESH_LOCK)])
    release = threading.Timer(1.5, other.rollback)
    release.start()
    try:
        call_command("refresh_indicators", stdout=StringIO())
    finally:
        release.join()
        other.close()
    assert IndicatorSnapshot.objects.count() == len(selectors.PUBLISHED)


@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_waits_too_long_fails_on_stderr_computing_nothing(three_reports, monkeypatch):
    monkeypatch.setattr(services, "REFRESH_LOCK_WAIT_SECONDS", 1)
    other = other_session()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_lock_id(REFRESH_LOCK)])
        for arguments in ([], ["--period", "trailing_year"]):  # the timer's run and one by hand
            with pytest.raises(CommandError, match="Otro refresh_indicators calcula los indicadores desde hace más"):
                call_command("refresh_indicators", *arguments, stdout=StringIO())
        assert not IndicatorSnapshot.objects.exists()
    finally:
        other.rollback()
        other.close()
    call_command("refresh_indicators", stdout=StringIO())
    assert IndicatorSnapshot.objects.count() == len(selectors.PUBLISHED)


@pytest.mark.django_db(transaction=True)
def test_pages_show_the_old_figures_while_a_refresh_is_halfway_then_the_new_ones(
    three_reports, make_report, monkeypatch
):
    """The real refresh, stopped after it rewrote the last 365 days and before the other periods: a request meanwhile
    reads the snapshot as it was (one transaction stores them all), then the new figures once it commits."""
    indicator_snapshots_refresh()
    make_report()
    halfway, resume = threading.Event(), threading.Event()
    real = selectors.compute_published

    def compute_and_pause(period, *args, **kwargs):
        if period == "last_month":  # trailing_year is already written, uncommitted
            halfway.set()
            assert resume.wait(timeout=30)
        return real(period, *args, **kwargs)

    monkeypatch.setattr(services, "compute_published", compute_and_pause)
    failures = []

    def refresh():
        try:
            indicator_snapshots_refresh()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    cache.clear()
    thread = threading.Thread(target=refresh)
    thread.start()
    try:
        assert halfway.wait(timeout=30)
        _, during = get_reading_no_report(Client(), "/transparencia/")
    finally:
        resume.set()
        thread.join(timeout=60)
    assert failures == []
    assert '<dd id="headline-volume">3</dd>' in during
    cache.clear()
    assert '<dd id="headline-volume">4</dd>' in get_reading_no_report(Client(), "/transparencia/")[1]


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_once_without_a_snapshot_compute_nothing(three_reports, monkeypatch):
    computed = []
    real = selectors.indicators_by
    monkeypatch.setattr(selectors, "indicators_by", lambda *a, **k: computed.append(a) or real(*a, **k))
    barrier = threading.Barrier(2)
    pages = []

    def visit():
        try:
            barrier.wait(timeout=10)
            pages.append(Client().get("/transparencia/").content.decode())
        finally:
            connection.close()  # each thread's own database session

    threads = [threading.Thread(target=visit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(pages) == 2 and all('id="preparing-notice"' in page for page in pages)
    assert computed == [] and not IndicatorSnapshot.objects.exists()


@pytest.mark.django_db
def test_mending_keeps_a_named_snapshot_whose_reports_left_the_live_tables(three_reports):
    """A year archived after its figures were published has no live reports: the timer's mending must keep its
    snapshot (it is the only copy of those figures), not delete it as a refresh by hand of an empty year does."""
    year = f"{timezone.localdate():%Y}"
    call_command("refresh_indicators", "--period", year, stdout=StringIO())
    published = IndicatorSnapshot.objects.get(period=year)
    earlier = str(int(year) - 1)  # three_reports are all of this year: the year before has no live report
    IndicatorSnapshot.objects.create(
        period=earlier,
        start=published.start.replace(year=int(earlier)),
        end=published.end.replace(year=int(earlier)),
        as_of=published.as_of,
        results=published.results,
    )
    _without_dimension(earlier, "month")
    assert [period for period, _as_of in selectors.incomplete_snapshots()] == [earlier]

    call_command("refresh_indicators", stdout=StringIO())
    kept = IndicatorSnapshot.objects.get(period=earlier)
    assert kept.results == [pair for pair in published.results if pair[0] != "month"]
    call_command("refresh_indicators", "--period", earlier, stdout=StringIO())  # by hand: an empty year is not offered
    assert not IndicatorSnapshot.objects.filter(period=earlier).exists()


def _without_parts(period: str) -> None:
    """The snapshot as stored before each row carried its service requests' and other kinds' figures."""

    def strip(value):
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key != "parts"}
        return [strip(item) for item in value] if isinstance(value, list) else value

    snapshot = IndicatorSnapshot.objects.get(period=period)
    IndicatorSnapshot.objects.filter(pk=snapshot.pk).update(results=strip(snapshot.results))


@pytest.mark.django_db
def test_a_snapshot_stored_before_its_rows_had_parts_is_mended(client, three_reports):
    month = f"{timezone.localdate():%Y-%m}"
    call_command("refresh_indicators", "--period", month, stdout=StringIO())
    assert month not in [period for period, _as_of in selectors.incomplete_snapshots()]
    _without_parts(month)
    assert month in [period for period, _as_of in selectors.incomplete_snapshots()]
    call_command("refresh_indicators", stdout=StringIO())
    assert month not in [period for period, _as_of in selectors.incomplete_snapshots()]
    page = client.get(f"/transparencia/?periodo={month}").content.decode()
    assert ">None<" not in page and "None</dd>" not in page
