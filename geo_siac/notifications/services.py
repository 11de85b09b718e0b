"""The notification outbox: enqueue in the caller's transaction, send later with retries and backoff."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from geo_siac.notifications.models import Delivery, Medium, Notification
from geo_siac.notifications.sms import sms_backend, whatsapp_backend

logger = logging.getLogger(__name__)


def notification_enqueue(
    *,
    report=None,
    recipient: str,
    language: str,
    subject: str,
    body: str,
    medium: str = Medium.EMAIL,
    unsubscribe_url: str = "",
    sender_name: str = "",
) -> Notification:
    """Write one message to the outbox. Call it inside the transaction of the change it announces. An email with a
    `sender_name` is from that name, at the configured address, and signed with it."""
    now = timezone.now()
    if sender_name and medium == Medium.EMAIL:
        body = f"{body}\n\n-- \n{sender_name}"
    return Notification.objects.create(
        report=report,
        medium=medium,
        recipient=recipient,
        language=language,
        subject=subject[:200],
        body=body,
        next_attempt_at=now,
        created_at=now,
        unsubscribe_url=unsubscribe_url,
        sender_name=sender_name,
    )


@dataclass(frozen=True)
class Message:
    recipient: str
    language: str
    subject: str
    body: str
    report_id: int | None = None


def notifications_enqueue(*, messages: list[Message]) -> int:
    """Write many email messages to the outbox (a run of staff alerts), in the caller's transaction like
    notification_enqueue. Rows are sent with execute_values rather than built as model objects: at 180,000 messages
    the objects cost more than the insert (docs/performance.md, "Escalation")."""
    now = timezone.now()
    columns = [
        "report_id",
        "medium",
        "recipient",
        "language",
        "subject",
        "body",
        "delivery",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
    ]
    rows = [
        (
            m.report_id,
            Medium.EMAIL.value,
            m.recipient,
            m.language,
            m.subject[:200],
            m.body,
            Delivery.PENDING.value,
            0,
            now,
            "",
            now,
        )
        for m in messages
    ]
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"INSERT INTO {Notification._meta.db_table} ({', '.join(columns)}) VALUES %s",
            rows,
            page_size=2000,
        )
    return len(messages)


@dataclass
class SendSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def retry_delay(attempts: int, *, base_seconds: int | None = None, max_seconds: int | None = None) -> timedelta:
    """Exponential backoff: base, 2×base, 4×base... capped, so an SMTP outage (or a webhook receiver's, with its own
    base and cap) is not hammered."""
    base = settings.GEO_SIAC_NOTIFICATION_RETRY_BASE_SECONDS if base_seconds is None else base_seconds
    cap = settings.GEO_SIAC_NOTIFICATION_RETRY_MAX_SECONDS if max_seconds is None else max_seconds
    return timedelta(seconds=min(base * 2 ** (attempts - 1), cap))


def notifications_send_due(*, now: datetime | None = None, limit: int = 100) -> SendSummary:
    """Send the pending notifications that are due, each in its own transaction under a row lock.

    A row is marked sent in the transaction that holds its lock, and a second worker skips locked rows, so
    no message goes out twice; a failed send stays pending with a later attempt time, so none is lost.
    """
    now = now or timezone.now()
    summary = SendSummary()
    due = Notification.objects.filter(delivery=Delivery.PENDING, next_attempt_at__lte=now)
    for pk in list(due.values_list("pk", flat=True)[:limit]):
        outcome = send_one(pk=pk, now=now)
        if outcome is not None:
            setattr(summary, outcome, getattr(summary, outcome) + 1)
    return summary


@transaction.atomic
def send_one(*, pk: int, now: datetime) -> str | None:
    notification = (
        Notification.objects.select_for_update(skip_locked=True)
        .filter(pk=pk, delivery=Delivery.PENDING, next_attempt_at__lte=now)
        .first()
    )
    if notification is None:
        return None
    notification.attempts += 1
    try:
        deliver(notification)
    except Exception as exc:  # any backend error (SMTP, network, provider) is retried later
        logger.warning("notification %s failed (attempt %s): %s", pk, notification.attempts, exc)
        notification.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if notification.attempts >= settings.GEO_SIAC_NOTIFICATION_MAX_ATTEMPTS:
            notification.delivery = Delivery.FAILED
        else:
            notification.next_attempt_at = now + retry_delay(notification.attempts)
        notification.save(update_fields=["attempts", "last_error", "delivery", "next_attempt_at"])
        return "failed" if notification.delivery == Delivery.FAILED else "retried"
    notification.delivery = Delivery.SENT
    notification.sent_at = timezone.now()
    notification.save(update_fields=["attempts", "delivery", "sent_at"])
    return "sent"


def deliver(notification: Notification) -> None:
    if notification.medium == Medium.SMS:
        sms_backend().send(to=notification.recipient, body=notification.body)
        return
    if notification.medium == Medium.WHATSAPP:
        whatsapp_backend().send(to=notification.recipient, body=notification.body)
        return
    EmailMessage(
        notification.subject,
        notification.body,
        from_email=sender(notification.sender_name),
        to=[notification.recipient],
        # RFC 3834: an automatic message, which autoresponders (and our own email intake) must not answer.
        headers={"Auto-Submitted": "auto-replied", **unsubscribe_headers(notification.unsubscribe_url)},
    ).send(fail_silently=False)


def sender(name: str) -> str | None:
    """DEFAULT_FROM_EMAIL's address under `name` (None: DEFAULT_FROM_EMAIL as it is)."""
    if not name:
        return None
    # An admin-entered name may hold a newline, which would break the header: folded to one line.
    return formataddr((" ".join(name.split()), parseaddr(settings.DEFAULT_FROM_EMAIL)[1]))


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369's List-Unsubscribe and RFC 8058's one-click POST, which mail clients show as "unsubscribe"."""
    if not url:
        return {}
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
