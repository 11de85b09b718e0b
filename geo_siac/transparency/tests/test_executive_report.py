import io
import re
from datetime import date, datetime
from unittest.mock import patch

import h3
import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from h3.api import basic_int as h3i

from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import PUENTE_ALTO_CENTRE, staff_account
from geo_siac.transparency.executive import coverage_headline, executive_report, render_html, render_pdf
from geo_siac.zones.models import Commune


def at(month, day):
    return patch("django.utils.timezone.now", return_value=datetime(2026, month, day, 10, tzinfo=SANTIAGO))


@pytest.fixture
def october(make_report):
    """Two reports in September, three in October (one closed on time, one late, one open)."""
    with at(9, 10):
        make_report(channel="phone")
        make_report(channel="phone")
    with at(10, 5):
        on_time, late, _open = make_report(), make_report(), make_report()
    with at(10, 6):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=on_time, status="resolved")
    with at(10, 20):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=late, status="resolved")


@pytest.mark.django_db
def test_executive_report_command_writes_html_with_the_figures_and_a_pdf(october, tmp_path):
    call_command("executive_report", commune="13201", month="2026-10", out=str(tmp_path))

    html = (tmp_path / "informe-13201-2026-10.html").read_text()
    pdf = (tmp_path / "informe-13201-2026-10.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    assert _card(html, "volume") == ["Solicitudes recibidas", "3", "Mes anterior: 2 · cambio: +1"]
    # Deadline met in October: one of the two closed was on time; the open one (due 13 Oct, 12 Oct being a
    # holiday) is late by 1 Nov: 1 of 3. September's two phone reports are still open and late: 0 %.
    assert _card(html, "deadline_met_share") == [
        "Respondidas dentro del plazo",
        "33 %",
        "Mes anterior: 0 % · cambio: +33 pp",
    ]
    assert "Retiro de escombros: 33 % (mes anterior: 0 %)" in html
    assert html.count("data:image/png;base64,") == 2


def _card(html: str, key: str) -> list[str]:
    """The texts of a headline figure's card, in order."""
    card = html.split(f'<li data-key="{key}">')[1].split("</li>")[0]
    return re.findall(r">([^<]+)<", card)


def _pdf_pages(pdf: bytes) -> list:
    from pypdf import PdfReader

    return list(PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.django_db
def test_executive_report_pdf_is_at_most_two_a4_pages_each_with_text(october):
    pages = _pdf_pages(render_pdf(executive_report(commune=Commune.objects.get(cut="13201"), month=date(2026, 10, 1))))

    assert 1 <= len(pages) <= 2
    for page in pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4 in points
        assert len(page.extract_text().split()) > 40
    first = pages[0].extract_text()
    assert "Puente Alto · octubre de 2026" in first
    assert "Mes anterior: 2 · cambio: +1" in first


@pytest.mark.django_db
def test_executive_report_of_a_month_without_reports_says_so_on_one_page(october):
    report = executive_report(commune=Commune.objects.get(cut="13201"), month=date(2026, 8, 1))

    pages = _pdf_pages(render_pdf(report))
    html = render_html(report)

    assert len(pages) == 1
    text = " ".join(pages[0].extract_text().split())
    assert "No se recibieron solicitudes en agosto de 2026 en las categorías públicas." in text
    assert "No se recibieron solicitudes en julio de 2026: no hay mes anterior con el que comparar." in text
    assert "No se recibieron solicitudes en agosto de 2026 en las categorías públicas." in html
    assert _card(html, "volume") == ["Solicitudes recibidas", "0", "Mes anterior: 0 · cambio: ±0"]


@pytest.mark.django_db
def test_executive_report_page_is_for_staff_only(client, october, django_user_model):
    assert client.get("/transparencia/informe/?commune=13201&month=2026-10").status_code == 302

    client.force_login(staff_account("jefa", is_staff=True))
    html = client.get("/transparencia/informe/?commune=13201&month=2026-10")
    pdf = client.get("/transparencia/informe/?commune=13201&month=2026-10&format=pdf")

    assert html.status_code == 200 and b"Informe ejecutivo" in html.content
    assert pdf.content.startswith(b"%PDF")


def _population(cells: dict[int, float]) -> None:
    from geo_siac.zones.models import PopulationCell

    PopulationCell.objects.bulk_create(
        PopulationCell(
            cut="13201", res=h3i.get_resolution(cell), cell=cell, pob_total=people, pob_under_15=0, pob_65_plus=0
        )
        for cell, people in cells.items()
    )


@pytest.fixture
def served(crews, communes, make_report):
    """One service point at the centre of H3 res-9 cell A in Puente Alto, and 250 people around it (distances
    between cell centres, great circle):
      A (the point's cell, 0 m): 100      B (first of ring 1, 316 m): 60      C (first of ring 2, 633 m): 30
      D (easternmost of ring 4, 1,369 m): 20      E (westernmost of ring 5, 1,712 m): 40
    Within 500 m: A + B = 160 (64 %); within 1 km: + C = 190 (76 %). Beyond 1 km, people x excess km:
    D 20 x 0.369 = 7.4, E 40 x 0.712 = 28.5, so E is the least covered; it lies in the `crews` fixture's
    west zone. Two reports in October 2026: 2 x 1,000 / 250 = 8 per 1,000 inhabitants."""
    from geo_siac.zones.models import ServicePoint

    a = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9)
    lat, lng = h3i.cell_to_latlng(a)
    ServicePoint.objects.create(
        name="Oficina municipal", kind="municipal", point=Point(lng, lat, srid=4326), commune=communes["13201"]
    )
    east = max(h3i.grid_ring(a, 4), key=lambda c: h3i.cell_to_latlng(c)[1])
    west = min(h3i.grid_ring(a, 5), key=lambda c: h3i.cell_to_latlng(c)[1])
    _population({a: 100, h3i.grid_ring(a, 1)[0]: 60, h3i.grid_ring(a, 2)[0]: 30, east: 20, west: 40})
    with at(10, 5):
        make_report()
        make_report()
    return {"point": (lat, lng), "least_covered": west}


@pytest.mark.django_db
@pytest.mark.parametrize("commune", ["\x00", "13201\x00", "9" * 400, "x" * 5000, "99999"])
def test_a_commune_that_is_no_cut_code_is_a_404_on_the_executive_report(client, communes, django_user_model, commune):
    client.force_login(staff_account("jefa", is_staff=True))
    assert client.get("/transparencia/informe/", {"commune": commune, "month": "2026-10"}).status_code == 404


def test_coverage_headline_gives_the_shares_within_500_m_and_1_km_and_the_least_covered_area(served):
    report = executive_report(commune=Commune.objects.get(cut="13201"), month=date(2026, 10, 1))

    summary = report.coverage
    assert summary.population == 250 and summary.res == 9
    assert summary.within[500] == {"population": 160, "share": 0.64}
    assert summary.within[1000] == {"population": 190, "share": 0.76}
    worst_lat, worst_lng = h3i.cell_to_latlng(served["least_covered"])
    expected_m = h3.great_circle_distance(served["point"], (worst_lat, worst_lng), unit="m")
    assert summary.least_covered["population"] == 40 and summary.least_covered["zone"] == "Poniente"
    assert summary.least_covered["distance_m"] == pytest.approx(expected_m, rel=0.005)  # UTM 19S vs great circle
    lines = coverage_headline(report)
    assert lines[0] == "Población: 250 habitantes; 8,0 solicitudes del mes por 1.000 habitantes."
    assert lines[1] == (
        "Vive a menos de 500 m de un punto de atención el 64 % de la población, y a menos de 1 km el "
        "76 % (190 personas)."
    )
    assert lines[2] == "Puntos de atención en la comuna: 1."
    assert lines[3].startswith("Área menos cubierta: 40 habitantes a 1,7 km del punto de atención más cercano")
    assert f"en torno a {worst_lat:.4f}, {worst_lng:.4f}" in lines[3] and lines[3].endswith("zona Poniente.")
    assert f"<li>{lines[1]}</li>" in render_html(report)
    assert render_pdf(report).startswith(b"%PDF")


@pytest.mark.django_db
def test_executive_report_of_a_comuna_without_census_names_the_missing_population_in_words(communes):
    report = executive_report(commune=communes["13201"], month=date(2026, 10, 1))
    html, pdf = render_html(report), render_pdf(report)

    coverage = html.split('<ul id="coverage"')[1].split("</ul>")[0]
    assert (
        "<li>No hay población censal cargada para esta comuna: no se calculan la cobertura de los puntos de "
        "atención ni las solicitudes por cada 1.000 habitantes.</li>"
    ) in coverage
    assert "<li>No hay puntos de atención cargados para esta comuna.</li>" in coverage
    pdf_text = " ".join(" ".join(page.extract_text() for page in _pdf_pages(pdf)).split())
    assert "No hay población censal cargada para esta comuna" in pdf_text
    assert "manage.py" not in html and "manage.py" not in pdf_text


@pytest.mark.django_db
def test_coverage_uses_the_finest_loaded_resolution_when_res_9_is_not_loaded(communes):
    a = h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 8)
    _population({a: 700, h3i.grid_ring(a, 3)[0]: 300})

    summary = executive_report(commune=communes["13201"], month=date(2026, 10, 1)).coverage

    assert summary.res == 8 and summary.population == 1000
    assert summary.within[1000] == {"population": 0, "share": 0.0}  # no service point at all
    assert coverage_headline(executive_report(commune=communes["13201"], month=date(2026, 10, 1)))[-1] == (
        "No hay ningún punto de atención en la comuna ni a menos de 5 km de ella."
    )


