"""The region benchmark's synthetic points follow the census population (bench/region.py)."""

import csv

import numpy as np
import shapely

from geo_siac.reports.synthetic import points_by_weight, write_synthetic_csv

# Two census-zone-sized squares near Puente Alto (0.01 degrees, about 1 km) and a degenerate zone with no area.
LEFT = shapely.box(-70.60, -33.61, -70.59, -33.60)
RIGHT = shapely.box(-70.58, -33.61, -70.57, -33.60)
FLAT = shapely.LineString([(-70.56, -33.61), (-70.55, -33.60)]).buffer(0)


def test_points_fall_in_the_zones_in_proportion_to_their_population():
    lng, lat = points_by_weight([LEFT, RIGHT, FLAT], np.array([1_000, 3_000, 500]), 40_000, np.random.default_rng(1))

    assert len(lng) == len(lat) == 40_000
    in_left = shapely.intersects_xy(LEFT, lng, lat)
    in_right = shapely.intersects_xy(RIGHT, lng, lat)
    assert (in_left | in_right).all()
    assert abs(in_right.mean() - 0.75) < 0.01


def test_the_csv_draws_its_points_by_weight_when_given_weights(tmp_path):
    path = write_synthetic_csv(
        tmp_path / "region.csv", 2_000, [LEFT, RIGHT], seed=3, days=1825, population=np.array([0, 1]), batch=700
    )

    with open(path, encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2_000
    lng = np.array([float(r["lng"]) for r in rows])
    lat = np.array([float(r["lat"]) for r in rows])
    assert shapely.intersects_xy(RIGHT.buffer(1e-6), lng, lat).all()
    assert len({r["source_id"] for r in rows}) == 2_000
