"""System checks of the reports app."""

from django.core import checks
from django.db import DatabaseError


def suspended_schema(app_configs=None, databases=None, **kwargs):
    """Warn when a bulk import died with the report tables' indexes or foreign keys still dropped, or the counts
    kept by triggers not recounted."""
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
            hint="Vuelva a ejecutar la importación (retoma en modo masivo, que también asigna las celdas públicas de "
            "sus solicitudes) o ejecute: manage.py import_reports --restore-schema",
            id="reports.W001",
        )
    ]


def next_year_partitions(app_configs=None, databases=None, **kwargs):
    """An error when next year's partitions of the report history are missing: the first event of that year would
    find no partition to go to, and its request would not be filed."""
    if not databases:
        return []
    from django.utils import timezone

    from geo_siac.reports.partitions import PARTITIONED_TABLES, is_partitioned, missing_partitions

    try:
        if not all(is_partitioned(table) for table in PARTITIONED_TABLES):
            return []
        year = timezone.localdate().year + 1
        missing = [name for _table, name in missing_partitions(year)]
    except DatabaseError:
        return []
    if not missing:
        return []
    return [
        checks.Error(
            f"Faltan las particiones del año {year}: {', '.join(missing)}.",
            hint=f"Ejecute: manage.py add_year_partitions --year {year}",
            id="reports.E001",
        )
    ]
