import csv
import gzip
import io
import json
import re
from datetime import datetime
from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.http import FileResponse
from h3.api import basic_int as h3i

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_public_cells_refresh
from geo_siac.reports.states import Channel
from geo_siac.transparency import exports
from geo_siac.transparency.services import indicator_snapshots_refresh

UNZONED_NOTE = (
    "«Sin zona asignada» reúne las solicitudes sin lugar (reclamos, consultas…), las de fuera de toda zona y las "
    "recibidas antes de que se dibujara su zona."
)


def _content(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def five_reports(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 5
    reports = [make_report(description=f"Escombros número {n}.", public_visibility=n == 0) for n in range(5)]
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=reports[0], status="resolved")
    report_public_cells_refresh()  # what the hourly publish step does: decide where each report is shown
    indicator_snapshots_refresh()  # and refresh_indicators' timer: the pages never compute the indicators
    return reports


def publish():
    """What publish_open_data's timer does: the downloads serve its files (before, they answer 503)."""
    call_command("publish_open_data", stdout=io.StringIO())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/transparencia/", "/transparencia/compromisos/", "/transparencia/datos/", "/transparencia/mapa/"]
)
def test_transparency_pages_open_without_login(client, five_reports, url):
    assert client.get(url).status_code == 200


@pytest.mark.django_db
def test_transparency_page_shows_volume_and_charts(client, five_reports):
    page = client.get("/transparencia/").content.decode()

    assert '<dd id="headline-volume">5</dd>' in page
    assert page.count('class="bar-chart"') == 4
    assert "/static/vendor/leaflet/1.9.3/leaflet.js" in page
    assert '&lt;iframe src="http://testserver/transparencia/mapa/"' in page


@pytest.mark.django_db
def test_transparency_page_speaks_english_when_asked(client, five_reports):
    page = client.get("/transparencia/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "How we respond to residents' requests" in page
    # The map's words, which its script fills in: a cell's tooltip and the legend's title.
    assert 'data-count-label="%(count)s requests"' in page and 'data-legend-title="Requests per hexagon"' in page


@pytest.mark.django_db
def test_only_the_embeddable_map_may_be_framed(client, five_reports):
    assert "X-Frame-Options" not in client.get("/transparencia/mapa/").headers
    assert client.get("/transparencia/").headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_public_map_cells_count_reports(client, five_reports):
    cells = client.get("/transparencia/celdas.geojson").json()

    assert [f["properties"]["count"] for f in cells["features"]] == [5]
    assert cells["features"][0]["properties"]["h3"] == format(five_reports[0].h3_res9, "x")
    ring = cells["features"][0]["geometry"]["coordinates"][0]
    exact = [(lng, lat) for lat, lng in h3i.cell_to_boundary(five_reports[0].h3_res9)]
    assert ring[0] == ring[-1] and len(ring) == len(exact) + 1
    for (lng, lat), (x, y) in zip(ring, exact):  # to 6 decimals: within 0.1 m of H3's vertex
        assert abs(lng - x) <= 5e-7 and abs(lat - y) <= 5e-7 and round(lng, 6) == lng and round(lat, 6) == lat


@pytest.mark.django_db
def test_public_map_cells_are_sent_gzipped_to_browsers_that_accept_it(client, five_reports):
    import gzip
    import json

    plain = client.get("/transparencia/celdas.geojson")
    packed = client.get("/transparencia/celdas.geojson", HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert json.loads(gzip.decompress(packed.content)) == plain.json()


@pytest.mark.django_db
def test_the_public_map_is_cached_once_for_every_visitor_not_once_per_csrf_cookie(five_reports, crews):
    from django.test import Client

    first, second = Client(), Client()
    first.get("/"), second.get("/")  # the report form gives each visitor a CSRF cookie of their own
    assert first.cookies["csrftoken"].value != second.cookies["csrftoken"].value
    page = first.get("/transparencia/mapa/")
    assert "Cookie" not in page.headers["Vary"]
    with patch("geo_siac.transparency.views._map_context", side_effect=AssertionError("not cached")):
        assert second.get("/transparencia/mapa/").content == page.content
    # Someone logged in still gets a page of their own (their session is read, so the answer varies by cookie).
    staff = Client()
    staff.force_login(crews["supervisor"])
    assert "Cookie" in staff.get("/transparencia/").headers["Vary"]


@pytest.mark.django_db
def test_commitments_page_shows_each_category_deadline(client, five_reports):
    page = client.get("/transparencia/compromisos/").content.decode()

    assert "Retiro de escombros" in page
    assert "5 días hábiles" in page


@pytest.mark.django_db
def test_reports_csv_streams_anonymised_rows(client, five_reports):
    publish()
    response = client.get("/transparencia/datos/solicitudes.csv")

    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(_content(response))))
    assert len(rows) == 5
    by_id = {row["service_request_id"]: row for row in rows}
    public, private = by_id[str(five_reports[0].pk)], by_id[str(five_reports[1].pk)]
    assert public["status"] == "closed" and public["description"] == "Escombros número 0."
    assert private["status"] == "open" and private["description"] == ""
    assert private["h3_cell"] == format(five_reports[1].h3_res9, "x")  # k = 5 reports share the res-9 cell
    assert private["h3_resolution"] == "9"


