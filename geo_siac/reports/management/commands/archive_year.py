from argparse import ArgumentTypeError
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from geo_siac.reports.archive import (
    ArchiveRefused,
    DumpFailed,
    archive_refusal,
    archive_schema,
    year_archive_finish,
)
from geo_siac.reports.archived import PendingErasuresBlocked
from geo_siac.reports.models import YearArchive


def lock_seconds(text: str) -> int:
    """PostgreSQL reads a lock_timeout of 0 as no limit at all and refuses a negative one."""
    try:
        seconds = int(text)
    except ValueError:
        raise ArgumentTypeError(f"«{text}» no es un número entero de segundos.") from None
    if seconds < 1:
        raise ArgumentTypeError(f"{seconds}: debe ser al menos 1 segundo (0 esperaría cada bloqueo sin límite).")
    return seconds


class Command(BaseCommand):
    help = (
        "Archiva un año terminado: sus solicitudes, sus eventos (la partición del año, separada entera) y las filas "
        "que apuntan a ellas salen de las tablas en uso hacia el esquema archive_y<AÑO>. Sin --commit solo "
        "comprueba que se pueda. --to guarda ese esquema con pg_dump; --drop lo elimina después de guardarlo; "
        "--through archiva varios años, el más antiguo primero. Una ejecución interrumpida se termina ejecutando "
        "de nuevo la misma orden: lo ya hecho no se repite (docs/deployment.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="Año terminado, p. ej. 2019 (el primero).")
        parser.add_argument("--through", type=int, help="Último año a archivar, desde --year (p. ej. 2021).")
        parser.add_argument("--to", type=Path, help="Carpeta donde guardar el volcado (pg_dump -Fc) del año.")
        parser.add_argument("--drop", action="store_true", help="Eliminar el esquema del año una vez guardado.")
        parser.add_argument("--commit", action="store_true", help="Archivar de verdad (sin esto, solo comprueba).")
        parser.add_argument(
            "--lock-timeout",
            type=lock_seconds,
            help="Segundos de espera por cada bloqueo antes de desistir sin cambiar nada "
            "(por defecto GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS).",
        )

    def handle(self, *args, year: int, through: int | None, to: Path | None, drop: bool, commit: bool, **options):
        if drop and to is None:
            raise CommandError("--drop necesita --to: el esquema solo se elimina después de guardarlo.")
        last = year if through is None else through
        if last < year:
            raise CommandError(f"--through {last} es anterior a --year {year}.")
        for each in range(year, last + 1):
            if commit:
                self.finish(each, to=to, drop=drop, lock_timeout=options["lock_timeout"])
            else:
                self.check(each)

    def check(self, year: int) -> None:
        archive = YearArchive.objects.filter(year=year).first()
        if archive is not None:
            self.stdout.write(f"{year} ya se archivó, en el esquema {archive.schema}; volcado: {archive.dump or '-'}.")
            return
        with connection.cursor() as cursor:
            refusal = archive_refusal(cursor, year)
        if refusal:
            raise CommandError(refusal)
        self.stdout.write(f"{year} se puede archivar; ejecute de nuevo con --commit.")

    def finish(self, year: int, *, to: Path | None, drop: bool, lock_timeout: int | None) -> None:
        """One year, each step done once (year_archive_finish): what an earlier run did is said and skipped."""
        try:
            archived = year_archive_finish(year=year, to=to, drop=drop, lock_timeout=lock_timeout)
        except (ArchiveRefused, PendingErasuresBlocked) as exc:
            raise CommandError(str(exc)) from exc
        except DumpFailed as exc:
            raise CommandError(
                f"{year} quedó archivado en el esquema {archive_schema(year)}, pero no se guardó ({exc}). Ejecute "
                "de nuevo la misma orden para guardarlo."
            ) from exc
        if archived.done:
            self.stdout.write(f"{year} ya hecho: {'; '.join(archived.done)}.")
        for line in archived.settled:
            self.stdout.write(line)
        for table, rows in archived.rows.items():
            self.stdout.write(f"{archived.schema}.{table}: {rows}")
        if archived.dumped:
            self.stdout.write(f"guardado en {archived.dump}")
        if archived.dropped:
            self.stdout.write(f"eliminado el esquema {archived.schema}")
