import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geo_siac.reports.importers import CommuneIndex, ImportFileError, ReportImporter
from geo_siac.reports.mappings import NATIVE
from geo_siac.reports.synthetic import write_synthetic_csv


class Command(BaseCommand):
    help = (
        "Carga un conjunto de demostración de solicitudes sintéticas (reproducible: las mismas cada vez, y "
        "volver a ejecutarlo no duplica nada)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reports", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        try:
            communes = CommuneIndex.load()
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        with tempfile.TemporaryDirectory() as folder:
            path = write_synthetic_csv(Path(folder) / "demo.csv", options["reports"], communes.geometries,
                                      seed=options["seed"], prefix="demo")
            summary = ReportImporter(mapping=NATIVE, source="demo", commit=True).run(path)
        self.stdout.write(
            f"demo: {summary.inserted} solicitudes nuevas, {summary.already_imported} ya existían, "
            f"{summary.rejected} rechazadas"
        )
