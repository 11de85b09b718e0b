"""The published indicators: `manage.py refresh_indicators` stores them and the public pages and exports read the
stored snapshot (test_snapshot_freshness: a stale or missing one, never computed on a request)."""

import json
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.transparency.models import IndicatorSnapshot
from geo_siac.transparency.selectors import (
    DIMENSIONS,
    PUBLISHED,
    compute_published,
    decode_results,
    encode_results,
)
from geo_siac.transparency.services import indicator_snapshots_refresh


@pytest.fixture
def three_reports(make_report):
    reports = [make_report(channel=channel) for channel in ("web", "phone", "web")]
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=reports[0], status="resolved")
    return reports


def refresh() -> str:
    out = StringIO()
    call_command("refresh_indicators", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_refresh_stores_every_published_period_as_computed_at_that_instant(three_reports):
    out = refresh()

    assert IndicatorSnapshot.objects.count() == len(PUBLISHED)
    assert "trailing_year:" in out and "3 reports" in out
    for snapshot in IndicatorSnapshot.objects.all():
        live = compute_published(snapshot.period, as_of=snapshot.as_of)
        assert (snapshot.start, snapshot.end) == (live.start, live.end)
        assert decode_results(snapshot.results) == live.results
    year = decode_results(IndicatorSnapshot.objects.get(period="trailing_year").results)
    assert set(year) == {None, *DIMENSIONS}
    assert year[None][None]["volume"] == 3 and year["channel"]["web"]["closed"] == 1


@pytest.mark.django_db
def test_stored_month_keys_come_back_as_the_same_months(three_reports):
    live = compute_published("trailing_year", ["month"], as_of=timezone.now()).results

    stored = decode_results(json.loads(json.dumps(encode_results(live))))

    assert stored == live
    assert [month.strftime("%Y-%m") for month in stored["month"]] == [timezone.localdate().strftime("%Y-%m")]


@pytest.mark.django_db
def test_pages_and_exports_read_the_fresh_snapshot_not_the_reports(client, three_reports, make_report):
    refresh()
    make_report()  # arrives after the snapshot: not shown until the next refresh

    page = client.get("/transparencia/").content.decode()
    data = client.get("/transparencia/datos/indicadores.json").json()

    assert '<dd id="headline-volume">3</dd>' in page
    assert 'id="as-of"' in page
    overall_by_commune = next(r for r in data["indicators"] if r["dimension"] == "commune")
    assert overall_by_commune["volume"] == 3
    as_of = datetime.fromisoformat(data["as_of"].replace("Z", "+00:00"))
    assert abs(as_of - IndicatorSnapshot.objects.get(period="trailing_year").as_of) < timedelta(milliseconds=1)


@pytest.mark.django_db
def test_commitments_page_reads_both_periods_from_their_snapshots(client, three_reports, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 3  # the charter shows a share from k requests
    refresh()
    IndicatorSnapshot.objects.filter(period="last_twelve_months").update(
        results=[
            [
                "commune_category",
                [
                    [
                        "13201/retiro-escombros",
                        {
                            **compute_published("trailing_year", ["commune_category"], as_of=timezone.now()).results[
                                "commune_category"
                            ]["13201/retiro-escombros"],
                            "deadline_met_share": 0.42,
                        },
                    ]
                ],
            ]
        ]
    )

    page = client.get("/transparencia/compromisos/").content.decode()

    assert "42 %" in page


@pytest.mark.django_db
def test_an_unknown_period_is_refused_and_nothing_is_stored(three_reports):
    with pytest.raises(CommandError, match="Periodo desconocido «last_week»"):
        call_command("refresh_indicators", "--period", "last_week", stdout=StringIO())
    with pytest.raises(ValueError, match="Periodo desconocido «last_week»"):
        indicator_snapshots_refresh(periods=["trailing_year", "last_week"])

    assert not IndicatorSnapshot.objects.exists()
