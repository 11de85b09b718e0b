from datetime import timedelta

import h3
import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.generics import GenericAPIView
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geo_siac.catalogue.models import Category
from geo_siac.reports import api
from geo_siac.reports import selectors as reports_selectors
from geo_siac.reports.api import ReportPagination, ReportSerializer, ReportViewSet
from geo_siac.reports.models import Report
from geo_siac.reports.selectors import public_reports
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_public_cells_refresh
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE


def features(client, **query) -> list[dict]:
    response = client.get("/api/reports/", query)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["type"] == "FeatureCollection"
    return body["features"]


def ids(found) -> set[int]:
    return {feature["id"] for feature in found}


def test_reports_are_geojson_features_with_public_fields_only(client, make_report):
    report = make_report(public_visibility=True, reporter_name="Ana Rojas", reporter_email="ana@example.cl")
    (feature,) = features(client)
    assert feature["geometry"]["type"] == "Point"
    assert feature["geometry"]["coordinates"] == [
        pytest.approx(PUENTE_ALTO_CENTRE[1]),
        pytest.approx(PUENTE_ALTO_CENTRE[0]),
    ]
    assert feature["properties"]["category"] == "retiro-escombros"
    assert feature["properties"]["commune"] == "13201"
    assert feature["properties"]["location_precision"] == "exact"
    assert "Ana" not in str(feature) and "ana@" not in str(feature) and report.tracking_code not in str(feature)


def test_private_reports_show_their_h3_cell_centre_without_address_or_description(client, make_report):
    report = make_report(public_visibility=False, address="Pasaje Los Aromos 123", description="Mi casa")
    report_public_cells_refresh(min_count=1)  # alone, it is published at its res-9 cell only when k = 1
    (feature,) = features(client)
    lat, lng = h3.cell_to_latlng(h3.int_to_str(report.h3_res9))
    assert feature["geometry"]["coordinates"] == [pytest.approx(lng, abs=1e-6), pytest.approx(lat, abs=1e-6)]
    assert feature["properties"]["location_precision"] == "h3-res9-centre"
    assert feature["properties"]["address"] == "" and feature["properties"]["description"] == ""


def test_reports_filter_by_commune_category_status_dates_and_bbox(client, make_report):
    alto = make_report(public_visibility=True)
    penalolen = make_report(point=PENALOLEN_CENTRE, category="grafiti", public_visibility=True)
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=penalolen, status="resolved")
    assert ids(features(client, commune="13201")) == {alto.pk}
    assert ids(features(client, category="grafiti")) == {penalolen.pk}
    assert ids(features(client, status="resolved")) == {penalolen.pk}
    assert ids(features(client, created_after=alto.created_at.isoformat())) == {alto.pk, penalolen.pk}
    assert ids(features(client, created_before="2000-01-01T00:00:00Z")) == set()
    lat, lng = PENALOLEN_CENTRE
    assert ids(features(client, bbox=f"{lng - 0.01},{lat - 0.01},{lng + 0.01},{lat + 0.01}")) == {penalolen.pk}


@pytest.mark.parametrize(
    "query", [{"bbox": "a,b,c,d"}, {"bbox": "10,10,0,0"}, {"status": "perdida"}, {"created_after": "ayer"}]
)
def test_bad_filters_are_400(client, communes, query):
    assert client.get("/api/reports/", query).status_code == 400


def test_a_bad_filter_is_explained_in_each_requests_language(client, communes):
    # The filter form is built once per process: its messages must still follow each request's language.
    for _ in range(2):
        spanish = client.get("/api/reports/", {"status": "perdida"}, HTTP_ACCEPT_LANGUAGE="es")
        english = client.get("/api/reports/", {"status": "perdida"}, HTTP_ACCEPT_LANGUAGE="en")
        assert spanish.status_code == english.status_code == 400
        assert "opción válida" in spanish.json()["status"][0]
        assert "valid choice" in english.json()["status"][0]


def field_state(field) -> tuple:
    """What validating or showing a form could alter in a shared field, copied as it is now."""
    messages = {key: str(text) for key, text in field.error_messages.items()}
    return messages, field.initial, dict(field.widget.attrs), list(getattr(field, "choices", []))


