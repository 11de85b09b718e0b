"""Named periods (a calendar year, a calendar month): stored by `refresh_indicators --period` and `--as-of`, offered
by the public page's period selector, and served, with the map cells and the indicator exports, from the stored
snapshots. Bad period values are plain-text errors, never markup."""

import csv
import io
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from geo_siac.transparency.models import IndicatorSnapshot
from geo_siac.transparency.periods import named_period, parse_month
from geo_siac.transparency.selectors import decode_results, local_midnight

INJECTED = '<meta http-equiv="refresh" content="0;url=https://evil.example/">'


def refresh(*args) -> str:
    out = StringIO()
    call_command("refresh_indicators", *args, stdout=out)
    return out.getvalue()


def text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def history(communes, tmp_path, settings):
    """Five debris reports imported with the bulk importer, received in March two years ago at one place (k = 5),
    four resolved and one still open; returns that year."""
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 5
    year = timezone.localdate().year - 2
    lines = ["source_id,created_at,closed_at,service_code,channel,status,lat,lng,description,address"]
    for n in range(5):
        closed = f"{year}-03-{12 + n}T12:00:00-03:00" if n else ""
        lines.append(
            f"h{n},{year}-03-{10 + n}T10:00:00-03:00,{closed},retiro-escombros,phone,"
            f"{'resolved' if n else 'in_progress'},-33.6117,-70.5758,Escombros,"
        )
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    call_command("import_reports", str(path), "--commit", "--no-progress", stdout=StringIO())
    return year


@pytest.mark.django_db
def test_imported_history_is_published_by_year_and_month_on_the_page_the_map_and_the_exports(client, history):
    out = refresh("--period", str(history), "--period", f"{history}-03", "--period", "trailing_year")

    assert f"{history}: {history}-01-01 to {history + 1}-01-01 (excluded), 5 reports" in out
    assert f"{history}-03: {history}-03-01 to {history}-04-01 (excluded), 5 reports" in out
    latest = client.get("/transparencia/").content.decode()
    assert "Aún no hay solicitudes en este periodo." in latest  # the last 365 days hold none of them
    assert f'<option value="{history}">{history}</option>' in latest
    assert f'<option value="{history}-03">marzo de {history}</option>' in latest
    assert f'value="{history}-04"' not in latest  # only stored periods are offered

    for period in (str(history), f"{history}-03"):
        page = client.get(f"/transparencia/?periodo={period}").content.decode()
        assert '<dd id="headline-volume">5</dd>' in page
        assert f'<option value="{period}" selected>' in page
        assert f"celdas.geojson?periodo={period}" in page
        cells = client.get(f"/transparencia/celdas.geojson?periodo={period}").json()
        assert [feature["properties"]["count"] for feature in cells["features"]] == [5]
        exported = text(client.get(f"/transparencia/datos/indicadores.csv?periodo={period}"))
        rows = list(csv.DictReader(io.StringIO(exported)))
        assert [(r["value"], r["part"], r["volume"]) for r in rows if r["dimension"] == "commune"] == [
            ("13201", "service_request", "5"),
            ("13201", "other_kinds", "0"),
        ]
        data = client.get(f"/transparencia/datos/indicadores.json?periodo={period}").json()
        assert data["period"] == period
        assert [r["backlog"] for r in data["indicators"] if r["dimension"] == "commune"] == [1, 0]
    assert client.get("/transparencia/celdas.geojson").json()["features"] == []
    assert (
        "marzo de"
        in client.get(f"/transparencia/?periodo={history}-03")
        .content.decode()
        .split('id="period-name">')[1]
        .split("</span>")[0]
    )


@pytest.mark.django_db
def test_the_period_selector_is_a_labelled_select_in_a_get_form_with_a_button(client, history):
    refresh("--period", str(history))

    form = client.get("/transparencia/").content.decode().split('<form method="get"')[1].split("</form>")[0]

    assert '<label for="period-select">Periodo</label>' in form
    assert '<select id="period-select" name="periodo">' in form
    assert '<option value="">Últimos 12 meses</option>' in form
    assert '<button type="submit">Ver</button>' in form


