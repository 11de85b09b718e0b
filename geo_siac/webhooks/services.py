"""Sending the queued webhook deliveries: each under its row lock, retried with the outbox's backoff, logged per
endpoint. The deliveries themselves are queued by PostgreSQL with each event (migration 0002)."""

import http.client
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from geo_siac.notifications.services import retry_delay
from geo_siac.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery
from geo_siac.webhooks.payloads import encoded, event_body, signature

logger = logging.getLogger(__name__)
EXCERPT_CHARS = 500


@dataclass
class DeliverySummary:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    # Endpoints that failed in this run: their other deliveries wait for the next run rather than each wait out
    # the timeout of a receiver that is down.
    failing: set[int] = field(default_factory=set)


def webhook_deliveries_send_due(*, now: datetime | None = None, limit: int = 100) -> DeliverySummary:
    """Send the due deliveries of active endpoints, oldest first. Safe to run in several processes at once: a
    delivery is sent in the transaction that holds its row lock (SKIP LOCKED), and marked there."""
    now = now or timezone.now()
    summary = DeliverySummary()
    due = (
        WebhookDelivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
        .order_by("next_attempt_at", "id")
        .values_list("pk", "endpoint_id")
    )
    for pk, endpoint_id in list(due[:limit]):
        if endpoint_id in summary.failing:
            continue
        outcome = webhook_delivery_send(pk=pk, now=now)
        if outcome is None:
            continue
        setattr(summary, outcome, getattr(summary, outcome) + 1)
        if outcome in ("retried", "failed"):
            summary.failing.add(endpoint_id)
    return summary


@transaction.atomic
def webhook_delivery_send(*, pk: int, now: datetime) -> str | None:
    """One delivery, if it is still due and no other worker holds it: 'delivered', 'retried', 'failed',
    'skipped' (the endpoint may not see this event), or None."""
    delivery = (
        WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("endpoint", "event")
        .filter(pk=pk, state=DeliveryState.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
        .first()
    )
    if delivery is None:
        return None
    endpoint = delivery.endpoint
    body = event_body(delivery.event, internal=endpoint.is_internal)
    if body is None:
        delivery.state = DeliveryState.SKIPPED
        delivery.save(update_fields=["state"])
        return "skipped"
    delivery.attempts += 1
    attempt = post(endpoint.url, endpoint.secret, body, event_id=delivery.event_id)
    attempt.delivery, attempt.endpoint = delivery, endpoint
    attempt.save()
    if attempt.status_code is not None and 200 <= attempt.status_code < 300:
        delivery.state, delivery.delivered_at = DeliveryState.DELIVERED, attempt.attempted_at
    elif delivery.attempts >= settings.GEO_SIAC_WEBHOOK_MAX_ATTEMPTS:
        delivery.state = DeliveryState.FAILED
    else:
        delivery.next_attempt_at = now + retry_delay(
            delivery.attempts,
            base_seconds=settings.GEO_SIAC_WEBHOOK_RETRY_BASE_SECONDS,
            max_seconds=settings.GEO_SIAC_WEBHOOK_RETRY_MAX_SECONDS,
        )
    delivery.save(update_fields=["attempts", "state", "delivered_at", "next_attempt_at"])
    return {DeliveryState.DELIVERED: "delivered", DeliveryState.FAILED: "failed"}.get(delivery.state, "retried")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is the receiver's misconfiguration: following it would resend a signed body somewhere else."""

    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirects)


def post(url: str, secret: str, body: dict, *, event_id: int) -> WebhookAttempt:
    """POST the signed body; the attempt as logged (not saved): status code, response excerpt, error, latency."""
    started_at = timezone.now()
    timestamp = int(started_at.timestamp())
    raw = encoded(body, timestamp=timestamp)
    request = urllib.request.Request(
        url,
        data=raw,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "GeoSIAC-Webhooks/1",
            "X-GeoSIAC-Event-Id": str(event_id),
            "X-GeoSIAC-Timestamp": str(timestamp),
            "X-GeoSIAC-Signature": signature(secret, raw),
        },
    )
    attempt = WebhookAttempt(attempted_at=started_at)
    clock = time.monotonic()
    try:
        with OPENER.open(request, timeout=settings.GEO_SIAC_WEBHOOK_TIMEOUT_SECONDS) as response:
            attempt.status_code, answer = response.status, response.read(EXCERPT_CHARS * 4)
    except urllib.error.HTTPError as exc:  # a non-2xx answer: kept with its status code, retried
        attempt.status_code, answer = exc.code, exc.read(EXCERPT_CHARS * 4)
    except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, unreachable, timed out, garbled
        logger.warning("webhook %s for event %s failed: %s", url, event_id, exc)
        attempt.error, answer = f"{type(exc).__name__}: {exc}"[:2000], b""
    attempt.latency_ms = round((time.monotonic() - clock) * 1000)
    attempt.response_excerpt = answer.decode("utf-8", "replace")[:EXCERPT_CHARS]
    return attempt
