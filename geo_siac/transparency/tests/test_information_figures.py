"""The Ley 20.285 yearly figures (transparency.selectors.information_figures) against an independent count in
Python over requests built through the services: every outcome at least once, one request received in December
and answered in January, one in another comuna; shown on /transparencia/ley-20285/ and in the executive report
without personal data."""

import io
import re
from collections import Counter
from dataclasses import replace
from datetime import datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from pypdf import PdfReader

from geo_siac.catalogue.kinds import NEEDS_GROUND, RequestKind
from geo_siac.catalogue.models import Institution
from geo_siac.reports.models import Report
from geo_siac.reports.services import (
    information_correction_request,
    information_corrections_lapse,
    information_extend,
    report_answer,
    report_create,
    report_refer,
)
from geo_siac.reports.states import CLOSED, OPEN, Status
from geo_siac.transparency.executive import executive_report, render_html, render_pdf
from geo_siac.transparency.selectors import (
    INFORMATION_OUTCOMES,
    information_figures,
    information_years,
    public_information_figures,
    suppressed,
)

SANTIAGO = ZoneInfo("America/Santiago")
REQUESTER = "Rosa Pérez Contreras"


def at(year, month, day, hour=10):
    return datetime(year, month, day, hour, 0, tzinfo=SANTIAGO)


def run_at(moment, function, **kwargs):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return function(**kwargs)


@pytest.fixture
def requests_of_two_years(communes, crews):
    def received(moment, cut="13201", text="Contratos de alumbrado público."):
        return run_at(
            moment,
            report_create,
            kind=RequestKind.INFORMATION,
            category="acceso-informacion",
            commune=communes[cut],
            channel="web",
            description=text,
            reporter_name=REQUESTER,
            reporter_email="rosa@example.cl",
        )

    def answer(report, moment, outcome, ground=""):
        return run_at(
            moment,
            report_answer,
            report=report,
            outcome=outcome,
            ground=ground,
            note="Respuesta.",
            actor=crews["supervisor"],  # the signing officer of the letter
        )

    across_new_year = received(at(2025, 12, 30))
    answer(across_new_year, at(2026, 1, 5), "delivered")
    late = received(at(2026, 3, 2))
    run_at(at(2026, 3, 10), information_extend, report=late, reason="Documentos de tres direcciones.")
    answer(late, at(2026, 5, 20), "delivered")
    answer(received(at(2026, 3, 3)), at(2026, 3, 20), "denied", "art21_1")
    answer(received(at(2026, 3, 4)), at(2026, 3, 25), "partly_delivered", "art21_2")
    answer(received(at(2026, 3, 5)), at(2026, 3, 26), "denied", "art21_1")
    answer(received(at(2026, 3, 6)), at(2026, 3, 27), "not_held")
    # get_or_create: a browser test's transactional database has emptied the migration's list.
    sernac, _ = Institution.objects.get_or_create(name="Servicio Nacional del Consumidor (SERNAC)")
    run_at(at(2026, 3, 10), report_refer, report=received(at(2026, 3, 9)), institution=sernac)
    waiting = received(at(2026, 3, 10))
    run_at(at(2026, 3, 11), information_correction_request, report=waiting, note="Indique el periodo.")
    information_corrections_lapse(now=at(2026, 4, 1))
    received(at(2026, 4, 1), text="Sueldos del concejo, secreto de la vecina.")  # pending
    run_at(at(2026, 4, 3), information_extend, report=received(at(2026, 4, 2)), reason="Volumen.")  # pending
    answer(received(at(2026, 3, 2), cut="13122"), at(2026, 3, 12), "delivered")
    run_at(
        at(2026, 3, 2),
        report_create,
        kind=RequestKind.SUGGESTION,
        category="sugerencia",
        commune=communes["13201"],
        channel="web",
        description="No es una solicitud de información.",
    )
    return communes


def independent_figures(year: int, cut: str | None = None) -> dict:
    """The same figures, counted one request at a time in Python from the rows."""
    counts, outcomes, grounds = Counter(), Counter(), Counter()
    for report in Report.objects.filter(kind=RequestKind.INFORMATION).select_related("commune"):
        if report.created_at.astimezone(SANTIAGO).year != year or (cut and report.commune.cut != cut):
            continue
        counts["received"] += 1
        counts["extended"] += report.deadline_extended_at is not None
        answered = report.status in CLOSED and report.legal_outcome != ""
        if answered:
            counts["answered_in_time" if report.closed_at <= report.expected_at else "answered_late"] += 1
            outcomes[report.legal_outcome] += 1
            if report.legal_outcome in NEEDS_GROUND:
                grounds[report.denial_ground] += 1
        elif report.status == Status.CLOSED_NOT_MUNICIPAL and report.referred_to_id:
            counts["referred"] += 1
        elif report.status == Status.CLOSED_WITHDRAWN:
            counts["withdrawn"] += 1
        elif report.status in OPEN:
            counts["pending"] += 1
        else:
            counts["closed_otherwise"] += 1
    return {"counts": counts, "outcomes": outcomes, "grounds": grounds}


