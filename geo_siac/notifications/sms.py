"""SMS/WhatsApp delivery behind a small interface; GEO_SIAC_SMS_BACKEND names the class to use."""

import logging
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str) -> None:
        """Deliver one message or raise; the worker retries on any exception."""


class LoggingSmsBackend:
    """Writes the message to the log instead of sending it, with the number masked."""

    def send(self, *, to: str, body: str) -> None:
        logger.info("SMS to ...%s: %s", to[-3:], body)


def sms_backend() -> SmsBackend:
    return import_string(settings.GEO_SIAC_SMS_BACKEND)()
