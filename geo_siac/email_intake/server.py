"""The SMTP receiver (aiosmtpd) an MTA relays the municipality's address to. Each message is filed in a worker
thread (email_receive, one transaction) and the MTA is answered 250 only once that committed; a refusal names the
problem, a temporary fault (the database, the configuration) asks the MTA to retry."""

import asyncio
import logging
import unicodedata
from concurrent.futures import Executor, ThreadPoolExecutor

from aiosmtpd.smtp import SMTP
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connections
from django.utils import translation

from geo_siac.email_intake.selectors import recipient_served
from geo_siac.email_intake.services import NotReady, TooMany, email_receive

logger = logging.getLogger(__name__)

# Messages filed at once; each worker holds a database connection while it files.
WORKERS = 4
# RFC 5321 replies are ASCII lines; the reason is folded to ASCII and kept short.
REPLY_MAX_CHARACTERS = 400


def ascii_reply(text: str) -> str:
    folded = unicodedata.normalize("NFKD", " ".join(str(text).split()))
    return folded.encode("ascii", "ignore").decode("ascii")[:REPLY_MAX_CHARACTERS]


def smtp_reply(*, raw: bytes, envelope_sender: str, recipients: list[str]) -> str:
    """File one message and say how it went, as an SMTP reply line. Runs in a worker thread."""
    close_old_connections()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            received = email_receive(raw=raw, envelope_sender=envelope_sender, recipients=recipients)
            if received.outcome == "ignored":
                logger.info("automatic message from %s not filed", envelope_sender or "<>")
                return "250 2.0.0 Automatic message accepted, not filed"
            return f"250 2.0.0 {received.outcome} {received.tracking_code}".rstrip()
    except ValidationError as exc:
        # A sender's fault: refused for good, so the MTA returns it to the sender with this reason.
        code = "550 5.1.7" if "reporter_email" in exc.message_dict else "554 5.6.0"
        return f"{code} {ascii_reply(' '.join(exc.messages))}"
    except TooMany:
        # Temporary: the MTA keeps the message and retries after the sender's window, so nothing is lost.
        return "450 4.7.1 Too many messages from this sender, try again later"
    except NotReady as exc:
        logger.error("email intake is not configured: %s", exc)
        return "451 4.3.0 Intake not configured, try again later"
    except Exception:
        logger.exception("email intake failed; the MTA keeps the message and retries")
        return "451 4.3.0 Temporary failure, try again later"
    finally:
        connections.close_all()


class IntakeHandler:
    """aiosmtpd's handler: recipients checked at RCPT, each message filed at DATA."""

    def __init__(self, executor: Executor):
        self.executor = executor

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if not recipient_served(address):
            return "550 5.1.1 Unknown recipient"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.executor,
            lambda: smtp_reply(
                raw=envelope.original_content or envelope.content,
                envelope_sender=envelope.mail_from or "",
                recipients=list(envelope.rcpt_tos),
            ),
        )


def smtp_session(handler: IntakeHandler) -> SMTP:
    return SMTP(handler, data_size_limit=settings.GEO_SIAC_EMAIL_MAX_BYTES, hostname="geosiac", ident="GeoSIAC")


async def serve(host: str, port: int, stop: asyncio.Event, ready=None) -> None:
    """Receive on host:port until `stop` is set; messages being filed finish before it returns."""
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="receive_email") as executor:
        handler = IntakeHandler(executor)
        server = await asyncio.get_running_loop().create_server(lambda: smtp_session(handler), host, port)
        if ready is not None:
            ready()
        async with server:
            await stop.wait()
