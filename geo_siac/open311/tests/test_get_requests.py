from datetime import datetime, timedelta

import h3
import pytest
from django.utils import timezone

from geo_siac.open311.selectors import request_page, request_rows, service_requests
from geo_siac.open311.tests.contract import REQUEST_FIELDS, assert_fields, get, items
from geo_siac.reports import selectors as reports_selectors
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_public_cells_refresh
from geo_siac.reports.states import CLOSED, OPEN
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE

FORMATS = ["xml", "json"]


def requests(client, fmt="json", path="requests", **query) -> list[dict]:
    response, body = get(client, path, fmt, **query)
    assert response.status_code == 200, body
    return items(body, fmt, "service_requests", "request")


def ids(found: list[dict]) -> set[int]:
    return {int(item["service_request_id"]) for item in found}


def age(report: Report, days: int) -> Report:
    moment = timezone.now() - timedelta(days=days)
    Report.objects.filter(pk=report.pk).update(created_at=moment, updated_at=moment)
    return report


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_list_every_spec_field_with_its_type(client, make_report, fmt):
    report = make_report(public_visibility=True, address="Av. Concha y Toro 1820")
    (item,) = requests(client, fmt)
    assert_fields(item, REQUEST_FIELDS, fmt)
    assert item["status"] == "open" and item["service_code"] == "retiro-escombros"
    assert item["address"] == "Av. Concha y Toro 1820"
    assert float(item["lat"]) == pytest.approx(PUENTE_ALTO_CENTRE[0])
    requested = datetime.fromisoformat(item["requested_datetime"])
    # Santiago's offset that day (-03:00 in summer, -04:00 from April to September), not UTC's.
    assert requested.utcoffset() == report.created_at.astimezone(SANTIAGO).utcoffset()
    assert requested == report.created_at.replace(microsecond=0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_request_by_id_answers_a_one_item_list(client, make_report, fmt):
    report = make_report(public_visibility=True)  # shown at its point: a request with every field
    (item,) = requests(client, fmt, path=f"requests/{report.pk}")
    assert_fields(item, REQUEST_FIELDS, fmt)
    assert int(item["service_request_id"]) == report.pk


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("request_id", ["999999999", "abc"])
def test_unknown_request_id_is_404(client, communes, fmt, request_id):
    response, body = get(client, f"requests/{request_id}", fmt)
    assert response.status_code == 404
    assert str(items(body, fmt, "errors", "error")[0]["code"]) == "404"


def test_no_response_carries_reporter_data_and_private_reports_are_snapped_to_their_h3_cell(client, make_report):
    report = make_report(
        reporter_name="Ana Rojas",
        reporter_email="ana@example.cl",
        reporter_phone="+56 9 1234 5678",
        address="Pasaje Los Aromos 123",
        description="Frente a mi casa, Pasaje Los Aromos 123",
        public_visibility=False,
    )
    report_public_cells_refresh(min_count=1)  # alone, it is published at its res-9 cell only when k = 1
    for fmt in FORMATS:
        for path in ("requests", f"requests/{report.pk}"):
            response = client.get(f"/open311/v2/{path}.{fmt}", {"extensions": "true"})
            text = response.content.decode()
            for private in ("Ana Rojas", "ana@example.cl", "1234 5678", "Los Aromos"):
                assert private not in text
    (item,) = requests(client)
    cell_lat, cell_lng = h3.cell_to_latlng(h3.int_to_str(report.h3_res9))
    assert (item["lat"], item["long"]) == (round(cell_lat, 6), round(cell_lng, 6))
    assert (item["lat"], item["long"]) != (round(report.location.y, 6), round(report.location.x, 6))


def test_default_window_is_the_last_90_days(client, make_report):
    recent, old = make_report(), age(make_report(), 91)
    assert ids(requests(client)) == {recent.pk}
    start = (timezone.now() - timedelta(days=100)).isoformat()
    end = (timezone.now() - timedelta(days=80)).isoformat()
    assert ids(requests(client, start_date=start, end_date=end)) == {old.pk}


def test_a_window_over_90_days_is_400(client, communes):
    response, body = get(
        client, "requests", "json", start_date="2026-01-01T00:00:00-03:00", end_date="2026-06-01T00:00:00-04:00"
    )
    assert response.status_code == 400 and body[0]["description"].startswith("end_date:")


def test_start_date_alone_covers_the_next_90_days(client, make_report):
    old = age(make_report(), 50)
    start = (timezone.now() - timedelta(days=60)).isoformat()
    assert ids(requests(client, start_date=start)) == {old.pk}


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ({"start_date": "ayer"}, "start_date"),
        ({"status": "pending"}, "status"),
        ({"page_size": "1001"}, "page_size"),
        ({"page": "0"}, "page"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "-70,-33,-71,-34"}, "bbox"),
        ({"lat": "-33.6"}, "long"),
        ({"lat": "-33.6", "long": "-70.5", "radius": "99999"}, "radius"),
        ({"service_request_id": "1,dos"}, "service_request_id"),
        ({"updated_after": "2026-02-30"}, "updated_after"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_parameter(client, communes, query, name):
    response, body = get(client, "requests", "xml", **query)
    assert response.status_code == 400
    (error,) = items(body, "xml", "errors", "error")
    assert error["code"] == "400" and error["description"].startswith(f"{name}:")


def test_a_box_over_too_much_of_the_served_area_is_400_naming_the_limit_and_a_smaller_one_answers(
    client, communes, monkeypatch
):
    """A box's cells are drawn per request (a whole region's: 741,203 cells, 16 s): a box larger than
    BOX_MAX_AREA once clipped to what is served is refused. Two comunas' whole area (about 0.12 square degrees) is
    under the real limit, so the limit is lowered here to reach it."""
    monkeypatch.setattr(reports_selectors, "BOX_MAX_AREA", 0.01)
    response, body = get(client, "requests", "xml", bbox="-71,-34,-70,-33")
    assert response.status_code == 400
    (error,) = items(body, "xml", "errors", "error")
    assert error["description"].startswith("bbox: la caja abarca demasiado del área atendida")
    assert "0.01" in error["description"]
    assert get(client, "requests", "json", bbox="-70.60,-33.62,-70.55,-33.58")[0].status_code == 200


def test_default_limit_is_1000_requests(client, make_report):
    template = make_report()
    fields = {f.attname: getattr(template, f.attname) for f in Report._meta.concrete_fields if f.attname != "id"}
    Report.objects.bulk_create([Report(**{**fields, "tracking_code": f"PA-T{n:03d}-TEST"}) for n in range(1000)])
    assert len(requests(client)) == 1000
    assert len(requests(client, page="2")) == 1


def test_page_and_page_size_walk_the_list_newest_first(client, make_report):
    first, second, third = (age(make_report(), days) for days in (3, 2, 1))
    assert [int(r["service_request_id"]) for r in requests(client, page_size="2")] == [third.pk, second.pk]
    assert ids(requests(client, page_size="2", page="2")) == {first.pk}


def test_service_request_id_comma_list_overrides_other_filters(client, make_report):
    one, two, _three = make_report(), age(make_report(category="grafiti"), 200), make_report()
    found = requests(client, service_request_id=f"{one.pk},{two.pk}", service_code="poda-arboles", status="closed")
    assert ids(found) == {one.pk, two.pk}


def test_service_code_comma_list(client, make_report):
    debris, graffiti, _lights = (make_report(category=c) for c in ("retiro-escombros", "grafiti", "areas-verdes"))
    assert ids(requests(client, service_code="retiro-escombros,grafiti")) == {debris.pk, graffiti.pk}


def test_status_open_closed_and_both(client, make_report):
    opened, closed = make_report(), make_report(public_visibility=True)  # its notes are published
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=closed,
        status="resolved",
        note="Retirado por la cuadrilla.",
        note_is_public=True,
    )
    assert ids(requests(client, status="open")) == {opened.pk}
    assert ids(requests(client, status="closed")) == {closed.pk}
    assert ids(requests(client, status="open,closed")) == {opened.pk, closed.pk}
    (item,) = requests(client, "xml", status="closed")
    assert item["status"] == "closed" and item["status_notes"] == "Retirado por la cuadrilla."


