from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from geo_siac.zones.models import ServicePointKind
from geo_siac.zones.service_points import PRESETS, ServicePointImportError, import_service_points


class Command(BaseCommand):
    help = (
        "Carga o actualiza puntos de atención desde GeoJSON o CSV (por origen e identificador, sin duplicar). "
        "Informa lo omitido y por qué. Simulación salvo --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--kind", choices=ServicePointKind.values, help="Tipo de todos los puntos del archivo.")
        parser.add_argument("--preset", choices=sorted(PRESETS), help="Formato conocido (deis: registro DEIS).")
        parser.add_argument("--cut", action="append", dest="cuts", help="Cargar solo esta comuna (repetible).")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="CAMPO=COLUMNA",
            help="Columna para un campo: name, kind, latitude, longitude, cut, address, source_id, "
            "hours (el horario en JSON; vacío: desconocido).",
        )
        parser.add_argument("--sep", help="Separador del CSV (por defecto ',' o el del preset).")
        parser.add_argument("--source", help="Nombre del origen (por defecto el preset o el nombre del archivo).")
        parser.add_argument(
            "--skip-loaded",
            action="store_true",
            help="No volver a cargar las comunas que ya tienen puntos de este origen.",
        )
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--commit", action="store_true", help="Escribir en la base de datos.")

    def handle(self, *args, **options):
        try:
            overrides = dict(item.split("=", 1) for item in options["map"])
        except ValueError as exc:
            raise CommandError("--map espera CAMPO=COLUMNA.") from exc
        try:
            with tqdm(unit=" filas", disable=options["no_progress"]) as bar:
                summary = import_service_points(
                    path=options["path"],
                    preset=options["preset"],
                    kind=options["kind"],
                    cuts=options["cuts"],
                    column_overrides=overrides,
                    sep=options["sep"],
                    source=options["source"],
                    commit=options["commit"],
                    skip_loaded=options["skip_loaded"],
                    progress=bar.update,
                )
        except ServicePointImportError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        if not options["commit"]:
            self.stdout.write(self.style.WARNING("Simulación: no se escribió nada (use --commit)."))
