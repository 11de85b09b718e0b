"""Bulk import of report history (`manage.py import_reports`), by job:
- `source.py` reads the file in chunks (columns through the mapping, dates);
- `rows.py` checks a chunk's rows with report_create's rule table (validation.py: a row is refused under the same
  field with the same message) and computes what a stored report needs: comuna, H3 cells, tracking code and
  deadline, through the same generator and deadline function (with the installation's closed days);
- `staging.py` writes a checked chunk: PostgreSQL COPY into a staging table and one INSERT ... SELECT, built from
  the models' names;
- `bulk_mode.py` drops and rebuilds the secondary indexes and foreign keys of the report tables around a load;
- `importer.py` (ReportImporter) runs them: one thread reads and checks while the other writes; in bulk mode it
  places the reports in public (reports.privacy) after the last chunk, before the rebuild.
Restartable: rows are keyed by (source, source_id)."""

from geo_siac.reports.importers.bulk_mode import import_lock, restore_suspended, suspend_secondary_schema
from geo_siac.reports.importers.communes import CommuneIndex
from geo_siac.reports.importers.importer import ReportImporter
from geo_siac.reports.importers.results import ImportFileError, ImportSummary

__all__ = [
    "CommuneIndex",
    "ImportFileError",
    "ImportSummary",
    "ReportImporter",
    "import_lock",
    "restore_suspended",
    "suspend_secondary_schema",
]
