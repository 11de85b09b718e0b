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
    PARTS,
    SMALL_COUNT_GROUPS,
    indicators,
    indicators_by,
    public_indicators,
    small_count_groups,
    transparency_reports,
)
from geo_siac.zones.models import ServicePoint, ServicePointKind

K = 5
BOX = Channel.SUGGESTION_BOX.value
BOX_LABEL = str(Channel.SUGGESTION_BOX.label)
DIGITAL_GROUP, NON_DIGITAL_GROUP = SMALL_COUNT_GROUPS["channel"]
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


def part_of(row: dict, part: str) -> dict:
    """A public row's figures of one part: its own (service requests) or its other kinds'."""
    return row if part == "service_request" else row["other_kinds"]


def assert_not_derivable(public: dict, exact: dict, dimension: str) -> None:
    """For each part of the rows (PARTS): the service requests' always shown (but in FULL_COUNT_DIMENSIONS); the
    other kinds' (and in FULL_COUNT_DIMENSIONS the service requests') never shown with 1 to k-1 requests, and in
    each group (small_count_groups) the hidden parts none, or at least two (but a group's only value), holding k
    requests at least over the dimension or being all of it, so that no total minus the parts shown gives a hidden
    count or the figures of fewer than k requests."""
    assert set(exact) <= set(public), dimension
    for part in PARTS:
        size = {value: exact[value]["parts"][part]["volume"] if value in exact else 0 for value in public}
        shown_of = {value: part_of(row, part)["volume"] for value, row in public.items()}
        if part == "service_request" and dimension not in FULL_COUNT_DIMENSIONS:
            assert all(shown_of[value] == size[value] for value in exact), dimension
            continue
        grouped = [value for group in small_count_groups(dimension, exact) for value in group if value in public]
        hidden = [value for value in grouped if shown_of[value] is None]
        for group in small_count_groups(dimension, exact):
            in_group = [value for value in group if value in hidden]
            assert len(in_group) != 1 or len(group) == 1, (dimension, part, in_group)
        assert all(size[value] == 0 or size[value] >= K for value in grouped if value not in hidden), dimension
        assert not hidden or sum(size[v] for v in hidden) >= K or set(hidden) == set(grouped), (dimension, part)


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
            by.setdefault(record["dimension"], {}).setdefault(record["value"], {})[record["part"]] = record
        for dimension, value in suggestion_rows.items():
            service, other = by[dimension][value]["service_request"], by[dimension][value]["other_kinds"]
            assert service["volume"] == 0 and other["volume"] is None, (dimension, other)
            assert other["satisfaction_responses"] is None and other["first_response_median_days"] is None
            assert other["deadline_met_share"] is None
        for dimension in DIMENSIONS:
            public = {
                value: {**parts["service_request"], "other_kinds": parts["other_kinds"]}
                for value, parts in by[dimension].items()
            }
            assert_not_derivable(public, exact[dimension], dimension)
        # The service requests are shown whole; the web's other kinds (none) are hidden beside the box's one.
        assert by["kind"][RequestKind.SERVICE_REQUEST]["service_request"]["volume"] == 30
        assert by["channel"]["web"]["service_request"]["volume"] == 30
        assert by["channel"]["web"]["other_kinds"]["volume"] is None
        assert not any(record["volume"] in range(1, K) for record in records if record["dimension"] is not None)

        rows = list(csv.DictReader(io.StringIO(body(client.get(f"/transparencia/datos/indicadores.csv{query}")))))
        assert {(row["dimension"], row["value"], row["part"]) for row in rows} == {
            (r["dimension"] or "", r["value"], r["part"]) for r in records
        }
        for row in rows:
            if by[row["dimension"] or None][row["value"]][row["part"]]["volume"] is None:
                assert {row[column] for column in row if column not in ("dimension", "value", "part")} == {""}, row


def test_the_transparency_page_shows_no_figure_of_the_suggestions_category(client, month):
    for url in ("/transparencia/", "/transparencia/?periodo=2026-10"):
        page = client.get(url).content.decode()
        for label in ("Sugerencia", "Oficina de Informaciones, Reclamos y Sugerencias (OIRS)"):
            row = page.split(f'<th scope="row">{label}</th>')[1].split("</tr>")[0]
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
            assert cells == ["0", "—", "—", "—", "—", "—", "0", "cifras reservadas"], row
        assert '<dd id="headline-volume">30</dd>' in page
        assert '<dd id="headline-other-kinds">1: cifras reservadas</dd>' in page
        assert not re.search(r"<td[^>]*>1</td>", page) and 'id="withheld-note"' in page


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
    by_kind = html.split('id="by-kind"')[1].split("</table>")[0]  # hidden kinds named, as on /transparencia/
    assert '<th scope="row">Sugerencia</th><td>cifras reservadas</td>' in by_kind and "Otros" not in by_kind
    assert '<th scope="row">Solicitud de servicio</th><td>30</td>' in by_kind

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


def test_a_snapshot_stored_before_parts_counts_every_request_as_of_another_kind():
    stored = {"channel": {"web": {"volume": 30}, "email": {"volume": 2}, "phone": {"volume": 7}}}
    shown = public_indicators(stored, K)["channel"]
    assert all(row["volume"] is None for row in shown.values())  # no service requests' figures known
    assert {value for value, row in shown.items() if row["other_kinds"]["volume"] is None} == set(DIGITAL_GROUP)
    assert shown["phone"]["other_kinds"]["volume"] == 7


def row_of(volume: int, service: int) -> dict:
    """An exact row of indicators_by reduced to its counts, with its parts."""
    return {
        "volume": volume,
        "closed": volume,
        "service_requests": service,
        "channel_mix": {},
        "parts": {
            "service_request": {"volume": service, "closed": service, "service_requests": service, "channel_mix": {}},
            "other_kinds": {"volume": volume - service, "closed": volume - service, "service_requests": 0},
        },
    }


