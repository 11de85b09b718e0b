from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from geo_siac.zones.population import CELL_RESOLUTIONS, DEFAULT_CENSUS, PopulationImportError, import_population


class Command(BaseCommand):
    help = (
        "Carga zonas censales con población por tramo de edad, repara geometrías inválidas e interpola la "
        "población a celdas H3 (res 6-10) por área en EPSG:32719, comprobando que el total se conserva (0,1%). "
        "Simulación salvo --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--cut", action="append", dest="cuts", help="Cargar solo esta comuna (repetible).")
        parser.add_argument(
            "--res",
            action="append",
            type=int,
            dest="resolutions",
            help=f"Resolución H3 (repetible; por defecto {', '.join(map(str, CELL_RESOLUTIONS))}).",
        )
        parser.add_argument(
            "--skip-loaded",
            action="store_true",
            help="No volver a cargar las comunas que ya tienen población en esas resoluciones.",
        )
        parser.add_argument(
            "--census",
            default=DEFAULT_CENSUS,
            help=f"El censo del archivo, como lo citan los mapas (por defecto «{DEFAULT_CENSUS}»).",
        )
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--commit", action="store_true", help="Escribir en la base de datos.")

    def handle(self, *args, **options):
        try:
            with tqdm(unit=" comunas", disable=options["no_progress"]) as bar:
                summary = import_population(
                    path=options["path"],
                    cuts=options["cuts"],
                    resolutions=tuple(options["resolutions"] or CELL_RESOLUTIONS),
                    commit=options["commit"],
                    skip_loaded=options["skip_loaded"],
                    census=options["census"],
                    progress=bar.update,
                )
        except PopulationImportError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        if not options["commit"]:
            self.stdout.write(self.style.WARNING("Simulación: no se escribió nada (use --commit)."))