def test_the_filter_forms_share_their_fields_yet_each_request_is_validated_on_its_own(client, make_report):
    grafiti = make_report(category="grafiti", public_visibility=True)
    rubble = make_report(category="retiro-escombros", public_visibility=True)
    form = api.report_filter_form()
    before = {name: field_state(field) for name, field in form.base_fields.items()}
    good, bad = form(QueryDict("category=grafiti")), form(QueryDict("status=perdida&created_after=ayer"))
    assert good.fields is bad.fields
    assert good.is_valid() and not bad.is_valid()
    assert {name: field_state(field) for name, field in form.base_fields.items()} == before
    assert good.cleaned_data["category"] == "grafiti" and set(bad.errors) == {"status", "created_after"}
    assert ids(features(client, category="grafiti")) == {grafiti.pk}
    assert client.get("/api/reports/", {"status": "perdida"}).status_code == 400
    assert ids(features(client, category="retiro-escombros")) == {rubble.pk}


def test_a_box_over_too_much_of_the_served_area_is_400_naming_bbox(client, communes, monkeypatch):
    monkeypatch.setattr(reports_selectors, "BOX_MAX_AREA", 0.01)
    response = client.get("/api/reports/", {"bbox": "-71,-34,-70,-33"})
    assert response.status_code == 400
    assert "demasiado" in str(response.json()["bbox"])
    assert client.get("/api/reports/", {"bbox": "-70.60,-33.62,-70.55,-33.58"}).status_code == 200


def test_reports_are_paginated(client, make_report):
    for _ in range(3):
        make_report()
    body = client.get("/api/reports/", {"page_size": 2}).json()
    assert body["count"] == 3 and len(body["features"]) == 2 and body["next"]


def test_categories_list_public_categories_with_their_questions(client, communes):
    body = client.get("/api/categories/").json()
    poda = next(item for item in body["results"] if item["service_code"] == "poda-arboles")
    assert poda["name"] == "Poda de árboles" and poda["attributes"][0]["code"] == "riesgo"
    assert client.get("/api/categories/poda-arboles/").json()["group"] == "Aseo y ornato"


class FieldByFieldSerializer(ReportSerializer):
    to_representation = GeoFeatureModelSerializer.to_representation


class DjangoPagination(ReportPagination):
    django_paginator_class = Paginator


def as_before_the_fast_path(monkeypatch):
    """The list as drf-gis builds it from the declared fields, over Django's paginator and public_reports() filtered
    by ReportFilter's own filters (the ORM's query)."""
    monkeypatch.setattr(ReportViewSet, "serializer_class", FieldByFieldSerializer)
    monkeypatch.setattr(ReportViewSet, "filter_queryset", GenericAPIView.filter_queryset)
    monkeypatch.setattr(ReportViewSet, "pagination_class", DjangoPagination)
    monkeypatch.setattr(ReportViewSet, "get_queryset", lambda view: public_reports())


@pytest.fixture
def mixed_reports(make_report, communes):
    """Public and private reports in both comunas, open and closed, with a description and an address; and a
    complaint without a place, public and private."""
    lat, lng = PUENTE_ALTO_CENTRE
    reports = [
        make_report(
            point=(lat + i * 0.0013, lng - i * 0.0021),
            public_visibility=i % 2 == 0,
            category=["retiro-escombros", "grafiti"][i % 2],
            address=f"Pasaje Los Aromos {i}",
            description=f"Escombros, caso {i}.",
        )
        for i in range(5)
    ]
    reports += [
        make_report(point=PENALOLEN_CENTRE, public_visibility=public, category="grafiti", address="Calle 1")
        for public in (True, False)
    ]
    reports += [
        make_report(
            kind="complaint",
            category="reclamo-servicio",
            commune=communes["13201"],
            latitude=None,
            longitude=None,
            public_visibility=public,
            description="No retiraron la basura.",
        )
        for public in (True, False)
    ]
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=reports[1], status="resolved", note="Retirado.")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=reports[2], status="in_progress")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=reports[5], status="closed_duplicate")
    report_public_cells_refresh(min_count=2)  # the private ones get a published cell at various resolutions
    return reports