@pytest.mark.django_db
@pytest.mark.parametrize("text", ['=HYPERLINK("http://example.com","ver")', "+56 9 1234 5678", "-1+1", "@SUM(1)"])
def test_reports_csv_keeps_a_citizen_formula_as_text_for_spreadsheets(client, make_report, settings, text):
    """CSV injection: a spreadsheet would run a cell starting with = + - @ or a tab; the GeoJSON keeps the text."""
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1
    make_report(description=text, public_visibility=True)
    publish()
    row = next(csv.DictReader(io.StringIO(_content(client.get("/transparencia/datos/solicitudes.csv")))))
    assert row["description"] == "'" + text
    collection = json.loads(_content(client.get("/transparencia/datos/solicitudes.geojson")))
    assert collection["features"][0]["properties"]["description"] == text


@pytest.mark.django_db
def test_indicators_csv_keeps_a_department_name_formula_as_text(client, crews, make_report):
    from geo_siac.testing import WEST_POINT

    crews["A"].department.__class__.objects.filter(pk=crews["A"].department_id).update(name="=1+1")
    make_report(point=WEST_POINT)
    indicator_snapshots_refresh()
    rows = list(csv.DictReader(io.StringIO(_content(client.get("/transparencia/datos/indicadores.csv")))))
    assert [r["value"] for r in rows if r["dimension"] == "department"] == ["'=1+1", "'=1+1"]  # its two parts


@pytest.mark.parametrize(
    "value,shown",
    [
        ("=1", "'=1"),
        ("\t=1", "'\t=1"),
        ("\r@x", "'\r@x"),
        ("a=1", "a=1"),
        ("", ""),
        (None, None),
        (5, 5),
        ("2026-01", "2026-01"),
    ],
)
def test_spreadsheet_text_marks_only_what_a_spreadsheet_would_run(value, shown):
    from geo_siac.transparency.exports import spreadsheet_text

    assert spreadsheet_text(value) == shown


