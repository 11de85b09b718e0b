"""A request without a place (a reclamo, a consulta...) is on no map, in no cell count and at no public place (the
heat map's counts, the coverage's, the published cells, the open data, Open311 and the GeoJSON API), while the
indicators count it, by kind."""

import csv
import json

import pytest

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.maps.selectors import cell_counts, cell_counts_by_group, report_counts
from geo_siac.reports.services import report_create, report_public_cells_refresh
from geo_siac.testing import PUENTE_ALTO_CENTRE
from geo_siac.transparency.selectors import indicators_by, public_cells, transparency_reports
from geo_siac.transparency.services import open_data_publish


@pytest.fixture
def mixed_requests(make_report, communes):
    """Three service requests at one point and three requests without a place in public topics."""
    Category.objects.filter(kind__in=[RequestKind.SUGGESTION, RequestKind.COMPLAINT]).update(is_public=True)
    placed = [make_report(public_visibility=True) for _ in range(3)]
    placeless = [
        report_create(
            kind=RequestKind.SUGGESTION,
            category="sugerencia",
            commune=communes["13201"],
            channel="web",
            description="Más bancas.",
            public_visibility=True,
        ),
        report_create(
            kind=RequestKind.SUGGESTION,
            category="sugerencia",
            commune=communes["13201"],
            channel="phone",
            description="Más árboles.",
        ),
        report_create(
            kind=RequestKind.COMPLAINT,
            category="reclamo-servicio",
            commune=communes["13201"],
            channel="web",
            description="No pasó el camión.",
        ),
    ]
    report_public_cells_refresh(min_count=1)
    return placed, placeless


def test_no_map_or_cell_count_holds_a_request_without_a_place(mixed_requests, communes):
    for res in (6, 9, 10):
        counts = cell_counts(res)
        assert None not in counts and sum(counts.values()) == 3
    assert all(None not in cells for cells in cell_counts_by_group(9).values())
    coverage_counts = report_counts(communes["13201"], 9)
    assert coverage_counts.sum() == 3 and not coverage_counts.index.isna().any()
    cells = public_cells(transparency_reports(), min_count=1)
    assert sum(cell["count"] for cell in cells) == 3


def test_the_open_data_gives_a_request_without_a_place_no_place(mixed_requests, tmp_path, settings):
    settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT = 1  # the publish step places the three at one point in their cell
    placed, placeless = mixed_requests
    open_data_publish(tmp_path)
    with open(tmp_path / "solicitudes.csv", encoding="utf-8") as handle:
        rows = {row["service_request_id"]: row for row in csv.DictReader(handle)}
    assert all(rows[str(r.pk)]["h3_cell"] and rows[str(r.pk)]["cell_lat"] for r in placed)
    assert all(rows[str(r.pk)]["h3_cell"] == rows[str(r.pk)]["cell_lat"] == "" for r in placeless)
    features = {
        f["properties"]["service_request_id"]: f
        for f in json.loads((tmp_path / "solicitudes.geojson").read_text())["features"]
    }
    assert all(features[str(r.pk)]["geometry"] is None for r in placeless)
    assert all(features[str(r.pk)]["geometry"] is not None for r in placed)


def test_open311_and_the_api_list_a_request_without_a_place_with_no_coordinates(mixed_requests, client):
    placed, placeless = mixed_requests
    listed = {r["service_request_id"]: r for r in client.get("/open311/v2/requests.json").json()}
    assert {str(r.pk) for r in placeless} <= listed.keys()
    for report in placeless:
        assert "lat" not in listed[str(report.pk)] and "long" not in listed[str(report.pk)]
    lat, lng = PUENTE_ALTO_CENTRE
    assert listed[str(placed[0].pk)]["lat"] == pytest.approx(lat)
    detail = client.get(f"/open311/v2/requests/{placeless[0].pk}.json").json()[0]
    assert "lat" not in detail and detail["description"] == "Más bancas."
    features = {f["id"]: f for f in client.get("/api/reports/", {"page_size": 50}).json()["features"]}
    for report in placeless:
        assert features[report.pk]["geometry"] is None
        assert features[report.pk]["properties"]["location_precision"] == "none"
    assert client.get("/api/reports/", {"bbox": "-70.7,-33.7,-70.4,-33.4"}).json()["count"] == 3


def test_the_indicators_count_requests_without_a_place_by_kind(mixed_requests):
    by_kind = indicators_by(transparency_reports(), [None, "kind"])
    assert by_kind[None][None]["volume"] == 6
    assert {kind: result["volume"] for kind, result in by_kind["kind"].items()} == {
        "service_request": 3,
        "suggestion": 2,
        "complaint": 1,
    }