def test_jurisdiction_id_selects_the_comuna(client, make_report, communes):
    alto, penalolen = make_report(), make_report(point=PENALOLEN_CENTRE)
    assert ids(requests(client, jurisdiction_id=communes["13201"].jurisdiction_id)) == {alto.pk}
    assert ids(requests(client, jurisdiction_id=communes["13122"].jurisdiction_id)) == {penalolen.pk}


def test_updated_after_and_before(client, make_report):
    stale, fresh = age(make_report(), 10), make_report()
    middle = (timezone.now() - timedelta(days=5)).isoformat()
    assert ids(requests(client, updated_after=middle)) == {fresh.pk}
    assert ids(requests(client, updated_before=middle)) == {stale.pk}


def test_bbox_matches_the_shown_point(client, make_report):
    public = make_report(public_visibility=True)
    private = make_report(public_visibility=False, point=(-33.6130, -70.5770))
    report_public_cells_refresh(min_count=1)  # alone, it is published at its res-9 cell only when k = 1
    lat, lng = PUENTE_ALTO_CENTRE
    tight = f"{lng - 0.0001},{lat - 0.0001},{lng + 0.0001},{lat + 0.0001}"
    assert ids(requests(client, bbox=tight)) == {public.pk}
    cell_lat, cell_lng = h3.cell_to_latlng(h3.int_to_str(private.h3_res9))
    around_cell = f"{cell_lng - 0.0005},{cell_lat - 0.0005},{cell_lng + 0.0005},{cell_lat + 0.0005}"
    assert private.pk in ids(requests(client, bbox=around_cell))
    assert ids(requests(client, bbox="-70.0,-33.0,-69.9,-32.9")) == set()