def as_counted(figures: dict) -> dict:
    keys = ("received", "extended", *INFORMATION_OUTCOMES)
    return {
        "counts": Counter({key: figures[key] for key in keys if figures[key]}),
        "outcomes": Counter({k: v for k, v in figures["by_outcome"].items() if v}),
        "grounds": Counter(figures["denied_by_ground"]),
    }


@pytest.mark.parametrize(("year", "cut"), [(2025, None), (2026, None), (2026, "13201"), (2026, "13122")])
def test_the_yearly_figures_match_an_independent_count(requests_of_two_years, year, cut):
    commune = requests_of_two_years[cut] if cut else None
    assert as_counted(information_figures(year, commune)) == independent_figures(year, cut)


def test_every_outcome_is_in_the_fixture_and_each_request_counts_once(requests_of_two_years):
    figures = information_figures(2026)
    assert figures["received"] == 10 == sum(figures[outcome] for outcome in INFORMATION_OUTCOMES)
    assert (figures["answered_in_time"], figures["answered_late"], figures["extended"]) == (5, 1, 2)
    assert (figures["referred"], figures["withdrawn"], figures["pending"], figures["not_held"]) == (1, 1, 2, 1)
    assert figures["denied_by_ground"] == {"art21_1": 2, "art21_2": 1}
    assert figures["by_outcome"] == {"delivered": 2, "partly_delivered": 1, "denied": 2, "not_held": 1}
    # Received on 30 December, answered on 5 January: a 2025 request.
    last_year = information_figures(2025)
    assert (last_year["received"], last_year["answered_in_time"]) == (1, 1)
    assert information_years() == [2026, 2025]


def information_table(html: str) -> dict[str, str]:
    """The public table's rows as label -> the text of its count."""
    rows = re.findall(r"<tr><t[hd][^>]*>([^<]+)</t[hd]><td[^>]*>([^<]*)</td></tr>", html)
    return {label: count for label, count in rows}


GROUND_2 = "Art. 21 N°2: afecta los derechos de las personas"


