"""Small counts by channel and by kind of request on every public output (docs/transparency.md, "Small counts"):
a month with one request through a service point's suggestion box and 30 by web. The one is never shown, and no
published total minus the counts shown gives it back; the staff's own figures stay exact."""

import csv
import io
import json
from datetime import datetime
from unittest.mock import patch

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.services import report_create
from geo_siac.reports.states import DIGITAL_CHANNELS, Channel
from geo_siac.testing import staff_account
from geo_siac.transparency.selectors import (
    SMALL_COUNTS,
    indicators,
    indicators_by,
    public_indicators,
    transparency_reports,
)
from geo_siac.zones.models import ServicePoint, ServicePointKind

K = 5
BOX = Channel.SUGGESTION_BOX.value
BOX_LABEL = str(Channel.SUGGESTION_BOX.label)


def at(month: int, day: int):
    return patch("django.utils.timezone.now", return_value=datetime(2026, month, day, 10, tzinfo=SANTIAGO))


@pytest.fixture
def month(settings, communes, make_report):
    """October 2026: 30 web service requests and one suggestion left in a desk's QR box; its snapshots stored."""
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    desk = ServicePoint.objects.create(
        name="Mesón OIRS Bajos de Mena",
        kind=ServicePointKind.MUNICIPAL_OFFICE,
        commune=communes["13201"],
        point=Point(-70.5759, -33.6106, srid=4326),
        address="Av. Concha y Toro 1820, Puente Alto",
        opening_hours={},
    )
    with at(10, 5):
        for _ in range(30):
            make_report(channel="web")
        report_create(
            kind=RequestKind.SUGGESTION,
            category="sugerencia",
            commune=communes["13201"],
            channel=BOX,
            received_at=desk,
            description="Que la atención nocturna abra también los martes.",
        )
    call_command("refresh_indicators", stdout=io.StringIO())
    call_command("refresh_indicators", "--period", "2026-10", stdout=io.StringIO())
    return desk


def body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def assert_not_derivable(public: dict, exact: dict, dimension: str) -> None:
    """Each group of values with a published total (SMALL_COUNTS) shows only counts (of other kinds than service
    requests, for a channel) of 0 or at least k, and hides none or at least two, so that its total minus the
    counts shown never gives one back."""
    counted, partition = SMALL_COUNTS[dimension]
    for part in partition:
        shown = [value for value in part if value in public and public[value]["volume"] is not None]
        hidden = [value for value in part if value in public and public[value]["volume"] is None]
        assert all(counted(exact[value]) == 0 or counted(exact[value]) >= K for value in shown), (part, exact)
        assert len(hidden) != 1, (part, hidden)


def test_public_indicator_exports_hide_the_one_box_request_and_its_partner(client, month):
    for query in ("", "?periodo=2026-10"):
        records = json.loads(client.get(f"/transparencia/datos/indicadores.json{query}").content)["indicators"]
        assert not any("channel_mix" in record for record in records)
        by = {}
        for record in records:
            by.setdefault(record["dimension"], {})[record["value"]] = record
        overall_volume = sum(r["volume"] for r in by["commune"].values())
        assert overall_volume == 31 and by["channel"]["web"]["volume"] == 30
        box = by["channel"][BOX]
        assert box["volume"] is None and box["satisfaction_responses"] is None and box["digital_share"] is None
        hidden_digital = [c for c in DIGITAL_CHANNELS if c in by["channel"] and by["channel"][c]["volume"] is None]
        assert BOX in hidden_digital and len(hidden_digital) >= 2
        # The digital channels' published total (digital share x volume) minus the digital counts shown is the one
        # request, spread over at least two hidden channels: which one it came through cannot be told.
        month_row = by["month"]["2026-10"]
        digital_total = round(month_row["digital_share"] * month_row["volume"])
        shown_digital = sum(by["channel"][c]["volume"] or 0 for c in DIGITAL_CHANNELS if c in by["channel"])
        assert digital_total - shown_digital == 1
        exact = indicators_by(transparency_reports(), ["channel", "kind"])
        assert_not_derivable(by["channel"], exact["channel"], "channel")
        assert_not_derivable(by["kind"], exact["kind"], "kind")
        hidden_kinds = [kind for kind, r in by["kind"].items() if r["volume"] is None]
        assert RequestKind.SUGGESTION in hidden_kinds and len(hidden_kinds) >= 2
        assert by["kind"][RequestKind.SERVICE_REQUEST]["volume"] == 30

        rows = list(csv.DictReader(io.StringIO(body(client.get(f"/transparencia/datos/indicadores.csv{query}")))))
        channel_rows = {row["value"]: row for row in rows if row["dimension"] == "channel"}
        assert channel_rows[BOX]["volume"] == "" and channel_rows["web"]["volume"] == "30"
        assert sum(row["volume"] == "" for row in channel_rows.values()) >= 2
        kind_rows = {row["value"]: row for row in rows if row["dimension"] == "kind"}
        assert kind_rows[RequestKind.SUGGESTION]["volume"] == ""
        assert not any(row["volume"] in {"1", "2", "3", "4"} for row in rows if row["dimension"] in ("channel", "kind"))