@pytest.mark.django_db
def test_open_data_page_explains_where_reports_are_placed_with_the_configured_k(client, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 7

    page = client.get("/transparencia/datos/").content.decode()

    rule = page.split('id="place-rule">')[1].split("</p>")[0]
    assert "al menos 7 solicitudes publicadas con esa misma zona" in rule
    assert "<dt>h3_resolution</dt>" in page


@pytest.mark.django_db
def test_open_data_page_lists_every_intake_channel(client):
    page = client.get("/transparencia/datos/").content.decode()

    channel_field = page.split("<dt>channel</dt><dd>")[1].split("</dd>")[0]
    assert [value for value in Channel.values if value not in channel_field] == []


@pytest.mark.django_db
def test_reports_geojson_places_each_report_at_its_cell_centre(client, five_reports):
    publish()
    from h3.api import basic_int as h3i

    collection = json.loads(_content(client.get("/transparencia/datos/solicitudes.geojson")))

    lat, lng = h3i.cell_to_latlng(five_reports[0].h3_res9)
    assert len(collection["features"]) == 5
    assert collection["features"][0]["geometry"]["coordinates"] == [round(lng, 6), round(lat, 6)]


@pytest.mark.django_db
def test_indicators_csv_holds_one_row_per_dimension_value(client, five_reports):
    rows = list(csv.DictReader(io.StringIO(_content(client.get("/transparencia/datos/indicadores.csv")))))

    commune = next(r for r in rows if r["dimension"] == "commune")
    assert commune["value"] == "13201" and commune["volume"] == "5"
    assert {r["dimension"] for r in rows} == {
        "commune",
        "department",
        "category_group",
        "category",
        "zone",
        "channel",
        "kind",
        "month",
    }
    assert [(r["value"], r["part"], r["volume"]) for r in rows if r["dimension"] == "kind"] == [
        ("service_request", "service_request", "5"),
        ("service_request", "other_kinds", "0"),
    ]
    assert [(r["value"], r["volume"]) for r in rows if r["dimension"] == "zone" and r["part"] == "other_kinds"] == [
        ("", "0")
    ]


@pytest.mark.django_db
def test_indicators_by_crew_zone_are_on_the_page_and_in_the_exports(client, settings, crews, make_report):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1  # a zone counts every request (FULL_COUNT_DIMENSIONS)
    from geo_siac.testing import EAST_POINT, GAP_POINT, WEST_POINT

    west, _west, east, _gap = (make_report(point=point) for point in (WEST_POINT, WEST_POINT, EAST_POINT, GAP_POINT))
    for report in (west, east):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved")
    indicator_snapshots_refresh()

    page = client.get("/transparencia/").content.decode()
    rows = list(csv.DictReader(io.StringIO(_content(client.get("/transparencia/datos/indicadores.csv")))))
    records = client.get("/transparencia/datos/indicadores.json").json()["indicators"]

    zones = page.split('id="by-zone"')[1]
    assert '<th scope="row">Poniente (Puente Alto)</th>\n    <td data-label="Recibidas">2</td>' in zones
    assert '<th scope="row">Oriente (Puente Alto)</th>\n    <td data-label="Recibidas">1</td>' in zones
    assert '<th scope="row">Sin zona asignada</th>\n    <td data-label="Recibidas">1</td>' in zones
    assert f"<p>{UNZONED_NOTE}</p>" in zones
    chart = zones.split("</svg>")[0]  # bars for the zones with a deadline due: the two resolved reports
    assert chart.count("<rect ") == 2 and ">Poniente (Puente Alto)</tspan>" in chart and "100 %" in chart
    # The report outside every zone is open and not due: said in words, not drawn as 0 %.
    assert ">Sin zona asignada</tspan>" in chart and ">aún ninguna cerrada ni con plazo</tspan>" in chart
    assert 'dy="18">vencido</tspan>' in chart  # on a line of its own: the words would pass a phone's chart
    volumes = {r["value"]: r["volume"] for r in rows if r["dimension"] == "zone" and r["part"] == "service_request"}
    assert volumes == {"13201/poniente": "2", "13201/oriente": "1", "": "1"}
    assert {
        r["value"]: r["volume"] for r in records if r["dimension"] == "zone" and r["part"] == "service_request"
    } == {
        "13201/poniente": 2,
        "13201/oriente": 1,
        "": 1,
    }


def _by_zone_with_one_resolved_in_poniente(client, make_report) -> tuple[str, str]:
    """The zone section's chart and table after one report resolved in Poniente, none from Oriente."""
    from geo_siac.testing import WEST_POINT

    report_change_status(public_note=EXPLAINED_BY_CALLER, report=make_report(point=WEST_POINT), status="resolved")
    indicator_snapshots_refresh()
    chart, table = client.get("/transparencia/").content.decode().split('id="by-zone"')[1].split("</svg>")[:2]
    return chart, table


@pytest.mark.django_db
def test_a_zone_without_requests_says_so_in_the_chart_instead_of_a_bar(client, settings, crews, make_report):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1  # a zone counts every request (FULL_COUNT_DIMENSIONS)
    chart, _table = _by_zone_with_one_resolved_in_poniente(client, make_report)
    oriente = chart.split(">Oriente (Puente Alto)</tspan>")[1].split("</g>")[0]
    assert "sin solicitudes en este periodo" in oriente and "<rect " not in oriente
    assert ">0 %<" not in chart and chart.count("<rect ") == 1  # the one bar: Poniente's resolved report


@pytest.mark.django_db
def test_a_zone_without_requests_is_in_the_table_too_for_screen_readers(client, settings, crews, make_report):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1  # a zone counts every request (FULL_COUNT_DIMENSIONS)
    _chart, table = _by_zone_with_one_resolved_in_poniente(client, make_report)
    row = table.split('<th scope="row">Oriente (Puente Alto)</th>')[1].split("</tr>")[0]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row)
    assert cells.count("0") == 2 and cells.count("—") == 6, row  # service requests, other kinds
    assert table.index("Poniente (Puente Alto)") < table.index("Oriente (Puente Alto)")  # the larger volume first


