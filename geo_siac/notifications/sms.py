"""SMS/WhatsApp delivery behind a small interface. GEO_SIAC_SMS_BACKEND names the SMS class (Twilio's REST API once
GEO_SIAC_TWILIO_ACCOUNT_SID is set, else the log); GEO_SIAC_WHATSAPP_BACKEND the WhatsApp one (the Cloud API)."""

import base64
import json
import logging
import urllib.request
from typing import Protocol
from urllib.parse import quote, urlencode

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


def post(url: str, *, data: bytes, headers: dict[str, str]) -> bytes:
    """POST to a provider; an HTTP error status raises (urllib's HTTPError), so the outbox retries the message."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=settings.GEO_SIAC_MESSAGING_TIMEOUT_SECONDS) as response:
        return response.read()


class TwilioSmsBackend:
    """Twilio's Messages resource: a form POST under HTTP basic auth (account SID, auth token)."""

    def send(self, *, to: str, body: str) -> None:
        sid, token = settings.GEO_SIAC_TWILIO_ACCOUNT_SID, settings.GEO_SIAC_TWILIO_AUTH_TOKEN
        if not (sid and token and settings.GEO_SIAC_TWILIO_FROM):
            raise RuntimeError("Twilio is not configured (GEO_SIAC_TWILIO_ACCOUNT_SID, _AUTH_TOKEN, _FROM)")
        credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
        post(
            f"{settings.GEO_SIAC_TWILIO_API_URL.rstrip('/')}/2010-04-01/Accounts/{quote(sid)}/Messages.json",
            data=urlencode({"To": to, "From": settings.GEO_SIAC_TWILIO_FROM, "Body": body}).encode(),
            headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"},
        )


def whatsapp_number(phone: str) -> str:
    """The Cloud API writes numbers as digits only, country code first."""
    return "".join(c for c in phone if c.isdigit())


class WhatsAppCloudBackend:
    """The WhatsApp Business Cloud API's messages endpoint: a JSON POST under the access token.

    Meta delivers free text only within 24 hours of the citizen's last message; a later status message is refused
    by the API (the outbox keeps it as failed after its retries) unless GEO_SIAC_WHATSAPP_TEMPLATE names an approved
    template with one body parameter, which then carries the text."""

    def send(self, *, to: str, body: str) -> None:
        token, number_id = settings.GEO_SIAC_WHATSAPP_ACCESS_TOKEN, settings.GEO_SIAC_WHATSAPP_PHONE_NUMBER_ID
        if not (token and number_id):
            raise RuntimeError("WhatsApp is not configured (GEO_SIAC_WHATSAPP_ACCESS_TOKEN, _PHONE_NUMBER_ID)")
        message = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": whatsapp_number(to)}
        if settings.GEO_SIAC_WHATSAPP_TEMPLATE:
            message |= {"type": "template", "template": whatsapp_template(body)}
        else:
            message |= {"type": "text", "text": {"preview_url": False, "body": body}}
        post(
            f"{settings.GEO_SIAC_WHATSAPP_API_URL.rstrip('/')}/{quote(number_id)}/messages",
            data=json.dumps(message).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )


def whatsapp_template(body: str) -> dict:
    # A template parameter may not hold new lines: Meta refuses it.
    text = " ".join(body.split())
    return {
        "name": settings.GEO_SIAC_WHATSAPP_TEMPLATE,
        "language": {"code": settings.GEO_SIAC_WHATSAPP_TEMPLATE_LANGUAGE},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": text}]}],
    }


def sms_backend() -> SmsBackend:
    return import_string(settings.GEO_SIAC_SMS_BACKEND)()


def whatsapp_backend() -> SmsBackend:
    return import_string(settings.GEO_SIAC_WHATSAPP_BACKEND)()
