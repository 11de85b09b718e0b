"""Webhooks against a real HTTP server on loopback: signed, public or internal, retried, delivered once."""

import io
import json
import re
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction
from django.utils import timezone

from geo_siac.catalogue.models import Department
from geo_siac.reports.models import ReportEvent
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_assign_department, report_change_status
from geo_siac.testing import PROJECT_ROOT
from geo_siac.webhooks.models import DeliveryState, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from geo_siac.webhooks.services import webhook_deliveries_send_due

SECRET = "secreto-de-prueba"


def receiver_snippet() -> dict:
    """The receiver's code from docs/webhooks.md, run as it is printed there."""
    text = (PROJECT_ROOT / "docs" / "webhooks.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    namespace: dict = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)
    return namespace


class Receiver:
    """An HTTP server on 127.0.0.1 that records each POST and answers from a script: a status code, or "hang"
    (hold the connection without answering until the test ends)."""

    def __init__(self, *answers, delay: float = 0.0):
        self.answers, self.delay, self.received = list(answers), delay, []
        self.lock, self.release = threading.Lock(), threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append((self.headers, raw))
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "hang":
                    receiver.release.wait(10)
                    return
                time.sleep(receiver.delay)
                self.send_response(answer)
                self.end_headers()
                self.wfile.write(b"recibido" if answer < 300 else b"error interno del receptor")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/geosiac"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self) -> list[dict]:
        return [json.loads(raw) for _headers, raw in self.received]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    started = []

    def start(*answers, delay=0.0):
        started.append(Receiver(*answers, delay=delay))
        return started[-1]

    yield start
    for receiver in started:
        receiver.close()


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.GEO_SIAC_WEBHOOK_TIMEOUT_SECONDS = 1
    settings.GEO_SIAC_WEBHOOK_RETRY_BASE_SECONDS = 60


def endpoint_for(receiver, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(description="ERP municipal", url=receiver.url, secret=SECRET, **fields)


def test_a_status_change_reaches_the_endpoint_signed_as_the_documented_receiver_checks(receivers, make_report):
    receiver = receivers()
    endpoint_for(receiver)
    report = make_report(
        reporter_email="rosa@example.cl",
        reporter_phone="+56 9 1234 5678",
        reporter_name="Rosa Pérez",
        description="Escombros frente al 1234 de Calle Larga.",
    )
    report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=report,
        status="in_progress",
        note="La cuadrilla va en camino.",
        note_is_public=True,
    )

    summary = webhook_deliveries_send_due()

    # Filed (public), routed (internal: not for this endpoint), changed (public).
    assert (summary.delivered, summary.skipped) == (2, 1)
    verify = receiver_snippet()["verify"]
    bodies = [verify(SECRET, raw, headers["X-GeoSIAC-Signature"]) for headers, raw in receiver.received]
    assert [b["event"]["kind"] for b in bodies] == ["created", "status"]
    assert [h["X-GeoSIAC-Event-Id"] for h, _raw in receiver.received] == [b["event"]["id"] for b in bodies]
    changed = bodies[1]
    assert changed["event"]["to_status"] == "in_progress"
    assert changed["event"]["note"] == ""  # a request its citizen kept private: its change, not its text
    assert changed["request"]["service_request_id"] == str(report.pk)
    assert changed["request"]["service_code"] == "retiro-escombros"
    assert changed["request"]["extended_attributes"]["detailed_status"] == "in_progress"
    # Not marked public: no description or address, no tracking code, and never contact data.
    assert changed["request"]["description"] == ""
    raw = b"".join(raw for _headers, raw in receiver.received).decode()
    for private in ("rosa@example.cl", "1234 5678", "Rosa", "Calle Larga", report.tracking_code):
        assert private not in raw
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {
        DeliveryState.DELIVERED,
        DeliveryState.SKIPPED,
    }
    assert webhook_deliveries_send_due().delivered == 0


def test_a_forged_altered_or_replayed_body_fails_the_documented_check(receivers, make_report):
    receiver = receivers()
    endpoint_for(receiver, event_kinds=["created"])
    make_report()
    webhook_deliveries_send_due()
    ((headers, raw),) = receiver.received
    verify = receiver_snippet()["verify"]
    sent_at = json.loads(raw)["timestamp"]
    with pytest.raises(ValueError, match="signature"):
        verify("otro-secreto", raw, headers["X-GeoSIAC-Signature"])
    with pytest.raises(ValueError, match="signature"):
        verify(SECRET, raw.replace(b'"created"', b'"status"'), headers["X-GeoSIAC-Signature"])
    with pytest.raises(ValueError, match="replay"):
        verify(SECRET, raw, headers["X-GeoSIAC-Signature"], now=sent_at + 3600)
    assert headers["X-GeoSIAC-Timestamp"] == str(sent_at)


def test_an_internal_endpoint_gets_internal_events_and_the_exact_place_but_no_contact_data(receivers, make_report):
    receiver = receivers()
    endpoint_for(receiver, is_internal=True)
    report = make_report(
        reporter_email="rosa@example.cl",
        reporter_name="Rosa Pérez",
        description="Escombros frente al 1234 de Calle Larga.",
    )
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged", note="Vecino molesto, llamar antes."
    )

    assert webhook_deliveries_send_due().delivered == 4
    bodies = receiver.bodies()
    assert [b["event"]["kind"] for b in bodies] == ["created", "routed", "status", "note"]
    note = bodies[3]
    assert (note["event"]["note"], note["event"]["is_public"]) == ("Vecino molesto, llamar antes.", False)
    assert note["request"]["tracking_code"] == report.tracking_code
    assert note["request"]["description"] == "Escombros frente al 1234 de Calle Larga."
    assert (note["request"]["lat"], note["request"]["long"]) == (
        round(report.location.y, 6),
        round(report.location.x, 6),
    )
    raw = b"".join(raw for _headers, raw in receiver.received).decode()
    assert "rosa@example.cl" not in raw and "Rosa" not in raw


