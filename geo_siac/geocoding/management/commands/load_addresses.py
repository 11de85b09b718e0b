from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from geo_siac.geocoding.importers import PRESETS, AddressSourceError, address_source
from geo_siac.geocoding.services import gazetteer_load


class Command(BaseCommand):
    help = (
        "Carga el nomenclátor de búsqueda de direcciones desde un extracto de OpenStreetMap (.osm.pbf, .osm), "
        "puntos de dirección GeoJSON o CSV (--preset ine: capa de direcciones del INE; --preset dtpm: paraderos "
        "con sus esquinas) o, sin archivo, desde los puntos de atención ya cargados. Reemplaza las entradas del "
        "mismo origen e identificador; informa lo cargado y lo omitido. Simulación salvo --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, nargs="?", help="Archivo; sin él, los puntos de atención cargados.")
        parser.add_argument("--preset", choices=["dtpm", *sorted(PRESETS)], help="Formato conocido del archivo.")
        parser.add_argument("--sep", default=",", help="Separador del CSV (por defecto ',').")
        parser.add_argument(
            "--source",
            help="Nombre del origen (por defecto el preset, 'osm' o el nombre del "
            "archivo): una nueva carga del mismo origen reemplaza sus entradas.",
        )
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--commit", action="store_true", help="Escribir en la base de datos.")

    def handle(self, *args, **options):
        try:
            source = address_source(options["path"], preset=options["preset"], sep=options["sep"])
            with tqdm(unit=" entradas", disable=options["no_progress"]) as bar:
                summary = gazetteer_load(
                    source=options["source"] or source.source,
                    entries=bar_over(source, bar),
                    commit=options["commit"],
                    summary=source.summary,
                )
        except AddressSourceError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        if not options["commit"]:
            self.stdout.write(self.style.WARNING("Simulación: no se escribió nada (use --commit)."))


def bar_over(source, bar):
    for entry in source.entries():
        bar.update()
        yield entry