def test_public_pages_do_not_name_the_box_channel(client, month):
    for url in ("/transparencia/", "/transparencia/?periodo=2026-10", "/transparencia/compromisos/"):
        page = client.get(url)
        assert page.status_code == 200 and BOX_LABEL not in page.content.decode()


def test_the_executive_report_hides_the_desks_one_request_and_its_channel(client, month):
    from pypdf import PdfReader

    client.force_login(staff_account("alcaldia", is_staff=True))
    html = client.get("/transparencia/informe/?commune=13201&month=2026-10").content.decode()
    row = html.split(f'<th scope="row">{month.name}</th>')[1].split("</tr>")[0]
    cells = [cell.removesuffix("</td>") for cell in row.split("<td>")[1:]]
    assert cells[:3] == [f"menos de {K}", "–", "–"]
    assert BOX_LABEL not in html

    pdf = client.get("/transparencia/informe/?commune=13201&month=2026-10&format=pdf").content
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert month.name.split()[0] in text and f"menos de {K}" in text
    assert "Buzón QR" not in text


def test_the_staff_figures_keep_the_exact_counts(client, month):
    by_channel = indicators(transparency_reports(), "channel")
    assert by_channel[BOX]["volume"] == 1 and by_channel["web"]["volume"] == 30
    assert indicators(transparency_reports())[None]["channel_mix"] == {"web": 30, BOX: 1}

    client.force_login(staff_account("oirs", is_staff=True))
    page = client.get("/atencion/eficiencia/", {"mes": "2026-10"}).content.decode()
    row = page.split(f'<th scope="row">{month.name}</th>')[1].split("</tr>")[0]
    assert f"<td>1</td><td>{BOX_LABEL}: 1</td>" in row


def test_a_snapshot_stored_before_service_requests_counts_every_request_as_of_another_kind():
    stored = {"channel": {"web": {"volume": 30}, "email": {"volume": 2}, "phone": {"volume": 7}}}
    shown = public_indicators(stored, K)["channel"]
    assert {value for value, row in shown.items() if row["volume"] is None} == {"email", "social"}
    assert shown["web"]["volume"] == 30 and shown["phone"]["volume"] == 7


@pytest.mark.parametrize(
    ("dimension", "counts", "hidden"),
    [
        # (volume, service requests): a channel's service requests are in the open data with their channel.
        ("channel", {"web": (30, 30), "phone": (2, 2)}, set()),
        # One request of another kind by web: web is hidden with a digital channel nobody used.
        ("channel", {"web": (30, 29), "phone": (20, 20)}, {"web", "email"}),
        # Open311 takes only service requests: shown, and never the stand-in.
        ("channel", {"open311": (2, 2), "web": (30, 30), BOX: (1, 0)}, {BOX, "email"}),
        # Two small counts hide each other; k or more of another kind is shown.
        ("channel", {"web": (30, 30), BOX: (1, 0), "email": (2, 0), "phone": (K, 0)}, {BOX, "email"}),
        # Without a channel nobody used in the group, the stand-in is the next smallest count, whatever it is.
        ("channel", {"phone": (9, 7), "in_person": (9, 0)}, {"phone", "in_person"}),
        ("kind", {"service_request": (30, 30), "complaint": (1, 0), "query": (7, 0)}, {"complaint", "suggestion"}),
        ("kind", {"service_request": (3, 3), "complaint": (9, 0)}, set()),
    ],
)
def test_each_group_has_no_hidden_count_or_at_least_two(dimension, counts, hidden):
    exact = {
        value: {"volume": n, "service_requests": service, "channel_mix": {}} for value, (n, service) in counts.items()
    }
    shown = public_indicators({dimension: exact}, K)[dimension]
    assert {value for value, row in shown.items() if row["volume"] is None} == hidden
    assert not any("channel_mix" in row or "service_requests" in row for row in shown.values())
    assert all(shown[value]["volume"] == n for value, (n, _) in counts.items() if value not in hidden)
    exact |= {value: {"volume": 0, "service_requests": 0} for value in shown if value not in exact}
    assert_not_derivable(shown, exact, dimension)