def test_only_the_kinds_an_endpoint_asked_for_are_queued(receivers, make_report):
    receiver = receivers()
    endpoint = endpoint_for(receiver, event_kinds=["status"])
    report = make_report()
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged")
    assert list(endpoint.deliveries.values_list("event__kind", flat=True)) == ["status"]


def test_an_event_rolled_back_queues_nothing(receivers, make_report):
    receiver = receivers()
    endpoint_for(receiver)
    report = make_report()
    queued = WebhookDelivery.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="acknowledged")
        raise RuntimeError("the console crashed after the change")
    assert WebhookDelivery.objects.count() == queued
    webhook_deliveries_send_due()
    assert [b["event"]["kind"] for b in receiver.bodies()] == ["created"]


def test_a_500_is_retried_later_and_delivered_once(receivers, make_report):
    receiver = receivers(500, 200)
    endpoint = endpoint_for(receiver, event_kinds=["created"])
    make_report()
    now = timezone.now()

    first = webhook_deliveries_send_due(now=now)
    assert (first.delivered, first.retried) == (0, 1)
    (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.state, delivery.attempts) == (DeliveryState.PENDING, 1)
    assert delivery.next_attempt_at == now + timedelta(seconds=60)
    assert webhook_deliveries_send_due(now=now + timedelta(seconds=30)).retried == 0  # not due yet

    assert webhook_deliveries_send_due(now=now + timedelta(seconds=61)).delivered == 1
    assert webhook_deliveries_send_due(now=now + timedelta(days=1)).delivered == 0
    assert len(receiver.received) == 2
    assert len({h["X-GeoSIAC-Event-Id"] for h, _raw in receiver.received}) == 1
    log = list(endpoint.attempts.order_by("attempted_at").values_list("status_code", "response_excerpt"))
    assert log == [(500, "error interno del receptor"), (200, "recibido")]
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 2)


def test_a_receiver_that_hangs_times_out_and_is_retried(receivers, make_report):
    receiver = receivers("hang", 200)
    endpoint = endpoint_for(receiver, event_kinds=["created"])
    make_report()
    now = timezone.now()

    assert webhook_deliveries_send_due(now=now).retried == 1
    (attempt,) = WebhookAttempt.objects.all()
    assert attempt.status_code is None and "timed out" in attempt.error
    assert attempt.latency_ms >= 1000
    assert webhook_deliveries_send_due(now=now + timedelta(minutes=2)).delivered == 1
    assert list(endpoint.attempts.order_by("attempted_at").values_list("status_code", flat=True)) == [None, 200]


def test_a_failing_receiver_is_given_up_after_the_last_attempt(settings, receivers, make_report):
    settings.GEO_SIAC_WEBHOOK_MAX_ATTEMPTS = 2
    receiver = receivers(503, 503, 200)
    endpoint_for(receiver, event_kinds=["created"])
    make_report()
    now = timezone.now()
    webhook_deliveries_send_due(now=now)
    assert webhook_deliveries_send_due(now=now + timedelta(hours=1)).failed == 1
    assert webhook_deliveries_send_due(now=now + timedelta(days=2)).delivered == 0
    assert WebhookDelivery.objects.get().state == DeliveryState.FAILED


def test_an_inactive_endpoint_keeps_its_deliveries_until_reactivated(receivers, make_report):
    receiver = receivers()
    endpoint = endpoint_for(receiver, event_kinds=["created"], is_active=False)
    make_report()
    assert webhook_deliveries_send_due().delivered == 0
    endpoint.is_active = True
    endpoint.save()
    assert webhook_deliveries_send_due().delivered == 1


