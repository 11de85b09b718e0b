"""Where the crew goes: a request without an address names the nearest street corner, in the queue and on its page
(kept in the page, so offline too), and an imported request's channel says how it came in."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.services import Entry, gazetteer_load
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create
from geo_siac.reports.states import Channel
from geo_siac.testing import WEST_POINT

LAT, LNG = WEST_POINT
# About 37 m east of WEST_POINT; the address about 150 m north.
CORNER = Entry(EntryKind.INTERSECTION, "Av. Grecia / Esq. Los Presidentes", LNG + 0.0004, LAT, "i1")
ADDRESS = Entry(EntryKind.ADDRESS, "Los Presidentes 1200", LNG, LAT + 0.00135, "a1", number=1200)


@pytest.fixture
def corner(communes):
    gazetteer_load(source="prueba", entries=[CORNER, ADDRESS], commit=True)


def unaddressed(make_report, n: int, **kwargs) -> list[Report]:
    """Reports with a point and no address, as imported history and the demo's are."""
    reports = [make_report(point=WEST_POINT, **kwargs) for _ in range(n)]
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(address="")
    return reports


def queue_item(page: str, code: str) -> str:
    return page[page.rindex("<li>", 0, page.index(f"<strong>{code}")) :].split("</li>")[0]


def test_each_queue_item_without_an_address_names_the_nearest_corner_and_how_far(client, make_report, crews, corner):
    (report,) = unaddressed(make_report, 1)
    given = make_report(point=WEST_POINT, address="Pasaje Los Aromos 123")
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:home")).content.decode()
    assert "cerca de Av. Grecia / Esq. Los Presidentes, a 40 m" in queue_item(page, report.tracking_code)
    assert "Pasaje Los Aromos 123" in queue_item(page, given.tracking_code)
    assert "cerca de" not in queue_item(page, given.tracking_code)


def test_the_queue_reads_every_items_corner_in_one_query(client, make_report, crews, corner, django_assert_num_queries):
    unaddressed(make_report, 1)
    client.force_login(crews["member_a"])
    client.get(reverse("crew:home"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("crew:home"))
    reports = unaddressed(make_report, 4)
    with django_assert_num_queries(len(one)):
        page = client.get(reverse("crew:home")).content.decode()
    assert page.count("cerca de Av. Grecia / Esq. Los Presidentes, a 40 m") == 5
    assert all(report.tracking_code in page for report in reports)


def test_the_report_page_names_the_corner_and_offers_a_map_of_its_pin(client, make_report, crews, corner):
    (report,) = unaddressed(make_report, 1)
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert '<dd id="place">cerca de Av. Grecia / Esq. Los Presidentes, a 40 m</dd>' in page
    assert "guíese por el mapa" not in page
    lat, lng = f"{report.location.y:.6f}", f"{report.location.x:.6f}"
    assert (
        'id="crew-report-map" class="crew-report-map" hidden' in page and f'data-lat="{lat}" data-lng="{lng}"' in page
    )
    assert "vendor/leaflet/1.9.3/leaflet.js" in page and "geo_siac/crew_map.js" in page


def test_a_report_page_far_from_any_corner_says_to_use_the_navigation_buttons(client, make_report, crews):
    (report,) = unaddressed(make_report, 1)
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert '<dd id="place">Sin dirección ni esquina conocida cerca: use «Cómo llegar».</dd>' in page


def test_an_imported_requests_channel_says_it_came_in_by_import_as_its_history_does(client, crews, communes, tmp_path):
    path = tmp_path / "historia.csv"
    path.write_text(
        "source_id,created_at,closed_at,service_code,channel,status,lat,lng,description\n"
        f"h1,2026-11-30 10:00,,retiro-escombros,web,submitted,{LAT},{LNG},Escombros\n",
        encoding="utf-8",
    )
    call_command(
        "import_reports",
        str(path),
        "--source",
        "sistema-anterior",
        "--route",
        "--commit",
        "--no-progress",
        stdout=StringIO(),
    )
    report = Report.objects.get()
    assert report.channel == "web" and report.crew == crews["A"]
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert '<dd id="channel" title="sistema-anterior">Importación (canal de origen: Web)</dd>' in page
    assert "(Importación)" in page.split('class="history"')[1]


def test_a_request_filed_on_the_web_says_web_alone(client, make_report, crews):
    report = make_report(point=WEST_POINT)
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert '<dd id="channel">Web</dd>' in page


def test_a_request_imported_under_the_import_channel_says_importacion_alone(client, make_report, crews):
    report = make_report(point=WEST_POINT, channel=Channel.IMPORT)
    Report.objects.filter(pk=report.pk).update(source="sistema-anterior")
    client.force_login(crews["member_a"])
    page = client.get(reverse("crew:report", args=[report.tracking_code])).content.decode()
    assert '<dd id="channel" title="sistema-anterior">Importación</dd>' in page


def test_supervision_and_the_operators_receipt_show_the_channel_as_the_crew_page_does(client, communes, crews):
    report = report_create(  # no place: supervision shows the channel of the requests it triages
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13201"],
        channel=Channel.WEB,
        description="¿Cuándo pasa el camión de la basura?",
    )
    Report.objects.filter(pk=report.pk).update(source="sistema-anterior")
    client.force_login(crews["supervisor"])
    page = client.get(reverse("crew:supervision")).content.decode()
    assert '<span class="channel" title="sistema-anterior">Importación (canal de origen: Web)</span>' in page
    client.force_login(crews["operator"])
    page = client.get(reverse("operator:filed", args=[report.tracking_code])).content.decode()
    assert '<span id="channel" title="sistema-anterior">Importación (canal de origen: Web)</span>' in page


def test_the_operators_receipt_reads_back_the_place_the_deadline_and_who_answers(client, make_report, communes, crews):
    client.force_login(crews["operator"])
    placed = make_report(point=WEST_POINT, address="Concha y Toro con Eyzaguirre")
    page = client.get(reverse("operator:filed", args=[placed.tracking_code])).content.decode()
    assert '<dd id="place">Concha y Toro con Eyzaguirre, Puente Alto</dd>' in page
    assert f'<dd id="responsible">{placed.crew.name}</dd>' in page
    assert f'<dd id="deadline">{formats.date_format(timezone.localtime(placed.expected_at), "l")} ' in page
    unplaced = report_create(
        kind=RequestKind.QUERY,
        category="consulta-tramites",
        commune=communes["13201"],
        channel=Channel.PHONE,
        description="¿Qué documentos pide la patente?",
    )
    page = client.get(reverse("operator:filed", args=[unplaced.tracking_code])).content.decode()
    assert '<dd id="place">Sin lugar (Puente Alto): no aparece en los mapas</dd>' in page
    department = unplaced.category.department_name or "Cola de triage de la OIRS"
    assert f'<dd id="responsible">{department}</dd>' in page