@pytest.mark.django_db
def test_the_period_selector_speaks_english(client, history):
    refresh("--period", f"{history}-03")

    page = client.get(f"/transparencia/?periodo={history}-03", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert f">March {history}</option>" in page and "Last 12 months" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/transparencia/",
        "/transparencia/celdas.geojson",
        "/transparencia/datos/indicadores.csv",
        "/transparencia/datos/indicadores.json",
    ],
)
@pytest.mark.parametrize(
    "value,status,names",
    [
        ("2024-13", 400, "AAAA-MM"),
        ("marzo", 400, "AAAA"),
        ("1969", 400, "1970"),
        ("2024-3", 400, "AAAA-MM"),
        (INJECTED, 400, "AAAA"),
        ("2019", 404, "2019"),
        ("2019-02", 404, "2019-02"),
    ],
)
def test_a_bad_or_unpublished_period_is_a_plain_text_error(client, communes, url, value, status, names):
    response = client.get(url, {"periodo": value})

    assert response.status_code == status
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert names in response.content.decode()


@pytest.mark.django_db
def test_as_of_publishes_the_month_and_year_of_that_day_judged_at_its_end(history):
    out = refresh("--as-of", f"{history}-03-31")

    snapshots = {s.period: s for s in IndicatorSnapshot.objects.all()}
    assert set(snapshots) == {str(history), f"{history}-03"}
    assert {s.as_of for s in snapshots.values()} == {local_midnight(date(history, 4, 1))}
    assert "5 reports" in out
    # The open report's age is judged at the end of 31 March, not now.
    received = datetime(history, 3, 10, 10, tzinfo=dt_timezone(timedelta(hours=-3)))
    age = decode_results(snapshots[f"{history}-03"].results)[None][None]["backlog_oldest_age_days"]
    assert age == (local_midnight(date(history, 4, 1)) - received).total_seconds() / 86400


@pytest.mark.django_db
def test_a_named_period_without_reports_is_not_published_and_its_old_snapshot_goes(history):
    refresh("--period", f"{history}-03")
    IndicatorSnapshot.objects.filter(period=f"{history}-03").update(period=f"{history}-05")

    out = refresh("--period", f"{history}-05")

    assert f"{history}-05: no reports, not published" in out
    assert not IndicatorSnapshot.objects.filter(period=f"{history}-05").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args,message",
    [
        (["--period", "last_week"], "Periodo desconocido «last_week»"),
        (["--period", "2024-13"], "AAAA-MM"),
        (["--period", "1960"], "entre 1970 y 2100"),
        (["--as-of", "31-12-2024"], "--as-of debe ser una fecha AAAA-MM-DD"),
        (["--as-of", "2999-01-01"], "es una fecha futura"),
        (["--as-of", "2024-12-31", "--period", "trailing_year"], "no se aplica a los periodos relativos"),
        (["--as-of", "2024-12-31", "--period", "2025"], "El periodo 2025 empieza el 2025-01-01, no antes"),
        (["--period", "trailing_year", "--period", "2099"], "El periodo 2099 empieza el 2099-01-01"),
    ],
)
def test_refresh_refuses_bad_periods_and_dates_and_stores_nothing(communes, args, message):
    with pytest.raises(CommandError, match=message):
        refresh(*args)

    assert not IndicatorSnapshot.objects.exists()


def test_named_periods_cover_their_calendar_days():
    assert named_period("2024") == (date(2024, 1, 1), date(2025, 1, 1))
    assert named_period("2024-12") == (date(2024, 12, 1), date(2025, 1, 1))
    assert named_period("2024-02") == (date(2024, 2, 1), date(2024, 3, 1))
    assert parse_month("2026-10") == date(2026, 10, 1)
    with translation.override("es"), pytest.raises(ValueError, match="AAAA-MM"):
        parse_month("2026-10-01")
    with translation.override("es"), pytest.raises(ValueError, match="AAAA"):
        named_period(" 2024")
