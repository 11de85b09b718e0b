from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geo_siac.zones.zone_importers import RESOLUTIONS, ZoneImportError, import_zones


class Command(BaseCommand):
    help = (
        "Carga zonas de cuadrillas de una comuna desde GeoJSON, Shapefile o GeoPackage: repara, recorta a la "
        "comuna e informa traslapes (m2) y superficie sin zona. Una zona redibujada queda como nueva versión. "
        "Es una simulación salvo que se indique --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--commune", required=True, help="CUT de la comuna, p. ej. 13201.")
        parser.add_argument("--field-name", help="Columna con el nombre de la zona.")
        parser.add_argument(
            "--resolve-overlaps",
            choices=RESOLUTIONS,
            help="first: las zonas anteriores en el archivo conservan el área compartida.",
        )
        parser.add_argument("--commit", action="store_true", help="Escribir en la base de datos.")

    def handle(self, *args, **options):
        try:
            summary = import_zones(
                path=options["path"],
                cut=options["commune"],
                name_field=options["field_name"],
                resolve=options["resolve_overlaps"],
                commit=options["commit"],
            )
        except ZoneImportError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        if not summary.committed:
            self.stdout.write(self.style.WARNING("Simulación: no se escribió nada (use --commit)."))
