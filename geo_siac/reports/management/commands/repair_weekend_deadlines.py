from django.core.management.base import BaseCommand

from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.services import open_deadlines_repair


class Command(BaseCommand):
    help = (
        "Mueve al siguiente día hábil el plazo de las solicitudes abiertas que vence en un día inhábil (las "
        "presentadas con un plazo de 0 días, antes de que catalogue.terms lo rechazara), con una nota interna en "
        "cada una; también las que vencen en un día cerrado agregado después. No toca las que esperan una "
        "subsanación (su plazo es el de la Ley 20.285). Sin --commit solo muestra lo que haría."
    )

    def add_arguments(self, parser):
        parser.add_argument("--commit", action="store_true", help="Escribe los cambios (sin esto, solo los muestra).")

    def handle(self, *args, commit: bool = False, **options):
        moved = open_deadlines_repair(commit=commit)
        for each in moved:
            old, new = each.old.astimezone(SANTIAGO), each.new.astimezone(SANTIAGO)
            self.stdout.write(f"{each.code}: {old.isoformat()} -> {new.isoformat()}")
        verb = "movidos" if commit else "por mover (sin --commit no se escribió nada)"
        self.stdout.write(f"plazos {verb}: {len(moved)}")