@pytest.mark.parametrize(
    ("dimension", "counts", "hidden"),
    [
        # (volume, service requests): the rows' other kinds hidden; their service requests always shown.
        ("channel", {"web": (30, 30), "phone": (2, 2)}, set()),
        # One request of another kind by web: its group's other kinds are hidden, then the whole dimension's,
        # since the overall's other kinds minus the non-digital ones would give the one's figures.
        ("channel", {"web": (30, 29), "phone": (20, 20)}, {*DIGITAL_GROUP, *NON_DIGITAL_GROUP}),
        # Open311 takes only service requests: never hidden, never a stand-in.
        ("channel", {"open311": (2, 2), "web": (30, 30), BOX: (1, 0)}, {*DIGITAL_GROUP, *NON_DIGITAL_GROUP}),
        # Two small counts of one group hiding k together leave the other group shown (the box is digital).
        ("channel", {"web": (30, 30), BOX: (2, 0), "email": (3, 0), "phone": (K, 0)}, {BOX, "email"}),
        ("kind", {"service_request": (30, 30), "complaint": (1, 0), "query": (7, 0)}, {*KINDS}),
        ("kind", {"service_request": (30, 30), "complaint": (2, 0), "query": (3, 0)}, {"complaint", "query"}),
        (
            "category",
            {"baches": (2, 2), "luminarias": (40, 40), "sugerencia": (1, 0)},
            {"sugerencia", "baches", "luminarias"},
        ),
        ("department", {"Obras": (2, 2), "OIRS": (K, 0)}, set()),
        ("category", {"baches": (1, 1), "luminarias": (40, 40), "sugerencia": (K, 0)}, set()),
        ("commune", {"13201": (31, 30)}, {"13201"}),
        ("month", {"2026-09": (3, 3), "2026-10": (31, 30)}, {"2026-09", "2026-10"}),
    ],
)
def test_each_group_has_no_hidden_count_or_at_least_two(dimension, counts, hidden):
    exact = {value: row_of(n, service) for value, (n, service) in counts.items()}
    shown = public_indicators({dimension: exact}, K)[dimension]
    assert {value for value, row in shown.items() if row["other_kinds"]["volume"] is None} == hidden
    assert not any(key in row for row in shown.values() for key in ("channel_mix", "service_requests", "parts"))
    assert all(shown[value]["volume"] == service for value, (_n, service) in counts.items())
    assert_not_derivable(shown, exact, dimension)


def test_the_demos_three_other_requests_leave_every_service_requests_figure_shown():
    """The demo's shape: about 2,000 service requests and three of other kinds, one per channel and comuna. Their
    figures are reserved everywhere, the overall's too (their count stays); no service request's is."""
    results = {
        None: {None: row_of(2003, 2000)},
        "channel": {"web": row_of(1201, 1200), "whatsapp": row_of(501, 500), "phone": row_of(301, 300)},
        "commune": {"13201": row_of(1202, 1200), "13122": row_of(801, 800)},
        "kind": {"service_request": row_of(2000, 2000), "complaint": row_of(2, 0), "query": row_of(1, 0)},
    }
    public = public_indicators(results, K)
    assert public[None][None]["volume"] == 2000 and public[None][None]["other_kinds"]["volume"] == 3
    assert public[None][None]["other_kinds"] == {"volume": 3, "closed": None}
    assert [row["volume"] for row in public["channel"].values() if row["volume"]] == [1200, 500, 300]
    assert public["commune"]["13201"]["volume"] == 1200 and public["commune"]["13122"]["volume"] == 800
    assert public["kind"]["service_request"]["volume"] == 2000
    assert all(
        row["other_kinds"]["volume"] is None for d in ("channel", "commune", "kind") for row in public[d].values()
    )


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
    """One complaint from the east zone, below k: the zone's other kinds are withheld, and the chart neither draws
    it nor says "sin solicitudes" of it (which would be false): it has no service requests, which it says."""
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
    oriente = chart.split(">Oriente (Puente Alto)</tspan>")[1].split("</g>")[0]
    assert "<rect " not in oriente and ">sin solicitudes de servicio en este<" in oriente, oriente
    assert "sin solicitudes en este periodo" not in chart
    row = table.split('<th scope="row">Oriente (Puente Alto)</th>')[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells[0] == "0" and cells[-1] == "cifras reservadas" and not re.search(r"<td[^>]*>1</td>", table), cells


def test_the_by_channel_table_shows_the_webs_service_requests_and_reserves_the_other_kinds(client, month):
    page = client.get("/transparencia/?periodo=2026-10").content.decode()
    by_channel = page.split('id="by-channel"')[1].split("</table>")[0]
    assert BOX_LABEL not in by_channel  # no service request came through it: no row
    web = by_channel.split('<th scope="row">Web</th>')[1].split("</tr>")[0]
    assert re.findall(r"<td[^>]*>(.*?)</td>", web)[0] == "30" and web.rstrip().endswith("cifras reservadas</td>"), web


def test_a_zone_of_two_service_requests_is_hidden_with_a_stand_in():
    """A zone counts its service requests too (FULL_COUNT_DIMENSIONS): a zone's median closing time of one or two
    service requests would be theirs in the open data, and place them in the zone."""
    exact = {"east": row_of(2, 2), "west": row_of(30, 30)}
    shown = public_indicators({"zone": exact}, K)["zone"]
    assert shown["east"]["volume"] is None and shown["west"]["volume"] is None
    assert public_indicators({"category": exact}, K)["category"]["east"]["volume"] == 2
