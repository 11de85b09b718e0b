from datetime import datetime, timezone
from pathlib import Path

import pytest

from geo_siac.reports.importers import CommuneIndex, ReportImporter
from geo_siac.reports.mappings import NATIVE
from geo_siac.reports.synthetic import write_synthetic_csv

SYNTHETIC_END = datetime(2026, 11, 1, tzinfo=timezone.utc)


def import_synthetic(folder: Path, n: int, *, seed: int = 1, days: int = 120) -> int:
    """n synthetic reports (uniform background and clusters) over both comunas, through the bulk importer."""
    path = write_synthetic_csv(folder / f"synthetic-{seed}.csv", n, CommuneIndex.load().geometries, seed=seed,
                               days=days, prefix=f"maps-{seed}", end=SYNTHETIC_END)
    return ReportImporter(mapping=NATIVE, source="maps-tests", commit=True).run(path).inserted


@pytest.fixture
def synthetic_reports(communes, tmp_path) -> int:
    return import_synthetic(tmp_path, 3000)
