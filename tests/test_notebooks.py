"""The planners' notebooks run end to end against the test database, so they never rot."""

import nbformat
import pytest
from django.db import connection
from nbclient import NotebookClient

from geo_siac.testing import PROJECT_ROOT, shared_data


@pytest.mark.django_db(transaction=True)
def test_coverage_notebook_runs_on_puente_alto(communes, monkeypatch):
    shared_data("census/rm_zonas_censales_2017_poblacion.geojson")
    monkeypatch.setenv("PGDATABASE", connection.settings_dict["NAME"])
    monkeypatch.delenv("DATABASE_URL", raising=False)
    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / "coverage.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(PROJECT_ROOT / "notebooks")}}
    ).execute()
    outputs = "".join(str(output) for cell in notebook.cells for output in cell.get("outputs", []))
    assert "49 puntos de atención en Puente Alto" in outputs
