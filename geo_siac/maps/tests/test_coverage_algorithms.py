import math

import geopandas as gpd
import h3
import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon, box

from geo_siac.geo_frames import areal_interpolate, h3_cells_covering, h3_cells_gdf
from geo_siac.maps.coverage import (
    coverage_shares,
    exact_max_cover,
    exhaustive_max_cover,
    greedy_max_cover,
    nearest_distances,
    two_step_fca,
)
from geo_siac.testing import shared_data

CENSUS_ZONES = "census/rm_zonas_censales_2017_poblacion.geojson"
PUENTE_ALTO_URBAN_POPULATION = 549_921
UTM_19S = "EPSG:32719"
# South-west corner of the synthetic 4 km x 4 km comuna, near Puente Alto in UTM 19S.
ORIGIN = (350_000.0, 6_280_000.0)

# The comuna is a 4 x 4 grid of 1 km blocks; demand sits at each block centre.
CENTRES = np.array([[x, y] for y in (500, 1500, 2500, 3500) for x in (500, 1500, 2500, 3500)], dtype=float)
SERVICE_POINTS = np.array([[500, 500], [2500, 3500]], dtype=float)
# 100 people per block except (3500, 500): 400 and (2500, 3500): 300. Total 2,100.
POPULATION = np.full(16, 100.0)
POPULATION[3] = 400.0
POPULATION[14] = 300.0


def test_nearest_distances_on_square_comuna():
    dist, idx = nearest_distances(CENTRES, SERVICE_POINTS)
    r2, r5 = math.sqrt(2) * 1000, math.sqrt(5) * 1000
    expected = [
        (0, 0), (1000, 0), (2000, 0), (3000, 0),  # y = 500
        (1000, 0), (r2, 0), (2000, 1), (r5, 1),  # y = 1500
        (2000, 0), (r2, 1), (1000, 1), (r2, 1),  # y = 2500
        (2000, 1), (1000, 1), (0, 1), (1000, 1),  # y = 3500
    ]  # fmt: skip
    np.testing.assert_allclose(dist, [d for d, _ in expected], rtol=0, atol=1e-9)
    assert idx.tolist() == [i for _, i in expected]


def test_nearest_distances_without_supply():
    dist, idx = nearest_distances(CENTRES, np.empty((0, 2)))
    assert np.isinf(dist).all() and dist.shape == (16,)
    assert (idx == -1).all()


def test_coverage_shares_worked_by_hand():
    dist, _ = nearest_distances(CENTRES, SERVICE_POINTS)
    shares = coverage_shares(POPULATION, dist)
    # <= 500 m: the two blocks holding a service point (100 + 300).
    # <= 1000 m: plus five blocks at exactly 1 km. <= 2000 m: plus seven more at sqrt(2) or 2 km.
    assert shares[500] == {"population": 400.0, "share": pytest.approx(400 / 2100)}
    assert shares[1000] == {"population": 900.0, "share": pytest.approx(900 / 2100)}
    assert shares[2000] == {"population": 1600.0, "share": pytest.approx(1600 / 2100)}


def test_coverage_shares_with_no_population():
    assert coverage_shares(np.zeros(2), np.array([0.0, 10.0]), thresholds=(100,)) == {
        100: {"population": 0.0, "share": 0.0}
    }


# Two supplies, three demand points on a line. S0 (x=500, 3 doctors) reaches D0 and D1, S1 (x=2500,
# 2 doctors) reaches D1 and D2, with a 1,200 m catchment.
FCA_DEMAND = np.array([[0, 0], [1500, 0], [3000, 0]], dtype=float)
FCA_POPULATION = np.array([1000.0, 2000.0, 500.0])
FCA_SUPPLY = np.array([[500, 0], [2500, 0]], dtype=float)
FCA_CAPACITY = np.array([3.0, 2.0])


def test_two_step_fca_worked_by_hand():
    access = two_step_fca(FCA_DEMAND, FCA_POPULATION, FCA_SUPPLY, FCA_CAPACITY, 1200)
    # R0 = 3 / (1000 + 2000) = 0.001, R1 = 2 / (2000 + 500) = 0.0008; A = [R0, R0 + R1, R1] per 1,000.
    np.testing.assert_allclose(access, [1.0, 1.8, 0.8])
    raw = two_step_fca(FCA_DEMAND, FCA_POPULATION, FCA_SUPPLY, FCA_CAPACITY, 1200, per=1)
    # Every supply unit is allocated: sum(A_i * P_i) == sum(S_j).
    assert raw @ FCA_POPULATION == pytest.approx(FCA_CAPACITY.sum())


