import argparse
from pathlib import Path

from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from geo_siac.reports.importers import ImportFileError, ReportImporter, import_lock, restore_suspended
from geo_siac.reports.mappings import load_mapping
from geo_siac.reports.services import reports_route_unrouted


class Command(BaseCommand):
    help = (
        "Importa solicitudes históricas desde un CSV por la vía masiva (COPY), validando cada fila. Escribe un "
        "archivo de rechazos con un motivo por fila. Reiniciable sin duplicar. Simulación salvo --commit."
    )
    # The models' checks only: the URL checks load every view (maps, folium, DRF), which a long import would keep.
    requires_system_checks = [checks.Tags.models]

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, nargs="?")
        parser.add_argument("--mapping", default="geosiac", help="Preset (geosiac, la311) o archivo JSON.")
        parser.add_argument("--place-in", metavar="CUT", help="Trasladar los puntos a la extensión de esta comuna.")
        parser.add_argument("--source", help="Nombre del origen, sin «:» (por defecto, el de la correspondencia).")
        parser.add_argument("--rejects", type=Path, help="Archivo de rechazos (por defecto junto al CSV).")
        parser.add_argument("--chunk-rows", type=int, default=50_000)
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--commit", action="store_true", help="Escribir en la base de datos.")
        parser.add_argument(
            "--bulk",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Modo masivo: suspende los índices no únicos y las claves foráneas y los reconstruye al final "
            "(por defecto, si no hay solicitudes o para retomar una importación masiva interrumpida). Bloquea la "
            "escritura de solicitudes mientras dura.",
        )
        parser.add_argument(
            "--route",
            action="store_true",
            help="Después de importar, asignar zona, cuadrilla y dirección a las solicitudes abiertas importadas "
            "(como si hubieran entrado por la web); sin esto esperan en la cola de triage.",
        )
        parser.add_argument(
            "--restore-schema",
            action="store_true",
            help="Solo reconstruir los índices y claves que dejó suspendidos una importación interrumpida.",
        )

    def handle(self, *args, **options):
        if options["restore_schema"]:
            try:
                with import_lock():
                    restored = restore_suspended()
            except ImportFileError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"reconstruidos: {len(restored)} ({', '.join(restored) or 'nada pendiente'})")
            return
        path: Path | None = options["path"]
        if path is None:
            raise CommandError("Indique el archivo CSV a importar.")
        if not path.is_file():
            raise CommandError(f"No existe el archivo {path}.")
        try:
            mapping = load_mapping(options["mapping"])
            size = path.stat().st_size if path.exists() else 0
            with tqdm(total=None, unit=" filas", disable=options["no_progress"] or size < 1_000_000) as bar:
                importer = ReportImporter(
                    mapping=mapping,
                    place_in=options["place_in"],
                    source=options["source"],
                    chunk_rows=options["chunk_rows"],
                    commit=options["commit"],
                    bulk=options["bulk"],
                    progress=bar.update,
                )
                summary = importer.run(path, options["rejects"])
        except (ImportFileError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if mapping.note and options["place_in"]:
            self.stdout.write(self.style.WARNING(mapping.note))
        if summary.bulk:
            placed = "no asignadas" if summary.place_error else "asignadas"
            self.stdout.write(
                f"modo masivo: celdas públicas {placed} ({summary.place_seconds:.1f} s), índices y claves foráneas "
                f"reconstruidos al final ({summary.rebuild_seconds:.1f} s)"
            )
        self.stdout.write(f"leídas: {summary.read}")
        self.stdout.write(f"insertadas: {summary.inserted}")
        self.stdout.write(f"ya importadas antes: {summary.already_imported}")
        if summary.already_archived:
            self.stdout.write(f"ya importadas antes, archivadas: {summary.already_archived}")
        self.stdout.write(f"rechazadas: {summary.rejected} (detalle en {summary.reject_path})")
        for reason, count in sorted(summary.reasons.items(), key=lambda item: -item[1]):
            self.stdout.write(f"  {count:>8}  {reason}")
        if options["route"] and options["commit"]:
            routed = reports_route_unrouted(source=summary.source)
            self.stdout.write(f"enrutadas: {routed} solicitudes abiertas")
        if summary.place_error:
            self.stdout.write(self.style.WARNING(summary.place_warning()))
        if not options["commit"]:
            self.stdout.write(self.style.WARNING("Simulación: no se escribió nada en la base (use --commit)."))
