"""The email channel end to end: `manage.py receive_email` runs as production runs it (a subprocess on a free
loopback port, against the test database) and real SMTP is sent to it with smtplib."""

import io
import os
import smtplib
import subprocess
import sys
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from geo_siac.catalogue.kinds import rule
from geo_siac.citizens.services import citizen_data_erase
from geo_siac.email_intake.models import InboundEmail
from geo_siac.notifications.models import Notification
from geo_siac.reports.models import EventKind, EventPhoto, Report, ReportEvent, ReportPhoto
from geo_siac.reports.services import report_follow
from geo_siac.testing import (
    PROJECT_ROOT,
    die_with_parent,
    ensure_default_catalogue,
    ensure_default_communes,
    free_port,
)

PUENTE_ALTO_OIRS = "oirs@mpuentealto.cl"
PENALOLEN_OIRS = "oirs@penalolen.cl"
MAX_BYTES = 2 * 1024 * 1024
PER_SENDER = 4
AUTHSERV_ID = "mx.mpuentealto.cl"
# What opendmarc on the municipality's MTA adds to a message whose From domain passed DMARC.
DMARC_PASS = f"{AUTHSERV_ID}; spf=pass smtp.mailfrom=example.cl; dmarc=pass (p=none) header.from=example.cl"


class Receiver:
    def __init__(self, root: Path, database: dict):
        self.port = free_port()
        self.media = root / "media"
        self.log = root / "receive_email.log"
        db = database
        self.environment = {
            **{name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DATABASE_URL": f"postgis://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/"
            f"{quote(db['NAME'])}",
            "MEDIA_ROOT": str(self.media),
            "GEO_SIAC_EMAIL_COMMUNES": f"{PUENTE_ALTO_OIRS}=13201,{PENALOLEN_OIRS}=13122",
            "GEO_SIAC_EMAIL_MAX_BYTES": str(MAX_BYTES),
            "GEO_SIAC_EMAIL_MAX_PHOTOS": "4",
            "GEO_SIAC_EMAIL_PER_SENDER": str(PER_SENDER),
            "GEO_SIAC_EMAIL_REQUIRE_DMARC": "1",
            "GEO_SIAC_EMAIL_AUTHSERV_ID": AUTHSERV_ID,
        }
        self.process = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "receive_email", "--bind", f"127.0.0.1:{self.port}"],
                cwd=PROJECT_ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
                    smtp.noop()
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"receive_email did not start:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def deliver(self, message: EmailMessage | bytes, *, mail_from="rosa@example.cl", to=PUENTE_ALTO_OIRS):
        """One SMTP transaction as an MTA makes it; the receiver's reply to DATA (or to RCPT when it refuses)."""
        # On the wire, as an MTA sends it: CRLF line ends (smtplib sends bytes as they are).
        raw = message if isinstance(message, bytes) else message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        with smtplib.SMTP("127.0.0.1", self.port, timeout=60) as smtp:
            smtp.ehlo("mta.test")
            smtp.mail(mail_from)
            code, reply = smtp.rcpt(to)
            if code != 250:
                return code, reply.decode()
            code, reply = smtp.data(raw)
            return code, reply.decode()


@pytest.fixture(scope="module")
def receiver(django_db_setup, django_db_blocker, tmp_path_factory):
    """One receiver for the module. Started with the catalogue and comunas in place, as the command checks them;
    each test's transactional flush empties them and its `communes` fixture puts them back."""
    from django.db import connection

    with django_db_blocker.unblock():
        ensure_default_catalogue()
        ensure_default_communes()
        server = Receiver(tmp_path_factory.mktemp("email"), connection.settings_dict)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(receiver, communes, transactional_db):
    return receiver


def jpeg(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), colour).save(buffer, "JPEG")
    return buffer.getvalue()


def email(*, body="", subject="", sender="Rosa Pérez <rosa@example.cl>", to=PUENTE_ALTO_OIRS, photos=(), **headers):
    message = EmailMessage()
    message["To"], message["Message-ID"] = to, make_msgid(domain="example.cl")
    if sender is not None:
        message["From"] = sender
    if subject:
        message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    for filename, content_type, data in photos:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def with_two_photos(**overrides) -> EmailMessage:
    values = {
        "subject": "Luminaria apagada en mi pasaje",
        "body": "Hace una semana que la luminaria del pasaje Los Aromos está apagada.\n\nRosa",
        "photos": [("poste.jpg", "image/jpeg", jpeg("red")), ("pasaje.jpg", "image/jpeg", jpeg("blue"))],
    }
    return email(**(values | overrides))