def test_two_step_fca_gaussian_decay():
    edge = math.exp(-0.5)
    a, b = ((math.exp(-0.5 * (d / 1200) ** 2) - edge) / (1 - edge) for d in (500, 1000))
    r0 = 3 / (1000 * a + 2000 * b)
    r1 = 2 / (2000 * b + 500 * a)
    access = two_step_fca(FCA_DEMAND, FCA_POPULATION, FCA_SUPPLY, FCA_CAPACITY, 1200, decay="gaussian")
    np.testing.assert_allclose(access, [1000 * r0 * a, 1000 * (r0 + r1) * b, 1000 * r1 * a])


def test_two_step_fca_supply_without_demand_and_demand_without_supply():
    supply = np.array([[500, 0], [50_000, 0]], dtype=float)
    access = two_step_fca(FCA_DEMAND, FCA_POPULATION, supply, FCA_CAPACITY, 1200)
    np.testing.assert_allclose(access, [1.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="decay desconocido"):
        two_step_fca(FCA_DEMAND, FCA_POPULATION, FCA_SUPPLY, FCA_CAPACITY, 1200, decay="linear")


def test_two_step_fca_counts_demand_beyond_the_cells_it_reports_on():
    """A border case: D0 is a sliver of 0.5 people in the analysed comuna, D1 and D2 are the neighbour's people
    in S0's catchment. Only D0 is reported on, but S0's 3 doctors are shared with everyone within reach."""
    access = two_step_fca(
        FCA_DEMAND, np.array([0.5, 2000.0, 500.0]), FCA_SUPPLY, FCA_CAPACITY, 1200, at_xy=FCA_DEMAND[:1]
    )
    # R0 = 3 / (0.5 + 2000): the neighbour's 2,000 people dilute the sliver's share; counting the sliver alone,
    # as 2SFCA over one comuna does, gives it 3 / 0.5 = 6 doctors per person, 6,000 per 1,000.
    np.testing.assert_allclose(access, [1000 * 3 / 2000.5])
    alone = two_step_fca(FCA_DEMAND[:1], np.array([0.5]), FCA_SUPPLY, FCA_CAPACITY, 1200)
    np.testing.assert_allclose(alone, [6000.0])


# Candidates at the four quadrant centres and the comuna centre; a 750 m radius reaches the four
# block centres around each (707 m away): 400 people each with uniform population.
QUADRANTS = np.array([[1000, 1000], [3000, 1000], [1000, 3000], [3000, 3000], [2000, 2000]], dtype=float)
UNIFORM = np.full(16, 100.0)


def test_greedy_equals_exhaustive_on_small_instance():
    greedy = greedy_max_cover(QUADRANTS, CENTRES, UNIFORM, 750, 2)
    # Ties go to the lowest index: quadrant 0, then quadrant 1 (400) over the centre (300).
    assert greedy == [{"index": 0, "gain": 400.0}, {"index": 1, "gain": 400.0}]
    assert exhaustive_max_cover(QUADRANTS, CENTRES, UNIFORM, 750, 2) == ([0, 1], 800.0)


def test_max_cover_with_already_covered_demand():
    covered = np.zeros(16, dtype=bool)
    covered[[0, 1, 4, 5]] = True  # the south-west quadrant is served already
    assert greedy_max_cover(QUADRANTS, CENTRES, UNIFORM, 750, 1, covered) == [{"index": 1, "gain": 400.0}]
    assert exhaustive_max_cover(QUADRANTS, CENTRES, UNIFORM, 750, 3, covered) == ([1, 2, 3], 1200.0)


def test_greedy_stops_when_nothing_left_to_cover():
    picks = greedy_max_cover(QUADRANTS, CENTRES, UNIFORM, 750, 10)
    assert [p["index"] for p in picks] == [0, 1, 2, 3]
    assert sum(p["gain"] for p in picks) == 1600.0


def test_greedy_can_be_suboptimal():
    # Demand on a line: 5 | 6 | 6 | 5 people at x = 0, 2, 4, 6 km; candidates at 1, 3, 5 km, radius 1 km.
    demand = np.array([[0, 0], [2000, 0], [4000, 0], [6000, 0]], dtype=float)
    population = np.array([5.0, 6.0, 6.0, 5.0])
    candidates = np.array([[1000, 0], [3000, 0], [5000, 0]], dtype=float)
    greedy = greedy_max_cover(candidates, demand, population, 1000, 2)
    assert greedy == [{"index": 1, "gain": 12.0}, {"index": 0, "gain": 5.0}]
    best, total = exhaustive_max_cover(candidates, demand, population, 1000, 2)
    assert (best, total) == ([0, 2], 22.0)
    assert sum(p["gain"] for p in greedy) == 17.0 <= total


def test_exact_max_cover_finds_the_optimum_greedy_misses():
    demand = np.array([[0, 0], [2000, 0], [4000, 0], [6000, 0]], dtype=float)
    candidates = np.array([[1000, 0], [3000, 0], [5000, 0]], dtype=float)
    exact = exact_max_cover(candidates, demand, np.array([5.0, 6.0, 6.0, 5.0]), 1000, 2)
    # Both outer candidates (5 + 6 each), ranked by their gain among themselves: the first on ties.
    assert exact == [{"index": 0, "gain": 11.0}, {"index": 2, "gain": 11.0}]


# Six people-weighted points 1 km apart, each a candidate covering itself and its neighbours within 1 km.
# Greedy takes site 3 (4 + 1 + 4), then site 0 (1 + 3, the first of three ties); sites 1 and 4 cover all 17.
LINE = np.array([[x, 0] for x in range(0, 6000, 1000)], dtype=float)
LINE_PEOPLE = np.array([1.0, 3.0, 4.0, 1.0, 4.0, 4.0])


def test_exact_max_cover_covers_everyone_where_greedy_falls_short_on_a_line():
    greedy = greedy_max_cover(LINE, LINE, LINE_PEOPLE, 1000, 2)
    exact = exact_max_cover(LINE, LINE, LINE_PEOPLE, 1000, 2)
    assert [p["index"] for p in greedy] == [3, 0] and sum(p["gain"] for p in greedy) == 13.0
    assert sorted(p["index"] for p in exact) == [1, 4] and sum(p["gain"] for p in exact) == 17.0


def test_exact_max_cover_equals_exhaustive_search_on_random_instances():
    rng = np.random.default_rng(7)
    for _ in range(25):
        candidates, demand = rng.uniform(0, 5000, (10, 2)), rng.uniform(0, 5000, (40, 2))
        people = rng.integers(0, 100, 40).astype(float)
        covered = rng.random(40) < 0.2
        k = int(rng.integers(1, 5))
        exact = exact_max_cover(candidates, demand, people, 900, k, covered)
        best, total = exhaustive_max_cover(candidates, demand, people, 900, k, covered)
        assert sum(p["gain"] for p in exact) == pytest.approx(total)
        assert len(exact) <= k and all(p["gain"] > 0 for p in exact)


def test_exact_max_cover_with_nothing_left_to_cover_or_no_sites_asked():
    covered = np.ones(16, dtype=bool)
    assert exact_max_cover(QUADRANTS, CENTRES, UNIFORM, 750, 3, covered) == []
    assert exact_max_cover(QUADRANTS, CENTRES, UNIFORM, 750, 0) == []
    # More sites than needed: the four quadrants cover all 1,600 and the centre would add nothing.
    assert sorted(p["index"] for p in exact_max_cover(QUADRANTS, CENTRES, UNIFORM, 750, 5)) == [0, 1, 2, 3]


def test_exhaustive_refuses_large_instances():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="Demasiadas combinaciones"):
        exhaustive_max_cover(rng.uniform(0, 4000, (30, 2)), CENTRES, UNIFORM, 750, 10)


