import asyncio
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from geo_siac.email_intake.server import serve
from geo_siac.email_intake.services import NotReady, email_topic
from geo_siac.zones.models import Commune


def parse_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind must be host:port, e.g. 127.0.0.1:2525 (got {bind!r})")
    return host.strip("[]"), int(port)


def configuration_errors() -> list[str]:
    """What would make every message wait: checked at start, so a wrong setting is seen now, not in the MTA's queue."""
    errors = []
    try:
        email_topic()
    except NotReady as exc:
        errors.append(str(exc))
    mapped = settings.GEO_SIAC_EMAIL_COMMUNES
    active = set(Commune.objects.active().values_list("cut", flat=True))
    if not mapped and len(active) != 1:
        errors.append(
            f"{len(active)} comunas are served: set GEO_SIAC_EMAIL_COMMUNES (address=CUT,...) to say which "
            "address serves which"
        )
    errors.extend(
        f"GEO_SIAC_EMAIL_COMMUNES: {address} names {cut}, not a served comuna"
        for address, cut in mapped.items()
        if cut not in active
    )
    return errors


class Command(BaseCommand):
    help = (
        "Receive the municipality's email by SMTP (an MTA relays its address here) and file each message as a "
        "request, or as information added to the request it answers. Runs until SIGTERM or SIGINT."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default="127.0.0.1:2525", help="host:port to listen on (default %(default)s)")

    def handle(self, *args, bind, **options):
        host, port = parse_bind(bind)
        if errors := configuration_errors():
            raise CommandError("; ".join(errors))
        asyncio.run(self.run(host, port))

    async def run(self, host: str, port: int) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)

        def ready():
            self.stdout.write(f"receive_email: listening on {host}:{port}", ending="\n")
            self.stdout.flush()

        await serve(host, port, stop, ready)