def test_lat_long_radius_finds_nearby_requests(client, make_report):
    near = make_report(public_visibility=True)
    far = make_report(public_visibility=True, point=PENALOLEN_CENTRE)
    lat, lng = PUENTE_ALTO_CENTRE
    assert ids(requests(client, lat=str(lat + 0.001), long=str(lng), radius="300")) == {near.pk}
    assert far.pk in ids(requests(client, lat=str(PENALOLEN_CENTRE[0]), long=str(PENALOLEN_CENTRE[1])))


@pytest.mark.parametrize("fmt", FORMATS)
def test_extensions_true_adds_detailed_status_public_notes_and_zone(client, make_report, fmt):
    report = make_report(public_visibility=True)
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="acknowledged",
        note="Derivada a Aseo.",
        note_is_public=True,
    )
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="in_progress", note="Nota interna")
    (item,) = requests(client, fmt, extensions="true")
    extended = item["extended_attributes"]
    assert extended["detailed_status"] == "in_progress"
    assert extended["zone"] == "Puente Alto"
    assert [(note["status"], note["description"]) for note in extended["notes"]] == [
        ("submitted", ""),
        ("acknowledged", "Derivada a Aseo."),
        ("in_progress", ""),
    ]
    assert item["status_notes"] == "Derivada a Aseo."
    assert "extended_attributes" not in requests(client, fmt)[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_token_is_the_tracking_code_and_answers_the_request_id(client, make_report, fmt):
    report = make_report()
    (item,) = requests(client, fmt, path=f"tokens/{report.tracking_code}")
    assert int(item["service_request_id"]) == report.pk and item["token"] == report.tracking_code
    response, _body = get(client, "tokens/PA-XXXX-XXXX", fmt)
    assert response.status_code == 404


def test_reports_in_categories_not_public_are_never_listed(client, make_report):
    from geo_siac.catalogue.models import Category

    hidden = make_report(category="grafiti")
    Category.objects.filter(service_code="grafiti").update(is_public=False)
    assert requests(client) == []
    assert get(client, f"requests/{hidden.pk}", "json")[0].status_code == 404


@pytest.mark.parametrize("fmt", FORMATS)
def test_agency_responsible_is_the_categorys_department_under_its_current_name(client, make_report, fmt):
    from geo_siac.catalogue.models import Department

    make_report(category="bache")
    Department.objects.filter(name="Dirección de Obras Municipales").update(name="Dirección de Obras")
    (item,) = requests(client, fmt)
    assert item["agency_responsible"] == "Dirección de Obras"


def test_queries_per_request_do_not_grow_with_the_page(client, make_report, django_assert_num_queries):
    """A page is one query for its rows, last notes included, plus one for the served extent when a bbox is given
    and one for the history with extensions=true; by id, one (docs/performance.md, "Open311")."""
    reports = [make_report(public_visibility=True) for _ in range(3)]
    for report in reports:
        report_change_status(
            public_note=EXPLAINED_BY_CALLER,
            report=report,
            status="acknowledged",
            note="En revisión.",
            note_is_public=True,
        )
    lat, lng = PUENTE_ALTO_CENTRE
    box = f"{lng - 0.01},{lat - 0.01},{lng + 0.01},{lat + 0.01}"
    with django_assert_num_queries(1):
        assert len(requests(client)) == 3
    with django_assert_num_queries(2):
        found = requests(client, bbox=box, status="open", page_size="100")
    assert ids(found) == {report.pk for report in reports}
    assert {item["status_notes"] for item in found} == {"En revisión."}
    with django_assert_num_queries(2):
        found = requests(client, "xml", extensions="true")
    assert [len(item["extended_attributes"]["notes"]) for item in found] == [2, 2, 2]
    with django_assert_num_queries(1):
        (item,) = requests(client, path=f"requests/{reports[0].pk}")
    assert item["status_notes"] == "En revisión."


def test_box_branches_carry_the_status_and_window_tests(communes):
    """Both branches of the box's union test status and date on their index entry (both indexes include the
    columns), not after a table visit per candidate (docs/performance.md, "Open311")."""
    lat, lng = PUENTE_ALTO_CENTRE
    now = timezone.now()
    reports = service_requests(
        statuses=set(OPEN),
        window=(now - timedelta(days=90), now),
        bbox={"west": lng - 0.01, "south": lat - 0.01, "east": lng + 0.01, "north": lat + 0.01},
    )
    sql = str(reports.query)
    union = sql[sql.index("IN ((SELECT") :]
    branches = union.split(" UNION ALL ")
    assert len(branches) == 2
    for branch in branches:
        assert '"status" = ANY(' in branch
        assert '"created_at" >=' in branch


def test_each_box_branch_keeps_only_the_pages_first_rows(make_report, communes):
    """The list's box branches each keep the first page * page_size rows in the list's order (a LIMIT filled per
    request), so that the outer query does not visit every report of a busy box; the pages are still
    service_requests' own."""
    from geo_siac.open311.selectors import BOX_LIST, slot_values

    lat, lng = PUENTE_ALTO_CENTRE
    made = [make_report(public_visibility=n % 2 == 0, point=(lat + n * 0.0005, lng)) for n in range(7)]
    report_public_cells_refresh(min_count=1)
    now = timezone.now()
    filters = {
        "window": (now - timedelta(days=90), now),
        "statuses": set(OPEN),
        "bbox": {"west": lng - 0.01, "south": lat - 0.01, "east": lng + 0.01, "north": lat + 0.01},
    }
    everything = request_rows(service_requests(**filters))
    assert {row["id"] for row in everything} == {report.pk for report in made}
    for page in (1, 2, 3, 4, 5):
        assert request_page(page=page, page_size=2, **filters) == everything[(page - 1) * 2 : page * 2]
    names = tuple(sorted([*slot_values(**filters).keys() - {"statuses"}, "first"]))
    query = BOX_LIST.shapes[(names, tuple(sorted(OPEN)))]
    assert query.sql.count('"created_at" DESC, U0."id" DESC LIMIT %s') == 2, query.sql


def test_the_list_compiled_once_answers_what_its_query_built_each_time_answers(make_report, communes):
    """request_page sends the list's SQL compiled once per set of filters (selectors.REQUEST_LIST) with each
    request's values: for every filter, alone and together, its rows are service_requests' own, page by page."""
    lat, lng = PUENTE_ALTO_CENTRE
    made = [
        make_report(public_visibility=True),
        make_report(public_visibility=True, point=(lat + 0.004, lng - 0.003), category="grafiti"),
        make_report(public_visibility=False, point=(lat - 0.002, lng + 0.002)),
        make_report(public_visibility=False, point=(lat + 0.001, lng + 0.001), category="grafiti"),
        age(make_report(public_visibility=True, point=PENALOLEN_CENTRE), 20),
        age(make_report(public_visibility=False), 120),
    ]
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=made[1], status="resolved", note="Limpiado.", note_is_public=True
    )
    report_public_cells_refresh(min_count=1)
    now = timezone.now()
    box = {"west": lng - 0.01, "south": lat - 0.01, "east": lng + 0.01, "north": lat + 0.01}
    cases = [
        {"window": (now - timedelta(days=90), now)},
        {"window": (now - timedelta(days=90), now), "statuses": set(OPEN), "bbox": box},
        {"window": (now - timedelta(days=200), now - timedelta(days=110)), "bbox": box},
        {
            "window": (now - timedelta(days=90), now),
            "bbox": {"west": -70.0, "south": -33.0, "east": -69.9, "north": -32.9},
        },
        {"jurisdiction": communes["13122"], "window": (now - timedelta(days=90), now)},
        {"service_codes": ["grafiti", "bache"], "window": (now - timedelta(days=90), now)},
        {"updated_after": now - timedelta(days=5), "updated_before": now},
        {"ids": [made[0].pk, made[4].pk, made[5].pk], "statuses": set(OPEN), "bbox": box},
        {"bbox": {"west": -70.0, "south": -33.0, "east": -69.9, "north": -32.9}, "ids": [made[0].pk, made[4].pk]},
        {"ids": [made[0].pk, made[4].pk], "jurisdiction": communes["13122"]},
        {"circle": {"lat": lat, "lng": lng, "radius_m": 800}, "window": (now - timedelta(days=90), now)},
    ]
    listed = set()
    for filters in cases:
        everything = request_rows(service_requests(**filters))
        for page, page_size in ((1, 1000), (1, 2), (2, 2)):
            expected = everything[(page - 1) * page_size : page * page_size]
            assert request_page(page=page, page_size=page_size, **filters) == expected, filters
        listed |= {row["id"] for row in everything}
    assert listed == {report.pk for report in made}  # every report is in some case's answer