@pytest.mark.django_db
def test_a_past_periods_zones_without_requests_are_those_in_force_then(client, settings, crews, make_report):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1  # a zone counts every request (FULL_COUNT_DIMENSIONS)
    """?periodo=2025 lists neither a zone drawn in 2026 nor misses one retired since."""
    from geo_siac.testing import WEST_POINT, box
    from geo_siac.zones.models import Zone

    Zone.objects.filter(pk=crews["west"].pk).update(created_at=datetime(2024, 6, 1, tzinfo=SANTIAGO))
    Zone.objects.create(
        commune=crews["west"].commune,
        key="norte",
        name="Norte",
        geometry=box(-70.60, -33.59, -70.55, -33.55),
        created_at=datetime(2024, 6, 1, tzinfo=SANTIAGO),
        retired_at=datetime(2025, 3, 1, tzinfo=SANTIAGO),
    )
    with patch("django.utils.timezone.now", return_value=datetime(2025, 6, 2, 10, tzinfo=SANTIAGO)):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=make_report(point=WEST_POINT), status="resolved")
    call_command("refresh_indicators", "--period", "2025", stdout=io.StringIO())

    zones = client.get("/transparencia/?periodo=2025").content.decode().split('id="by-zone"')[1]
    chart = zones.split("</svg>")[0]
    assert ">Poniente (Puente Alto)</tspan>" in chart and "100 %" in chart
    norte = chart.split(">Norte (Puente Alto)</tspan>")[1].split("</g>")[0]
    assert "sin solicitudes en este periodo" in norte
    assert "Oriente" not in zones  # drawn in 2026 (the fixture's now): no zone of 2025


@pytest.mark.django_db
def test_the_zone_section_is_left_out_when_no_report_has_a_zone(client, five_reports):
    assert 'id="by-zone"' not in client.get("/transparencia/").content.decode()


@pytest.mark.django_db
def test_reports_in_hidden_categories_are_left_out_of_every_public_figure(client, five_reports):
    from geo_siac.catalogue.models import Category

    Category.objects.filter(service_code="retiro-escombros").update(is_public=False)
    publish()

    assert client.get("/transparencia/celdas.geojson").json()["features"] == []
    assert "service_request_id" in _content(client.get("/transparencia/datos/solicitudes.csv"))
    assert len(_content(client.get("/transparencia/datos/solicitudes.csv")).strip().splitlines()) == 1