@pytest.mark.django_db
def test_executive_report_page_sends_a_bad_month_back_as_text_not_markup(client, communes, django_user_model):
    """The month used to come back inside an HTML page: a <meta> refresh in the link sent staff to another site."""
    client.force_login(staff_account("jefa", is_staff=True))
    injected = '<meta http-equiv="refresh" content="0;url=https://evil.example/">'

    response = client.get("/transparencia/informe/", {"commune": "13201", "month": injected})

    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "El mes debe tener la forma AAAA-MM" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("month", ["2026-13", "2026-1", "octubre", "1969-12"])
def test_executive_report_command_names_a_bad_month(communes, tmp_path, month):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=f"--month: El (mes debe tener la forma AAAA-MM|año de «{month}»)"):
        call_command("executive_report", commune="13201", month=month, out=str(tmp_path))
    assert not list(tmp_path.iterdir())


@pytest.mark.django_db
def test_executive_report_reads_in_english_through_the_catalogue(october):
    from django.utils import translation

    with translation.override("en"):
        html = render_html(executive_report(commune=Commune.objects.get(cut="13201"), month=date(2026, 10, 1)))

    assert "Puente Alto · October 2026" in html
    assert _card(html, "volume")[2] == "Previous month: 2 · change: +1"
    assert "No census population is loaded for this comuna" in html


