"""The size of the H3 cells the pages publish: one figure per resolution, said alike by the heat map page and the
open-data page, and true of the cells of the served comunas."""

import math

import h3
import pytest

from geo_siac.maps.cell_sizes import CELL_EDGE_METRES, cell_edge
from geo_siac.testing import staff_account

SANTIAGO_CENTRES = {"Puente Alto": (-33.6106, -70.5759), "Peñalolén": (-33.4850, -70.5400)}


@pytest.mark.parametrize("res", sorted(CELL_EDGE_METRES))
@pytest.mark.parametrize("place", sorted(SANTIAGO_CENTRES))
def test_each_published_edge_length_is_within_six_percent_of_the_cells_here(res, place):
    cell = h3.latlng_to_cell(*SANTIAGO_CENTRES[place], res)
    edge = math.sqrt(2 * h3.cell_area(cell, "m^2") / (3 * math.sqrt(3)))  # a regular hexagon's side, from its area
    assert abs(CELL_EDGE_METRES[res] - edge) / edge < 0.06


@pytest.mark.django_db
def test_the_heat_map_and_open_data_pages_give_each_resolution_the_same_size(client, communes):
    open_data = client.get("/transparencia/datos/").content.decode()
    client.force_login(staff_account("ana", communes=[communes["13201"]], is_staff=True))
    heatmap = client.get("/mapas/calor/").content.decode()
    assert (cell_edge(9), cell_edge(7)) == ("190 m", "1,3 km")
    for res in (7, 8, 9):
        assert f"unos {cell_edge(res)}" in heatmap and f"unos {cell_edge(res)}" in open_data
    assert f"resolución 9 (unos {cell_edge(9)} de lado)" in open_data
    assert f"resolución 9 mide unos {cell_edge(9)} de lado" in heatmap