# --- areal interpolation and H3 cells ---


def synthetic_zones() -> gpd.GeoDataFrame:
    """Four irregular zones tiling the 4 km x 4 km comuna, with known populations."""
    x0, y0 = ORIGIN
    shapes = [
        box(0, 0, 2000, 2000),
        Polygon([(2000, 0), (4000, 0), (4000, 4000), (2000, 2000)]),
        Polygon([(0, 2000), (2000, 2000), (4000, 4000), (0, 4000)]),
        box(1000, 1000, 1500, 1300),  # a small zone overlapping the first one
    ]
    geometries = [shapely.affinity.translate(shape, x0, y0) for shape in shapes]
    return gpd.GeoDataFrame(
        {"pob_total": [400.0, 1234.5, 777.0, 33.0], "pob_65_y_mas": [40.0, 123.0, 70.0, 3.0]},
        geometry=geometries,
        crs=UTM_19S,
    )


def km_grid(x_range: range, y_range: range) -> gpd.GeoDataFrame:
    x0, y0 = ORIGIN
    cells = [box(x0 + x, y0 + y, x0 + x + 1000, y0 + y + 1000) for y in y_range for x in x_range]
    return gpd.GeoDataFrame(geometry=cells, crs=UTM_19S)


def test_areal_interpolation_splits_by_area():
    zones = synthetic_zones()
    grid = km_grid(range(0, 4000, 1000), range(0, 4000, 1000))
    result = areal_interpolate(zones, ["pob_total", "pob_65_y_mas"], grid)
    assert list(result.index) == list(grid.index)
    # Block (0-1 km, 0-1 km) holds a quarter of zone 0; block (1-2, 1-2) also the whole small zone.
    assert result.loc[0, "pob_total"] == pytest.approx(100.0)
    assert result.loc[5, "pob_total"] == pytest.approx(133.0)
    for column in ("pob_total", "pob_65_y_mas"):
        assert result[column].sum() == pytest.approx(zones[column].sum(), rel=1e-9)