def nothing_written() -> dict[str, int]:
    return {
        "requests": Report.objects.count(),
        "photos": ReportPhoto.objects.count(),
        "emails": InboundEmail.objects.count(),
        "messages": Notification.objects.count(),
    }


NOTHING = {"requests": 0, "photos": 0, "emails": 0, "messages": 0}


def test_message_with_text_and_two_photos_is_one_request_in_triage_with_both_photos(mailbox):
    code, reply = mailbox.deliver(with_two_photos())

    assert code == 250, reply
    report = Report.objects.get()
    assert reply.endswith(f"created {report.tracking_code}")
    assert (report.channel, report.kind, report.category.service_code) == ("email", "query", "consulta-tramites")
    assert report.location is None and report.crew is None and report.status == "submitted"
    assert report.commune.cut == "13201"  # the address the MTA relayed it to
    assert report.department.name.startswith("Oficina de Informaciones, Reclamos y Sugerencias")
    assert (report.reporter_name, report.reporter_email) == ("Rosa Pérez", "rosa@example.cl")
    assert report.description == (
        "Luminaria apagada en mi pasaje\n\nHace una semana que la luminaria del pasaje Los Aromos está apagada.\n\nRosa"
    )
    assert not report.public_visibility
    photos = list(report.photos.all())
    assert [p.content_type for p in photos] == ["image/jpeg", "image/jpeg"]
    assert all((mailbox.media / p.image.name).is_file() for p in photos)
    acknowledgement = Notification.objects.get()
    assert acknowledgement.recipient == "rosa@example.cl"
    assert report.tracking_code in acknowledgement.subject and report.tracking_code in acknowledgement.body
    assert InboundEmail.objects.get().report == report


def test_message_to_the_other_comunas_address_is_filed_there(mailbox):
    code, reply = mailbox.deliver(with_two_photos(to=PENALOLEN_OIRS), to=PENALOLEN_OIRS)

    assert code == 250, reply
    assert Report.objects.get().commune.cut == "13122"


def test_html_only_message_is_filed_with_its_text(mailbox):
    message = email(subject="Consulta patente")
    message.set_content(
        "<html><body><p>¿Qué horario tiene&nbsp;patentes?</p><script>x()</script></body></html>", subtype="html"
    )

    code, reply = mailbox.deliver(message)

    assert code == 250, reply
    assert Report.objects.get().description == "Consulta patente\n\n¿Qué horario tiene patentes?"


def test_reply_quoting_the_tracking_code_adds_to_that_request(mailbox):
    mailbox.deliver(with_two_photos())
    report = Report.objects.get()
    reply_message = email(
        subject=f"Re: Recibimos su solicitud {report.tracking_code}",
        body=(
            "Ahora son dos luminarias apagadas.\n\n"
            "El lun, 4 may 2026 a las 10:00, GeoSIAC <no-responder@geosiac.localhost> escribió:\n"
            f"> Su solicitud fue recibida con el código {report.tracking_code}.\n"
        ),
        photos=[("otra.jpg", "image/jpeg", jpeg("green"))],
        In_Reply_To="<ack@geosiac.localhost>",
        Authentication_Results=DMARC_PASS,
    )

    code, reply = mailbox.deliver(reply_message)

    assert code == 250, reply
    assert reply.endswith(f"attached {report.tracking_code}")
    assert Report.objects.count() == 1
    added = ReportEvent.objects.filter(report=report, kind=EventKind.CITIZEN_INFO).order_by("pk")
    assert [(e.note, e.is_public) for e in added] == [
        ("Ahora son dos luminarias apagadas.", False),
        ("La persona que reporta agregó una foto.", False),
    ]
    assert EventPhoto.objects.filter(event__report=report).count() == 1
    assert report.photos.count() == 2  # the request's own photos are the first message's


