"""The notification outbox: written with the change, sent by the worker, retried through an SMTP outage."""

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from geo_siac.notifications.models import Delivery, Notification
from geo_siac.notifications.services import notifications_send_due
from geo_siac.notifications.tests.backends import FlakyBackend, sent_to
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_follow


@pytest.fixture(autouse=True)
def flaky_smtp(settings):
    settings.EMAIL_BACKEND = "geo_siac.notifications.tests.backends.FlakyBackend"
    settings.GEO_SIAC_NOTIFICATION_RETRY_BASE_SECONDS = 60
    FlakyBackend.down = False
    yield
    FlakyBackend.down = False


def test_reporter_gets_a_confirmation_with_the_tracking_link(make_report):
    report = make_report(reporter_email="rosa@example.cl")
    notifications_send_due()
    [message] = sent_to("rosa@example.cl")
    assert report.tracking_code in message.subject
    assert f"http://127.0.0.1:8000/seguimiento/{report.tracking_code}/" in message.body

    # RFC 3834: autoresponders (and GeoSIAC's own email intake) must not answer it.
    assert message.extra_headers["Auto-Submitted"] == "auto-replied"
    assert "Auto-Submitted: auto-replied" in message.message().as_string()


def test_status_change_notifies_reporter_and_followers_each_in_their_language(make_report):
    report = make_report(reporter_email="rosa@example.cl")
    report_follow(report=report, email="neighbour@example.com", language="en")
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="in_progress",
        note="La cuadrilla va en camino.",
        note_is_public=True,
    )
    notifications_send_due()
    assert "cambió a: En ejecución" in sent_to("rosa@example.cl")[-1].body
    english = sent_to("neighbour@example.com")[-1]
    assert "changed to: In progress" in english.body
    assert "La cuadrilla va en camino." in english.body


def test_a_change_that_rolls_back_leaves_nothing_in_the_outbox(make_report):
    report = make_report()
    report_follow(report=report, email="vecino@example.cl")
    with pytest.raises(RuntimeError), transaction.atomic():
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged")
        raise RuntimeError("the crew console crashed after the change")
    assert not Notification.objects.exists()


def test_rejected_transition_writes_no_notification(make_report):
    report = make_report(reporter_email="rosa@example.cl")
    Notification.objects.all().delete()
    with pytest.raises(ValidationError):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="submitted")
    assert not Notification.objects.exists()


def test_smtp_outage_loses_nothing_and_sends_exactly_once_after_recovery(make_report):
    report = make_report(reporter_email="rosa@example.cl")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged")
    FlakyBackend.down = True
    summary = notifications_send_due()
    assert (summary.sent, summary.retried) == (0, 2)
    assert mail.outbox == []
    waiting = Notification.objects.filter(delivery=Delivery.PENDING)
    assert waiting.count() == 2 and all("SMTPServerDisconnected" in n.last_error for n in waiting)

    FlakyBackend.down = False
    assert notifications_send_due().sent == 0  # backoff: not due yet
    later = timezone.now() + timedelta(minutes=2)
    assert notifications_send_due(now=later).sent == 2
    assert notifications_send_due(now=later + timedelta(hours=1)).sent == 0
    assert len(sent_to("rosa@example.cl")) == 2
    assert Notification.objects.filter(delivery=Delivery.SENT).count() == 2


def test_backoff_doubles_and_gives_up_after_the_last_attempt(settings, make_report):
    settings.GEO_SIAC_NOTIFICATION_MAX_ATTEMPTS = 3
    make_report(reporter_email="rosa@example.cl")
    FlakyBackend.down = True
    now = timezone.now()
    notifications_send_due(now=now)
    first_retry = Notification.objects.get().next_attempt_at
    notifications_send_due(now=first_retry)
    second_retry = Notification.objects.get().next_attempt_at
    assert first_retry - now == timedelta(seconds=60)
    assert second_retry - first_retry == timedelta(seconds=120)
    notifications_send_due(now=second_retry)
    assert Notification.objects.get().delivery == Delivery.FAILED


def test_closing_message_links_to_the_survey(make_report):
    report = make_report(reporter_email="rosa@example.cl")
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status="resolved", note="Retirados.", note_is_public=True
    )
    notifications_send_due()
    assert "http://127.0.0.1:8000/encuesta/" in sent_to("rosa@example.cl")[-1].body


def test_reporter_with_only_a_phone_gets_an_sms_through_the_logging_backend(make_report, caplog):
    report = make_report(reporter_phone="+56 9 8765 4321")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged")
    with caplog.at_level(logging.INFO, logger="geo_siac.notifications.sms"):
        assert notifications_send_due().sent == 1
    assert "SMS to ...321" in caplog.text and "Acogida" in caplog.text
    assert "8765" not in caplog.text


def test_send_notifications_command_reports_what_it_sent(make_report, capsys):
    make_report(reporter_email="rosa@example.cl")
    call_command("send_notifications")
    assert "enviadas 1, reintentos 0, fallidas 0" in capsys.readouterr().out


def test_the_looping_worker_says_nothing_of_a_round_with_nothing_to_send(make_report, capsys, monkeypatch):
    from geo_siac.notifications.management.commands import send_notifications

    rounds = []

    def sleep(seconds):  # the worker's pause between rounds: the third one ends the test
        rounds.append(seconds)
        if len(rounds) == 3:
            raise KeyboardInterrupt
        if len(rounds) == 1:
            make_report(reporter_email="vecina@example.cl")  # something to send in the second round

    monkeypatch.setattr(send_notifications.time, "sleep", sleep)
    with pytest.raises(KeyboardInterrupt):
        call_command("send_notifications", "--loop", "--interval", "10")
    assert capsys.readouterr().out.splitlines() == ["enviadas 1, reintentos 0, fallidas 0"]


def test_reporter_who_also_follows_gets_one_message_per_change(make_report):
    report = make_report(reporter_email="rosa@example.cl")
    report_follow(report=report, email="Rosa@example.cl")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged")
    notifications_send_due()
    assert [m.subject for m in sent_to("rosa@example.cl")].count(f"Su solicitud {report.tracking_code}: Acogida") == 1
