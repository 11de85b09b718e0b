"""Reports per 1,000 inhabitants per H3 cell: hand-computed cases, and the zone path checked against the
PopulationCell path on the real census."""

import h3
import pytest
from django.core.management import call_command

from geo_siac.maps.selectors import CellFilters, cell_population, cell_table
from geo_siac.maps.tests.conftest import multipolygon
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE, shared_data
from geo_siac.zones.models import CensusZone, PopulationCell
from geo_siac.zones.services import zone_save_version

CENSUS = "census/rm_zonas_censales_2017_poblacion.geojson"


def cell(point, res: int) -> int:
    return h3.str_to_int(h3.latlng_to_cell(*point, res))


def populate(cut: str, res: int, point, pob_total: float) -> int:
    at = cell(point, res)
    PopulationCell.objects.create(cut=cut, res=res, cell=at, pob_total=pob_total, pob_under_15=0, pob_65_plus=0)
    return at


def rows(res: int, filters: CellFilters | None = None) -> dict:
    return {row.cell: row for row in cell_table(res, filters or CellFilters())}


def test_rate_is_reports_per_1000_inhabitants_of_the_cell(make_report):
    for _ in range(3):
        make_report(point=PUENTE_ALTO_CENTRE)
    centre = populate("13201", 9, PUENTE_ALTO_CENTRE, 2000)
    populate("13122", 9, PENALOLEN_CENTRE, 10)  # Peñalolén's population is loaded too, but has no reports
    row = rows(9)[centre]
    assert (row.count, row.population) == (3, 2000)
    assert row.rate == pytest.approx(3 * 1000 / 2000)


def test_a_cell_shared_by_two_comunas_divides_by_the_people_of_the_comunas_counted(make_report):
    for _ in range(3):
        make_report(point=PUENTE_ALTO_CENTRE)
    shared = populate("13201", 9, PUENTE_ALTO_CENTRE, 300)
    populate("13122", 9, PUENTE_ALTO_CENTRE, 200)  # one row per comuna, as load_population writes a border cell
    assert rows(9)[shared].rate == pytest.approx(3 * 1000 / (300 + 200))
    assert rows(9, CellFilters(communes=("13201",)))[shared].rate == pytest.approx(3 * 1000 / 300)


def test_rate_is_null_where_nobody_lives_or_the_resolution_is_not_loaded(make_report):
    empty_cell_point = (-33.5900, -70.5500)  # inside Puente Alto, far from the centre
    make_report(point=PUENTE_ALTO_CENTRE)
    make_report(point=empty_cell_point)
    populate("13201", 9, PUENTE_ALTO_CENTRE, 1500)
    populate("13122", 9, PENALOLEN_CENTRE, 10)
    at_9 = rows(9)
    empty = at_9[cell(empty_cell_point, 9)]
    assert (empty.count, empty.population, empty.rate) == (1, 0.0, None)
    assert {row.population for row in rows(8).values()} == {None}
    assert {row.rate for row in rows(8).values()} == {None}


def test_cells_touching_a_comuna_without_population_have_no_rate(make_report):
    make_report(point=PUENTE_ALTO_CENTRE)
    make_report(point=PENALOLEN_CENTRE)
    centre = populate("13201", 9, PUENTE_ALTO_CENTRE, 1000)
    at_9 = rows(9)
    assert at_9[centre].rate == pytest.approx(1.0)
    assert at_9[cell(PENALOLEN_CENTRE, 9)].population is None and at_9[cell(PENALOLEN_CENTRE, 9)].rate is None


def test_coarse_resolutions_divide_by_their_own_population_cells(make_report):
    for _ in range(4):
        make_report(point=PUENTE_ALTO_CENTRE)
    populate("13201", 9, PUENTE_ALTO_CENTRE, 100)  # children are not summed: res 6 has rows of its own
    populate("13122", 6, PENALOLEN_CENTRE, 10)
    coarse = populate("13201", 6, PUENTE_ALTO_CENTRE, 80_000)
    assert rows(6)[coarse].rate == pytest.approx(4 * 1000 / 80_000)


def square(lat: float, lng: float, half: float) -> list[tuple[float, float]]:
    return [(lng - half, lat - half), (lng + half, lat - half), (lng + half, lat + half), (lng - half, lat + half)]


