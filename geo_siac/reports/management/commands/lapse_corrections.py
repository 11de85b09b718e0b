from django.core.management.base import BaseCommand

from geo_siac.reports.services import information_corrections_lapse


class Command(BaseCommand):
    help = (
        "Cierra como desistidas (Ley 20.285, art. 12) las solicitudes de acceso a información cuya subsanación "
        "no llegó en 5 días hábiles. Se puede correr a menudo: cada solicitud se cierra una vez."
    )

    def handle(self, *args, **options):
        lapsed = information_corrections_lapse()
        self.stdout.write(f"solicitudes desistidas: {lapsed}")