def test_a_photo_a_follower_adds_by_reply_goes_with_her_erasure_however_she_wrote_her_address(mailbox, settings):
    settings.MEDIA_ROOT = mailbox.media  # where the receiver wrote the files
    mailbox.deliver(with_two_photos(sender="Ana Soto <ana@example.cl>"), mail_from="ana@example.cl")
    anas = Report.objects.get()
    report_follow(report=anas, email="rosa@example.cl")
    for sender, colour in (("Rosa Pérez <Rosa@Example.CL>", "green"), ("Ana Soto <ana@example.cl>", "white")):
        reply = email(
            sender=sender,
            subject=f"Re: {anas.tracking_code}",
            photos=[("otra.jpg", "image/jpeg", jpeg(colour))],
            Authentication_Results=DMARC_PASS,
        )
        code, answer = mailbox.deliver(reply, mail_from=sender.split("<")[1].rstrip(">"))
        assert code == 250 and answer.endswith(f"attached {anas.tracking_code}"), answer
    rosas, own = EventPhoto.objects.filter(report=anas).order_by("pk")
    assert (rosas.added_by, own.added_by) == ("rosa@example.cl", "ana@example.cl")

    assert citizen_data_erase(email="rosa@example.cl", commit=True).photos_deleted == 1

    assert list(EventPhoto.objects.filter(report=anas)) == [own] and (mailbox.media / own.image.name).is_file()
    assert not (mailbox.media / rosas.image.name).exists()
    assert anas.photos.count() == 2  # the request and its own photos stay


def test_code_of_somebody_elses_request_files_a_new_request_and_leaves_that_one_alone(mailbox):
    mailbox.deliver(with_two_photos())
    original = Report.objects.get()

    code, reply = mailbox.deliver(
        email(sender="Extraño <otro@example.cl>", subject=f"Re: {original.tracking_code}", body="Cierren esto ya."),
        mail_from="otro@example.cl",
    )

    assert code == 250, reply
    new = Report.objects.exclude(pk=original.pk).get()
    assert reply.endswith(f"created {new.tracking_code}")
    assert new.reporter_email == "otro@example.cl"
    assert not ReportEvent.objects.filter(report=original, kind=EventKind.CITIZEN_INFO).exists()


def test_the_same_message_delivered_again_is_applied_once(mailbox):
    message = with_two_photos()

    first = mailbox.deliver(message)
    again = mailbox.deliver(message)

    report = Report.objects.get()
    assert first == (250, f"2.0.0 created {report.tracking_code}")
    assert again == (250, "2.0.0 duplicate")  # no code: a re-sent Message-ID does not reveal the request
    assert nothing_written() == {"requests": 1, "photos": 2, "emails": 1, "messages": 1}


def test_a_reply_delivered_again_adds_its_information_once(mailbox):
    mailbox.deliver(with_two_photos())
    report = Report.objects.get()
    reply_message = email(
        subject=f"Re: {report.tracking_code}", body="Sigue apagada.", Authentication_Results=DMARC_PASS
    )

    assert mailbox.deliver(reply_message)[0] == 250
    assert mailbox.deliver(reply_message) == (250, "2.0.0 duplicate")
    assert ReportEvent.objects.filter(report=report, kind=EventKind.CITIZEN_INFO).count() == 1


def test_message_without_text_or_attachment_is_refused_and_writes_nothing(mailbox):
    code, reply = mailbox.deliver(email(body="\n\n"))

    assert (code, reply) == (554, "5.6.0 El correo no trae texto: escriba su solicitud en el mensaje.")
    assert nothing_written() == NOTHING


def test_message_whose_only_attachment_is_not_a_photo_is_refused_naming_it(mailbox):
    code, reply = mailbox.deliver(email(photos=[("informe.pdf", "application/pdf", b"%PDF-1.4 not a photo")]))

    assert code == 554
    assert reply.startswith("5.6.0 El correo no trae texto ni una foto valida (informe.pdf: ")
    assert nothing_written() == NOTHING


