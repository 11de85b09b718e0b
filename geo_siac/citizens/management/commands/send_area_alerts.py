from django.core.management.base import BaseCommand

from geo_siac.citizens.services import area_alerts_send


class Command(BaseCommand):
    help = (
        "Poner en la cola de envío el resumen semanal de cada aviso por zona confirmado al que le toca "
        "(una vez al día; repetirlo no envía nada dos veces)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"resúmenes en cola: {area_alerts_send()}")
