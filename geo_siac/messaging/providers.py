"""What the two providers send and expect: their signatures, their payloads read into one Incoming message, the
WhatsApp and Twilio media downloads and Twilio's TwiML answer. No database here."""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.crypto import constant_time_compare


@dataclass(frozen=True)
class Incoming:
    """One citizen message, whatever the provider: text (an interactive reply's id counts as text), a location
    pin, a WhatsApp photo's media id, or an MMS's media (Twilio's URL and content type of each)."""

    message_id: str
    phone: str
    text: str = ""
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    media_id: str = ""
    media: tuple[tuple[str, str], ...] = ()
    # The photos' bytes, downloaded before the message's transaction (b"" for one whose download failed).
    photos: tuple[bytes, ...] = ()


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
    return constant_time_compare(f"sha256={expected}", header or "")


def twilio_signature(url: str, params: list[tuple[str, str]], token: str) -> str:
    """Twilio's X-Twilio-Signature: base64 of the HMAC-SHA1, under the auth token, of the URL it posted to followed
    by every POST parameter's name and value, sorted by name (a repeated pair once, as Twilio's libraries do)."""
    signed = url + "".join(name + value for name, value in sorted(set(params)))
    return base64.b64encode(hmac.new(token.encode(), signed.encode(), hashlib.sha1).digest()).decode()


def twilio_signature_valid(url: str, params: list[tuple[str, str]], header: str) -> bool:
    expected = twilio_signature(url, params, settings.GEO_SIAC_TWILIO_AUTH_TOKEN)
    return constant_time_compare(expected, header or "")


def international(number: str) -> str:
    """ "+" and the digits: WhatsApp sends "56912345678", Twilio "+56912345678"."""
    digits = "".join(c for c in number if c.isdigit())
    return f"+{digits}" if digits else ""


class BadPayload(ValueError):
    """A body that is not the provider's format."""


def whatsapp_messages(body: bytes) -> list[Incoming]:
    """The citizens' messages of a Cloud API webhook (entry[].changes[].value.messages[]) to this installation's
    number; delivery statuses and message types the conversation has no use for (stickers, audio...) arrive as an
    empty text. A change for another number of the same app (value.metadata.phone_number_id) is not ours."""
    try:
        payload = json.loads(body)
        found = []
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value", {})
                number_id = str((value.get("metadata") or {}).get("phone_number_id", ""))
                if number_id != settings.GEO_SIAC_WHATSAPP_PHONE_NUMBER_ID:
                    continue
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


TWILIO_MAX_MEDIA = 10  # Twilio's limit of media in one message


def twilio_message(post) -> Incoming:
    """Twilio's form: MessageSid, From, Body, and for an MMS NumMedia with MediaUrl0..N and MediaContentType0..N."""
    if not post.get("MessageSid") or not post.get("From"):
        raise BadPayload("MessageSid and From are required")
    count = post.get("NumMedia", "0") or "0"
    if not count.isdigit() or int(count) > TWILIO_MAX_MEDIA:
        raise BadPayload(f"NumMedia must be a whole number from 0 to {TWILIO_MAX_MEDIA}")
    media = tuple((post.get(f"MediaUrl{i}", ""), post.get(f"MediaContentType{i}", "")) for i in range(int(count)))
    if not all(url for url, _content_type in media):
        raise BadPayload("a MediaUrl is missing for NumMedia")
    return Incoming(
        message_id=post["MessageSid"], phone=international(post["From"]), text=post.get("Body", ""), media=media
    )


def twiml(reply: str) -> str:
    message = f"<Message>{escape(reply)}</Message>" if reply else ""
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{message}</Response>'


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """urllib would copy the Authorization header to wherever a redirect points, https to http included."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl[:80]} refused", headers, fp)


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url: str, *, limit: int, headers: dict[str, str], deadline: float | None = None) -> bytes:
    """GET with `headers`, never following a redirect, at most `limit` bytes, each network operation under
    GEO_SIAC_MESSAGING_TIMEOUT_SECONDS and the whole GET before `deadline` (time.monotonic()) when given. Every
    failure to get the bytes is an OSError (or ValueError): http.client's own errors, a body cut short or a bad
    Location among them, are not, and would escape the callers' handling."""
    timeout = settings.GEO_SIAC_MESSAGING_TIMEOUT_SECONDS
    if deadline is not None:
        timeout = min(timeout, deadline - time.monotonic())
        if timeout <= 0:
            raise TimeoutError("no time left for this download")
    request = urllib.request.Request(url, headers=headers)
    try:
        with OPENER.open(request, timeout=timeout) as response:
            content = read_until(response, limit + 1, deadline)
    except http.client.HTTPException as exc:
        raise OSError(f"HTTP error: {exc!r}"[:200]) from exc
    if len(content) > limit:
        raise ValueError("the file is larger than GEO_SIAC_PHOTO_MAX_BYTES")
    return content


