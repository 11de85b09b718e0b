"""Small counts by channel and by kind of request on every public output (docs/transparency.md, "Small counts"):
a month with one request through a service point's suggestion box and 30 by web. The one is never shown, and no
published total minus the counts shown gives it back; the staff's own figures stay exact."""

import csv
import io
import json
import re
from datetime import datetime
from unittest.mock import patch

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.services import report_create
from geo_siac.reports.states import Channel
from geo_siac.testing import staff_account
from geo_siac.transparency.exports import dimension_value
from geo_siac.transparency.selectors import (
    DIMENSIONS,
    FULL_COUNT_DIMENSIONS,
    SMALL_COUNT_GROUPS,
    indicators,
    indicators_by,
    other_kinds,
    public_indicators,
    small_count_groups,
    transparency_reports,
)
from geo_siac.zones.models import ServicePoint, ServicePointKind

K = 5
BOX = Channel.SUGGESTION_BOX.value
BOX_LABEL = str(Channel.SUGGESTION_BOX.label)
DIGITAL_GROUP = SMALL_COUNT_GROUPS["channel"][0]
KINDS = RequestKind.values


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


def exact_rows() -> dict:
    """The staff's exact figures of every dimension, keyed as the exports write the values."""
    exact = indicators_by(transparency_reports(), list(DIMENSIONS))
    return {dimension: {dimension_value(v): r for v, r in rows.items()} for dimension, rows in exact.items()}


def assert_not_derivable(public: dict, exact: dict, dimension: str) -> None:
    """In each group of the dimension (small_count_groups): no row shown has from 1 to k-1 requests of other kinds
    than service requests, and the hidden rows are none, or at least two (but a group's only row) holding k
    requests at least, so that the group's total minus the rows shown gives neither a hidden count nor the figures
    of fewer than k requests (a zone counts every request, FULL_COUNT_DIMENSIONS)."""
    count = (lambda row: row["volume"]) if dimension in FULL_COUNT_DIMENSIONS else other_kinds
    assert set(exact) <= set(public), dimension
    for part in small_count_groups(dimension, exact):
        hidden = [value for value in part if value in public and public[value]["volume"] is None]
        shown = [value for value in part if value in public and public[value]["volume"] is not None]
        assert all(count(exact[value]) == 0 or count(exact[value]) >= K for value in shown), dimension
        assert len(hidden) != 1 or len(part) == 1, (dimension, hidden)
        assert not hidden or sum(exact[value]["volume"] for value in hidden if value in exact) >= K, dimension


def test_no_dimension_of_the_indicator_exports_gives_the_box_suggestions_figures(client, month):
    exact = exact_rows()
    suggestion_rows = {  # the rows whose requests of other kinds are the one suggestion
        "channel": BOX,
        "kind": RequestKind.SUGGESTION,
        "category": "sugerencia",
        "category_group": "atencion-ciudadana",
        "department": "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)",
    }
    for dimension, value in suggestion_rows.items():
        assert exact[dimension][value]["volume"] == 1, (dimension, value)
    for query in ("", "?periodo=2026-10"):
        records = json.loads(client.get(f"/transparencia/datos/indicadores.json{query}").content)["indicators"]
        assert not any("channel_mix" in record or "service_requests" in record for record in records)
        by = {}
        for record in records:
            by.setdefault(record["dimension"], {})[record["value"]] = record
        for dimension, value in suggestion_rows.items():
            row = by[dimension][value]
            assert row["volume"] is None and row["satisfaction_responses"] is None, (dimension, row)
            assert row["first_response_median_days"] is None and row["deadline_met_share"] is None
        for dimension in DIMENSIONS:
            assert_not_derivable(by[dimension], exact[dimension], dimension)
        # Neither the service requests' row beside the volume, nor the web's, gives the one suggestion back.
        assert by["kind"][RequestKind.SERVICE_REQUEST]["volume"] is None and by["channel"]["web"]["volume"] is None
        assert not any(record["volume"] in range(1, K) for record in records)

        rows = list(csv.DictReader(io.StringIO(body(client.get(f"/transparencia/datos/indicadores.csv{query}")))))
        assert {(row["dimension"], row["value"]) for row in rows} == {(r["dimension"], r["value"]) for r in records}
        for row in rows:
            if by[row["dimension"]][row["value"]]["volume"] is None:
                assert {row[column] for column in row if column not in ("dimension", "value")} == {""}, row
        assert not any(row["volume"] in {str(n) for n in range(1, K)} for row in rows)


