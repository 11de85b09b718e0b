import h3
import numpy as np

from geo_siac.geo import h3_parents


def test_vectorised_parents_equal_h3_cell_to_parent_over_random_points():
    rng = np.random.default_rng(3)
    lats, lngs = rng.uniform(-89, 89, 2000), rng.uniform(-180, 180, 2000)
    cells = np.array([h3.str_to_int(h3.latlng_to_cell(a, b, 10)) for a, b in zip(lats, lngs)], dtype=np.int64)
    for res in range(0, 10):
        expected = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(int(c)), res)) for c in cells]
        assert h3_parents(cells, res).tolist() == expected