def test_the_public_page_hides_a_denial_ground_of_one_and_enough_besides(client, requests_of_two_years, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 2  # 2026 has one partial denial under art. 21 N°2, counts of 2 shown
    text = client.get("/transparencia/ley-20285/?anio=2026").content.decode()
    table, fewer = information_table(text), "menos de 2"
    assert table["Recibidas"] == "10" and table["Pendientes"] == "2" and table["Respondidas dentro del plazo"] == "5"
    assert table[GROUND_2] == fewer and table["Denegada"] == "2" and table["Entregada parcialmente"] == fewer
    # The denials' total (partial + denied) is not known, and a second ground is hidden with the one.
    grounds = [count for label, count in table.items() if label.startswith("Art. ")]
    assert grounds.count(fewer) == 2 and "1" not in grounds
    outcomes = [table[label] for label in ("Entregada", "Entregada parcialmente", "Denegada")]
    outcomes.append(table["Información inexistente o no obra en poder del municipio"])
    assert outcomes == ["2", fewer, "2", fewer]  # answered 6 = 2 + 2 + the two hidden: no one of them follows
    closed = [table[label] for label in ("Respondidas fuera de plazo", "Derivadas al organismo competente")]
    assert closed + [table["Desistidas (sin subsanación, art. 12)"]] == [fewer] * 3
    assert "<td>1</td>" not in text and ">1</td>" not in text.split('id="information-figures"')[1]
    for private in (REQUESTER, "rosa@example.cl", "secreto de la vecina", "Contratos de alumbrado"):
        assert private not in text


@pytest.mark.parametrize(
    ("group", "shown"),
    [
        ({"a": 1, "b": 7, "c": 9}, {"a": None, "b": None, "c": 9}),
        ({"a": 1, "b": 0, "c": 9}, {"a": None, "b": None, "c": 9}),
        ({"a": 1, "b": 2, "c": 9}, {"a": None, "b": None, "c": 9}),
        ({"a": 0, "b": 5, "c": 9}, {"a": 0, "b": 5, "c": 9}),
        ({"a": 3}, {"a": None}),
    ],
)
def test_a_group_never_has_exactly_one_hidden_count(group, shown):
    assert suppressed(group, 5) == shown


def test_the_year_selector_and_a_year_with_one_request(client, requests_of_two_years, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 5
    text = client.get("/transparencia/ley-20285/?anio=2026").content.decode()
    assert '<option value="2025">' in text and '<option value="2026" selected>' in text
    last_year = information_table(client.get("/transparencia/ley-20285/?anio=2025").content.decode())
    assert last_year["Recibidas"] == "1" and last_year["Respondidas dentro del plazo"] == "menos de 5"
    assert last_year["Entregada"] == "menos de 5"


@pytest.mark.parametrize(("value", "status"), [("20x6", 400), ("1999", 404)])
def test_a_bad_or_empty_year_is_refused_by_name(client, requests_of_two_years, value, status):
    response = client.get(f"/transparencia/ley-20285/?anio={value}")
    assert response.status_code == status and value in response.content.decode()


def test_the_executive_report_shows_the_communes_figures_of_the_months_year(requests_of_two_years):
    report = executive_report(commune=requests_of_two_years["13201"], month=datetime(2026, 3, 1).date())
    html = render_html(report)
    assert "Acceso a información pública (Ley 20.285)" in html and '<td id="info-received">9</td>' in html
    assert REQUESTER not in html and "secreto de la vecina" not in html
    # Staff see the exact counts the public page hides.
    assert f"{GROUND_2}</td><td>1</td>" in html and '<td id="info-answered_late">1</td>' in html


def pdf_pages(pdf: bytes) -> list[str]:
    """Each page's text, its runs of white space made one space."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_executive_pdf_carries_the_htmls_figures_of_the_year(requests_of_two_years):
    report = executive_report(commune=requests_of_two_years["13201"], month=datetime(2026, 3, 1).date())
    table = information_table(render_html(report))
    pages = pdf_pages(render_pdf(report))
    assert len(pages) == 3 and "Acceso a información pública (Ley 20.285)" in pages[2]
    assert "Las de la comuna recibidas en 2026, como están hoy." in pages[2]
    assert (table["Recibidas"], table[GROUND_2], table["Entregada parcialmente"]) == ("9", "1", "1")
    assert len(table) == 15  # every line of the HTML's table, its two group headings included
    for label, count in table.items():
        assert f"{label} {count}".strip() in pages[2], label
    assert REQUESTER not in " ".join(pages) and "secreto de la vecina" not in " ".join(pages)


def test_a_year_without_access_requests_adds_no_page_to_the_pdf(requests_of_two_years):
    report = executive_report(commune=requests_of_two_years["13201"], month=datetime(2024, 3, 1).date())
    assert report.information["received"] == 0
    assert not any("Ley 20.285" in page for page in pdf_pages(render_pdf(report)))


def test_a_hidden_count_reads_fewer_than_k_in_the_pdf_and_never_its_number(requests_of_two_years):
    report = executive_report(commune=requests_of_two_years["13201"], month=datetime(2026, 3, 1).date())
    hidden = replace(report, information=public_information_figures(report.information, k=2))
    table = information_table(render_html(hidden))
    page = pdf_pages(render_pdf(hidden))[2]
    assert table[GROUND_2] == "menos de 2" and f"{GROUND_2} menos de 2" in page
    assert f"{GROUND_2} 1" not in page and "Entregada parcialmente 1" not in page
    for label, count in table.items():
        assert f"{label} {count}".strip() in page, label
    with translation.override("en"):
        english = pdf_pages(render_pdf(hidden))[2]
    assert "Access to public information (Ley 20.285)" in english and "Received 9" in english
    assert "Art. 21 No. 2: affects people's rights fewer than 2" in english
    assert english.count("fewer than 2") == page.count("menos de 2") > 0


@pytest.mark.parametrize("columns", [None, ["Tema", "Cifra"]], ids=["without-header", "with-header"])
def test_a_wrapped_label_makes_its_own_pdf_table_row_taller(columns):
    import matplotlib.pyplot as plt

    from geo_siac.transparency.executive import _Page, _table

    cells = [["Recibidas", "12"], ["Denegadas por\ncausal de reserva\no secreto", "3"], ["Pendientes", "1"]]
    page = _Page()
    try:
        _table(page, columns, cells, [0.8, 0.2])
        drawn = page.figure.axes[-1].tables[0].get_celld()
        first = 1 if columns else 0  # the header, when there is one, is matplotlib's row 0
        rows = [drawn[first + i, 0].get_height() for i in range(len(cells))]
        assert rows[1] > rows[0] == rows[2]
        assert all(drawn[first + i, 1].get_height() == rows[i] for i in range(len(cells)))
        if columns:
            assert drawn[0, 0].get_height() != rows[1]
    finally:
        plt.close(page.figure)
