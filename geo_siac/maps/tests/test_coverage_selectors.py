"""Coverage selectors through the database, on a hand-built square comuna with known population.

Cells sit on one H3 axis at res 9: A, B three steps from A, C twenty steps one way, E twenty steps the
other. A health office stands at A's centre (weekdays and Sunday mornings), a night service at C's centre
(first Thursday of the month, 19:00-22:30).
"""

import csv
import io
import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import h3.api.basic_int as h3i
import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from pyproj import Geod

from geo_siac.maps.coverage import exhaustive_max_cover
from geo_siac.maps.coverage_outputs import cells_csv
from geo_siac.maps.selectors import CoverageOptions, coverage, greedy_gap, recommend_sites, underserved_cells
from geo_siac.zones.models import Commune, PopulationCell, ServicePoint

SCL = ZoneInfo("America/Santiago")
RES = 9
CENTRE = (-34.30, -70.90)  # lat, lng: away from the real comunas in the test database
OFFICE_HOURS = {
    "weekly": {day: [["08:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")} | {"sun": [["09:00", "13:00"]]}
}
NIGHT_HOURS = {"special_sessions": [{"weekday": "thu", "nth": 1, "hours": [["19:00", "22:30"]]}]}
POPULATION = {"A": (1000, 100, 300), "B": (500, 200, 0), "C": (250, 50, 50), "E": (250, 0, 100)}


def cell_along_axis(origin: int, steps: int) -> int:
    i, j = h3i.cell_to_local_ij(origin, origin)
    return h3i.local_ij_to_cell(origin, i + steps, j)


def metres(cell_a: int, cell_b: int) -> float:
    (lat1, lng1), (lat2, lng2) = h3i.cell_to_latlng(cell_a), h3i.cell_to_latlng(cell_b)
    return Geod(ellps="WGS84").inv(lng1, lat1, lng2, lat2)[2]


@pytest.fixture
def square(communes):
    lat, lng = CENTRE
    ring = (
        (lng - 0.1, lat - 0.1),
        (lng + 0.1, lat - 0.1),
        (lng + 0.1, lat + 0.1),
        (lng - 0.1, lat + 0.1),
        (lng - 0.1, lat - 0.1),
    )
    commune = Commune.objects.create(
        cut="99901",
        name="Comuna Cuadrada",
        geometry=MultiPolygon(Polygon(ring), srid=4326),
        jurisdiction_id="cuadrada",
        tracking_prefix="CC",
        is_active=True,
    )
    a = h3i.latlng_to_cell(lat, lng, RES)
    cells = {"A": a, "B": cell_along_axis(a, 3), "C": cell_along_axis(a, 20), "E": cell_along_axis(a, -20)}
    for name, (total, under_15, over_65) in POPULATION.items():
        PopulationCell.objects.create(
            cut="99901", res=RES, cell=cells[name], pob_total=total, pob_under_15=under_15, pob_65_plus=over_65
        )
    for name, kind, at, capacity, hours in (
        ("Oficina A", "health", "A", 10, OFFICE_HOURS),
        ("Noche C", "night_service", "C", 5, NIGHT_HOURS),
    ):
        lat_c, lng_c = h3i.cell_to_latlng(cells[at])
        ServicePoint.objects.create(
            name=name,
            kind=kind,
            point=Point(lng_c, lat_c, srid=4326),
            commune=commune,
            capacity_per_day=capacity,
            opening_hours=hours,
        )
    return commune, cells


def by_name(result, cells):
    return {name: result.cells.loc[cell] for name, cell in cells.items()}


def test_distance_is_measured_from_each_populated_cell_to_the_nearest_point(square):
    commune, cells = square
    rows = by_name(coverage(commune, CoverageOptions(res=RES)), cells)
    assert rows["A"]["distance_m"] == pytest.approx(0, abs=1)
    assert rows["C"]["distance_m"] == pytest.approx(0, abs=1)
    assert rows["B"]["distance_m"] == pytest.approx(metres(cells["A"], cells["B"]), rel=0.01)
    assert rows["E"]["distance_m"] == pytest.approx(metres(cells["A"], cells["E"]), rel=0.01)


def test_shares_within_thresholds_count_everyone_and_each_age_group(square):
    commune, cells = square
    assert 500 < metres(cells["A"], cells["B"]) < 1000 < 2000 < metres(cells["A"], cells["E"])
    shares = coverage(commune, CoverageOptions(res=RES)).shares
    assert shares["total"][500] == pytest.approx({"population": 1250, "share": 1250 / 2000})
    assert shares["total"][1000] == pytest.approx({"population": 1750, "share": 1750 / 2000})
    assert shares["under_15"][1000] == pytest.approx({"population": 350, "share": 1.0})
    assert shares["65_plus"][2000] == pytest.approx({"population": 350, "share": 350 / 450})


def test_thresholds_are_configurable(square):
    commune, _ = square
    shares = coverage(commune, CoverageOptions(res=RES, thresholds=(100, 15_000))).shares["total"]
    assert shares[100]["population"] == pytest.approx(1250)
    assert shares[15_000]["population"] == pytest.approx(2000)


def test_two_step_fca_divides_capacity_among_the_population_in_each_catchment(square):
    commune, cells = square
    rows = by_name(coverage(commune, CoverageOptions(res=RES, catchment_m=2000)), cells)
    assert rows["A"]["access"] == pytest.approx(10 / 1500 * 1000)
    assert rows["B"]["access"] == pytest.approx(10 / 1500 * 1000)
    assert rows["C"]["access"] == pytest.approx(5 / 250 * 1000)
    assert rows["E"]["access"] == 0


def test_night_service_is_the_only_point_open_at_20_on_the_first_thursday(square):
    commune, cells = square
    first_thursday = datetime(2026, 3, 5, 20, 0, tzinfo=SCL)
    result = coverage(commune, CoverageOptions(res=RES, open_at=first_thursday))
    assert list(result.points["name"]) == ["Noche C"]
    assert result.cells.loc[cells["A"], "distance_m"] == pytest.approx(metres(cells["A"], cells["C"]), rel=0.01)
    assert result.shares["total"][500]["population"] == pytest.approx(250)


def test_nobody_is_covered_on_a_second_thursday_night(square):
    commune, _ = square
    result = coverage(commune, CoverageOptions(res=RES, open_at=datetime(2026, 3, 12, 20, 0, tzinfo=SCL)))
    assert result.points.empty
    assert result.shares["total"][2000]["population"] == 0


def test_a_point_of_unknown_hours_is_neither_open_nor_closed_at_a_time(square):
    commune, cells = square
    lat, lng = h3i.cell_to_latlng(cells["E"])
    ServicePoint.objects.create(name="Posta E", kind="health", point=Point(lng, lat, srid=4326), commune=commune)
    result = coverage(commune, CoverageOptions(res=RES, open_at=datetime(2026, 3, 5, 20, 0, tzinfo=SCL)))
    assert list(result.points["name"]) == ["Noche C"] and list(result.unknown_hours["name"]) == ["Posta E"]
    assert result.shares["total"][500]["population"] == pytest.approx(250)  # C only
    assert result.shares_if_unknown_open["total"][500]["population"] == pytest.approx(500)  # C and E
    untimed = coverage(commune, CoverageOptions(res=RES))
    assert untimed.unknown_hours.empty and untimed.shares_if_unknown_open is None


def test_the_office_is_closed_on_a_public_holiday(square):
    commune, _ = square
    navy_day = datetime(2026, 5, 21, 10, 0, tzinfo=SCL)
    assert coverage(commune, CoverageOptions(res=RES, open_at=navy_day)).points.empty


@pytest.mark.parametrize(
    ("instant", "is_open"),
    [
        (datetime(2026, 4, 5, 16, 45, tzinfo=UTC), True),  # 12:45 at UTC-4, the day DST ends
        (datetime(2026, 4, 5, 17, 15, tzinfo=UTC), False),  # 13:15 at UTC-4
        (datetime(2026, 9, 6, 12, 15, tzinfo=UTC), True),  # 09:15 at UTC-3, the day DST starts
        (datetime(2026, 9, 6, 11, 45, tzinfo=UTC), False),  # 08:45 at UTC-3
    ],
)
def test_sunday_morning_hours_hold_on_dst_change_days(square, instant, is_open):
    commune, _ = square
    names = list(coverage(commune, CoverageOptions(res=RES, open_at=instant)).points["name"])
    assert names == (["Oficina A"] if is_open else [])


def test_filtering_by_kind_drops_other_points(square):
    commune, cells = square
    result = coverage(commune, CoverageOptions(res=RES, kinds=("health",)))
    assert list(result.points["name"]) == ["Oficina A"]
    assert result.cells.loc[cells["C"], "distance_m"] > 5000


def test_underserved_cells_are_the_far_ones_ranked_by_people_and_distance(square):
    commune, cells = square
    result = coverage(commune, CoverageOptions(res=RES, kinds=("health",)))
    ranked = underserved_cells(result, beyond_m=1000)
    assert list(ranked.index) == sorted([cells["C"], cells["E"]], key=lambda c: -result.cells.loc[c, "distance_m"])


def test_greedy_sites_cover_what_nobody_covers_and_match_the_exhaustive_optimum(square):
    commune, cells = square
    result = coverage(commune, CoverageOptions(res=RES, kinds=("health",)))
    sites = recommend_sites(result, k=2, radius_m=1000)
    assert set(sites.index) == {cells["C"], cells["E"]}
    assert list(sites["gain"]) == [250, 250]
    xy = result.cells[["x", "y"]].to_numpy()
    _, optimum = exhaustive_max_cover(
        xy,
        xy,
        result.cells["pob_total"].to_numpy(),
        1000,
        2,
        already_covered=result.cells["distance_m"].to_numpy() <= 1000,
    )
    assert sites["gain"].sum() == optimum


def test_exact_sites_are_the_exhaustive_optimum_through_the_database(square):
    commune, cells = square
    result = coverage(commune, CoverageOptions(res=RES, kinds=("night_service",)))
    exact = recommend_sites(result, k=2, radius_m=1000, method="exact")
    xy = result.cells[["x", "y"]].to_numpy()
    _, optimum = exhaustive_max_cover(
        xy,
        xy,
        result.cells["pob_total"].to_numpy(),
        1000,
        2,
        already_covered=result.cells["distance_m"].to_numpy() <= 1000,
    )
    # A site at A or at B covers both (1,500 people); E's 250 need a site of their own.
    assert exact.index[0] in {cells["A"], cells["B"]} and exact.index[1] == cells["E"]
    assert list(exact["gain"]) == [1500, 250] and exact["gain"].sum() == optimum
    assert greedy_gap(recommend_sites(result, k=2, radius_m=1000), exact) == 0.0


def test_an_unknown_site_method_is_refused(square):
    commune, _ = square
    with pytest.raises(ValueError, match="Método desconocido"):
        recommend_sites(coverage(commune, CoverageOptions(res=RES)), method="random")


@pytest.fixture
def border(communes):
    """West and East, two comunas side by side; a clinic (3 per day) in East, 3 cells from West's edge cell X.

    X is a sliver of West (0.0014 people) and also holds 200 of East's people; East's cell Y, at the clinic,
    holds 1,000.
    """
    lat, lng = -34.60, -71.20
    x = h3i.latlng_to_cell(lat, lng, RES)
    y = cell_along_axis(x, 3)
    for cut, name, west, east in (("99911", "Oeste", lng - 0.1, lng), ("99912", "Este", lng, lng + 0.1)):
        ring = ((west, lat - 0.1), (east, lat - 0.1), (east, lat + 0.1), (west, lat + 0.1), (west, lat - 0.1))
        Commune.objects.create(
            cut=cut,
            name=name,
            geometry=MultiPolygon(Polygon(ring), srid=4326),
            jurisdiction_id=name.lower(),
            tracking_prefix=name[:2].upper(),
            is_active=True,
        )
    for cut, cell, people in (("99911", x, 0.0014), ("99912", x, 200), ("99912", y, 1000)):
        PopulationCell.objects.create(cut=cut, res=RES, cell=cell, pob_total=people, pob_under_15=0, pob_65_plus=0)
    clinic_lat, clinic_lng = h3i.cell_to_latlng(y)
    ServicePoint.objects.create(
        name="Clínica Este",
        kind="health",
        point=Point(clinic_lng, clinic_lat, srid=4326),
        commune=Commune.objects.get(cut="99912"),
        capacity_per_day=3,
    )
    return x, y


def test_two_step_fca_at_the_border_counts_the_neighbours_people_in_the_catchment(border):
    x, y = border
    assert metres(x, y) < 2000
    west = coverage(Commune.objects.get(cut="99911"), CoverageOptions(res=RES, catchment_m=2000))
    east = coverage(Commune.objects.get(cut="99912"), CoverageOptions(res=RES, catchment_m=2000))
    per_1000 = 3 / (0.0014 + 200 + 1000) * 1000  # the clinic's 3 among everyone within 2 km, whichever comuna
    assert west.cells.loc[x, "access"] == pytest.approx(per_1000)
    assert east.cells.loc[x, "access"] == east.cells.loc[y, "access"] == pytest.approx(per_1000)
    assert west.cells.loc[x, "pob_total"] == pytest.approx(0.0014)  # the shares stay the comuna's own


def test_reports_per_thousand_inhabitants_sit_next_to_coverage(square, make_report):
    commune, cells = square
    make_report(point=h3i.cell_to_latlng(cells["A"]))
    make_report(point=h3i.cell_to_latlng(cells["E"]))
    rows = by_name(coverage(commune, CoverageOptions(res=RES)), cells)
    assert rows["A"]["reports_per_1000"] == pytest.approx(1.0)
    assert rows["E"]["reports_per_1000"] == pytest.approx(4.0)
    assert rows["B"]["reports"] == 0


def test_a_cell_nobody_lives_in_has_no_rate_as_on_the_heat_map_and_its_export_says_null(square, make_report):
    commune, cells = square
    PopulationCell.objects.filter(cell=cells["B"]).update(pob_total=0)
    make_report(point=h3i.cell_to_latlng(cells["B"]))
    result = coverage(commune, CoverageOptions(res=RES))
    assert math.isnan(result.cells.loc[cells["B"], "reports_per_1000"])
    exported = {row["h3_cell"]: row for row in csv.DictReader(io.StringIO(cells_csv(result)))}
    assert exported[h3i.int_to_str(cells["B"])]["reports_per_1000"] == ""
    assert float(exported[h3i.int_to_str(cells["A"])]["reports_per_1000"]) == 0


def test_resolution_outside_7_to_10_is_refused():
    with pytest.raises(ValueError, match="Resolución"):
        CoverageOptions(res=6)
