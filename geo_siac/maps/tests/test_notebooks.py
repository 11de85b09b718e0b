import nbformat
import pytest
from django.db import connection
from nbclient import NotebookClient

from geo_siac.maps.tests.conftest import import_synthetic
from geo_siac.reports.models import Report
from geo_siac.testing import PROJECT_ROOT, ensure_default_catalogue, ensure_default_communes

NOTEBOOKS = PROJECT_ROOT / "notebooks"


@pytest.fixture
def committed_reports(django_db_setup, django_db_blocker, tmp_path):
    """Reports the notebook's kernel (another process) can see: committed, and deleted afterwards."""
    with django_db_blocker.unblock():
        ensure_default_catalogue()
        ensure_default_communes()
        import_synthetic(tmp_path, 800, seed=5, days=200)
        yield connection.settings_dict["NAME"]
        Report.objects.filter(source="maps-tests").delete()


def test_heatmaps_notebook_runs_top_to_bottom_against_the_test_database(committed_reports, tmp_path, monkeypatch):
    monkeypatch.setenv("PGDATABASE", committed_reports)
    out = tmp_path / "out"
    monkeypatch.setenv("GEO_SIAC_NOTEBOOK_OUTPUT", str(out))
    notebook = nbformat.read(NOTEBOOKS / "heatmaps.ipynb", as_version=4)
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    assert sorted(p.name for p in out.iterdir()) == ["celdas_h3.csv", "mapa_calor.html", "mapa_calor.png"]
    assert (out / "celdas_h3.csv").read_text().startswith("hex_id,")
