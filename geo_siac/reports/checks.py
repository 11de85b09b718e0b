"""System checks of the reports app."""

from django.core import checks
from django.db import DatabaseError


def suspended_schema(app_configs=None, databases=None, **kwargs):
    """Warn when a bulk import died with the report tables' indexes or foreign keys still dropped."""
    if not databases:
        return []
    from geo_siac.reports.models import SuspendedSchemaObject

    try:
        names = list(SuspendedSchemaObject.objects.values_list("name", flat=True))
    except DatabaseError:  # not migrated yet
        return []
    if not names:
        return []
    return [
        checks.Warning(
            f"Una importación masiva interrumpida dejó sin reconstruir: {', '.join(names)}.",
            hint="Ejecute: manage.py import_reports --restore-schema",
            id="reports.W001",
        )
    ]
