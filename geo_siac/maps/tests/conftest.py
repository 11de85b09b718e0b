from datetime import UTC, datetime
from pathlib import Path

import pytest

from geo_siac.reports.importers import CommuneIndex, ReportImporter
from geo_siac.reports.mappings import NATIVE
from geo_siac.reports.synthetic import write_synthetic_csv

SYNTHETIC_END = datetime(2026, 11, 1, tzinfo=UTC)


def import_synthetic(folder: Path, n: int, *, seed: int = 1, days: int = 120) -> int:
    """n synthetic reports (uniform background and clusters) over both comunas, through the bulk importer."""
    path = write_synthetic_csv(
        folder / f"synthetic-{seed}.csv",
        n,
        CommuneIndex.load().geometries,
        seed=seed,
        days=days,
        prefix=f"maps-{seed}",
        end=SYNTHETIC_END,
    )
    return ReportImporter(mapping=NATIVE, source="maps-tests", commit=True).run(path).inserted


@pytest.fixture
def synthetic_reports(communes, tmp_path) -> int:
    return import_synthetic(tmp_path, 3000)


# A concave zone with a hole in Puente Alto, and a triangle in Peñalolén: (lng, lat) rings.
ARROW_ZONE = {
    "shell": [(-70.62, -33.63), (-70.55, -33.63), (-70.58, -33.60), (-70.55, -33.56), (-70.62, -33.56)],
    "hole": [(-70.61, -33.61), (-70.59, -33.61), (-70.59, -33.59), (-70.61, -33.59)],
}
PENALOLEN_TRIANGLE = [(-70.58, -33.51), (-70.50, -33.47), (-70.50, -33.51)]


def multipolygon(shell, hole=None):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    rings = [tuple(shell) + (shell[0],)] + ([tuple(hole) + (hole[0],)] if hole else [])
    return MultiPolygon(Polygon(*rings), srid=4326)


@pytest.fixture
def map_zones(communes):
    """Two crew zones (current versions) drawn over the synthetic reports' area."""
    from geo_siac.zones.services import zone_save_version

    arrow = zone_save_version(
        commune=communes["13201"],
        key="flecha",
        name="Flecha",
        geometry=multipolygon(ARROW_ZONE["shell"], ARROW_ZONE["hole"]),
    )
    triangle = zone_save_version(
        commune=communes["13122"], key="triangulo", name="Triángulo", geometry=multipolygon(PENALOLEN_TRIANGLE)
    )
    return {"arrow": arrow, "triangle": triangle}
