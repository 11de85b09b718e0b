from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from geo_siac.reports.partitions import (
    PARTITIONED_TABLES,
    is_partitioned,
    partitioned_tables_analyze,
    year_partitions_ensure,
)


class Command(BaseCommand):
    help = (
        "Crea las particiones de un año (por omisión, el año en curso y el siguiente) en las tablas de historia "
        "particionadas; no hace nada con las que ya existen. migrate crea también las del año en curso y el siguiente. Luego actualiza las "
        "estadísticas (ANALYZE) de esas tablas, que autovacuum no calcula para una tabla particionada: ejecútelo a "
        "diario (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Año, p. ej. 2028.")

    def handle(self, *args, year: int | None, **options):
        unpartitioned = [table for table in PARTITIONED_TABLES if not is_partitioned(table)]
        if unpartitioned:
            raise CommandError(f"Sin particiones (¿falta migrate?): {', '.join(unpartitioned)}")
        this_year = timezone.localdate().year
        years = [year] if year is not None else [this_year, this_year + 1]
        try:
            created = year_partitions_ensure(years)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        shown = " y ".join(map(str, years))
        self.stdout.write(f"creadas: {', '.join(created)}" if created else f"ya existían las particiones de {shown}")
        partitioned_tables_analyze()
