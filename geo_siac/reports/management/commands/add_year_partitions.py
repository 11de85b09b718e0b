from django.core.management.base import BaseCommand, CommandError

from geo_siac.reports.partitions import PARTITIONED_TABLES, is_partitioned, year_partitions_ensure


class Command(BaseCommand):
    help = (
        "Crea las particiones de un año en las tablas de historia particionadas (eventos de las solicitudes); "
        "no hace nada con las que ya existen. migrate crea las del año en curso y del siguiente."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="Año, p. ej. 2028.")

    def handle(self, *args, year: int, **options):
        unpartitioned = [table for table in PARTITIONED_TABLES if not is_partitioned(table)]
        if unpartitioned:
            raise CommandError(f"Sin particiones (¿falta migrate?): {', '.join(unpartitioned)}")
        try:
            created = year_partitions_ensure([year])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"creadas: {', '.join(created)}" if created else f"ya existían las particiones de {year}")