def read_until(response, size: int, deadline: float | None) -> bytes:
    """At most `size` bytes of the body; read1 returns after one receive, so a body trickling in stops at the deadline
    (late by at most one receive's timeout, itself no longer than what was left when the GET started)."""
    if deadline is None:
        return response.read(size)
    chunks, received = [], 0
    while received < size and (chunk := response.read1(min(65536, size - received))):
        chunks.append(chunk)
        received += len(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError("the download took longer than its time budget")
    return b"".join(chunks)


def get(url: str, *, limit: int) -> bytes:
    """GET under the WhatsApp access token, never following a redirect."""
    return fetch(url, limit=limit, headers={"Authorization": f"Bearer {settings.GEO_SIAC_WHATSAPP_ACCESS_TOKEN}"})


def host_allowed(url: str, patterns: list[str]) -> bool:
    """https to a host of `patterns` ("*.fbsbx.com" covers its subdomains); plain http only to an allowed loopback
    address, a test's provider."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowed = any(
        host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
        for pattern in (p.lower() for p in patterns)
    )
    return allowed and (parts.scheme == "https" or (parts.scheme == "http" and loopback(host)))


def media_url_allowed(url: str) -> bool:
    """Whether the WhatsApp access token may go to `url`: a host of GEO_SIAC_WHATSAPP_MEDIA_HOSTS."""
    return host_allowed(url, settings.GEO_SIAC_WHATSAPP_MEDIA_HOSTS)


def loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def whatsapp_media(media_id: str) -> bytes:
    """A photo's bytes: the Graph API gives the media id's short-lived URL (GET /{media-id}), fetched under the same
    access token, only from Meta's media hosts (the URL comes from a response, so it is checked before the token is
    sent there)."""
    described = json.loads(get(f"{settings.GEO_SIAC_WHATSAPP_API_URL.rstrip('/')}/{quote(media_id)}", limit=65536))
    url = str(described["url"])
    if not media_url_allowed(url):
        raise ValueError(f"media URL outside GEO_SIAC_WHATSAPP_MEDIA_HOSTS: {url[:80]}")
    return get(url, limit=settings.GEO_SIAC_PHOTO_MAX_BYTES)


REDIRECTS = (301, 302, 303, 307, 308)


def twilio_media_url_valid(url: str, message_sid: str) -> bool:
    """Whether `url` is a medium of this very message of this installation's account on the Twilio API
    (GEO_SIAC_TWILIO_API_URL, https://api.twilio.com), the only place its credentials go:
    /2010-04-01/Accounts/<AccountSid>/Messages/<MessageSid>/Media/<MediaSid>, nothing after it."""
    api, parts = urlsplit(settings.GEO_SIAC_TWILIO_API_URL), urlsplit(url)
    prefix = (
        f"{api.path.rstrip('/')}/2010-04-01/Accounts/{settings.GEO_SIAC_TWILIO_ACCOUNT_SID}/Messages/{message_sid}"
        "/Media/"
    )
    media_sid = parts.path.removeprefix(prefix)
    return (
        host_allowed(url, [api.hostname or ""])
        and (parts.scheme, parts.netloc.lower()) == (api.scheme, api.netloc.lower())
        and parts.path.startswith(prefix)
        and media_sid.isalnum()
        and media_sid.isascii()
        and not (parts.query or parts.fragment)
    )


def twilio_media(url: str, message_sid: str, *, deadline: float | None = None) -> bytes:
    """An MMS photo's bytes. Twilio's media URL, under the account's HTTP basic auth, answers with a redirect to its
    media CDN; that one redirect is followed without credentials, and only to a host of GEO_SIAC_TWILIO_MEDIA_HOSTS.
    The URL comes in the signed webhook and is still checked, so no payload sends the credentials elsewhere. Both
    GETs end by `deadline` (time.monotonic()), when given."""
    if not twilio_media_url_valid(url, message_sid):
        raise ValueError(f"media URL is not this message's on GEO_SIAC_TWILIO_API_URL: {url[:80]}")
    credentials = f"{settings.GEO_SIAC_TWILIO_ACCOUNT_SID}:{settings.GEO_SIAC_TWILIO_AUTH_TOKEN}"
    basic = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    limit = settings.GEO_SIAC_PHOTO_MAX_BYTES
    try:
        return fetch(url, limit=limit, headers=basic, deadline=deadline)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code not in REDIRECTS:
            raise
        location = urljoin(url, exc.headers.get("Location", ""))
    if not host_allowed(location, settings.GEO_SIAC_TWILIO_MEDIA_HOSTS):
        raise ValueError(f"media redirect outside GEO_SIAC_TWILIO_MEDIA_HOSTS: {location[:80]}")
    return fetch(location, limit=limit, headers={}, deadline=deadline)