@pytest.mark.django_db(transaction=True)
def test_two_delivery_runs_at_once_deliver_each_event_once(receivers, make_report):
    receiver = receivers(delay=0.2)
    endpoint_for(receiver, event_kinds=["created", "status"])
    for _ in range(3):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=make_report(), status="acknowledged")
    expected = set(ReportEvent.objects.filter(kind__in=["created", "status"]).values_list("pk", flat=True))
    summaries = []

    def run():
        try:
            summaries.append(webhook_deliveries_send_due())
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    sent = [int(h["X-GeoSIAC-Event-Id"]) for h, _raw in receiver.received]
    assert sorted(sent) == sorted(expected)  # every event, none twice
    assert sum(s.delivered for s in summaries) == 6
    assert all(s.delivered for s in summaries)  # both runs took part
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}


def test_an_endpoint_is_added_in_the_admin_with_its_kinds(admin_client):
    response = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {
            "description": "Órdenes de trabajo",
            "url": "erp.example.cl/geosiac",
            "is_active": "on",
            "event_kinds": ["created", "status"],
            "secret": "s3creto-largo",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.event_kinds, endpoint.is_internal) == (
        "https://erp.example.cl/geosiac",
        ["created", "status"],
        False,
    )
    refused = admin_client.post(
        "/admin/webhooks/webhookendpoint/add/",
        {"description": "FTP", "url": "ftp://erp.example.cl/", "is_active": "on", "secret": "x"},
    )
    assert refused.status_code == 200 and WebhookEndpoint.objects.count() == 1
    listing = admin_client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert f"/admin/webhooks/webhookattempt/?endpoint__id__exact={endpoint.pk}" in listing
    for page in ("webhookattempt", "webhookdelivery"):
        assert admin_client.get(f"/admin/webhooks/{page}/?endpoint__id__exact={endpoint.pk}").status_code == 200


def test_imported_history_queues_nothing_but_a_later_change_is_sent(receivers, communes, tmp_path):
    from django.core.management import call_command

    from geo_siac.reports.models import Report
    from geo_siac.reports.states import TRANSITIONS
    from geo_siac.testing import shared_data

    receiver = receivers()
    endpoint_for(receiver)
    call_command(
        "import_reports",
        str(shared_data("service_requests/myla311_2018-01_mini.csv")),
        "--mapping",
        "la311",
        "--place-in",
        "13201",
        "--rejects",
        str(tmp_path / "r.csv"),
        "--commit",
        "--no-progress",
        stdout=io.StringIO(),
    )
    assert ReportEvent.objects.exists() and not WebhookDelivery.objects.exists()
    report = Report.objects.first()
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status=sorted(TRANSITIONS[report.status])[0])
    assert webhook_deliveries_send_due().delivered == 1
    assert receiver.bodies()[0]["request"]["service_request_id"] == str(report.pk)


def test_a_request_without_a_place_reaches_an_internal_endpoint_with_no_coordinates_and_no_public_one(
    receivers, communes
):
    """A suggestion is a conversation with its author (reports.selectors.published_events): only internal back
    offices hear of it, and its empty place does not break the body."""
    from geo_siac.catalogue.kinds import RequestKind
    from geo_siac.reports.services import report_create

    public, internal = receivers(), receivers()
    endpoint_for(public, event_kinds=["created"])
    endpoint_for(internal, event_kinds=["created"], is_internal=True)
    report = report_create(
        channel="web",
        kind=RequestKind.SUGGESTION,
        category="sugerencia",
        commune=communes["13201"],
        description="Más árboles en la plaza.",
    )

    summary = webhook_deliveries_send_due()
    assert (summary.delivered, summary.skipped) == (1, 1)
    assert public.bodies() == []
    (exact,) = internal.bodies()
    assert exact["request"]["service_request_id"] == str(report.pk)
    assert (exact["request"]["lat"], exact["request"]["long"]) == (None, None)
    assert exact["request"]["description"] == "Más árboles en la plaza."


def test_a_public_rerouting_reaches_internal_and_public_endpoints_in_the_same_words(receivers, make_report):
    internal, public = receivers(), receivers()
    endpoint_for(internal, event_kinds=["rerouted"], is_internal=True)
    endpoint_for(public, event_kinds=["rerouted"])
    report = make_report()
    department = Department.objects.create(name="Unidad de Prueba de Webhooks")
    report_assign_department(report=report, department=department)

    webhook_deliveries_send_due()
    public_notes = [b["event"]["note"] for b in public.bodies()]
    internal_notes = [b["event"]["note"] for b in internal.bodies() if b["event"]["is_public"]]
    assert public_notes == internal_notes == ["Derivada a Unidad de Prueba de Webhooks."]
