"""Nothing public gives away who reported or exactly where, and no map cell singles out fewer than k reports.

Reports are built with known names, emails, phones and exact coordinates; every public page, API response
and export is fetched and scanned for them. The transparency pages and exports are also scanned for the cells
(and cell centres) of reports that are alone in their cell or fewer than k in every cell around them.
"""

import csv
import io
import json
from collections import Counter

import pytest
from django.core.cache import cache
from django.core.management import call_command
from h3.api import basic_int as h3i

from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_public_cells_refresh
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE
from geo_siac.transparency.services import indicator_snapshots_refresh

K = 5
# Points 30-70 m from the centre of one H3 res-9 cell, so they share the cell but none of their coordinates
# equals the published centre even at 4 decimals.
_CENTRE = h3i.cell_to_latlng(h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9))
PRIVATE_POINTS = [
    (_CENTRE[0] + dlat, _CENTRE[1] + dlng)
    for dlat, dlng in [
        (0.000437, 0.000523),
        (-0.000381, 0.000291),
        (0.000263, -0.000447),
        (-0.000319, -0.000358),
        (0.000512, -0.000231),
    ]
]
PEOPLE = [
    ("Ramona Quintupray", "ramona.q@correo.example", "+56 9 8765 4321"),
    ("Eleuterio Caniulef", "eleu.caniulef@correo.example", "+56 9 1234 9876"),
    ("Filomena Aravena", "filo.aravena@correo.example", "+56 2 2987 6543"),
    ("Segismundo Painemal", "segis.p@correo.example", "+56 9 5555 1212"),
    ("Hermenegilda Curihual", "hermi.c@correo.example", "+56 9 4444 3131"),
]

# Alone in its res-9 cell, next to the cell of PRIVATE_POINTS and in the same res-8 cell: its res-8 cell holds
# K + 1 reports, but only it is not published at res 9, so no cell may be published for it.
_NEIGHBOUR = next(
    cell
    for cell in h3i.grid_ring(h3i.latlng_to_cell(*_CENTRE, 9), 1)
    if h3i.latlng_to_cell(*h3i.cell_to_latlng(cell), 8) == h3i.latlng_to_cell(*_CENTRE, 8)
)
ALONE_POINT = (h3i.cell_to_latlng(_NEIGHBOUR)[0] + 0.000291, h3i.cell_to_latlng(_NEIGHBOUR)[1] - 0.000347)
ALONE_PERSON = ("Clodomiro Huenchumilla", "clodo.h@correo.example", "+56 9 7777 2323")

PUBLIC_URLS = [
    "/transparencia/",
    "/transparencia/compromisos/",
    "/transparencia/datos/",
    "/transparencia/mapa/",
    "/transparencia/celdas.geojson",
    "/transparencia/datos/solicitudes.csv",
    "/transparencia/datos/solicitudes.geojson",
    "/transparencia/datos/indicadores.csv",
    "/transparencia/datos/indicadores.json",
    "/api/reports/",
    "/open311/v2/requests.json",
]


@pytest.fixture
def known_people(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    reports = [
        make_report(
            point=point,
            reporter_name=name,
            reporter_email=email,
            reporter_phone=phone,
            description="Escombros frente al pasaje.",
            address="Pasaje Los Aromos 1234",
        )
        for point, (name, email, phone) in zip(PRIVATE_POINTS, PEOPLE)
    ]
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=reports[0], status="resolved", note="Retirado por la cuadrilla."
    )
    lonely_lat, lonely_lng = PENALOLEN_CENTRE
    lonely = [make_report(point=(lonely_lat, lonely_lng)) for _ in range(K - 1)]
    name, email, phone = ALONE_PERSON
    alone = make_report(point=ALONE_POINT, reporter_name=name, reporter_email=email, reporter_phone=phone)
    assert (alone.h3_res9, alone.h3_res8) == (_NEIGHBOUR, reports[0].h3_res8)
    report_public_cells_refresh()  # what the hourly publish step does: decide where each report is shown
    indicator_snapshots_refresh()  # and refresh_indicators' timer: the pages never compute the indicators
    cache.clear()  # cache_page's pages of an earlier test's reports
    return reports, lonely, alone


def _body(response) -> str:
    assert response.status_code == 200, response.status_code
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


# What each page with figures shows only when it has them: a page saying they are being prepared would leak
# nothing and let the scans below pass without scanning a figure.
SHOWS_FIGURES = {"/transparencia/": 'id="headline-volume"', "/transparencia/compromisos/": 'id="as-of"'}


