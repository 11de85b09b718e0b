from django.core.management.base import BaseCommand, CommandError

from geo_siac.reports.archive_erasure import (
    DumpErasureFailed,
    dump_erasure_years,
    orphaned_pending_erasures,
    pending_erasures_dump_rewrite,
)
from geo_siac.reports.archived import ArchiveColumnsMissing, PendingErasuresBlocked, archive_schemas_prepare
from geo_siac.reports.models import PendingErasure, YearArchive
from geo_siac.reports.services.erasure import pending_erasure_years, pending_erasures_apply


class Command(BaseCommand):
    help = (
        "Aplica a cada año archivado cuyo esquema volvió a la base de datos (pg_restore de su volcado) los borrados "
        "a petición del titular hechos mientras estaba solo en su volcado, y solo a ese esquema. Cada año en una "
        "transacción: repetirlo no borra nada dos veces. La anotación queda hasta que archive_year guarde un volcado "
        "nuevo del año. Con --dumps hace todo sin intervención: restaura el volcado anotado de cada año con borrados "
        "pendientes (pg_restore --single-transaction), aplica los borrados, guarda un volcado nuevo junto al "
        "anterior, elimina de nuevo el esquema y solo entonces borra el archivo del volcado anterior; interrumpido, "
        "se termina ejecutándolo de nuevo (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Solo este año archivado.")
        parser.add_argument(
            "--dumps",
            action="store_true",
            help="Restaurar el volcado de cada año con borrados pendientes, aplicarlos, guardarlo de nuevo y borrar "
            "el volcado anterior.",
        )

    def handle(self, *args, year: int | None, dumps: bool, **options):
        if year is not None and not YearArchive.objects.filter(year=year).exists():
            raise CommandError(f"{year} no es un año archivado.")
        if dumps:
            self.rewrite_dumps([year] if year is not None else dump_erasure_years(), year)
            return
        years = [year] if year is not None else pending_erasure_years()
        archive_schemas_prepare()
        for each in years:
            try:
                applied = pending_erasures_apply(year=each)
            except (ArchiveColumnsMissing, PendingErasuresBlocked) as exc:
                raise CommandError(str(exc)) from exc
            if applied is None:
                record = YearArchive.objects.get(year=each)
                count = PendingErasure.objects.filter(archive=record).count()
                self.stdout.write(
                    self.style.WARNING(
                        f"{each}: {count} borrados pendientes; su esquema {record.schema} no está en la base de "
                        f"datos. Ejecute manage.py apply_pending_erasures --dumps (restaura {record.dump or 'su volcado'}, "
                        "aplica los borrados, lo guarda de nuevo y borra el anterior)."
                    )
                )
                continue
            if applied.orphaned:
                self.orphaned(each, applied.orphaned)
            self.stdout.write(
                f"{each}: {applied.records} borrados pendientes aplicados en {applied.schema} "
                f"({applied.people} personas con datos en el año; {applied.summary.reports_anonymised} solicitudes "
                "anonimizadas)."
            )
            if applied.dump_outdated:
                self.stdout.write(
                    self.style.WARNING(
                        f"{applied.dump_outdated} aún contiene lo borrado: vuelva a guardar el año (archive_year "
                        f"--year {each} --commit --to CARPETA --drop) y destruya las copias anteriores del volcado."
                    )
                )
        if not years:
            self.stdout.write("No hay borrados pendientes.")

    def orphaned(self, year: int, count: int) -> None:
        self.stdout.write(
            self.style.ERROR(
                f"{year}: {count} borrados pendientes hechos con una clave que ya no está en "
                "reports_erasuredigestkey (reemplazada): no se aplicaron. Restaure la fila de esa clave de un "
                "respaldo y repita."
            )
        )

    def rewrite_dumps(self, years: list[int], only: int | None) -> None:
        """pending_erasures_dump_rewrite of each year, oldest first; the first that fails stops the command. Orphaned
        erasures are named apart: no run can apply them, so they are no reason to rewrite a year."""
        for year, count in orphaned_pending_erasures().items():
            if only in (None, year):
                self.orphaned(year, count)
        for each in years:
            try:
                done = pending_erasures_dump_rewrite(year=each)
            except DumpErasureFailed as exc:
                raise CommandError(str(exc)) from exc
            if done.skipped:
                self.stdout.write(self.style.WARNING(done.skipped))
                continue
            if not done.dump:
                self.stdout.write(f"{each}: no hay borrados pendientes en su volcado.")
                continue
            if done.applied is not None:
                self.stdout.write(
                    f"{each}: {done.applied.records} borrados pendientes aplicados en {done.schema} "
                    f"({done.applied.people} personas con datos en el año; {done.applied.summary.reports_anonymised} "
                    f"solicitudes anonimizadas, {done.applied.summary.photos_deleted} fotos borradas)."
                )
            self.stdout.write(f"{each}: volcado nuevo {done.dump}; esquema {done.schema} eliminado de nuevo.")
            if done.old_removed:
                self.stdout.write(f"{each}: borrado el volcado anterior {done.old_dump}, que aún contenía lo borrado.")
            else:
                self.stdout.write(f"{each}: el volcado anterior {done.old_dump} ya no estaba en esa ruta.")
            self.stdout.write(
                self.style.WARNING(
                    f"{each}: destruya toda copia del volcado anterior ({done.old_dump}) fuera de esa ruta (respaldos, "
                    "copias en otro equipo): aún contiene los datos borrados y esta orden no las alcanza."
                )
            )
            if done.pending_left:
                self.stdout.write(
                    self.style.WARNING(
                        f"{each}: {done.pending_left} borrados anotados mientras corría quedan pendientes: ejecute de "
                        "nuevo manage.py apply_pending_erasures --dumps."
                    )
                )
        if not years:
            self.stdout.write("No hay borrados pendientes en volcados: nada que hacer.")
