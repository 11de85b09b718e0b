from django.core.management.base import BaseCommand, CommandError

from geo_siac.zones.zone_importers import ZoneImportError, generate_zones


class Command(BaseCommand):
    help = (
        "Genera zonas para una comuna que no tiene: celdas H3 (--h3-res) o una cuadrícula en metros (--grid-m), "
        "recortadas a la comuna. Es una simulación salvo que se indique --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("--commune", required=True, help="CUT de la comuna, p. ej. 13201.")
        parser.add_argument("--h3-res", type=int, help="Resolución H3 (5 a 9).")
        parser.add_argument("--grid-m", type=float, help="Lado del cuadro en metros (200 o más).")
        parser.add_argument("--commit", action="store_true", help="Escribir en la base de datos.")

    def handle(self, *args, **options):
        try:
            summary = generate_zones(
                cut=options["commune"],
                h3_resolution=options["h3_res"],
                grid_m=options["grid_m"],
                commit=options["commit"],
            )
        except ZoneImportError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        if not summary.committed:
            self.stdout.write(self.style.WARNING("Simulación: no se escribió nada (use --commit)."))
