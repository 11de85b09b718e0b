from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from geo_siac.catalogue.catalogue import load_catalogue


class Command(BaseCommand):
    help = "Carga el catálogo de categorías por defecto (crea las que faltan). Simulación salvo --commit."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Restablecer también las categorías existentes.")
        parser.add_argument("--commit", action="store_true")

    def handle(self, *args, **options):
        try:
            with transaction.atomic():
                created, updated = load_catalogue(overwrite=options["reset"])
                if not options["commit"]:
                    transaction.set_rollback(True)
        except ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from None
        self.stdout.write(f"categorías creadas: {created}, restablecidas: {updated}")
        if not options["commit"]:
            self.stdout.write(self.style.WARNING("Simulación: no se escribió nada (use --commit)."))