LIST_QUERIES = [
    {},
    {"page_size": 3},
    {"page_size": 3, "page": 2},
    {"page_size": 3, "page": "last"},
    {"page_size": 3, "page": 9},
    {
        "bbox": f"{PUENTE_ALTO_CENTRE[1] - 0.01},{PUENTE_ALTO_CENTRE[0] - 0.01},"
        f"{PUENTE_ALTO_CENTRE[1] + 0.01},{PUENTE_ALTO_CENTRE[0] + 0.01}",
        "page_size": 2,
        "page": 2,
    },
    {"status": "resolved"},
    {"status": ["submitted", "in_progress"], "page_size": 2, "page": "last"},
    {"commune": "13122"},
    {"commune": "13201", "status": ["submitted", "resolved"], "category": "grafiti"},
    {"commune": "99999"},
    {"category": "grafiti", "page_size": 1},
    {"category": "grafiti", "commune": "", "bbox": "", "status": []},
    {"created_after": "2000-01-01T00:00:00Z", "created_before": "2100-01-01T00:00:00-03:00", "page_size": 4},
    {"created_before": "2000-01-01T00:00:00Z"},
    {"created_before": "2000-01-01T00:00:00Z", "page": 2},
    {
        "bbox": f"{PENALOLEN_CENTRE[1] - 0.02},{PENALOLEN_CENTRE[0] - 0.02},"
        f"{PENALOLEN_CENTRE[1] + 0.02},{PENALOLEN_CENTRE[0] + 0.02}",
        "status": "submitted",
        "category": "grafiti",
    },
    {"bbox": "-70.7,-33.7,-70.4,-33.4", "page_size": 2, "page": "last"},
    {"bbox": "10,10,11,11"},  # nothing served in it
    {"bbox": "10,10,11,11", "page": 2},
    {"bbox": "a,b,c,d"},
    {"bbox": "10,10,0,0"},
    {"status": "perdida"},
    {"created_after": "ayer"},
    {"page": "primera"},
]


