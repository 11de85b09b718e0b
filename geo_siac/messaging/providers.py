"""What the two providers send and expect: their signatures, their payloads read into one Incoming message, the
WhatsApp media download and Twilio's TwiML answer. No database here."""

import base64
import hashlib
import hmac
import json
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

from django.conf import settings


@dataclass(frozen=True)
class Incoming:
    """One citizen message, whatever the provider: text (an interactive reply's id counts as text), a location
    pin, or a photo's media id."""

    message_id: str
    phone: str
    text: str = ""
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    media_id: str = ""


def whatsapp_configured() -> bool:
    return all(
        (
            settings.GEO_SIAC_WHATSAPP_APP_SECRET,
            settings.GEO_SIAC_WHATSAPP_VERIFY_TOKEN,
            settings.GEO_SIAC_WHATSAPP_ACCESS_TOKEN,
            settings.GEO_SIAC_WHATSAPP_PHONE_NUMBER_ID,
        )
    )


def twilio_configured() -> bool:
    return bool(settings.GEO_SIAC_TWILIO_AUTH_TOKEN)


def whatsapp_signature_valid(body: bytes, header: str) -> bool:
    """Meta's X-Hub-Signature-256: "sha256=" and the HMAC-SHA256 of the raw body under the app secret."""
    expected = hmac.new(settings.GEO_SIAC_WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={expected}", header or "")


def twilio_signature(url: str, params: list[tuple[str, str]], token: str) -> str:
    """Twilio's X-Twilio-Signature: base64 of the HMAC-SHA1, under the auth token, of the URL it posted to followed
    by every POST parameter's name and value, sorted by name (a repeated pair once, as Twilio's libraries do)."""
    signed = url + "".join(name + value for name, value in sorted(set(params)))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def twilio_signature_valid(url: str, params: list[tuple[str, str]], header: str) -> bool:
    expected = twilio_signature(url, params, settings.GEO_SIAC_TWILIO_AUTH_TOKEN)
    return hmac.compare_digest(expected, header or "")


def international(number: str) -> str:
    """ "+" and the digits: WhatsApp sends "56912345678", Twilio "+56912345678"."""
    digits = "".join(c for c in number if c.isdigit())
    return f"+{digits}" if digits else ""


class BadPayload(ValueError):
    """A body that is not the provider's format."""


def whatsapp_messages(body: bytes) -> list[Incoming]:
    """The citizens' messages of a Cloud API webhook (entry[].changes[].value.messages[]); delivery statuses and
    message types the conversation has no use for (stickers, audio...) arrive as an empty text."""
    try:
        payload = json.loads(body)
        found = []
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value", {})
                found.extend(whatsapp_message(message) for message in value.get("messages", []))
    except (ValueError, AttributeError, TypeError, KeyError) as exc:
        raise BadPayload(str(exc)) from exc
    return found


def whatsapp_message(message: dict) -> Incoming:
    common = {"message_id": str(message["id"]), "phone": international(str(message["from"]))}
    kind = message.get("type")
    if kind == "text":
        return Incoming(**common, text=message["text"]["body"])
    if kind == "location":
        location = message["location"]
        return Incoming(
            **common,
            latitude=float(location["latitude"]),
            longitude=float(location["longitude"]),
            address=location.get("address") or "",
        )
    if kind == "image":
        return Incoming(**common, media_id=str(message["image"]["id"]))
    if kind == "interactive":
        reply = message["interactive"].get("button_reply") or message["interactive"].get("list_reply") or {}
        return Incoming(**common, text=str(reply.get("id") or reply.get("title") or ""))
    if kind == "button":  # a quick-reply button of a template message
        return Incoming(**common, text=message["button"].get("payload") or message["button"].get("text", ""))
    return Incoming(**common)


def twilio_message(post) -> Incoming:
    if not post.get("MessageSid") or not post.get("From"):
        raise BadPayload("MessageSid and From are required")
    return Incoming(message_id=post["MessageSid"], phone=international(post["From"]), text=post.get("Body", ""))


def twiml(reply: str) -> str:
    message = f"<Message>{escape(reply)}</Message>" if reply else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{message}</Response>'


def get(url: str, *, limit: int) -> bytes:
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url[:80]}")
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {settings.GEO_SIAC_WHATSAPP_ACCESS_TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=settings.GEO_SIAC_MESSAGING_TIMEOUT_SECONDS) as response:
        content = response.read(limit + 1)
    if len(content) > limit:
        raise ValueError("the file is larger than GEO_SIAC_PHOTO_MAX_BYTES")
    return content


def whatsapp_media(media_id: str) -> bytes:
    """A photo's bytes: the Graph API gives the media id's short-lived URL (GET /{media-id}), fetched under the same
    access token."""
    described = json.loads(get(f"{settings.GEO_SIAC_WHATSAPP_API_URL.rstrip('/')}/{quote(media_id)}", limit=65536))
    return get(str(described["url"]), limit=settings.GEO_SIAC_PHOTO_MAX_BYTES)
