import json
from dataclasses import asdict
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from geo_siac.citizens.selectors import citizen_data
from geo_siac.citizens.services import citizen_data_erase, citizen_phone_data_erase
from geo_siac.reports.archived import ArchiveColumnsMissing, PendingErasuresBlocked
from geo_siac.reports.selectors import phone_key


class Command(BaseCommand):
    help = (
        "Datos personales de una persona (Ley 19.628 / 21.719), por su correo o, si solo dio su número (teléfono, "
        "WhatsApp, SMS), por su teléfono: exportarlos (--export) o borrarlos (--erase, simulación salvo --commit). "
        "Los reportes y las citas quedan, anonimizados, en las estadísticas."
    )

    def add_arguments(self, parser):
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--phone", help="El número, escrito de cualquier forma (+56 9 1234 5678, 912345678...).")
        parser.add_argument("--export", type=Path, metavar="ARCHIVO", help="Escribir los datos en JSON.")
        parser.add_argument("--erase", action="store_true", help="Borrar los datos personales.")
        parser.add_argument("--commit", action="store_true", help="Escribir en la base de datos.")

    def handle(self, *args, **options):
        try:
            self.run(options)
        except (ArchiveColumnsMissing, PendingErasuresBlocked) as exc:  # nothing exported nor erased
            raise CommandError(str(exc)) from exc

    def run(self, options):
        if not (options["export"] or options["erase"]):
            raise CommandError("Indique --export ARCHIVO y/o --erase.")
        email = (options["email"] or "").strip()
        phone = (options["phone"] or "").strip()
        if options["email"] is not None:
            try:
                validate_email(email)
            except ValidationError as exc:
                raise CommandError(f"Correo no válido: {email!r}") from exc
        elif len(phone_key(phone)) < 8:
            raise CommandError(f"Teléfono no válido (al menos 8 dígitos): {phone!r}")
        if options["export"]:
            data = citizen_data(email=email, phone=phone)
            options["export"].write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
            self.stdout.write(
                f"exportado: {len(data['reports'])} reportes, {len(data['following'])} seguidos, "
                f"{len(data['notifications'])} mensajes, {len(data['appointments'])} citas "
                f"-> {options['export']}"
            )
            for archive in data["archived_years_not_read"]:
                self.stdout.write(
                    self.style.WARNING(
                        f"No se leyó {archive['year']}: ese año archivado está solo en su volcado "
                        f"({archive['dump']}). Restáurelo (pg_restore) para exportar también sus datos."
                    )
                )
            for pending in data["archived_years_erasure_pending"]:
                if pending["applied_at"]:
                    self.stdout.write(
                        f"Borrado pendiente en {pending['year']} (pedido el {pending['erased_at']}): aplicado el "
                        f"{pending['applied_at']} al esquema restaurado; se borra la anotación cuando se guarde de "
                        "nuevo su volcado."
                    )
                else:
                    self.stdout.write(
                        f"Borrado pendiente en {pending['year']} (pedido el {pending['erased_at']}): se aplicará "
                        "cuando se restaure su volcado."
                    )
        if options["erase"]:
            if email:
                summary = citizen_data_erase(email=email, commit=options["commit"])
            else:
                summary = citizen_phone_data_erase(phone=phone, commit=options["commit"])
            for name, count in asdict(summary).items():
                self.stdout.write(f"{name}: {count}")
            for dump in summary.archived_dumps_outdated:
                if options["commit"]:
                    self.stdout.write(
                        self.style.WARNING(
                            f"{dump} aún contiene lo borrado: vuelva a guardar ese año (archive_year --year AÑO "
                            "--commit --to CARPETA) y destruya las copias anteriores del volcado."
                        )
                    )
                else:
                    self.stdout.write(
                        f"{dump} contiene datos de esta persona: tras borrar habrá que guardarlo de nuevo."
                    )
            for place, year in zip(summary.archived_years_not_reached, summary.archived_years_unreached, strict=True):
                if year not in summary.archived_years_pending:  # no digest made (no e-mail, a number too short)
                    recorded = "Restáurelo (pg_restore), repita este borrado y vuelva a guardarlo"
                elif options["commit"]:
                    recorded = "Queda anotado como pendiente (sin el correo ni el número, solo su huella)"
                else:
                    recorded = "Con --commit se anotará como pendiente (sin el correo ni el número, solo su huella)"
                self.stdout.write(
                    self.style.WARNING(
                        f"El borrado no alcanza {place}: ese año archivado está solo en su volcado. {recorded}"
                        + (
                            ": manage.py apply_pending_erasures --dumps restaura su volcado, lo aplica, guarda el año "
                            "de nuevo y borra el volcado anterior (docs/deployment.md)."
                            if year in summary.archived_years_pending
                            else " (docs/deployment.md)."
                        )
                    )
                )
            if not options["commit"]:
                self.stdout.write(self.style.WARNING("Simulación: no se borró nada (use --commit)."))
