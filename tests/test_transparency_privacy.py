"""Nothing public gives away who reported or exactly where, and no map cell singles out fewer than k reports.

Reports are built with known names, emails, phones and exact coordinates; every public page, API response
and export is fetched and scanned for them.
"""

import pytest
from h3.api import basic_int as h3i

from geo_siac.reports.services import report_change_status
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE

K = 5
# Points 30-70 m from the centre of one H3 res-9 cell, so they share the cell but none of their coordinates
# equals the published centre even at 4 decimals.
_CENTRE = h3i.cell_to_latlng(h3i.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9))
PRIVATE_POINTS = [(_CENTRE[0] + dlat, _CENTRE[1] + dlng) for dlat, dlng in
                  [(0.000437, 0.000523), (-0.000381, 0.000291), (0.000263, -0.000447), (-0.000319, -0.000358),
                   (0.000512, -0.000231)]]
PEOPLE = [("Ramona Quintupray", "ramona.q@correo.example", "+56 9 8765 4321"),
          ("Eleuterio Caniulef", "eleu.caniulef@correo.example", "+56 9 1234 9876"),
          ("Filomena Aravena", "filo.aravena@correo.example", "+56 2 2987 6543"),
          ("Segismundo Painemal", "segis.p@correo.example", "+56 9 5555 1212"),
          ("Hermenegilda Curihual", "hermi.c@correo.example", "+56 9 4444 3131")]

PUBLIC_URLS = [
    "/transparencia/", "/transparencia/compromisos/", "/transparencia/datos/", "/transparencia/mapa/",
    "/transparencia/celdas.geojson", "/transparencia/datos/solicitudes.csv",
    "/transparencia/datos/solicitudes.geojson", "/transparencia/datos/indicadores.csv",
    "/transparencia/datos/indicadores.json", "/api/reports/", "/open311/v2/requests.json",
]


@pytest.fixture
def known_people(make_report, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = K
    reports = [
        make_report(point=point, reporter_name=name, reporter_email=email, reporter_phone=phone,
                    description="Escombros frente al pasaje.", address="Pasaje Los Aromos 1234")
        for point, (name, email, phone) in zip(PRIVATE_POINTS, PEOPLE)
    ]
    report_change_status(report=reports[0], status="resolved", note="Retirado por la cuadrilla.")
    lonely_lat, lonely_lng = PENALOLEN_CENTRE
    lonely = [make_report(point=(lonely_lat, lonely_lng)) for _ in range(K - 1)]
    return reports, lonely


def _body(response) -> str:
    assert response.status_code == 200, response.status_code
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def _secrets() -> list[str]:
    found = [value for person in PEOPLE for value in person]
    found += [phone.replace(" ", "") for _name, _email, phone in PEOPLE]
    found += ["Los Aromos 1234"]
    for lat, lng in PRIVATE_POINTS:
        for decimals in (4, 5, 6):
            found += [f"{lat:.{decimals}f}", f"{lng:.{decimals}f}"]
    return found


@pytest.mark.django_db
def test_no_public_page_api_or_export_shows_contact_data_or_exact_points(client, known_people):
    reports, _lonely = known_people
    urls = PUBLIC_URLS + [f"/seguimiento/{r.tracking_code}/" for r in reports]

    leaks = [(url, secret) for url in urls for body in [_body(client.get(url))] for secret in _secrets()
             if secret in body]

    assert leaks == []


@pytest.mark.django_db
def test_a_cell_with_k_minus_one_reports_is_not_shown_on_the_public_map(client, known_people):
    reports, lonely = known_people
    lonely_cell, its_parent = lonely[0].h3_res9, h3i.cell_to_parent(lonely[0].h3_res9, 8)

    shown = {f["properties"]["h3"]: f["properties"]["count"]
             for f in client.get("/transparencia/celdas.geojson").json()["features"]}

    assert h3i.int_to_str(lonely_cell) not in shown
    assert h3i.int_to_str(its_parent) not in shown
    assert shown == {h3i.int_to_str(reports[0].h3_res9): K}
