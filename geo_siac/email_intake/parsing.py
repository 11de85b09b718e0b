"""A received message, read into what the email channel files: who sent it, its subject and text, its attachments,
the tracking codes it quotes, whether a machine wrote it and whether the receiving MTA found it DMARC-aligned.
Pure: no database."""

import hashlib
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses
from html.parser import HTMLParser

from geo_siac.email_intake.models import MESSAGE_ID_MAX_LENGTH
from geo_siac.reports.tracking import find_tracking_codes
from geo_siac.text import CONTROL_CHARACTERS

# RFC 8601's result of a DMARC check, as a whole word: "dmarc=pass", not "x-dmarc=pass".
DMARC_RESULT = re.compile(r"(?:^|[\s;])dmarc\s*=\s*([a-z]+)", re.IGNORECASE)
# RFC 3834 and the headers the common autoresponders set instead: an answer to them could loop with our own.
AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
AUTOMATIC_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")
# Where a client starts quoting the message answered: "El lun, ... escribió:", "On ... wrote:", Outlook's header.
ATTRIBUTION = re.compile(r"(escribi[óo]|wrote)\s*:\s*$", re.IGNORECASE)
FORWARDED_ORIGINAL = re.compile(r"^\s*-{2,}\s*(mensaje original|original message)", re.IGNORECASE)
BLOCK_TAGS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"})


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str
    sender_email: str
    sender_name: str
    subject: str
    text: str
    attachments: list[Attachment] = field(default_factory=list)
    automatic: bool = False
    dmarc_pass: bool = False

    def tracking_codes(self) -> list[str]:
        """The codes quoted in the subject, then the text, in order, each once."""
        return find_tracking_codes(f"{self.subject}\n{self.text}")

    def reply_text(self) -> str:
        """The text without what it quotes of earlier messages: what a reply adds."""
        kept = []
        for line in self.text.splitlines():
            if FORWARDED_ORIGINAL.match(line):
                break
            if line.lstrip().startswith(">"):
                continue
            kept.append(line)
        while kept and (not kept[-1].strip() or ATTRIBUTION.search(kept[-1])):
            kept.pop()
        return clean_text("\n".join(kept))


class TextOfHtml(HTMLParser):
    """The readable text of an HTML body: scripts and styles dropped, a line break at each block."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self.hidden += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    parser = TextOfHtml()
    parser.feed(html)
    parser.close()
    return "\n".join(re.sub(r"[ \t\xa0]+", " ", line).strip() for line in "".join(parser.parts).splitlines())


def clean_text(text: str) -> str:
    text = CONTROL_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", CONTROL_CHARACTERS.sub("", text)).strip()


def message_key(message: EmailMessage, raw: bytes) -> str:
    """The Message-ID, or the digest of the message when it has none (or an absurd one): a re-delivery by the same
    MTA carries the same bytes."""
    message_id = one_line(str(message.get("Message-ID", "")))
    if message_id and len(message_id) <= MESSAGE_ID_MAX_LENGTH:
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def is_automatic(message: EmailMessage, envelope_sender: str) -> bool:
    """A bounce (empty envelope sender), an autoresponder's or a list's message: never a citizen's request."""
    if not envelope_sender.strip("<> "):
        return True
    if str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        return True
    if str(message.get("Precedence", "")).strip().lower() in AUTOMATIC_PRECEDENCE:
        return True
    return any(name in message for name in AUTOMATIC_HEADERS)


def dmarc_passed(message: EmailMessage, authserv_id: str) -> bool:
    """Whether the trusted MTA's DMARC result (an Authentication-Results header whose authserv-id, RFC 8601, is
    `authserv_id`) is pass. The first such header with a dmarc result decides: the MTA's milter adds its own at the
    top, so one of the same name further down, written by the sender, is never read after it."""
    if not authserv_id:
        return False
    for header in message.get_all("Authentication-Results") or []:
        served_by, _, results = one_line(str(header)).partition(";")
        if served_by.lower().split()[:1] == [authserv_id.lower()] and (result := DMARC_RESULT.search(results)):
            return result.group(1).lower() == "pass"
    return False


def body_text(message: EmailMessage) -> tuple[str, EmailMessage | None]:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return "", None
    content = body.get_content()
    if body.get_content_subtype() == "html":
        content = html_text(content)
    return clean_text(content), body


def attachments(message: EmailMessage, body: EmailMessage | None) -> list[Attachment]:
    """Every leaf part but the body and its alternative text versions: files, inline images, a forwarded photo."""
    found = []
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        filename = one_line(part.get_filename() or "")
        if part.get_content_maintype() == "text" and not filename:
            continue
        found.append(
            Attachment(
                filename=filename or f"adjunto-{len(found) + 1}",
                content_type=part.get_content_type(),
                data=part.get_payload(decode=True) or b"",
            )
        )
    return found


def parse_email(raw: bytes, *, envelope_sender: str, authserv_id: str = "") -> ParsedEmail:
    message = message_from_bytes(raw, policy=policy.default)
    addresses = [(name, address) for name, address in getaddresses([str(message.get("From", ""))]) if address]
    name, address = addresses[0] if addresses else ("", "")
    text, body = body_text(message)
    return ParsedEmail(
        message_id=message_key(message, raw),
        sender_email=one_line(address),
        sender_name=one_line(name),
        subject=one_line(str(message.get("Subject", ""))),
        text=text,
        attachments=attachments(message, body),
        automatic=is_automatic(message, envelope_sender),
        dmarc_pass=dmarc_passed(message, authserv_id),
    )
