from django.core.management.base import BaseCommand, CommandError

from geo_siac.reports.archived import ArchiveColumnsMissing, PendingErasuresBlocked, archive_schemas_prepare
from geo_siac.reports.models import PendingErasure, YearArchive
from geo_siac.reports.services.erasure import pending_erasure_years, pending_erasures_apply


class Command(BaseCommand):
    help = (
        "Aplica a cada año archivado cuyo esquema volvió a la base de datos (pg_restore de su volcado) los borrados "
        "a petición del titular hechos mientras estaba solo en su volcado, y solo a ese esquema. Cada año en una "
        "transacción: repetirlo no borra nada dos veces. La anotación queda hasta que archive_year guarde un volcado "
        "nuevo del año (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Solo este año archivado.")

    def handle(self, *args, year: int | None, **options):
        if year is not None and not YearArchive.objects.filter(year=year).exists():
            raise CommandError(f"{year} no es un año archivado.")
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
                        f"datos. Restaure su volcado (pg_restore --single-transaction -d BASE {record.dump or '...'}) "
                        "y repita."
                    )
                )
                continue
            if applied.orphaned:
                self.stdout.write(
                    self.style.ERROR(
                        f"{each}: {applied.orphaned} borrados pendientes hechos con una clave que ya no está en "
                        "reports_erasuredigestkey (reemplazada): no se aplicaron. Restaure la fila de esa clave de un "
                        "respaldo y repita."
                    )
                )
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