@pytest.mark.django_db
def test_commitments_page_shows_how_often_the_deadline_was_met_last_month(client, make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 2  # the charter shows a share from k requests

    def at(month, day):
        return patch("django.utils.timezone.now", return_value=datetime(2026, month, day, 10, tzinfo=SANTIAGO))

    with at(10, 5):  # retiro-escombros: due Tue 13 Oct (12 Oct is a holiday)
        on_time, late = make_report(), make_report()
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=on_time, status="resolved")
    with at(10, 20):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=late, status="resolved")
    with at(11, 15):
        indicator_snapshots_refresh()
        page = client.get("/transparencia/compromisos/").content.decode()

    row = page.split('id="commitments-13201"')[1].split("Retiro de escombros")[1].split("</tr>")[0]
    assert "octubre 2026" in page
    assert row.count("50 %") == 2  # last month and the last twelve months: the same two reports


@pytest.mark.django_db
def test_each_comunas_commitments_show_its_own_compliance_not_every_comunas(client, make_report, settings):
    from geo_siac.testing import PENALOLEN_CENTRE

    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 2

    def at(month, day):
        return patch("django.utils.timezone.now", return_value=datetime(2026, month, day, 10, tzinfo=SANTIAGO))

    with at(10, 5):  # retiro-escombros: due Tue 13 Oct; Puente Alto meets both, Peñalolén one of two
        puente_alto = [make_report() for _ in range(2)]
        penalolen_on_time, penalolen_late = (make_report(point=PENALOLEN_CENTRE) for _ in range(2))
        for report in (*puente_alto, penalolen_on_time):
            report_change_status(report=report, status="resolved", public_note=EXPLAINED_BY_CALLER)
    with at(10, 20):
        report_change_status(report=penalolen_late, status="resolved", public_note=EXPLAINED_BY_CALLER)
    with at(11, 15):
        indicator_snapshots_refresh()
        own = client.get("/comuna/penalolen/transparencia/compromisos/").content.decode()
        shared = client.get("/transparencia/compromisos/").content.decode()

    def debris_row(page, cut):
        table = page.split(f'id="commitments-{cut}"')[1].split("</table>")[0]
        return table.split("Retiro de escombros")[1].split("</tr>")[0]

    assert debris_row(own, "13122").count("50 %") == 2 and "100 %" not in own and "75 %" not in own
    assert "solicitud" not in debris_row(own, "13122")  # a share only, never a count (docs/transparency.md)
    assert debris_row(shared, "13201").count("100 %") == 2 and debris_row(shared, "13122").count("50 %") == 2
    assert "cumplimiento de todas las comunas" not in own