def box_list_cases(made, communes) -> list[dict]:
    """Filters of a box list: every status set, jurisdictions, service codes, update times and windows."""
    lat, lng = PUENTE_ALTO_CENTRE
    now = timezone.now()
    window = (now - timedelta(days=90), now)
    box = {"west": lng - 0.01, "south": lat - 0.01, "east": lng + 0.01, "north": lat + 0.01}
    edge = {"west": lng, "south": lat - 0.01, "east": lng + 0.01, "north": lat}  # the plaza's report on its corner
    cases = [
        {"window": window, "bbox": box, "statuses": statuses}
        for statuses in (set(OPEN), set(CLOSED), OPEN | CLOSED, None)
    ]
    return [
        *cases,
        {"window": window, "bbox": edge, "statuses": set(OPEN)},
        {"window": window, "bbox": edge},
        {"window": window, "bbox": box, "statuses": set(OPEN), "jurisdiction": communes["13201"]},
        {"window": window, "bbox": box, "jurisdiction": communes["13122"]},
        {"window": window, "bbox": box, "statuses": set(OPEN), "service_codes": ["grafiti", "nada"]},
        {"window": (now - timedelta(days=200), now - timedelta(days=110)), "bbox": box},
        {"window": (made[0].created_at, made[0].created_at), "bbox": box, "statuses": set(OPEN)},
        {"updated_after": now - timedelta(days=5), "updated_before": now, "bbox": box, "statuses": set(CLOSED)},
        {"window": window, "bbox": {"west": -70.0, "south": -33.0, "east": -69.9, "north": -32.9}},
    ]