def _text_heights(page) -> list[float]:
    """The height above the page's foot (points) of every piece of text drawn on it."""
    heights = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            heights.append(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])

    page.extract_text(visitor_text=visit)
    return heights


@pytest.mark.django_db
def test_executive_report_pdf_keeps_departments_and_service_points_within_two_a4_pages(make_report):
    """A busy month: as many departments as page 2 lists and one service point more, every name long enough to
    wrap. Page 2 shows the rows that fit, counts the others in a sentence, and draws nothing off the page."""
    from geo_siac.catalogue.models import Category, Department
    from geo_siac.transparency.executive import DEPARTMENT_LIMIT, POINT_LIMIT, notes
    from geo_siac.zones.models import ServicePoint, ServicePointKind

    puente_alto = Commune.objects.get(cut="13201")
    categories = [
        c
        for c in Category.objects.filter(is_public=True, is_active=True, kind="service_request").order_by(
            "service_code"
        )
        if not any(a.get("required") for a in c.attributes)
    ][:DEPARTMENT_LIMIT]
    points = [
        ServicePoint.objects.create(
            name=f"Delegación municipal territorial número {n} del sector sur oriente",
            commune=puente_alto,
            kind=ServicePointKind.MUNICIPAL_OFFICE,
            point=Point(*reversed(PUENTE_ALTO_CENTRE), srid=4326),
        )
        for n in range(POINT_LIMIT + 1)
    ]
    for n, category in enumerate(categories):
        category.department = Department.objects.create(
            name=f"Dirección municipal de servicios a la comunidad y gestión territorial {n}"
        )
        category.save()
    with at(10, 5):
        for n, category in enumerate(categories):
            make_report(category=category.service_code, channel="phone", received_at=points[n % len(points)])

    pages = _pdf_pages(render_pdf(executive_report(commune=puente_alto, month=date(2026, 10, 1))))

    assert len(categories) == DEPARTMENT_LIMIT and len(pages) == 2
    second = " ".join(pages[1].extract_text().split())
    assert "Puntos de atención: solicitudes recibidas y citas" in second
    departments_shown = sum(d.name in second for d in Department.objects.filter(categories__in=categories))
    points_shown = sum(p.name in second for p in points)
    assert 0 < departments_shown < DEPARTMENT_LIMIT and 0 < points_shown < len(points)
    assert _more(second, "unidad|unidades") == DEPARTMENT_LIMIT - departments_shown
    assert _more(second, "punto|puntos") == len(points) - points_shown
    assert " ".join(notes()[-1].split()[-4:]) in second  # the last note is drawn, so nothing was pushed off
    for page in pages:
        heights = _text_heights(page)
        assert heights and min(heights) > 0 and max(heights) < 842