def responses(client, mixed_reports) -> list[tuple[int, bytes]]:
    found = []
    for language in ("es", "en"):
        for query in LIST_QUERIES:
            found.append(client.get("/api/reports/", query, HTTP_ACCEPT_LANGUAGE=language))
        for report in mixed_reports:
            found.append(client.get(f"/api/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE=language))
    return [(response.status_code, response.content) for response in found]


@pytest.mark.parametrize("time_zone", ["America/Santiago", "UTC"])
def test_features_pages_and_links_are_byte_for_byte_those_of_the_field_by_field_serializer(
    client, make_report, mixed_reports, monkeypatch, settings, time_zone
):
    settings.TIME_ZONE = time_zone
    hidden = make_report(category="ruidos-molestos", public_visibility=True)
    Category.objects.filter(service_code="ruidos-molestos").update(is_public=False)
    body = client.get("/api/reports/", {"page_size": 3, "page": 2}, HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["count"] == 9 and body["next"] and body["previous"] and len(body["features"]) == 3
    english = client.get("/api/reports/", HTTP_ACCEPT_LANGUAGE="en").json()
    shown = [feature["properties"] for feature in english["features"]]
    assert {p["location_precision"] for p in shown} >= {"exact", "h3-res9-centre", "none"}
    assert sum(feature["geometry"] is None for feature in english["features"]) == 2
    assert {p["status_name"] for p in shown} >= {"Resolved", "Received"}
    assert "Graffiti" in {p["category_name"] for p in shown}
    assert any(p["closed_at"] for p in shown) and any(p["closed_at"] is None for p in shown)

    fast = responses(client, [*mixed_reports, hidden])
    # In each language: page 9, page 2 of nothing (twice), page "primera", and the hidden report.
    assert [status for status, _ in fast].count(404) == 10
    assert [status for status, _ in fast].count(400) == 8
    as_before_the_fast_path(monkeypatch)
    assert responses(client, [*mixed_reports, hidden]) == fast


def test_a_page_of_features_costs_the_same_few_queries_however_many_it_holds(
    client, make_report, django_assert_num_queries
):
    make_report(public_visibility=True)
    with django_assert_num_queries(2):  # the count, then the page
        client.get("/api/reports/")
    for public in (True, False) * 5:
        make_report(public_visibility=public, category="grafiti")
    with django_assert_num_queries(2):
        client.get("/api/reports/")


def test_a_page_and_its_count_come_from_one_scan(client, make_report):
    for _ in range(3):
        make_report()
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/reports/", {"page_size": 2, "page": 2}).json()
    assert body["count"] == 3 and len(body["features"]) == 1 and body["previous"]
    report_scans = [q["sql"] for q in queries if 'FROM "reports_report"' in q["sql"]]
    assert len(report_scans) == 2 and "OVER ()" in report_scans[0], report_scans
    assert not any(sql.startswith("SELECT COUNT(*)") for sql in report_scans)


def test_a_box_page_is_sorted_and_counted_from_its_union_alone_newest_then_highest_id_first(client, make_report):
    lat, lng = PENALOLEN_CENTRE
    box = f"{lng - 0.01},{lat - 0.01},{lng + 0.01},{lat + 0.01}"
    older, *same_time = [make_report(point=PENALOLEN_CENTRE, public_visibility=True) for _ in range(3)]
    Report.objects.filter(pk__in=[r.pk for r in same_time]).update(created_at=older.created_at + timedelta(hours=1))
    with CaptureQueriesContext(connection) as queries:
        pages = [client.get("/api/reports/", {"bbox": box, "page_size": 1, "page": n}).json() for n in (1, 2, 3)]
    assert [page["count"] for page in pages] == [3, 3, 3]
    assert [page["features"][0]["id"] for page in pages] == [*sorted((r.pk for r in same_time), reverse=True), older.pk]
    keys = next(q["sql"] for q in queries if "OVER ()" in q["sql"])
    # No second visit of the reports' table for the dates: the union's branches carry them from their indexes.
    assert "UNION ALL" in keys and '"reports_report"."id" IN' not in keys, keys


def test_a_box_page_counts_a_public_report_with_a_published_cell_once_beside_private_ones_at_the_same_time(
    client, make_report
):
    """The union's two branches are counted without removing repeats, so they must never share a report: a public
    report also has a published cell in the box, yet only its exact point's branch may give it (review 20)."""
    lat, lng = PENALOLEN_CENTRE
    box = f"{lng - 0.01},{lat - 0.01},{lng + 0.01},{lat + 0.01}"
    reports = [make_report(point=PENALOLEN_CENTRE, public_visibility=public) for public in (True, False, False)]
    report_public_cells_refresh(min_count=1)
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(created_at=reports[0].created_at)
    assert Report.objects.filter(pk=reports[0].pk, public_cell__isnull=False).exists()  # placed in both ways
    pages = [client.get("/api/reports/", {"bbox": box, "page_size": 1, "page": n}).json() for n in (1, 2, 3)]
    assert [page["count"] for page in pages] == [3, 3, 3]
    assert [page["features"][0]["id"] for page in pages] == sorted((r.pk for r in reports), reverse=True)
    assert client.get("/api/reports/", {"bbox": box, "page_size": 1, "page": 4}).status_code == 404


@pytest.mark.parametrize("page", ["1" * 40, str(2**63), "99999"])
def test_a_page_number_past_the_end_is_a_404_however_large(client, make_report, page):
    make_report()
    assert client.get("/api/reports/", {"page": page}).status_code == 404


def test_a_category_hidden_between_the_pages_keys_and_its_rows_serves_none_of_its_reports(
    client, make_report, monkeypatch
):
    hidden = make_report(category="ruidos-molestos", public_visibility=True, description="SECRETO")
    shown = make_report(public_visibility=True)
    found_keys = api.public_feature_keys

    def keys_then_hide(values, **page):
        found = found_keys(values, **page)
        assert {key for key, _matches in found} >= {hidden.pk, shown.pk}
        Category.objects.filter(service_code="ruidos-molestos").update(is_public=False)
        return found

    monkeypatch.setattr(api, "public_feature_keys", keys_then_hide)
    body = client.get("/api/reports/").json()
    assert [feature["id"] for feature in body["features"]] == [shown.pk]
    assert "SECRETO" not in str(body)


def test_the_list_filters_through_report_filter_alone():
    """filter_queryset builds the list's FeatureSelection from ReportFilter only: a backend added to the view would
    be skipped on the list, so adding one must change that method too."""
    assert ReportViewSet.filter_backends == [DjangoFilterBackend]