def made_around_the_plaza(make_report) -> list[Report]:
    lat, lng = PUENTE_ALTO_CENTRE
    made = [
        make_report(public_visibility=True),
        make_report(public_visibility=True, point=(lat + 0.004, lng - 0.003), category="grafiti"),
        make_report(public_visibility=False, point=(lat - 0.002, lng + 0.002)),
        make_report(public_visibility=False, point=(lat + 0.001, lng + 0.001), category="grafiti"),
        make_report(public_visibility=True, point=(lat - 0.003, lng + 0.004)),
        age(make_report(public_visibility=False, point=(lat - 0.001, lng - 0.002)), 120),
        make_report(public_visibility=True, point=PENALOLEN_CENTRE),
    ]
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=made[1], status="resolved", note="Limpiado.", note_is_public=True
    )
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=made[2], status="acknowledged", note="En revisión.", note_is_public=True
    )
    report_public_cells_refresh(min_count=1)
    return made


def test_the_prepared_box_list_answers_what_the_orm_answers(make_report, communes):
    """A list with a box goes through one statement prepared per session and status set (selectors.BOX_LIST, the
    statuses written into it and the window as in_window): for every status set, page (past the end too) and other
    filter, its rows are service_requests' own, built by the ORM each time."""
    made = made_around_the_plaza(make_report)
    listed = set()
    for filters in box_list_cases(made, communes):
        everything = request_rows(service_requests(**filters))
        for page, page_size in ((1, 1000), (1, 2), (2, 2), (3, 2), (9, 2)):
            expected = everything[(page - 1) * page_size : page * page_size]
            assert request_page(page=page, page_size=page_size, **filters) == expected, (filters, page, page_size)
        listed |= {row["id"] for row in everything}
    assert listed == {report.pk for report in made[:6]}  # every report around the plaza is in some case's answer


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("language", ["es", "en"])
def test_box_list_answers_are_byte_for_byte_the_orm_paths(client, make_report, communes, monkeypatch, fmt, language):
    """The whole answer, JSON and XML, Spanish and English, with the prepared box list and with the ORM building
    the page each time in its place."""
    from geo_siac.open311 import selectors

    made_around_the_plaza(make_report)
    lat, lng = PUENTE_ALTO_CENTRE
    box = f"{lng - 0.01},{lat - 0.01},{lng + 0.01},{lat + 0.01}"
    queries = [
        {"bbox": box, "status": status, "page_size": "2", "page": page}
        for status in ("open", "closed", "open,closed", "")
        for page in ("1", "2", "4")
    ]
    queries += [
        {"bbox": f"{lng},{lat - 0.01},{lng + 0.01},{lat}", "status": "open"},
        {"bbox": box, "jurisdiction_id": communes["13201"].jurisdiction_id, "extensions": "true"},
        {"bbox": box, "service_code": "grafiti", "status": "open,closed"},
    ]

    def answers() -> list[tuple[int, bytes]]:
        found = []
        for query in queries:
            response = client.get(f"/open311/v2/requests.{fmt}", query, HTTP_ACCEPT_LANGUAGE=language)
            found.append((response.status_code, response.content))
        return found

    prepared = answers()

    def orm_page(*, page, page_size, **filters):
        return request_rows(service_requests(**filters)[(page - 1) * page_size : page * page_size])

    monkeypatch.setattr(selectors, "request_page", orm_page)
    assert answers() == prepared
    assert {status for status, _ in prepared} == {200}
    assert sum(body.count(b"service_request_id") for _, body in prepared) > 20