def _more(text: str, noun: str) -> int:
    return int(re.search(rf"Y (\d+) (?:{noun}) más\.", text).group(1))


def test_a_change_is_told_between_the_figures_as_printed_and_a_count_from_zero_is_new():
    from geo_siac.transparency.executive import change_text, figure_text

    # 8.9 % printed as 9 % (not truncated to 8) after 0.4 % printed as 0 %: +9 pp, the difference of what is read.
    assert (figure_text("digital_share", 0.089), figure_text("digital_share", 0.004)) == ("9 %", "0 %")
    assert change_text("digital_share", 0.089, 0.004) == "+9 pp"
    # 8.4 % and 0.5 % print as 8 % and 1 %: +7 pp, although the exact change rounds to 8.
    assert change_text("digital_share", 0.084, 0.005) == "+7 pp"
    assert change_text("volume", 19, 0) == "nuevo"
    assert change_text("volume", 0, 0) == "±0"
    assert change_text("volume", 21, 19) == "+2"


def test_the_least_covered_area_is_named_by_the_nearest_place_of_the_gazetteer(served):
    from geo_siac.geocoding.models import GazetteerEntry

    worst_lat, worst_lng = h3i.cell_to_latlng(served["least_covered"])
    GazetteerEntry.objects.create(
        kind="intersection",
        label="Avenida Concha y Toro / Esq. Sargento Menadier",
        point=Point(worst_lng + 0.002, worst_lat, srid=4326),
        commune=Commune.objects.get(cut="13201"),
        source="test",
        source_id="1",
    )
    report = executive_report(commune=Commune.objects.get(cut="13201"), month=date(2026, 10, 1))
    sentence = coverage_headline(report)[3]
    assert re.search(r", a 1\d0 m de Avenida Concha y Toro / Esq\. Sargento Menadier \(-33\.", sentence)  # ~185 m
    assert "en torno a" not in sentence


@pytest.mark.django_db
def test_the_report_without_parameters_shows_the_last_complete_month_of_the_persons_comuna_with_its_form(
    client, communes
):
    client.force_login(staff_account("jefa", is_staff=True, communes=[communes["13201"]]))
    with at(11, 15):
        response = client.get("/transparencia/informe/")
        pdf = client.get("/transparencia/informe/?commune=13201&month=2026-10&format=pdf")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Puente Alto · octubre de 2026" in html
    assert '<input type="month" name="month" id="report-month" value="2026-10" required>' in html
    assert '<option value="13201" selected>Puente Alto</option>' in html
    assert 'href="/transparencia/informe/?commune=13201&amp;month=2026-10&amp;format=pdf"' in html
    assert "Descargar PDF" in html and 'href="/transparencia/"' in html
    assert 'href="/transparencia/informe/">Informe ejecutivo</a>' in html  # in the staff pages' links
    assert pdf.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_the_report_gives_the_month_by_kind_and_by_channel_beside_the_month_before(october, client):
    client.force_login(staff_account("jefa", is_staff=True))
    with at(11, 1):
        html = client.get("/transparencia/informe/", {"commune": "13201", "month": "2026-10"}).content.decode()
    by_kind = html.split('<table id="by-kind">')[1].split("</table>")[0]
    by_channel = html.split('<table id="by-channel">')[1].split("</table>")[0]
    assert '<th scope="row">Solicitud de servicio</th><td>3</td><td>2</td><td>33 %</td>' in by_kind
    assert "Reclamo" not in by_kind  # no complaint in either month
    assert '<th scope="row">Web</th><td>3</td><td>0</td><td>33 %</td>' in by_channel
    assert '<th scope="row">Teléfono</th><td>0</td><td>2</td><td>—</td>' in by_channel


@pytest.mark.parametrize(("share", "shown"), [(0.145, 15), (0.085, 9), (0.0849, 8), (0.5, 50), (1.0, 100)])
def test_a_share_is_rounded_half_up_once_from_its_decimal_form_on_the_report_and_the_page(share, shown):
    from geo_siac.transparency.executive import whole_percent
    from geo_siac.transparency.views import _percent

    assert whole_percent(share) == shown and _percent(share) == f"{shown} %"
