from django.core.management.base import BaseCommand

from geo_siac.messaging.services import messages_purge


class Command(BaseCommand):
    help = (
        "Delete WhatsApp/SMS conversations left too long, and conversation replies and received message ids older "
        "than GEO_SIAC_MESSAGES_KEEP_DAYS (hourly, by a timer)."
    )

    def handle(self, *args, **options):
        conversations, replies, received = messages_purge()
        self.stdout.write(
            f"conversaciones {conversations}, respuestas {replies}, mensajes recibidos {received} borrados"
        )