def test_with_a_zone_filter_the_rate_divides_by_the_people_inside_the_zone(make_report, communes):
    lat, lng = h3.cell_to_latlng(h3.latlng_to_cell(*PUENTE_ALTO_CENTRE, 9))
    census_square = square(lat, lng, 0.0005)  # about 90 x 110 m, all inside one res-9 cell
    assert {h3.latlng_to_cell(y, x, 9) for x, y in census_square} == {h3.latlng_to_cell(lat, lng, 9)}
    CensusZone.objects.create(
        geocodigo="13201000001",
        cut="13201",
        geometry=multipolygon(census_square),
        pob_total=400,
        pob_0_a_5=0,
        pob_6_a_14=0,
        pob_15_a_64=400,
        pob_65_y_mas=0,
    )
    west_half = [(lng - 0.01, lat - 0.01), (lng, lat - 0.01), (lng, lat + 0.01), (lng - 0.01, lat + 0.01)]
    zone = zone_save_version(commune=communes["13201"], key="oeste", name="Oeste", geometry=multipolygon(west_half))
    make_report(point=(lat, lng - 0.0002))
    make_report(point=(lat + 0.0001, lng - 0.0003))
    make_report(point=(lat, lng + 0.0002))  # east of the zone: not counted
    (row,) = cell_table(9, CellFilters(zones=(zone.pk,)))
    assert row.count == 2
    assert row.population == pytest.approx(200, rel=1e-3)  # half the census square lies in the zone
    assert row.rate == pytest.approx(2 * 1000 / 200, rel=1e-3)


def test_zone_in_a_comuna_without_census_zones_has_no_rate(make_report, communes):
    lat, lng = PENALOLEN_CENTRE
    zone = zone_save_version(
        commune=communes["13122"], key="centro", name="Centro", geometry=multipolygon(square(lat, lng, 0.01))
    )
    make_report(point=PENALOLEN_CENTRE)
    (row,) = cell_table(9, CellFilters(zones=(zone.pk,)))
    assert (row.count, row.population, row.rate) == (1, None, None)


def test_a_zone_around_the_whole_comuna_has_the_population_cells_own_figures(communes):
    call_command(
        "load_population", shared_data(CENSUS), "--cut", "13201", "--res", "8", "--commit", "--no-progress", verbosity=0
    )
    cells = list(PopulationCell.objects.filter(cut="13201", res=8).values_list("cell", flat=True))
    west, south, east, north = communes["13201"].geometry.extent
    everything = [
        (west - 0.05, south - 0.05),
        (east + 0.05, south - 0.05),
        (east + 0.05, north + 0.05),
        (west - 0.05, north + 0.05),
    ]
    zone = zone_save_version(commune=communes["13201"], key="todo", name="Todo", geometry=multipolygon(everything))
    by_cells = cell_population(8, cells, CellFilters(communes=("13201",)))
    by_zone = cell_population(8, cells, CellFilters(zones=(zone.pk,)))
    assert len(cells) > 100 and sum(by_cells.values()) == pytest.approx(549_921, rel=1e-3)
    assert by_zone == pytest.approx(by_cells, rel=1e-6)


def test_the_population_a_map_shows_follows_a_new_load_of_the_census(make_report):
    """The cells' population is kept between maps (selectors.POPULATION): a reload of a comuna, or the census of
    a comuna that had none, must show on the next map."""
    make_report(point=PUENTE_ALTO_CENTRE)
    make_report(point=PENALOLEN_CENTRE)
    centre = populate("13201", 9, PUENTE_ALTO_CENTRE, 1000)
    first = rows(9)
    assert first[centre].population == 1000 and first[cell(PENALOLEN_CENTRE, 9)].population is None
    assert rows(9)[centre].population == 1000  # from the cache, the same

    PopulationCell.objects.filter(cut="13201").delete()  # load_population replaces a comuna's cells
    populate("13201", 9, PUENTE_ALTO_CENTRE, 4000)
    populate("13122", 9, PENALOLEN_CENTRE, 500)
    again = rows(9)
    assert again[centre].population == 4000 and again[centre].rate == pytest.approx(1000 / 4000)
    assert again[cell(PENALOLEN_CENTRE, 9)].population == 500
    PopulationCell.objects.filter(cut="13201").update(pob_total=2000)  # a figure corrected in place
    assert rows(9)[centre].population == 2000