@pytest.mark.django_db
def test_the_charter_publishes_no_count_of_a_category_in_a_comuna_and_reserves_those_below_k(
    client, make_report, settings
):
    """The reviewer's tables, k = 5: in October Puente Alto has 6 debris requests, Peñalolén 2 and all 6 potholes,
    a category in no other comuna. Beside the month's comuna and category totals on /transparencia/?periodo=2026-10,
    a count in the charter would give Peñalolén's 2 back (8 - 6, or its comuna's 8 minus its potholes' 6)."""
    from geo_siac.catalogue.models import Category
    from geo_siac.testing import PENALOLEN_CENTRE

    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 5

    def at(month, day):
        return patch("django.utils.timezone.now", return_value=datetime(2026, month, day, 10, tzinfo=SANTIAGO))

    with at(10, 5):  # retiro-escombros: due Tue 13 Oct
        puente_alto = [make_report() for _ in range(6)]
        penalolen = [make_report(point=PENALOLEN_CENTRE) for _ in range(2)]
        for _ in range(6):
            make_report(point=PENALOLEN_CENTRE, category="bache")
        for report in (*puente_alto[:4], penalolen[0]):
            report_change_status(report=report, status="resolved", public_note=EXPLAINED_BY_CALLER)
    with at(10, 20):
        for report in (*puente_alto[4:], penalolen[1]):
            report_change_status(report=report, status="resolved", public_note=EXPLAINED_BY_CALLER)
    with at(11, 15):
        indicator_snapshots_refresh()
        page = client.get("/transparencia/compromisos/").content.decode()

    pothole = Category.objects.get(service_code="bache").name
    tables = {cut: page.split(f'id="commitments-{cut}"')[1].split("</table>")[0] for cut in ("13122", "13201")}
    cells = [
        re.sub(r"<[^>]+>", "", cell).strip()
        for table in tables.values()
        for row in table.split("<tbody>")[1].split("</tr>")[:-1]
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[
            1:3
        ]  # last month's and the last twelve months' compliance
    ]
    # Every compliance cell is a share, "reservado" or nothing: no volume, no count, no "(N solicitudes)".
    assert cells and all(re.fullmatch(r"\d{1,3} %|reservado|sin solicitudes|—", cell) for cell in cells), cells
    assert "solicitudes)" not in page and "solicitud)" not in page
    row = {cut: tables[cut].split("Retiro de escombros")[1].split("</tr>")[0] for cut in tables}
    assert row["13201"].count("67 %") == 2  # 4 of 6 on time: k requests, shown
    # Peñalolén's 2: reserved, and their 50 % is nowhere on the page.
    assert row["13122"].count("reservado") == 2 and not re.search(r"\d", row["13122"].split("hábiles", 1)[1])
    assert "50 %" not in page
    assert pothole in tables["13122"] and 'id="reserved-note"' in page and "menos de 5 solicitudes" in page
    with at(11, 15):
        records = client.get("/transparencia/datos/indicadores.json").json()["indicators"]
    assert records and not any(record["dimension"] == "commune_category" for record in records)