def test_areal_interpolation_loses_parts_outside_cells():
    zones = synthetic_zones().iloc[[0]]
    result = areal_interpolate(zones, ["pob_total"], km_grid(range(0, 1000, 1000), range(0, 2000, 1000)))
    assert result["pob_total"].sum() == pytest.approx(200.0)


def test_areal_interpolation_requires_projected_matching_crs():
    zones = synthetic_zones()
    with pytest.raises(ValueError, match="mismo CRS"):
        areal_interpolate(zones, ["pob_total"], km_grid(range(0, 1000, 1000), range(0, 1000, 1000)).to_crs(4326))
    with pytest.raises(ValueError, match="CRS proyectado"):
        areal_interpolate(zones.to_crs(4326), ["pob_total"], km_grid(range(1), range(1)).to_crs(4326))
    with pytest.raises(ValueError, match="Columnas inexistentes"):
        areal_interpolate(zones, ["poblacion"], km_grid(range(1), range(1)))


def test_h3_interpolation_conserves_synthetic_population():
    zones = synthetic_zones()
    cells = h3_cells_covering(zones.to_crs(4326).union_all(), 9)
    result = areal_interpolate(zones, ["pob_total"], h3_cells_gdf(cells))
    assert result["pob_total"].sum() == pytest.approx(zones["pob_total"].sum(), rel=1e-9)


def test_h3_covering_takes_every_overlapping_cell():
    area = box(-70.60, -33.62, -70.57, -33.60)
    cells = set(h3_cells_covering(area, 9))
    by_centre = set(h3.h3shape_to_cells(h3.geo_to_h3shape(area), 9))
    neighbourhood = h3.grid_disk(h3.latlng_to_cell(-33.61, -70.585, 9), 30)
    intersecting = set(h3_cells_gdf(neighbourhood, crs="EPSG:4326").loc[lambda g: g.intersects(area)].index)
    assert cells == intersecting
    assert by_centre < cells


def test_h3_cells_gdf_orders_lng_lat():
    cell = h3.latlng_to_cell(-33.61, -70.585, 9)
    wgs84 = h3_cells_gdf([cell], crs="EPSG:4326")
    lat, lng = h3.cell_to_latlng(cell)
    assert wgs84.geometry.iloc[0].contains(shapely.Point(lng, lat))
    projected = h3_cells_gdf([cell])
    assert projected.crs == UTM_19S and projected.index.tolist() == [cell]
    assert projected.area.iloc[0] == pytest.approx(h3.cell_area(cell, unit="m^2"), rel=0.01)


def test_h3_covering_ignores_lines_left_by_make_valid():
    polygon = box(-70.60, -33.62, -70.59, -33.61)
    area = shapely.GeometryCollection([polygon, shapely.LineString([(-71, -34), (-70, -33)])])
    assert h3_cells_covering(area, 9) == h3_cells_covering(polygon, 9)


def test_puente_alto_census_population_on_h3_cells():
    zones = gpd.read_file(shared_data(CENSUS_ZONES))
    zones = zones[zones["geocodigo"].str.startswith("13201")].copy()
    zones["geometry"] = shapely.make_valid(zones.geometry.to_numpy())
    cells = h3_cells_covering(zones.union_all(), 9)
    result = areal_interpolate(zones.to_crs(UTM_19S), ["pob_total"], h3_cells_gdf(cells, crs=UTM_19S))
    assert result["pob_total"].sum() == pytest.approx(PUENTE_ALTO_URBAN_POPULATION, rel=1e-3)