def test_text_with_a_bad_attachment_files_the_request_and_tells_the_sender_what_was_dropped(mailbox):
    message = with_two_photos(
        photos=[("poste.jpg", "image/jpeg", jpeg("red")), ("falsa.jpg", "image/jpeg", b"<html>no soy foto</html>")]
    )

    code, reply = mailbox.deliver(message)

    assert code == 250, reply
    report = Report.objects.get()
    assert report.photos.count() == 1
    notice = Notification.objects.exclude(subject__startswith="Recibimos").get()
    assert (notice.recipient, notice.report) == ("rosa@example.cl", report)
    assert "- falsa.jpg: El archivo no es una imagen JPEG, PNG o WebP válida." in notice.body


def test_message_without_a_usable_sender_address_is_refused(mailbox):
    missing = mailbox.deliver(email(sender=None, body="Hola"))
    invalid = mailbox.deliver(email(sender="Rosa <rosa@>", body="Hola"))

    assert missing == (550, "5.1.7 El correo no indica su remitente (From).")
    assert invalid == (550, "5.1.7 El correo electronico no es valido.")
    assert nothing_written() == NOTHING


def test_automatic_replies_and_bounces_are_accepted_and_not_filed(mailbox):
    mailbox.deliver(with_two_photos())
    report = Report.objects.get()
    before = nothing_written()
    out_of_office = email(
        subject=f"Fuera de oficina: {report.tracking_code}", body="Vuelvo el lunes.", Auto_Submitted="auto-replied"
    )
    bounce = email(sender="MAILER-DAEMON <postmaster@example.cl>", subject="Undelivered", body="Returned mail")

    assert mailbox.deliver(out_of_office)[0] == 250
    assert mailbox.deliver(bounce, mail_from="<>")[0] == 250
    assert nothing_written() == before
    assert not ReportEvent.objects.filter(report=report, kind=EventKind.CITIZEN_INFO).exists()


def test_unknown_recipient_is_refused_at_rcpt(mailbox):
    assert mailbox.deliver(with_two_photos(), to="alcalde@example.cl") == (550, "5.1.1 Unknown recipient")
    assert nothing_written() == NOTHING


def test_message_over_the_size_limit_is_refused(mailbox):
    big = with_two_photos(photos=[("grande.jpg", "image/jpeg", os.urandom(MAX_BYTES))])

    code, _reply = mailbox.deliver(big)

    assert code == 552
    assert nothing_written() == NOTHING


def test_without_its_topic_the_receiver_refuses_to_start(communes, settings):
    settings.GEO_SIAC_EMAIL_TOPIC = "no-existe"

    with pytest.raises(CommandError, match="GEO_SIAC_EMAIL_TOPIC='no-existe' is not an active topic"):
        call_command("receive_email", "--bind", "127.0.0.1:1")


def test_with_two_comunas_and_no_address_map_the_receiver_refuses_to_start(communes, settings):
    settings.GEO_SIAC_EMAIL_COMMUNES = {}

    with pytest.raises(CommandError, match="2 comunas are served: set GEO_SIAC_EMAIL_COMMUNES"):
        call_command("receive_email", "--bind", "127.0.0.1:1")


def test_email_topic_is_a_request_without_a_place(mailbox):
    code, reply = mailbox.deliver(email(subject="Consulta", body="¿Qué horario tiene patentes?"))

    assert code == 250, reply
    report = Report.objects.get()
    assert report.location is None
    assert not rule(report.kind).place_required


def test_a_reply_without_dmarc_pass_files_a_new_request_and_leaves_the_quoted_one_alone(mailbox):
    mailbox.deliver(with_two_photos())
    original = Report.objects.get()
    unchecked = email(subject=f"Re: {original.tracking_code}", body="Den por cerrada mi solicitud.")
    forged = email(
        subject=f"Re: {original.tracking_code}",
        body="Otra vez.",
        Authentication_Results="mx.example.cl; dmarc=pass header.from=example.cl",  # not the municipality's MTA
    )

    for message in (unchecked, forged):
        code, reply = mailbox.deliver(message)
        assert code == 250, reply
        assert " created " in reply
    assert Report.objects.count() == 3
    assert not ReportEvent.objects.filter(report=original, kind=EventKind.CITIZEN_INFO).exists()