def _figures_body(client, url: str) -> str:
    body = _body(client.get(url))
    assert SHOWS_FIGURES.get(url, "") in body and 'id="preparing-notice"' not in body, f"{url} shows no figures"
    return body


def _secrets() -> list[str]:
    found = [value for person in PEOPLE + [ALONE_PERSON] for value in person]
    found += [phone.replace(" ", "") for _name, _email, phone in PEOPLE + [ALONE_PERSON]]
    found += ["Los Aromos 1234"]
    for lat, lng in PRIVATE_POINTS + [ALONE_POINT]:
        for decimals in (4, 5, 6):
            found += [f"{lat:.{decimals}f}", f"{lng:.{decimals}f}"]
    return found


@pytest.mark.django_db
def test_no_public_page_api_or_export_shows_contact_data_or_exact_points(client, known_people):
    reports, _lonely, _alone = known_people
    call_command("publish_open_data", stdout=io.StringIO())  # the downloads serve its files (before, a 503)
    urls = PUBLIC_URLS + [f"/seguimiento/{r.tracking_code}/" for r in reports]

    leaks = [
        (url, secret)
        for url in urls
        for body in [_figures_body(client, url)]
        for secret in _secrets()
        if secret in body
    ]

    assert leaks == []


@pytest.mark.django_db
def test_a_cell_with_k_minus_one_reports_is_not_shown_on_the_public_map(client, known_people):
    reports, lonely, _alone = known_people
    lonely_cell, its_parent = lonely[0].h3_res9, h3i.cell_to_parent(lonely[0].h3_res9, 8)

    shown = {
        f["properties"]["h3"]: f["properties"]["count"]
        for f in client.get("/transparencia/celdas.geojson").json()["features"]
    }

    assert h3i.int_to_str(lonely_cell) not in shown
    assert h3i.int_to_str(its_parent) not in shown
    assert shown == {h3i.int_to_str(reports[0].h3_res9): K}


def _cells_and_centres(cells) -> list[str]:
    """Each cell as published (hex) and its centre at 4, 5 and 6 decimals."""
    found = []
    for cell in cells:
        lat, lng = h3i.cell_to_latlng(cell)
        found += [h3i.int_to_str(cell)] + [f"{v:.{d}f}" for v in (lat, lng) for d in (4, 5, 6)]
    return found


TRANSPARENCY_URLS = [url for url in PUBLIC_URLS if url.startswith("/transparencia/")]


@pytest.mark.django_db
def test_no_transparency_page_or_export_places_a_report_that_is_alone_or_among_fewer_than_k(client, known_people):
    _reports, lonely, alone = known_people
    call_command("publish_open_data", stdout=io.StringIO())  # the downloads serve its files (before, a 503)
    # The alone report's coarser cells are those of the K published reports, but only it would stand for them.
    hidden = _cells_and_centres([alone.h3_res9, alone.h3_res8, alone.h3_res7, alone.h3_res6])
    hidden += _cells_and_centres([lonely[0].h3_res9, lonely[0].h3_res8, lonely[0].h3_res7, lonely[0].h3_res6])

    leaks = [
        (url, value)
        for url in TRANSPARENCY_URLS
        for body in [_figures_body(client, url)]
        for value in hidden
        if value in body
    ]

    assert leaks == []


@pytest.mark.django_db
def test_every_place_in_the_open_data_stands_for_at_least_k_reports(client, known_people):
    reports, lonely, alone = known_people
    call_command("publish_open_data", stdout=io.StringIO())
    rows = list(csv.DictReader(io.StringIO(_body(client.get("/transparencia/datos/solicitudes.csv")))))
    features = json.loads(_body(client.get("/transparencia/datos/solicitudes.geojson")))["features"]

    rows_per_cell = Counter(row["h3_cell"] for row in rows if row["h3_cell"])
    assert rows_per_cell == {h3i.int_to_str(reports[0].h3_res9): K}
    unplaced = {str(r.pk) for r in [*lonely, alone]}
    assert {row["service_request_id"] for row in rows if not row["h3_cell"]} == unplaced
    assert all(
        row["h3_resolution"] == row["cell_lat"] == row["cell_long"] == ""
        for row in rows
        if row["service_request_id"] in unplaced
    )
    assert {f["properties"]["service_request_id"] for f in features if f["geometry"] is None} == unplaced
    assert Counter(f["properties"]["h3_cell"] for f in features if f["geometry"]) == rows_per_cell
