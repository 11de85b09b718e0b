"""WhatsApp (Cloud API) and SMS (Twilio) intake: the providers' documented payloads and signatures posted to the
webhooks, and a real HTTP server on loopback standing in for both providers' APIs (replies, media, status
messages)."""

import base64
import hashlib
import hmac
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from PIL import Image

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.messaging import services as messaging_services
from geo_siac.messaging.models import Conversation, ConversationPhoto, InboundMessage
from geo_siac.messaging.providers import media_url_allowed, twilio_signature, whatsapp_media
from geo_siac.messaging.views import whatsapp_webhook
from geo_siac.notifications.models import Delivery, Medium, Notification
from geo_siac.notifications.services import notifications_send_due
from geo_siac.reports.models import Report
from geo_siac.reports.selectors import public_categories
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.reports.states import Channel, Status
from geo_siac.testing import PUENTE_ALTO_CENTRE

APP_SECRET = "secreto-de-la-app"
ACCESS_TOKEN = "EAAG-token-de-acceso"
NUMBER_ID = "106540352242922"
TWILIO_TOKEN = "token-de-twilio"
TWILIO_SID = "AC00000000000000000000000000000000"
CITIZEN = "56912345678"
WHATSAPP_URL = "/mensajeria/whatsapp/"
SMS_URL = "/mensajeria/sms/"
SITE_URL = "https://siac.example.cl"


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