def test_photos_over_the_cap_are_not_saved_and_named_to_the_sender(mailbox):
    colours = ["red", "blue", "green", "white", "black", "yellow"]
    message = with_two_photos(photos=[(f"foto{i}.jpg", "image/jpeg", jpeg(c)) for i, c in enumerate(colours, 1)])

    code, reply = mailbox.deliver(message)

    assert code == 250, reply
    report = Report.objects.get()
    assert report.photos.count() == 4
    notice = Notification.objects.get(subject__contains="adjuntos no guardados")
    assert "- foto5.jpg: se guardan hasta 4 adjuntos por correo." in notice.body
    assert "- foto6.jpg: se guardan hasta 4 adjuntos por correo." in notice.body
    assert "foto4.jpg" not in notice.body


def test_a_sender_over_the_limit_is_asked_to_retry_later_and_nothing_is_written(mailbox):
    for n in range(PER_SENDER):
        assert mailbox.deliver(email(subject=f"Consulta {n}", body="Hola"))[0] == 250
    before = nothing_written()

    code, reply = mailbox.deliver(email(subject="Una más", body="Hola"))
    other = mailbox.deliver(email(sender="Otro <otro@example.cl>", body="Hola"), mail_from="otro@example.cl")

    assert (code, reply) == (450, "4.7.1 Too many messages from this sender, try again later")
    assert other[0] == 250  # the limit is per sender
    assert nothing_written() == before | {
        "requests": PER_SENDER + 1,
        "emails": PER_SENDER + 1,
        "messages": PER_SENDER + 1,
    }


def test_mail_from_the_systems_own_addresses_is_refused_as_a_loop(mailbox):
    own_inbox = mailbox.deliver(email(sender=f"OIRS <{PENALOLEN_OIRS}>", body="Hola"), mail_from=PENALOLEN_OIRS)
    own_outbox = mailbox.deliver(email(sender="GeoSIAC <no-responder@geosiac.localhost>", body="Su solicitud ..."))

    assert own_inbox == (550, "5.1.7 El correo viene de una direccion de este mismo sistema.")
    assert own_outbox == own_inbox
    assert nothing_written() == NOTHING


def test_another_sender_reusing_a_message_id_is_filed_not_dropped(mailbox):
    first = email(body="Hola, consulta sobre patentes.")
    second = email(sender="Otro <otro@example.cl>", body="Consulta sobre aseo.")
    second.replace_header("Message-ID", first["Message-ID"])

    assert mailbox.deliver(first)[0] == 250
    code, reply = mailbox.deliver(second, mail_from="otro@example.cl")

    assert code == 250, reply
    assert " created " in reply
    assert sorted(Report.objects.values_list("reporter_email", flat=True)) == ["otro@example.cl", "rosa@example.cl"]


def test_a_new_request_drops_the_quoted_thread_and_a_long_text_is_cut_filed_and_told(mailbox):
    quoted = email(
        subject="Fwd: basura",
        body="Sigue la basura en la esquina.\n\nEl lun, 4 may 2026, Vecina <v@example.cl> escribió:\n> Texto antiguo\n",
    )
    long_text = email(subject="Reclamo largo", body="palabra " * 1000)

    assert mailbox.deliver(quoted)[0] == 250
    code, reply = mailbox.deliver(long_text)

    assert code == 250, reply
    first, second = Report.objects.order_by("pk")
    assert first.description == "Fwd: basura\n\nSigue la basura en la esquina."
    assert len(second.description) <= 4000 and second.description.startswith("Reclamo largo\n\npalabra palabra")
    notice = Notification.objects.get(subject__contains="texto recortado")
    assert notice.report == second and "superaba los 4000 caracteres" in notice.body


def test_a_long_reply_is_cut_added_to_the_request_and_the_sender_told(mailbox):
    mailbox.deliver(with_two_photos())
    report = Report.objects.get()
    long_reply = email(subject=f"Re: {report.tracking_code}", body="sigue " * 1000, Authentication_Results=DMARC_PASS)

    code, reply = mailbox.deliver(long_reply)

    assert (code, reply) == (250, f"2.0.0 attached {report.tracking_code}")
    added = ReportEvent.objects.get(report=report, kind=EventKind.CITIZEN_INFO)
    assert len(added.note) <= 4000 and added.note.startswith("sigue sigue")
    notice = Notification.objects.get(subject__contains="texto recortado")
    assert notice.report == report and notice.recipient == "rosa@example.cl"
