"""A person who gave only their number (phone, WhatsApp, SMS) can have their data exported and erased too (Ley
19.628 / 21.719), found however the number was written; nobody else's data goes with it."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from geo_siac.messaging.models import Conversation
from geo_siac.notifications.models import Medium, Notification
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.models import Report
from geo_siac.reports.selectors import phone_key
from geo_siac.reports.services import ERASED

pytestmark = pytest.mark.django_db


def command(*args) -> str:
    out = io.StringIO()
    call_command("reporter_data", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def numbers(make_report):
    by_whatsapp = make_report(channel="whatsapp", reporter_name="Rosa Pérez", reporter_phone="56912345678")
    by_phone = make_report(channel="phone", reporter_phone="+56 9 1234 5678", description="Llamó por el bache.")
    by_sms = make_report(channel="sms", reporter_phone="912345678")
    someone_else = make_report(channel="phone", reporter_phone="+56 9 8765 4321")
    # An email whose digits spell the same nine-digit number is not that number.
    by_email = make_report(reporter_email="912345678@example.cl")
    now = timezone.now()
    for medium, recipient in (
        (Medium.SMS, "+56912345678"),
        (Medium.WHATSAPP, "56912345678"),
        (Medium.SMS, "+56987654321"),
    ):
        notification_enqueue(
            medium=medium, recipient=recipient, language="es", subject="Su solicitud", body="Recibida."
        )
    Conversation.objects.create(channel="whatsapp", phone="56912345678", reporter_name="Rosa Pérez", updated_at=now)
    Conversation.objects.create(channel="sms", phone="+56987654321", updated_at=now)
    return {"mine": [by_whatsapp, by_phone, by_sms], "others": [someone_else, by_email]}


def test_one_number_however_written_is_one_key():
    assert phone_key("+56 9 1234 5678") == phone_key("56912345678") == phone_key("9 1234 5678") == "56912345678"
    assert phone_key("+1 (415) 555-0100") == "14155550100"


def test_export_by_phone_lists_that_numbers_reports_and_messages_only(numbers, tmp_path):
    command("--phone", "9 1234 5678", "--export", str(tmp_path / "data.json"))
    data = json.loads((tmp_path / "data.json").read_text())
    assert sorted(r["tracking_code"] for r in data["reports"]) == sorted(r.tracking_code for r in numbers["mine"])
    to_that_number = [
        n
        for n in Notification.objects.filter(medium__in=[Medium.SMS, Medium.WHATSAPP])
        if phone_key(n.recipient) == "56912345678"
    ]
    assert len(to_that_number) >= 2 and len(data["notifications"]) == len(to_that_number)


def test_erase_by_phone_anonymises_its_reports_messages_and_conversation_and_nothing_else(numbers):
    command("--phone", "+56 9 1234 5678", "--erase")  # a dry run first: nothing changes
    assert Report.objects.filter(reporter_phone="56912345678").exists()
    assert Conversation.objects.count() == 2

    out = command("--phone", "+56 9 1234 5678", "--erase", "--commit")
    assert "reports_anonymised: 3" in out and "conversations_deleted: 1" in out
    for report in numbers["mine"]:
        report.refresh_from_db()
        assert (report.reporter_phone, report.reporter_name, report.reporter_email) == ("", "", "")
    assert Report.objects.filter(pk__in=[r.pk for r in numbers["mine"]]).count() == 3  # kept in the statistics
    for report in numbers["others"]:
        report.refresh_from_db()
        assert report.reporter_phone or report.reporter_email
    assert set(
        Notification.objects.filter(medium__in=[Medium.SMS, Medium.WHATSAPP]).values_list("recipient", flat=True)
    ) == {
        ERASED,
        "+56987654321",
    }
    assert list(Conversation.objects.values_list("phone", flat=True)) == ["+56987654321"]


def test_a_number_too_short_to_be_one_is_refused_by_name(numbers):
    with pytest.raises(CommandError, match="Teléfono no válido"):
        command("--phone", "1234", "--erase", "--commit")
    assert Report.objects.exclude(reporter_phone="").count() == 4


def test_erase_by_phone_covers_the_whatsapp_conversation_replies(communes):
    from geo_siac.messaging.providers import Incoming
    from geo_siac.messaging.services import REPLY_SUBJECT, message_receive

    # The conversation's replies are outbox messages to the number about no request (report None).
    message_receive(channel="whatsapp", message=Incoming(message_id="wamid.E1", phone="+56912345678", text="hola"))
    message_receive(channel="whatsapp", message=Incoming(message_id="wamid.E2", phone="+56912345678", text="1"))
    replies = Notification.objects.filter(subject=REPLY_SUBJECT)
    assert replies.count() == 2 and not replies.filter(report__isnull=False).exists()
    replies = Notification.objects.filter(pk__in=list(replies.values_list("pk", flat=True)))

    out = command("--phone", "9 1234 5678", "--erase", "--commit")
    assert "notifications_redacted: 2" in out and "conversations_deleted: 1" in out
    assert set(replies.values_list("recipient", "body")) == {(ERASED, "")}
    assert not Conversation.objects.exists()