class Provider(BaseHTTPRequestHandler):
    """Meta's Graph API and Twilio's REST API as far as GeoSIAC uses them; records every request it receives."""

    requests: list[dict] = []
    status = 200
    # A test may have the Graph API describe the media at another URL, or the media host redirect elsewhere.
    media_url: str | None = None
    redirect_to: str | None = None
    base = ""
    # Twilio's media CDN (the cdn fixture), and where a test may have Twilio's media URL redirect instead.
    cdn = ""
    twilio_redirect: str | None = None

    def record(self, body: bytes) -> dict:
        seen = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        Provider.requests.append(seen)
        return seen

    def answer(self, payload: bytes, content_type: str = "application/json"):
        self.send_response(self.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self.record(b"")
        if self.path.startswith(f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/"):
            return self.twilio_media()
        if self.path == "/media/foto.jpg":
            return self.answer(jpeg(), "image/jpeg")
        if self.path == "/media/redirect":
            self.send_response(302)
            self.send_header("Location", self.redirect_to)
            self.send_header("Content-Length", "0")
            return self.end_headers()
        media_id = self.path.strip("/")
        port = self.server.server_port
        described = {
            "messaging_product": "whatsapp",
            "url": self.media_url or f"http://127.0.0.1:{port}/media/foto.jpg",
            "mime_type": "image/jpeg",
            "sha256": "x",
            "file_size": "1000",
            "id": media_id,
        }
        self.answer(json.dumps(described).encode())

    def twilio_media(self):
        """Twilio's media URL: a redirect to its CDN (or a 404 for a medium it no longer has)."""
        media_sid = self.path.rsplit("/", 1)[-1]
        if media_sid == "MEgone":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            return self.end_headers()
        self.send_response(302)
        self.send_header("Location", Provider.twilio_redirect or f"{Provider.cdn}/media/{media_sid}.jpg")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        self.record(self.rfile.read(int(self.headers["Content-Length"])))
        self.answer(json.dumps({"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT"}]}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def provider(settings, communes):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Provider.requests, Provider.status, Provider.media_url, Provider.redirect_to = [], 200, None, None
    Provider.twilio_redirect = None
    base = Provider.base = f"http://127.0.0.1:{server.server_port}"
    settings.SITE_URL = SITE_URL
    settings.GEO_SIAC_WHATSAPP_APP_SECRET = APP_SECRET
    settings.GEO_SIAC_WHATSAPP_VERIFY_TOKEN = "token-de-verificacion"
    settings.GEO_SIAC_WHATSAPP_ACCESS_TOKEN = ACCESS_TOKEN
    settings.GEO_SIAC_WHATSAPP_PHONE_NUMBER_ID = NUMBER_ID
    settings.GEO_SIAC_WHATSAPP_API_URL = f"{base}/v21.0"
    settings.GEO_SIAC_WHATSAPP_MEDIA_HOSTS = ["127.0.0.1"]
    settings.GEO_SIAC_WHATSAPP_TEMPLATE = ""
    settings.GEO_SIAC_TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.GEO_SIAC_TWILIO_ACCOUNT_SID = TWILIO_SID
    settings.GEO_SIAC_TWILIO_FROM = "+15005550006"
    settings.GEO_SIAC_TWILIO_API_URL = base
    settings.GEO_SIAC_SMS_BACKEND = "geo_siac.notifications.sms.TwilioSmsBackend"
    settings.GEO_SIAC_WHATSAPP_BACKEND = "geo_siac.notifications.sms.WhatsAppCloudBackend"
    yield Provider
    server.shutdown()
    server.server_close()


def webhook(message: dict, number_id: str = NUMBER_ID) -> bytes:
    """A Cloud API notification as Meta documents it, carrying one message to the business number `number_id`."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": number_id},
        "contacts": [{"profile": {"name": "Rosa"}, "wa_id": CITIZEN}],
        "messages": [{"from": CITIZEN, "timestamp": "1717000000", **message}],
    }
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
        }
    ).encode()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_whatsapp(client, message: dict, *, signature: str | None = None):
    body = webhook(message)
    return client.post(
        WHATSAPP_URL, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature or sign(body)
    )


def text(message_id: str, body: str) -> dict:
    return {"id": message_id, "type": "text", "text": {"body": body}}


def sent_whatsapp() -> list[dict]:
    """The messages GeoSIAC posted to the Cloud API, decoded."""
    return [json.loads(r["body"]) for r in Provider.requests if r["method"] == "POST" and "/messages" in r["path"]]


def last_whatsapp_text() -> str:
    return sent_whatsapp()[-1]["text"]["body"]


def number_of(options: list, wanted) -> str:
    return str(options.index(wanted) + 1)


def kind_number(kind: str) -> str:
    return number_of(list(RequestKind.values), kind)


def category_number(kind: str, code: str) -> str:
    return number_of([c.service_code for c in public_categories(kind)], code)


# --- WhatsApp -------------------------------------------------------------------------------------------------


def test_whatsapp_handshake_echoes_the_challenge_only_with_the_verify_token(client, provider):
    query = {"hub.mode": "subscribe", "hub.verify_token": "token-de-verificacion", "hub.challenge": "1158201444"}
    answered = client.get(WHATSAPP_URL, query)
    assert answered.status_code == 200 and answered.content == b"1158201444"
    assert client.get(WHATSAPP_URL, {**query, "hub.verify_token": "otro"}).status_code == 403


def test_whatsapp_forged_or_missing_signature_is_refused_and_writes_nothing(client, provider):
    body = webhook(text("wamid.FORGED", "hola"))
    forged = client.post(
        WHATSAPP_URL, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body, "otro-secreto")
    )
    missing = client.post(WHATSAPP_URL, body, content_type="application/json")
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists()
    assert not Notification.objects.exists() and sent_whatsapp() == []


def test_whatsapp_valid_signature_starts_a_conversation_with_the_menu(client, provider):
    assert post_whatsapp(client, text("wamid.HOLA", "hola")).status_code == 200
    reply = last_whatsapp_text()
    assert "1. Solicitud de servicio" in reply and "3. Consulta" in reply
    sent = sent_whatsapp()[-1]
    assert (sent["messaging_product"], sent["to"], sent["type"]) == ("whatsapp", CITIZEN, "text")
    posted = [r for r in Provider.requests if r["method"] == "POST"][-1]
    assert posted["path"] == f"/v21.0/{NUMBER_ID}/messages"
    assert posted["headers"]["Authorization"] == f"Bearer {ACCESS_TOKEN}"


def test_channel_without_credentials_answers_404(client, settings, communes):
    settings.GEO_SIAC_WHATSAPP_APP_SECRET = ""
    settings.GEO_SIAC_TWILIO_AUTH_TOKEN = ""
    assert client.get(WHATSAPP_URL, {"hub.mode": "subscribe"}).status_code == 404
    assert client.post(SMS_URL, {"Body": "hola"}).status_code == 404


def test_whatsapp_conversation_files_a_service_request_with_its_photo_and_answers_the_tracking_code(client, provider):
    lat, lng = PUENTE_ALTO_CENTRE
    steps = [
        text("wamid.1", "Hola"),
        text("wamid.2", kind_number(RequestKind.SERVICE_REQUEST)),
        {
            "id": "wamid.3",
            "type": "interactive",
            "interactive": {
                "type": "list_reply",
                "list_reply": {
                    "id": category_number(RequestKind.SERVICE_REQUEST, "retiro-escombros"),
                    "title": "Retiro de escombros",
                },
            },
        },
        {
            "id": "wamid.4",
            "type": "location",
            "location": {"latitude": lat, "longitude": lng, "name": "Plaza", "address": "José Luis Coo 1"},
        },
        {
            "id": "wamid.5",
            "type": "image",
            "image": {"caption": "", "mime_type": "image/jpeg", "sha256": "abc", "id": "1479537139650973"},
        },
        text("wamid.6", "Escombros botados en la vereda frente a la plaza"),
    ]
    replies = []
    for message in steps:
        assert post_whatsapp(client, message).status_code == 200
        replies.append(last_whatsapp_text())
    assert "Elija el tema" in replies[1]
    assert "ubicación" in replies[2]
    assert "foto" in replies[3]
    assert "Escriba su solicitud de servicio" in replies[4]
    report = Report.objects.get()
    assert report.tracking_code in replies[5] and f"{SITE_URL}/seguimiento/{report.tracking_code}/" in replies[5]
    assert (report.channel, report.kind, report.category.service_code) == (
        Channel.WHATSAPP,
        RequestKind.SERVICE_REQUEST,
        "retiro-escombros",
    )
    assert report.reporter_phone == f"+{CITIZEN}" and report.address == "José Luis Coo 1"
    assert report.commune.name == "Puente Alto"
    assert report.location.y == pytest.approx(lat) and report.location.x == pytest.approx(lng)
    assert report.photos.count() == 1
    media_gets = [r for r in Provider.requests if r["method"] == "GET"]
    assert [r["path"] for r in media_gets] == ["/v21.0/1479537139650973", "/media/foto.jpg"]
    assert all(r["headers"]["Authorization"] == f"Bearer {ACCESS_TOKEN}" for r in media_gets)
    assert not Conversation.objects.exists()  # the photo's bytes leave with it


def test_whatsapp_pin_outside_the_served_comunas_is_asked_again(client, provider):
    for message in [
        text("wamid.a", "hola"),
        text("wamid.b", kind_number(RequestKind.SERVICE_REQUEST)),
        text("wamid.c", category_number(RequestKind.SERVICE_REQUEST, "retiro-escombros")),
        {"id": "wamid.d", "type": "location", "location": {"latitude": -33.0472, "longitude": -71.6127}},
    ]:
        post_whatsapp(client, message)
    assert "fuera" in last_whatsapp_text() and "ubicación" in last_whatsapp_text()
    assert Conversation.objects.get().latitude is None and not Report.objects.exists()


def test_a_retried_whatsapp_message_is_applied_once(client, provider):
    post_whatsapp(client, text("wamid.r1", "hola"))
    post_whatsapp(client, text("wamid.r2", kind_number(RequestKind.QUERY)))
    before = len(sent_whatsapp())
    assert post_whatsapp(client, text("wamid.r2", kind_number(RequestKind.QUERY))).status_code == 200
    assert len(sent_whatsapp()) == before and InboundMessage.objects.filter(message_id="wamid.r2").count() == 1
    assert Conversation.objects.get().step == "category"


def test_status_change_of_a_whatsapp_request_goes_out_on_whatsapp(client, provider, make_report):
    report = make_report(channel=Channel.WHATSAPP, reporter_phone=f"+{CITIZEN}")
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status=Status.IN_PROGRESS, actor=None, actor_label="Operador"
    )
    notification = Notification.objects.get(report=report)
    assert (notification.medium, notification.recipient) == (Medium.WHATSAPP, f"+{CITIZEN}")
    assert notifications_send_due().sent == 1
    sent = sent_whatsapp()[-1]
    assert sent["to"] == CITIZEN and report.tracking_code in sent["text"]["body"]
    assert "En ejecución" in sent["text"]["body"]


def test_whatsapp_status_message_uses_the_approved_template_when_configured(provider, settings, make_report):
    settings.GEO_SIAC_WHATSAPP_TEMPLATE = "estado_solicitud"
    report = make_report(channel=Channel.WHATSAPP, reporter_phone=f"+{CITIZEN}")
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status=Status.ACKNOWLEDGED, actor=None, actor_label="Operador"
    )
    notifications_send_due()
    template = sent_whatsapp()[-1]["template"]
    assert (template["name"], template["language"]["code"]) == ("estado_solicitud", "es")
    parameter = template["components"][0]["parameters"][0]["text"]
    assert report.tracking_code in parameter and "\n" not in parameter


def test_provider_refusing_a_reply_keeps_it_in_the_outbox(client, provider):
    Provider.status = 500
    assert post_whatsapp(client, text("wamid.down", "hola")).status_code == 200
    notification = Notification.objects.get()
    assert notification.delivery == Delivery.PENDING and "500" in notification.last_error


# --- SMS (Twilio) -----------------------------------------------------------------------------------------------


def test_twilio_signature_matches_twilios_published_vectors():
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]
    assert twilio_signature(url, params, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
    assert twilio_signature(url, repeated, "12345") == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


def sms(client, body: str, sid: str, *, signature: str | None = None, media: dict | None = None):
    form = {
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": "+56987654321",
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        **(media or {}),
    }
    expected = twilio_signature(SITE_URL + SMS_URL, list(form.items()), TWILIO_TOKEN)
    return client.post(
        SMS_URL,
        urlencode(form),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature or expected,
    )


def twiml_message(response) -> str:
    content = response.content.decode()
    assert response["Content-Type"].startswith("text/xml") and content.endswith("</Response>")
    return content


def test_sms_forged_signature_is_refused_and_writes_nothing(client, provider):
    forged = base64.b64encode(b"x" * 20).decode()
    assert sms(client, "hola", "SM1", signature=forged).status_code == 403
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists()


def test_sms_conversation_files_a_consulta_without_a_place_and_answers_in_twiml(client, provider):
    categories = list(public_categories(RequestKind.QUERY))
    first = twiml_message(sms(client, "hola", "SM01"))
    assert "<Response><Message>" in first and "3. Consulta" in first
    assert "Elija el tema" in twiml_message(sms(client, kind_number(RequestKind.QUERY), "SM02"))
    commune_question = twiml_message(sms(client, "1", "SM03"))
    assert "comuna" in commune_question and "Puente Alto" in commune_question
    communes = ["Peñalolén", "Puente Alto"]
    asked = twiml_message(sms(client, number_of(communes, "Puente Alto"), "SM04"))
    assert "Escriba su consulta" in asked and "foto" not in asked
    done = twiml_message(sms(client, "¿Qué horario tiene la OIRS los sábados?", "SM05"))
    report = Report.objects.get()
    assert report.tracking_code in done
    assert (report.channel, report.kind, report.category) == (Channel.SMS, RequestKind.QUERY, categories[0])
    assert report.location is None and report.commune.name == "Puente Alto"
    assert report.reporter_phone == "+56987654321"


def test_a_retried_sms_gets_the_same_reply_and_is_applied_once(client, provider):
    sms(client, "hola", "SM11")
    first = twiml_message(sms(client, kind_number(RequestKind.QUERY), "SM12"))
    again = twiml_message(sms(client, kind_number(RequestKind.QUERY), "SM12"))
    assert first == again and Conversation.objects.get().step == "category"
    assert InboundMessage.objects.filter(message_id="SM12").count() == 1 and InboundMessage.objects.count() == 2
    # An SMS reply rides on the TwiML answer: nothing is queued or posted, the first time or the retry.
    assert not Report.objects.exists() and not Notification.objects.exists()
    assert not [r for r in Provider.requests if r["method"] == "POST"]


def test_sms_address_is_found_in_the_local_gazetteer(client, provider):
    from geo_siac.geocoding.models import EntryKind
    from geo_siac.geocoding.services import Entry, gazetteer_load

    gazetteer_load(
        source="prueba",
        commit=True,
        entries=[Entry(EntryKind.ADDRESS, "Av. Concha y Toro 1820", -70.58450, -33.59830, "a1", number=1820)],
    )
    sms(client, "hola", "SM21")
    sms(client, kind_number(RequestKind.SERVICE_REQUEST), "SM22")
    sms(client, category_number(RequestKind.SERVICE_REQUEST, "retiro-escombros"), "SM23")
    assert "No encontramos" in twiml_message(sms(client, "Calle que no existe 99999", "SM24"))
    assert "Escriba su solicitud" in twiml_message(sms(client, "Concha y Toro 1820", "SM25"))
    twiml_message(sms(client, "Un sillón botado en la vereda", "SM26"))
    report = Report.objects.get()
    assert report.address == "Av. Concha y Toro 1820" and report.location.y == pytest.approx(-33.5983)


def test_status_change_of_an_sms_request_goes_out_through_twilio(provider, make_report):
    report = make_report(channel=Channel.SMS, reporter_phone="+56987654321")
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status=Status.RESOLVED, actor=None, actor_label="Operador"
    )
    assert notifications_send_due().sent == 1
    posted = [r for r in Provider.requests if r["method"] == "POST"][-1]
    assert posted["path"] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    expected_auth = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert posted["headers"]["Authorization"] == expected_auth
    form = {k: v[0] for k, v in parse_qs(posted["body"].decode()).items()}
    assert (form["To"], form["From"]) == ("+56987654321", "+15005550006")
    assert report.tracking_code in form["Body"] and "Resuelta" in form["Body"]


def test_messages_over_the_per_number_limit_are_dropped(client, provider, settings):
    settings.GEO_SIAC_MESSAGES_PER_NUMBER = 2
    sms(client, "hola", "SM31")
    sms(client, "1", "SM32")
    assert twiml_message(sms(client, "1", "SM33")) == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert not InboundMessage.objects.filter(message_id="SM33").exists()


def test_whatsapp_request_shows_no_phone_on_public_pages(client, provider):
    lat, lng = PUENTE_ALTO_CENTRE
    for message in [
        text("wamid.p1", "hola"),
        text("wamid.p2", kind_number(RequestKind.SERVICE_REQUEST)),
        text("wamid.p3", category_number(RequestKind.SERVICE_REQUEST, "retiro-escombros")),
        {"id": "wamid.p4", "type": "location", "location": {"latitude": lat, "longitude": lng}},
        text("wamid.p5", "0"),
        text("wamid.p6", "Escombros en la vereda"),
    ]:
        post_whatsapp(client, message)
    report = Report.objects.get()
    for url in (f"/seguimiento/{report.tracking_code}/", "/open311/v2/requests.json", "/api/reports/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert CITIZEN not in response.content.decode(), url


def test_whatsapp_information_request_asks_the_name_the_law_requires(client, provider):
    post_whatsapp(client, text("wamid.i1", "hola"))
    post_whatsapp(client, text("wamid.i2", kind_number(RequestKind.INFORMATION)))
    post_whatsapp(client, text("wamid.i3", "1"))
    post_whatsapp(client, text("wamid.i4", "2"))  # Puente Alto, after Peñalolén
    assert "foto" in last_whatsapp_text()
    post_whatsapp(client, text("wamid.i5", "0"))
    assert "Ley 20.285" in last_whatsapp_text()
    post_whatsapp(client, text("wamid.i6", "Rosa Pérez Soto"))
    post_whatsapp(client, text("wamid.i7", "Solicito el presupuesto municipal de áreas verdes de 2025."))
    report = Report.objects.get()
    assert (report.kind, report.reporter_name, report.commune.name) == (
        RequestKind.INFORMATION,
        "Rosa Pérez Soto",
        "Puente Alto",
    )
    assert report.tracking_code in last_whatsapp_text()


def test_a_conversation_left_too_long_or_cancelled_starts_over(client, provider):
    from datetime import timedelta

    from django.utils import timezone

    sms(client, "hola", "SM41")
    sms(client, kind_number(RequestKind.QUERY), "SM42")
    Conversation.objects.update(updated_at=timezone.now() - timedelta(hours=3))
    assert "¿Qué desea enviar?" in twiml_message(sms(client, "1", "SM43"))
    assert Conversation.objects.get().kind == ""
    assert "cancelada" in twiml_message(sms(client, "Cancelar", "SM44"))
    assert not Conversation.objects.exists()


# --- Review fixes: media host, redirects, signatures, business number, replies after the answer, purge -----------


class Elsewhere(BaseHTTPRequestHandler):
    """A host that is not Meta's: it must never receive a request, let alone the access token."""

    requests: list[dict] = []

    def do_GET(self):
        Elsewhere.requests.append({"path": self.path, "headers": dict(self.headers)})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def elsewhere():
    # 127.0.0.2 is loopback too, but not the allowed 127.0.0.1.
    server = ThreadingHTTPServer(("127.0.0.2", 0), Elsewhere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Elsewhere.requests = []
    yield f"http://127.0.0.2:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_media_urls_must_be_https_on_metas_hosts(settings):
    settings.GEO_SIAC_WHATSAPP_MEDIA_HOSTS = ["lookaside.fbsbx.com", "*.fbsbx.com", "*.whatsapp.net"]
    assert media_url_allowed("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
    assert media_url_allowed("https://scontent.xx.fbsbx.com/v/t61/1.jpg")
    assert not media_url_allowed("http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
    assert not media_url_allowed("https://fbsbx.com.attacker.example/1.jpg")
    assert not media_url_allowed("https://evilfbsbx.com/1.jpg")
    assert not media_url_allowed("https://169.254.169.254/latest/meta-data/")
    settings.GEO_SIAC_WHATSAPP_MEDIA_HOSTS = ["127.0.0.1", "media.example.cl"]
    assert media_url_allowed("http://127.0.0.1:8000/media/foto.jpg")
    assert not media_url_allowed("http://media.example.cl/foto.jpg")  # plain http only to loopback


def test_media_url_on_another_host_is_refused_before_any_request_reaches_it(provider, elsewhere):
    Provider.media_url = f"{elsewhere}/robar"
    with pytest.raises(ValueError, match="GEO_SIAC_WHATSAPP_MEDIA_HOSTS"):
        whatsapp_media("1479537139650973")
    assert Elsewhere.requests == []
    assert [r["path"] for r in Provider.requests] == ["/v21.0/1479537139650973"]


def test_a_redirect_from_the_media_host_is_not_followed_with_the_token(provider, elsewhere):
    Provider.media_url = f"{Provider.base}/media/redirect"
    Provider.redirect_to = f"{elsewhere}/robar"
    with pytest.raises(OSError, match="302"):
        whatsapp_media("1479537139650973")
    assert not [r for r in Elsewhere.requests if "Authorization" in r["headers"]]
    assert Elsewhere.requests == []


def test_photo_is_downloaded_before_the_message_is_claimed(client, provider, monkeypatch):
    seen = []

    def download(media_id):
        seen.append(InboundMessage.objects.filter(message_id="wamid.f4").exists())
        return whatsapp_media(media_id)

    monkeypatch.setattr(messaging_services, "whatsapp_media", download)
    for message in [
        text("wamid.f1", "hola"),
        text("wamid.f2", kind_number(RequestKind.QUERY)),
        text("wamid.f3", "1"),
    ]:
        post_whatsapp(client, message)
    Conversation.objects.update(step="photo")
    image = {"id": "wamid.f4", "type": "image", "image": {"mime_type": "image/jpeg", "id": "1479537139650973"}}
    post_whatsapp(client, image)
    assert seen == [False]  # the download ran before message_apply's transaction claimed the id
    assert Conversation.objects.get().photos.count() == 1
    post_whatsapp(client, image)  # Meta's retry: already applied, so not downloaded again
    assert seen == [False]


def test_a_failed_photo_download_is_answered_and_the_photo_asked_again(client, provider, elsewhere):
    for message in [text("wamid.g1", "hola"), text("wamid.g2", kind_number(RequestKind.QUERY))]:
        post_whatsapp(client, message)
    Conversation.objects.update(step="photo")
    Provider.media_url = f"{elsewhere}/robar"
    post_whatsapp(client, {"id": "wamid.g3", "type": "image", "image": {"id": "1479537139650973"}})
    assert "No pudimos descargar la foto" in last_whatsapp_text() and "foto" in last_whatsapp_text()
    assert Conversation.objects.get().step == "photo" and Elsewhere.requests == []


def test_non_ascii_signatures_are_refused_with_403_not_an_error(client, provider):
    assert post_whatsapp(client, text("wamid.e1", "hola"), signature="sha256=é").status_code == 403
    assert sms(client, "hola", "SM51", signature="ñandú" * 6).status_code == 403
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists()


def test_a_change_for_another_business_number_is_skipped(client, provider):
    body = webhook(text("wamid.other", "hola"), number_id="999999999999999")
    answered = client.post(WHATSAPP_URL, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body))
    assert answered.status_code == 200
    assert not InboundMessage.objects.exists() and not Conversation.objects.exists()
    assert not Notification.objects.exists() and sent_whatsapp() == []


def test_whatsapp_reply_is_sent_after_the_answer_to_meta_is_written(provider, rf):
    body = webhook(text("wamid.after", "hola"))
    request = rf.post(WHATSAPP_URL, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body))
    response = whatsapp_webhook(request)
    assert response.status_code == 200 and response.content == b"ok"
    assert sent_whatsapp() == [] and Notification.objects.get().delivery == Delivery.PENDING
    # What the WSGI server does once the answer is on the wire; as Django's test client does, without closing the
    # test's database connection on request_finished.
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
    assert "¿Qué desea enviar?" in last_whatsapp_text()
    assert Notification.objects.get().delivery == Delivery.SENT


def test_purge_removes_stale_conversations_and_old_sent_replies_only(client, provider, make_report, settings):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    settings.GEO_SIAC_MESSAGES_KEEP_DAYS = 30
    post_whatsapp(client, text("wamid.k1", "hola"))  # a recent reply, sent, and a fresh conversation
    sms(client, "hola", "SM61")
    Conversation.objects.filter(channel=Channel.SMS).update(updated_at=timezone.now() - timedelta(hours=3))
    post_whatsapp(client, text("wamid.k2", "1"))
    Provider.status = 500
    post_whatsapp(client, text("wamid.k3", "1"))  # refused: pending in the outbox
    old = timezone.now() - timedelta(days=31)
    Notification.objects.filter(body__contains="¿Qué desea enviar?").update(created_at=old)
    Notification.objects.filter(delivery=Delivery.PENDING).update(created_at=old)
    InboundMessage.objects.filter(message_id="wamid.k1").update(received_at=old)
    report = make_report(channel=Channel.WHATSAPP, reporter_phone=f"+{CITIZEN}")
    report_change_status(
        public_note=EXPLAINED_BY_CALLER, report=report, status=Status.IN_PROGRESS, actor=None, actor_label="Operador"
    )
    status_message = Notification.objects.get(report=report)
    Notification.objects.filter(pk=status_message.pk).update(created_at=old)
    kept = set(Notification.objects.exclude(body__contains="¿Qué desea enviar?").values_list("pk", flat=True))

    out = io.StringIO()
    call_command("purge_messages", stdout=out)
    assert "conversaciones 1, respuestas 1, mensajes recibidos 1" in out.getvalue()
    assert list(Conversation.objects.values_list("channel", flat=True)) == [Channel.WHATSAPP]
    assert set(Notification.objects.values_list("pk", flat=True)) == kept
    assert status_message.pk in kept and Notification.objects.filter(delivery=Delivery.PENDING).exists()
    assert not InboundMessage.objects.filter(message_id="wamid.k1").exists()
    assert InboundMessage.objects.filter(message_id="wamid.k2").exists()


# --- MMS photos by SMS (Twilio) -----------------------------------------------------------------------------------


def jpeg_with_exif() -> bytes:
    """A phone's photo: its EXIF names the camera and carries a GPS block, which the photo path strips."""
    exif = Image.Exif()
    exif[0x010F] = "Camara del vecino"  # Make
    exif[0x8825] = {1: "S", 2: (33.0, 35.0, 0.0)}  # GPSInfo: GPSLatitudeRef, GPSLatitude
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 30)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


class Cdn(BaseHTTPRequestHandler):
    """Twilio's media CDN, on its own loopback address (127.0.0.3): the photo, or one more redirect."""

    requests: list[dict] = []

    def do_GET(self):
        Cdn.requests.append({"path": self.path, "headers": dict(self.headers)})
        if self.path == "/media/MEcut.jpg":
            return self.cut_short()
        if self.path == "/media/MEslow.jpg":
            return self.trickle()
        if self.path == "/again":
            self.send_response(302)
            self.send_header("Location", "/media/MEagain.jpg")
            self.send_header("Content-Length", "0")
            return self.end_headers()
        payload = jpeg_with_exif()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def cut_short(self):
        """A chunked body whose connection closes halfway through its first chunk."""
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"400\r\n" + jpeg_with_exif()[:100])
        self.close_connection = True

    def trickle(self):
        """A whole photo, a few bytes at a time, over several seconds."""
        payload = jpeg_with_exif()
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        step = len(payload) // 10 + 1
        try:
            for start in range(0, len(payload), step):
                self.wfile.write(payload[start : start + step])
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # the client gave up

    def log_message(self, *args):
        pass


@pytest.fixture
def cdn(provider, settings):
    server = ThreadingHTTPServer(("127.0.0.3", 0), Cdn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Cdn.requests = []
    Provider.cdn = f"http://127.0.0.3:{server.server_port}"
    settings.GEO_SIAC_TWILIO_MEDIA_HOSTS = ["127.0.0.3"]
    settings.GEO_SIAC_SMS_MAX_PHOTOS = 4
    yield Provider.cdn
    server.shutdown()
    server.server_close()


def mms(message_sid: str, *media_sids: str, base: str | None = None) -> dict:
    """Twilio's MMS parameters: NumMedia, and each medium's URL on the Twilio API and its content type."""
    form = {"NumMedia": str(len(media_sids))}
    for i, media_sid in enumerate(media_sids):
        url = f"{base or Provider.base}/2010-04-01/Accounts/{TWILIO_SID}/Messages/{message_sid}/Media/{media_sid}"
        form |= {f"MediaUrl{i}": url, f"MediaContentType{i}": "image/jpeg"}
    return form


def twilio_media_requests() -> list[dict]:
    return [r for r in Provider.requests if r["path"].startswith("/2010-04-01/Accounts/") and r["method"] == "GET"]


def consulta_until_its_text(client, sid: str, media: dict | None = None) -> None:
    """An SMS consulta up to its last question; `media` rides on the answer choosing the kind."""
    sms(client, "hola", f"{sid}1")
    sms(client, kind_number(RequestKind.QUERY), f"{sid}2", media=media)
    sms(client, "1", f"{sid}3")
    sms(client, "2", f"{sid}4")  # Puente Alto, after Peñalolén


def test_mms_photos_sent_during_the_conversation_are_filed_with_the_request(client, provider, cdn):
    consulta_until_its_text(client, "MMa", mms("MMa2", "ME0001"))
    done = twiml_message(
        sms(client, "Adjunto fotos del letrero que falta.", "MMa5", media=mms("MMa5", "ME0002", "ME0003"))
    )
    report = Report.objects.get()
    assert report.tracking_code in done and "No pudimos" not in done
    assert (report.channel, report.photos.count()) == (Channel.SMS, 3)
    for photo in report.photos.all():
        with Image.open(photo.image) as stored:
            assert not stored.getexif() and stored.size == (64, 48)
    basic = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    assert [r["path"].rsplit("/", 1)[-1] for r in twilio_media_requests()] == ["ME0001", "ME0002", "ME0003"]
    assert all(r["headers"]["Authorization"] == basic for r in twilio_media_requests())
    assert [r["path"] for r in Cdn.requests] == ["/media/ME0001.jpg", "/media/ME0002.jpg", "/media/ME0003.jpg"]
    assert not [r for r in Cdn.requests if "Authorization" in r["headers"]]
    assert not Conversation.objects.exists()


def test_an_mms_whose_photo_cannot_be_fetched_files_its_text_and_says_so(client, provider, cdn):
    consulta_until_its_text(client, "MMb")
    done = twiml_message(sms(client, "¿Atienden el sábado?", "MMb5", media=mms("MMb5", "MEgone")))
    report = Report.objects.get()
    assert report.tracking_code in done and "No pudimos recibir la foto que envió." in done
    assert report.description == "¿Atienden el sábado?" and report.photos.count() == 0


def test_an_mms_photo_over_the_size_limit_is_not_kept_and_the_citizen_is_told(client, provider, cdn, settings):
    settings.GEO_SIAC_PHOTO_MAX_BYTES = 200
    sms(client, "hola", "MMc1")
    reply = twiml_message(sms(client, kind_number(RequestKind.QUERY), "MMc2", media=mms("MMc2", "ME0001", "ME0002")))
    assert "Elija el tema" in reply and "No pudimos recibir 2 de las 2 fotos que envió." in reply
    assert Conversation.objects.get().photos.count() == 0


def test_a_forged_media_host_is_never_fetched_nor_given_the_credentials(client, provider, cdn, elsewhere):
    consulta_until_its_text(client, "MMd")
    forged = {**mms("MMd5", "ME0001", base=elsewhere)}
    done = twiml_message(sms(client, "Consulta con una foto.", "MMd5", media=forged))
    assert Report.objects.get().tracking_code in done and "No pudimos recibir la foto que envió." in done
    assert Elsewhere.requests == [] and twilio_media_requests() == [] and Cdn.requests == []


@pytest.mark.parametrize(
    "path",
    [
        "/2010-04-01/Accounts/AC11111111111111111111111111111111/Messages/MMe1/Media/ME0001",  # another account
        f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/MMother/Media/ME0001",  # another message
        f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/MMe1/Media/ME0001/../../../../Calls",
        f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/MMe1/Media/ME0001?redirect=elsewhere",
    ],
)
def test_only_this_messages_media_on_the_twilio_api_is_fetched(provider, path):
    from geo_siac.messaging.providers import twilio_media, twilio_media_url_valid

    assert twilio_media_url_valid(
        f"{Provider.base}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MMe1/Media/ME0001", "MMe1"
    )
    assert not twilio_media_url_valid(f"{Provider.base}{path}", "MMe1")
    with pytest.raises(ValueError, match="GEO_SIAC_TWILIO_API_URL"):
        twilio_media(f"{Provider.base}{path}", "MMe1")
    assert Provider.requests == []


def test_twilio_credentials_go_only_to_the_https_api(settings):
    from geo_siac.messaging.providers import twilio_media_url_valid

    settings.GEO_SIAC_TWILIO_API_URL = "https://api.twilio.com"
    settings.GEO_SIAC_TWILIO_ACCOUNT_SID = TWILIO_SID
    media = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages/MM1/Media/ME1"
    assert twilio_media_url_valid(f"https://api.twilio.com{media}", "MM1")
    assert not twilio_media_url_valid(f"http://api.twilio.com{media}", "MM1")
    assert not twilio_media_url_valid(f"https://api.twilio.com.attacker.example{media}", "MM1")
    assert not twilio_media_url_valid(f"https://api.twilio.com@attacker.example{media}", "MM1")
    assert not twilio_media_url_valid(f"https://api.twilio.com:8443{media}", "MM1")


def test_a_redirect_off_the_allowlist_is_not_followed(client, provider, cdn, elsewhere):
    Provider.twilio_redirect = f"{elsewhere}/robar"
    sms(client, "hola", "MMf1")
    reply = twiml_message(sms(client, kind_number(RequestKind.QUERY), "MMf2", media=mms("MMf2", "ME0001")))
    assert "No pudimos recibir la foto que envió." in reply and "Elija el tema" in reply
    assert len(twilio_media_requests()) == 1 and Elsewhere.requests == []
    assert Conversation.objects.get().photos.count() == 0


def test_a_second_redirect_is_not_followed_even_on_the_allowlist(client, provider, cdn):
    Provider.twilio_redirect = f"{cdn}/again"
    sms(client, "hola", "MMg1")
    reply = twiml_message(sms(client, kind_number(RequestKind.QUERY), "MMg2", media=mms("MMg2", "ME0001")))
    assert "No pudimos recibir la foto que envió." in reply
    assert [r["path"] for r in Cdn.requests] == ["/again"]


def test_a_retried_mms_adds_no_second_photo_and_is_not_fetched_again(client, provider, cdn):
    consulta_until_its_text(client, "MMh", mms("MMh2", "ME0001"))
    first = twiml_message(sms(client, "¿Y los domingos?", "MMh5", media=mms("MMh5", "ME0002")))
    again = twiml_message(sms(client, "¿Y los domingos?", "MMh5", media=mms("MMh5", "ME0002")))
    assert first == again and Report.objects.get().photos.count() == 2
    assert len(twilio_media_requests()) == 2 and len(Cdn.requests) == 2


def test_photos_over_the_limit_are_not_fetched_and_the_citizen_is_told(client, provider, cdn, settings):
    settings.GEO_SIAC_SMS_MAX_PHOTOS = 2
    sms(client, "hola", "MMi1")
    reply = twiml_message(
        sms(client, kind_number(RequestKind.QUERY), "MMi2", media=mms("MMi2", "ME0001", "ME0002", "ME0003"))
    )
    assert "Se guardan hasta 2 fotos por solicitud: 1 no se guardó." in reply
    assert Conversation.objects.get().photos.count() == 2 and len(twilio_media_requests()) == 2
    reply = twiml_message(sms(client, "1", "MMi3", media=mms("MMi3", "ME0004")))
    assert "1 no se guardó" in reply and len(twilio_media_requests()) == 2


def test_an_mms_with_a_bad_media_count_is_refused(client, provider):
    assert sms(client, "hola", "MMj1", media={"NumMedia": "11"}).status_code == 400
    assert sms(client, "hola", "MMj2", media={"NumMedia": "1"}).status_code == 400  # no MediaUrl0
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize(
    ("media_sid", "redirect"),
    [("MEcut", None), ("ME0001", "http://127.0.0.3:99x/media/ME0001.jpg")],
    ids=["chunked-body-cut-short", "location-with-a-bad-port"],
)
def test_an_http_error_on_the_cdn_files_the_text_and_says_the_photo_was_not_received(
    client, provider, cdn, media_sid, redirect
):
    Provider.twilio_redirect = redirect
    consulta_until_its_text(client, "MMk")
    response = sms(client, "¿Hay feria el domingo?", "MMk5", media=mms("MMk5", media_sid))
    assert response.status_code == 200
    done = twiml_message(response)
    report = Report.objects.get()
    assert report.tracking_code in done and "No pudimos recibir la foto que envió." in done
    assert report.description == "¿Hay feria el domingo?" and report.photos.count() == 0


def test_a_cdn_slower_than_the_time_budget_files_the_text_and_fetches_nothing_more(client, provider, cdn, settings):
    settings.GEO_SIAC_TWILIO_MEDIA_BUDGET_SECONDS = 2
    consulta_until_its_text(client, "MMs")
    done = twiml_message(sms(client, "Consulta con dos fotos.", "MMs5", media=mms("MMs5", "MEslow", "ME0002")))
    report = Report.objects.get()
    assert report.tracking_code in done and "No pudimos recibir 2 de las 2 fotos que envió." in done
    assert report.photos.count() == 0
    # The second medium is not asked for: the budget was spent on the first.
    assert [r["path"].rsplit("/", 1)[-1] for r in twilio_media_requests()] == ["MEslow"]


def test_an_mms_photo_is_kept_without_its_exif_from_the_moment_it_arrives(client, provider, cdn):
    sms(client, "hola", "MMx1")
    sms(client, kind_number(RequestKind.QUERY), "MMx2", media=mms("MMx2", "ME0001"))
    kept = Conversation.objects.get().photos.get()
    assert b"Camara del vecino" in jpeg_with_exif() and b"Camara del vecino" not in bytes(kept.image)
    with Image.open(io.BytesIO(bytes(kept.image))) as stored:
        assert not stored.getexif() and stored.size == (64, 48)
    assert (kept.content_type, kept.width, kept.height) == ("image/jpeg", 64, 48) and kept.thumbnail


def test_media_that_are_not_images_are_named_apart_and_leave_the_photo_room_to_images(client, provider, cdn, settings):
    settings.GEO_SIAC_SMS_MAX_PHOTOS = 1
    sms(client, "hola", "MMn1")
    base = f"{Provider.base}/2010-04-01/Accounts/{TWILIO_SID}/Messages/MMn2/Media"
    media = {
        "NumMedia": "3",
        "MediaUrl0": f"{base}/MEvcard",
        "MediaContentType0": "text/vcard",
        "MediaUrl1": f"{base}/ME0001",
        "MediaContentType1": "image/jpeg",
        "MediaUrl2": f"{base}/MEaudio",
        "MediaContentType2": "audio/amr",
    }
    reply = twiml_message(sms(client, kind_number(RequestKind.QUERY), "MMn2", media=media))
    assert "Solo se guardan fotos: 2 archivos que no son fotos no se guardaron." in reply
    assert "No pudimos" not in reply and "Se guardan hasta" not in reply
    assert Conversation.objects.get().photos.count() == 1
    assert [r["path"].rsplit("/", 1)[-1] for r in twilio_media_requests()] == ["ME0001"]


@pytest.mark.parametrize("raw", [b"no es una foto", jpeg_with_exif()], ids=["invalid", "valid-with-exif"])
def test_a_photo_kept_as_received_before_is_checked_and_never_stops_the_filing(client, provider, cdn, raw):
    consulta_until_its_text(client, "MMr")
    ConversationPhoto.objects.create(conversation=Conversation.objects.get(), image=raw)  # as kept before 0003
    done = twiml_message(sms(client, "¿Dónde pago el permiso?", "MMr5"))
    report = Report.objects.get()
    assert report.tracking_code in done and not Conversation.objects.exists()
    if raw == b"no es una foto":
        assert "1 foto que envió antes ya no se pudo guardar." in done and report.photos.count() == 0
    else:
        assert "ya no se pudo" not in done
        with Image.open(report.photos.get().image) as stored:
            assert not stored.getexif()


def test_a_photo_sent_right_after_filing_is_added_to_that_request_as_the_citizens_information(client, provider, cdn):
    from geo_siac.reports.models import EventKind

    consulta_until_its_text(client, "MMp")
    sms(client, "¿Atienden el lunes?", "MMp5")
    report = Report.objects.get()
    reply = twiml_message(sms(client, "", "MMp6", media=mms("MMp6", "ME0001")))
    assert f"La foto se agregó a su solicitud {report.tracking_code}." in reply
    added = report.events.get(kind=EventKind.CITIZEN_INFO)
    assert not added.is_public and added.photos.count() == 1
    with Image.open(added.photos.get().image) as stored:
        assert not stored.getexif()
    assert not ConversationPhoto.objects.exists()

    from geo_siac.citizens.services import citizen_phone_data_erase

    assert citizen_phone_data_erase(phone="+56987654321", commit=True).photos_deleted == 1
    assert added.photos.count() == 0


def test_a_photo_after_the_window_or_for_another_numbers_request_starts_a_new_request(
    client, provider, cdn, make_report
):
    from datetime import timedelta

    from django.utils import timezone

    consulta_until_its_text(client, "MMo")
    sms(client, "¿Atienden el martes?", "MMo5")
    Report.objects.update(created_at=timezone.now() - timedelta(hours=3))  # filed before the conversation window
    other = make_report(channel=Channel.SMS, reporter_phone="+56911112222", reporter_email="")
    reply = twiml_message(sms(client, "", "MMo6", media=mms("MMo6", "ME0001")))
    assert "Hola" in reply and "no se agregó a una solicitud ya enviada" in reply
    assert not [event for report in Report.objects.all() for event in report.events.filter(kind="citizen_info")]
    assert Conversation.objects.get().photos.count() == 1 and other.events.filter(kind="citizen_info").count() == 0


def test_purge_and_erasure_count_a_conversation_with_two_photos_once(client, provider, cdn):
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from geo_siac.citizens.services import citizen_phone_data_erase

    sms(client, "hola", "MMq1")
    sms(client, kind_number(RequestKind.QUERY), "MMq2", media=mms("MMq2", "ME0001", "ME0002"))
    assert Conversation.objects.get().photos.count() == 2
    assert citizen_phone_data_erase(phone="+56987654321").conversations_deleted == 1  # a dry run
    Conversation.objects.update(updated_at=timezone.now() - timedelta(hours=3))
    out = io.StringIO()
    call_command("purge_messages", stdout=out)
    assert "conversaciones 1," in out.getvalue() and not ConversationPhoto.objects.exists()


def test_the_default_media_hosts_take_twilios_s3_redirect_and_no_other_amazon_host():
    from django.conf import settings as project

    from geo_siac.messaging.providers import host_allowed

    hosts = project.GEO_SIAC_TWILIO_MEDIA_HOSTS
    assert host_allowed("https://s3-external-1.amazonaws.com/media.twiliocdn.com/AC1/abc", hosts)
    assert host_allowed("https://mms.twiliocdn.com/AC1/abc", hosts)
    assert not host_allowed("https://attacker.s3.amazonaws.com/x", hosts)
    assert not host_allowed("https://s3-external-1.amazonaws.com.attacker.example/x", hosts)
