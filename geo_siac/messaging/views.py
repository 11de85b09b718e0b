"""The providers' webhooks: thin, CSRF-exempt (a provider holds no CSRF token; its signature authenticates it
instead), 404 while the channel has no credentials."""

import logging

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from geo_siac.messaging.providers import (
    BadPayload,
    Incoming,
    twilio_configured,
    twilio_message,
    twilio_signature_valid,
    twiml,
    whatsapp_configured,
    whatsapp_messages,
    whatsapp_signature_valid,
)
from geo_siac.messaging.services import message_receive
from geo_siac.notifications.services import send_one
from geo_siac.reports.states import Channel
from geo_siac.web.ratelimit import count_attempt
from geo_siac.web.responses import text_error

logger = logging.getLogger(__name__)


def within_limit(channel: str, message: Incoming) -> bool:
    """Counts this message against its number's GEO_SIAC_MESSAGES_PER_NUMBER; beyond it the message is dropped
    without a reply (a reply would only feed a loop with an automated sender)."""
    count = count_attempt(f"messages:{channel}:{message.phone}", settings.GEO_SIAC_MESSAGES_WINDOW_SECONDS)
    if count > settings.GEO_SIAC_MESSAGES_PER_NUMBER:
        logger.warning("%s messages from ...%s over the limit, dropped", channel, message.phone[-3:])
        return False
    return True


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request):
    if not whatsapp_configured():
        raise Http404
    if request.method == "GET":
        # Meta's subscription handshake: the challenge echoed back proves this URL belongs to the app.
        token = request.GET.get("hub.verify_token", "")
        if request.GET.get("hub.mode") != "subscribe" or not constant_time_compare(
            token, settings.GEO_SIAC_WHATSAPP_VERIFY_TOKEN
        ):
            return text_error("verify token mismatch", status=403)
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    if not whatsapp_signature_valid(request.body, request.headers.get("X-Hub-Signature-256", "")):
        return text_error("invalid signature", status=403)
    try:
        messages = whatsapp_messages(request.body)
    except BadPayload as exc:
        return text_error(f"not a WhatsApp webhook payload: {exc}")
    received = [
        message_receive(channel=Channel.WHATSAPP, message=m) for m in messages if within_limit(Channel.WHATSAPP, m)
    ]
    return RepliesAfterResponse([pk for r in received for pk in r.notification_ids])


class RepliesAfterResponse(HttpResponse):
    """Meta's 200, then the replies: the WSGI server calls close() once the answer is written, so a slow Graph API
    never holds Meta's request (which it would retry). One the API refuses stays in the outbox for the worker."""

    def __init__(self, notification_ids: list[int]):
        super().__init__("ok", content_type="text/plain")
        self.notification_ids = notification_ids

    def close(self):
        try:
            for pk in self.notification_ids:
                send_one(pk=pk, now=timezone.now())
        finally:
            super().close()


@csrf_exempt
@require_POST
def sms_webhook(request):
    if not twilio_configured():
        raise Http404
    # Twilio signs the URL configured in its console: SITE_URL and this path, not what a proxy forwarded.
    url = settings.SITE_URL.rstrip("/") + request.get_full_path()
    params = [(name, value) for name, values in request.POST.lists() for value in values]
    if not twilio_signature_valid(url, params, request.headers.get("X-Twilio-Signature", "")):
        return text_error("invalid signature", status=403)
    try:
        message = twilio_message(request.POST)
    except BadPayload as exc:
        return text_error(str(exc))
    reply = message_receive(channel=Channel.SMS, message=message).reply if within_limit(Channel.SMS, message) else ""
    return HttpResponse(twiml(reply), content_type="text/xml; charset=utf-8")
