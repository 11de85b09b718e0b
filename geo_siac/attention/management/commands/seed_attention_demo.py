from django.core.management.base import BaseCommand

from geo_siac.attention.demo import seed_attention_demo


class Command(BaseCommand):
    help = (
        "Loads the demo's service points and procedures guide: Puente Alto's municipal building (with its "
        "monthly night session) and Peñalolén's OIRS. Idempotent."
    )

    def handle(self, *args, **options):
        counts = seed_attention_demo()
        self.stdout.write(
            f"{counts['points']} puntos, {counts['procedures']} trámites, "
            f"{counts['offerings']} trámites con cita en los puntos"
        )