def test_the_box_list_is_prepared_once_per_session_and_status_set(make_report, communes):
    """PostgreSQL parses and plans each status set's statement once per session (planning it took longer than
    running it, docs/performance.md "Open311"): the statuses are in its text, so that a generic plan still proves
    the open reports' partial indexes, and the window is in_window, never a date index's condition."""
    from django.db import connection

    from geo_siac.open311.selectors import BOX_LIST, slot_values

    made_around_the_plaza(make_report)
    lat, lng = PUENTE_ALTO_CENTRE
    now = timezone.now()
    filters = {
        "window": (now - timedelta(days=90), now),
        "bbox": {"west": lng - 0.01, "south": lat - 0.01, "east": lng + 0.01, "north": lat + 0.01},
    }
    for statuses in (set(OPEN), set(OPEN), set(CLOSED), set(OPEN), set(CLOSED)):
        request_page(page=1, page_size=100, statuses=statuses, **filters)
    slots = tuple(sorted([*slot_values(**filters), "first"]))
    names = [BOX_LIST.shapes[(slots, tuple(sorted(s)))].statement.name for s in (OPEN, CLOSED)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements WHERE name = ANY(%s)", [names])
        statements = dict(cursor.fetchall())
    # The list's own filter, after its status_notes subquery (whose citizen's reopening names both status sets).
    open_list, closed_list = (statements[name].split(' AS "status_notes" FROM ')[1] for name in names)
    assert "'resolved'" in closed_list
    assert "'submitted'" not in closed_list
    assert "'resolved'" not in open_list
    assert "ARRAY['acknowledged','in_progress','submitted']" in open_list
    assert "tstzrange($" in open_list
    assert '"created_at" >=' not in open_list