def test_the_transparency_page_shows_no_figure_of_the_suggestions_category(client, month):
    for url in ("/transparencia/", "/transparencia/?periodo=2026-10"):
        page = client.get(url).content.decode()
        for label in ("Sugerencia", "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"):
            row = page.split(f'<th scope="row">{label}</th>')[1].split("</tr>")[0]
            assert "<td>cifras reservadas</td>" in row and row.count("<td>—</td>") == 6, row
        assert "<td>1</td>" not in page and 'id="withheld-note"' in page


def test_the_commitments_page_does_not_count_the_one_suggestion(client, month):
    page = client.get("/transparencia/compromisos/").content.decode()
    table = page.split('id="commitments-13201"')[1].split("</table>")[0]  # Puente Alto's, where the desk is
    row = table.split('<th scope="row">Sugerencia</th>')[1].split("</tr>")[0]
    assert row.count("sin solicitudes") == 1 and row.count("reservado") == 1, row
    assert "1 solicitud" not in page and 'id="reserved-note"' in page
    # Peñalolén's own charter reserves nothing: the note speaks only of the rows on its page.
    assert 'id="reserved-note"' not in client.get("/comuna/penalolen/transparencia/compromisos/").content.decode()


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
    assert {value for value, row in shown.items() if row["volume"] is None} == set(DIGITAL_GROUP)
    assert shown["phone"]["volume"] == 7