@pytest.mark.django_db
def test_month_charts_name_months_in_words_and_mark_the_month_in_progress(client, make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1

    def at(month, day):
        return patch("django.utils.timezone.now", return_value=datetime(2026, month, day, 10, tzinfo=SANTIAGO))

    with at(11, 10):
        for _ in range(3):
            make_report()
    with at(12, 6):
        make_report()
        indicator_snapshots_refresh()
        spanish = client.get("/transparencia/").content.decode()
        english = client.get("/transparencia/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    months = spanish.split('id="chart-months-title"')[1].split("</svg>")[0]
    november, december = months.split("<g transform=")[1:]
    assert ">noviembre de 2026</tspan>" in november and "url(#chart-months-partial)" not in november
    assert ">diciembre de 2026 (en curso)</tspan>" in december and 'fill="url(#chart-months-partial)"' in december
    assert "2026-12" not in months and 'id="chart-months-partial-note"' in spanish
    # The svg's role="img" exposes only its title: the legend naming the month in progress is its description.
    assert (
        'aria-describedby="chart-months-partial-note"'
        in spanish.split('id="chart-months-title"')[0].rsplit("<svg", 1)[1]
    )
    note = spanish.split('id="chart-months-partial-note"')[1].split("</p>")[0]
    assert "Barra rayada: diciembre de 2026 (en curso)" in note and "noviembre" not in note
    assert "diciembre de 2026 (en curso)" in spanish.split('id="chart-digital-title"')[1].split("</svg>")[0]
    assert ">November 2026</tspan>" in english and ">December 2026 (in progress)</tspan>" in english
    assert "Striped bar: December 2026 (in progress)" in english


@pytest.mark.django_db
def test_the_first_month_of_the_last_365_days_is_marked_partial(client, make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1

    def at(year, month, day):
        return patch("django.utils.timezone.now", return_value=datetime(year, month, day, 10, tzinfo=SANTIAGO))

    with at(2025, 12, 10):  # the last 365 days as of 6 Dec 2026 start on 7 Dec 2025
        make_report()
    with at(2026, 11, 10):
        make_report()
    with at(2026, 12, 6):
        indicator_snapshots_refresh()
        page = client.get("/transparencia/").content.decode()

    months = page.split('id="chart-months-title"')[1].split("</svg>")[0]
    assert ">diciembre de 2025 (parcial)</tspan>" in months and ">noviembre de 2026</tspan>" in months
    note = page.split('id="chart-months-partial-note"')[1].split("</p>")[0]
    assert "diciembre de 2025 (parcial)" in note


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["solicitudes.csv", "solicitudes.geojson"])
def test_downloads_serve_the_published_file_once_written(client, five_reports, make_report, settings, name):
    """Before publish_open_data's first run a download is a 503 the client may retry, never generated on the request
    (a million reports take a minute); afterwards it is the file, which a report filed later joins at the next
    publication."""
    url = f"/transparencia/datos/{name}"
    waiting = client.get(url)
    assert waiting.status_code == 503 and waiting["Retry-After"] == "3600"
    assert "no-cache" in waiting["Cache-Control"] and "se están preparando" in waiting.content.decode()
    preparing = client.get("/transparencia/datos/")
    assert "(el archivo se está preparando" in preparing.content.decode() and "no-cache" in preparing["Cache-Control"]

    out = io.StringIO()
    call_command("publish_open_data", stdout=out)
    assert "5 reports" in out.getvalue()
    path = settings.GEO_SIAC_OPEN_DATA_DIR / name
    assert path.read_bytes().decode() == "".join(exports.open_data_lines(name))
    assert [p.name for p in settings.GEO_SIAC_OPEN_DATA_DIR.iterdir()] and not [
        p for p in settings.GEO_SIAC_OPEN_DATA_DIR.iterdir() if p.name.endswith(".partial")
    ]

    make_report(description="Después de publicar.", public_visibility=True)
    served = client.get(url)
    assert isinstance(served, FileResponse)
    assert b"".join(served.streaming_content) == path.read_bytes()
    assert served["Content-Disposition"] == f'attachment; filename="{name}"' and served["Last-Modified"]
    assert "(el archivo se está preparando" not in client.get("/transparencia/datos/").content.decode()


@pytest.mark.django_db
def test_open_data_page_says_when_the_files_were_generated(client, five_reports):
    assert "archivo generado el" not in client.get("/transparencia/datos/").content.decode()
    call_command("publish_open_data", stdout=io.StringIO())
    page = client.get("/transparencia/datos/").content.decode()
    assert page.count('class="written-at"') == 2 and "archivo generado el" in page


@pytest.mark.django_db
def test_a_stale_published_file_is_still_served_and_logged(client, five_reports, settings, caplog):
    import os
    import time

    call_command("publish_open_data", stdout=io.StringIO())
    path = settings.GEO_SIAC_OPEN_DATA_DIR / "solicitudes.csv"
    old = time.time() - (settings.GEO_SIAC_OPEN_DATA_MAX_AGE_MINUTES + 5) * 60
    os.utime(path, (old, old))
    with caplog.at_level("WARNING", logger="geo_siac.transparency.views"):
        response = client.get("/transparencia/datos/solicitudes.csv")
    assert response.status_code == 200 and b"".join(response.streaming_content) == path.read_bytes()
    assert "is publish_open_data scheduled?" in caplog.text


@pytest.mark.django_db
def test_a_failed_publication_leaves_the_previous_file_and_no_partial_one(five_reports, settings, monkeypatch):
    call_command("publish_open_data", stdout=io.StringIO())
    before = (settings.GEO_SIAC_OPEN_DATA_DIR / "solicitudes.csv").read_bytes()

    def failing(name):
        yield "service_request_id\r\n"
        raise RuntimeError("database went away")

    monkeypatch.setattr(exports, "open_data_lines", failing)
    with pytest.raises(RuntimeError):
        call_command("publish_open_data", stdout=io.StringIO())
    assert (settings.GEO_SIAC_OPEN_DATA_DIR / "solicitudes.csv").read_bytes() == before
    assert sorted(p.name for p in settings.GEO_SIAC_OPEN_DATA_DIR.iterdir()) == [
        "solicitudes.csv",
        "solicitudes.geojson",
    ]


@pytest.mark.django_db
def test_the_public_map_cells_are_counted_once_while_fresh_whatever_page_is_cached(client, five_reports):
    """Each page of cells (gzipped or not, every worker's) is built from one count, refreshed by one worker at a
    time (geo_siac.db.refreshed_by_one) and not at every page expiry."""
    gzipped = client.get("/transparencia/celdas.geojson", HTTP_ACCEPT_ENCODING="gzip")
    assert gzipped["Content-Encoding"] == "gzip"
    with patch("geo_siac.transparency.views.public_cells", side_effect=AssertionError("counted again")):
        plain = client.get("/transparencia/celdas.geojson")  # another cached page: built, not counted
    assert "Content-Encoding" not in plain and json.loads(gzip.decompress(gzipped.content)) == plain.json()
    assert [f["properties"]["count"] for f in plain.json()["features"]] == [5]


@pytest.mark.django_db
def test_a_file_removed_after_it_was_looked_up_is_a_503_not_a_500(client, five_reports, monkeypatch):
    """publish_open_data renames over the file, but the directory may be emptied by hand or by a deploy between the
    look and the open (review 18)."""
    from geo_siac.transparency import views

    publish()
    looked_up = views.open_data_file

    def then_removed(name):
        found = looked_up(name)
        found.path.unlink()
        return found

    monkeypatch.setattr(views, "open_data_file", then_removed)
    response = client.get("/transparencia/datos/solicitudes.csv")
    assert response.status_code == 503 and response["Retry-After"] == "3600"


@pytest.mark.django_db
def test_the_category_chart_lists_the_categories_in_its_tables_order(client, make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1
    for category, count in (("grafiti", 1), ("retiro-escombros", 3), ("bache", 2)):
        for _ in range(count):
            make_report(category=category)
    indicator_snapshots_refresh()

    page = client.get("/transparencia/").content.decode()

    chart_svg, table_html = page.split('id="chart-categories-title"')[1].split("</svg>")[:2]
    labels = [bar.split("</text>")[0] for bar in chart_svg.split("<g transform=")[1:]]
    chart = [" ".join(re.findall(r">([^<]+)</tspan>", label)) for label in labels]
    table = re.findall(r'<th scope="row">([^<]+)</th>', table_html.split("</table>")[0])
    assert table == ["Retiro de escombros", "Bache en calzada", "Grafiti"]  # the most requested first
    assert chart == table


@pytest.mark.django_db
def test_transparency_page_gives_the_indicators_by_kind_and_by_channel_with_small_counts_hidden(
    client, make_report, settings
):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 5
    for _ in range(6):
        make_report(channel=Channel.WEB)
    make_report(channel=Channel.PHONE)  # one service request: in the open data already, shown
    # One complaint by web: its figures are reserved, the web's and the service requests' never.
    complaint = make_report(channel=Channel.WEB)
    Report.objects.filter(pk=complaint.pk).update(kind=RequestKind.COMPLAINT)
    indicator_snapshots_refresh()
    page = client.get("/transparencia/").content.decode()
    by_kind = page.split('id="by-kind"')[1].split("</table>")[0]
    by_channel = page.split('id="by-channel"')[1].split("</table>")[0]
    assert re.search(r'<th scope="row">Solicitud de servicio</th>\s*<td[^>]*>7</td>', by_kind)
    assert re.search(r'<th scope="row">Web</th>\s*<td[^>]*>6</td>', by_channel)
    assert re.search(r'<th scope="row">Teléfono</th>\s*<td[^>]*>1</td>', by_channel)
    # Every other kind is hidden with the complaint (stand-ins), each named as the department tables do.
    assert re.search(r'<th scope="row">Reclamo</th>\s*<td[^>]*>cifras reservadas</td>', by_kind)
    assert (
        re.search(r'<th scope="row">Consulta</th>\s*<td[^>]*>cifras reservadas</td>', by_kind)
        and "Otros" not in by_kind
    )
    assert '<dd id="headline-volume">7</dd>' in page
    assert '<dd id="headline-other-kinds">1: cifras reservadas</dd>' in page