@pytest.mark.parametrize(
    ("dimension", "counts", "hidden"),
    [
        # (volume, service requests): a channel's service requests are in the open data with their channel.
        ("channel", {"web": (30, 30), "phone": (2, 2)}, set()),
        # One request of another kind by web: web is hidden with a digital channel nobody used.
        ("channel", {"web": (30, 29), "phone": (20, 20)}, {"web", "email"}),
        # Open311 takes only service requests: shown, and never a stand-in; the stand-ins hold k requests at least.
        ("channel", {"open311": (2, 2), "web": (30, 30), BOX: (1, 0)}, {*DIGITAL_GROUP} - {"open311"}),
        ("channel", {"open311": (2, 2), "web": (30, 30), "sms": (4, 4), BOX: (1, 0)}, {*DIGITAL_GROUP} - {"web"}),
        # Two small counts hide each other with k requests at least; k or more of another kind is shown.
        ("channel", {"web": (30, 30), BOX: (2, 0), "email": (3, 0), "phone": (K, 0)}, {BOX, "email"}),
        # Without a channel nobody used in the group, the stand-in is the next smallest count, whatever it is.
        ("channel", {"phone": (9, 7), "in_person": (9, 0)}, {"phone", "in_person"}),
        # The service requests' row is a stand-in too: the volume minus it would give the other kinds' figures.
        ("kind", {"service_request": (30, 30), "complaint": (1, 0), "query": (7, 0)}, {*KINDS} - {"query"}),
        ("kind", {"service_request": (30, 30), "complaint": (2, 0), "query": (3, 0)}, {"complaint", "query"}),
        # Every other dimension is one group of its values; rows of service requests alone are shown.
        (
            "category",
            {"baches": (2, 2), "luminarias": (40, 40), "sugerencia": (1, 0)},
            {"sugerencia", "baches", "luminarias"},
        ),
        (
            "category",
            {"baches": (2, 2), "luminarias": (4, 4), "sugerencia": (1, 0), "otros": (40, 40)},
            {"sugerencia", "baches", "luminarias"},
        ),
        ("department", {"Obras": (2, 2), "OIRS": (K, 0)}, set()),
        ("category", {"baches": (1, 1), "luminarias": (40, 40), "sugerencia": (K, 0)}, set()),
        # A group's only row is hidden alone: its figures are the overall's, of k requests and more.
        ("commune", {"13201": (31, 30)}, {"13201"}),
        ("month", {"2026-09": (3, 3), "2026-10": (31, 30)}, {"2026-09", "2026-10"}),
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


def test_the_charter_gives_only_the_share_of_a_category_in_a_comuna_of_k_requests():
    from geo_siac.transparency.selectors import charter_compliance

    exact = {
        "13201/baches": {"volume": K, "service_requests": K, "deadline_met_share": 0.8, "channel_mix": {}},
        "13122/baches": {"volume": K - 1, "service_requests": K - 1, "deadline_met_share": 0.5, "channel_mix": {}},
    }
    assert charter_compliance(exact, K) == {
        "13201/baches": {"reserved": False, "deadline_met_share": 0.8},
        "13122/baches": {"reserved": True},
    }


def test_a_chart_whose_bars_are_all_withheld_says_so_instead_of_standing_empty():
    from django.template.loader import render_to_string

    from geo_siac.transparency.charts import indicator_chart

    chart = indicator_chart([("2026-10", {"volume": None})], lambda r: (r["volume"], str(r["volume"])))
    svg = render_to_string("transparency/_bar_chart.html", {"chart": chart, "chart_id": "c"})
    assert "Sin cifras que mostrar en este período." in svg


def test_a_hidden_zone_has_no_line_and_no_words_in_the_zone_chart(client, settings, crews, make_report):
    """One complaint from the east zone, below k: its row is withheld, and the chart neither draws it nor says
    "sin solicitudes" of it (which would be false, and tell the hidden count is not 0)."""
    from geo_siac.reports.models import Report
    from geo_siac.testing import EAST_POINT, GAP_POINT, WEST_POINT
    from geo_siac.transparency.services import indicator_snapshots_refresh

    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    for point in [WEST_POINT] * 8 + [GAP_POINT] * 6:
        make_report(point=point)
    complaint = make_report(point=EAST_POINT)
    Report.objects.filter(pk=complaint.pk).update(kind=RequestKind.COMPLAINT)  # placed, so routed to its zone
    assert Report.objects.get(pk=complaint.pk).zone == crews["east"]
    indicator_snapshots_refresh()

    zones = client.get("/transparencia/").content.decode().split('id="by-zone"')[1]
    chart, table = zones.split("</svg>")
    assert "Oriente" not in chart and "sin solicitudes" not in chart
    row = table.split('<th scope="row">Oriente (Puente Alto)</th>')[1].split("</tr>")[0]
    assert "<td>cifras reservadas</td>" in row and "<td>0</td>" not in row and "<td>1</td>" not in table


def test_the_by_channel_tables_name_no_hidden_channel_and_say_some_are_reserved(client, month):
    page = client.get("/transparencia/?periodo=2026-10").content.decode()
    by_channel = page.split('id="by-channel"')[1].split("</table>")[0]
    assert BOX_LABEL not in by_channel and ">Web<" not in by_channel  # the web's 30 hide the box's one
    assert re.search(r'<th scope="row">Otros</th>\s*<td>cifras reservadas</td>', by_channel)


def test_a_zone_of_two_service_requests_is_hidden_with_a_stand_in():
    """A zone counts its whole volume (FULL_COUNT_DIMENSIONS): a zone's median closing time of one or two service
    requests would be theirs in the open data, and place them in the zone."""
    exact = {
        "east": {"volume": 2, "service_requests": 2, "channel_mix": {}},
        "west": {"volume": 30, "service_requests": 30, "channel_mix": {}},
    }
    shown = public_indicators({"zone": exact}, K)["zone"]
    assert shown["east"]["volume"] is None and shown["west"]["volume"] is None
    assert public_indicators({"category": exact}, K)["category"]["east"]["volume"] == 2
