"""The text of the messages citizens receive, in the language each one chose."""

from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from geo_siac.reports.closing import offers_survey
from geo_siac.reports.deadlines import written_day
from geo_siac.reports.models import AnswerLetter, Report
from geo_siac.reports.requester import LETTER_KEY, letter_key
from geo_siac.reports.responsibility import citizen_responsible
from geo_siac.reports.selectors import email_key
from geo_siac.reports.states import CLOSED, Status
from geo_siac.zones.selectors import commune_public_host, municipality_sender_name

SURVEY_SALT = "geo_siac.reports.survey"
REOPEN_SALT = "geo_siac.reports.reopen"
# The reopening window (GEO_SIAC_REOPEN_BUSINESS_DAYS) is checked by report_reopen_by_citizen; the link only has to
# outlive it, holidays included.
REOPEN_LINK_MAX_AGE_DAYS = 31


def survey_token(report: Report) -> str:
    return signing.dumps(report.tracking_code, salt=SURVEY_SALT)


def tracking_code_from_survey_token(token: str) -> str | None:
    try:
        return signing.loads(token, salt=SURVEY_SALT, max_age=settings.GEO_SIAC_SURVEY_MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        return None


def reopen_token(report: Report, email: str) -> str:
    """The closing message's "No fue resuelto" link for one recipient: it names the report and who may reopen it."""
    return signing.dumps([report.tracking_code, email.lower()], salt=REOPEN_SALT)


def reopen_from_token(token: str) -> tuple[str, str] | None:
    """(tracking code, email) of a reopening link, or None when it was altered or is too old."""
    try:
        code, email = signing.loads(token, salt=REOPEN_SALT, max_age=REOPEN_LINK_MAX_AGE_DAYS * 86400)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return code, email


def letter_url(letter: AnswerLetter, *, pdf: bool = False, keyed: bool = False, key: str = "") -> str:
    """The letter's page or PDF; `keyed`, the link sent to the requester, which opens it in any browser until it
    expires; `key`, a link's own key carried on (never a fresh one: it would outlive the link it came from)."""
    view = "reports:letter_pdf" if pdf else "reports:letter"
    url = reverse(view, args=[letter.report.tracking_code, letter.number])
    key = key or (letter_key(letter.report) if keyed else "")
    return letter_keyed(url, key)


def letter_keyed(url: str, key: str) -> str:
    """`url` (a letter, its PDF or a document it delivered) with the letter's `key` (reports.requester.letter_key),
    which opens it in any browser until it expires; unchanged without one."""
    return f"{url}?{urlencode({LETTER_KEY: key})}" if key else url


def absolute(path: str, host: str | None = None) -> str:
    """`path` as a link to send: on `host`, a comuna's own (commune_public_host), else on SITE_URL. The prefix of a
    comuna chosen on the shared host, if a page of it is writing the message, is dropped either way: a comuna's host
    serves its pages at the root, and the request may be another comuna's."""
    relative = path.removeprefix(get_script_prefix())
    if not host:
        return f"{settings.SITE_URL.rstrip('/')}/{relative}"
    return f"{urlsplit(settings.SITE_URL).scheme}://{host}/{relative}"


def received_message(report: Report, language: str, email: bool = True) -> tuple[str, str]:
    """The receipt of a new request; an `email` one also says by when the answer is due and where Mis solicitudes
    is (an SMS or WhatsApp reply keeps to one paid segment's worth of text)."""
    host = commune_public_host(report.commune_id)
    with translation.override(language):
        subject = _("Recibimos su solicitud %(code)s") % {"code": report.tracking_code}
        label, responsible = citizen_responsible(report)
        body = _(
            "Su solicitud «%(category)s» fue recibida con el código %(code)s.\n"
            "%(label)s: %(department)s.\nPuede seguirla en %(link)s"
        ) % {
            "category": report.category.name,
            "code": report.tracking_code,
            "label": label,
            "department": responsible,
            "link": absolute(reverse("reports:tracking", args=[report.tracking_code]), host),
        }
        lines = [body]
        if email:  # what the confirmation page says too; an email's reader signs in to Mis solicitudes with it
            lines.append(_("Plazo de respuesta: %(day)s.") % {"day": written_day(report.expected_at)})
            lines.append(my_reports_line())
    return subject, "\n".join(lines)


def my_reports_line() -> str:
    # The account is the installation's, and so are its sign-in and ClaveÚnica's return.
    return _("Vea todas sus solicitudes en %(link)s") % {"link": absolute(reverse("citizens:sign_in_request"))}


def sender_name(report: Report) -> str:
    """Who a request's emails are from and signed by: its comuna's municipality (zones.selectors)."""
    return municipality_sender_name(report.commune_id)


# The longest reopening reason an SMS carries (status_message).
SMS_REASON_CHARS = 80


def status_message(
    report: Report,
    language: str,
    note: str = "",
    email: str = "",
    letter: AnswerLetter | None = None,
    reopened: bool = False,
    reopenable: bool = False,
) -> tuple[str, str]:
    """The message of a status change; a closing one sent to `email` also links "Mis solicitudes" (an SMS
    recipient has no email to sign in with), and offers to reopen it if `reopenable` (reports.closing's
    citizen_may_reopen, asked once by the caller for all the recipients). An answer by `letter` links its page and PDF;
    a citizen's reopening (`reopened`) says so, its note being their reason."""
    host = commune_public_host(report.commune_id)
    with translation.override(language):
        subject = _("Su solicitud %(code)s: %(status)s") % {
            "code": report.tracking_code,
            # Back to work at the citizen's word, not yet worked on: the status alone would say work had started.
            "status": _("Reabierta") if reopened else Status(report.status).label,
        }
        lines = [
            _("La solicitud %(code)s («%(category)s») cambió a: %(status)s.")
            % {
                "code": report.tracking_code,
                "category": report.category.name,
                "status": Status(report.status).label,
            }
        ]
        if reopened:
            lines.append(_("Reabierta a pedido de quien la presentó o la sigue: indicó que no se resolvió."))
            # An SMS (no `email`) is paid by its parts: the reason is cut there, whole on the tracking page.
            reason = note if email else Truncator(note).chars(SMS_REASON_CHARS)
            lines.append(_("Motivo: %(reason)s") % {"reason": reason})
        elif note:
            lines.append(note)
        # The keyed links open a letter that names the requester: only theirs (an SMS goes to the reporter alone),
        # never a follower's, who may be anyone holding the tracking code.
        to_requester = not email or email_key(email) == email_key(report.reporter_email)
        if letter is not None and to_requester:
            links = {
                "page": absolute(letter_url(letter, keyed=True), host),
                "pdf": absolute(letter_url(letter, pdf=True, keyed=True), host),
            }
            if attached := len(letter.content.get("attachments", [])):  # the documents open from the letter's page
                line = ngettext(
                    "La carta de respuesta, con %(count)d documento adjunto: %(page)s (PDF: %(pdf)s)",
                    "La carta de respuesta, con %(count)d documentos adjuntos: %(page)s (PDF: %(pdf)s)",
                    attached,
                ) % {"count": attached, **links}
            else:
                line = _("La carta de respuesta: %(page)s (PDF: %(pdf)s)") % links
            lines.append(line)
        elif letter is not None:
            lines.append(_("Se respondió con una carta a quien presentó la solicitud."))
        if report.duplicate_of_id is not None:
            original = report.duplicate_of.tracking_code
            lines.append(
                _(
                    "Es el mismo problema que la solicitud %(original)s: lo atendemos allí y usted recibirá "
                    "sus avisos. Siga la solicitud %(original)s en %(link)s"
                )
                % {"original": original, "link": absolute(reverse("reports:tracking", args=[original]), host)}
            )
        else:
            lines.append(
                _("Siga la solicitud en %(link)s")
                % {"link": absolute(reverse("reports:tracking", args=[report.tracking_code]), host)}
            )
        # What a closing offers is reports.closing's rule, the one the pages and the reopening link ask.
        if offers_survey(report):
            lines.append(
                _("¿Cómo lo hicimos? Responda la encuesta de un minuto: %(link)s")
                % {"link": absolute(reverse("reports:survey", args=[survey_token(report)]), host)}
            )
        if email and report.status in CLOSED:
            if reopenable:
                lines.append(
                    _("¿No fue resuelto? Puede reabrirla dentro de %(days)d días hábiles: %(link)s")
                    % {
                        "days": settings.GEO_SIAC_REOPEN_BUSINESS_DAYS,
                        "link": absolute(reverse("citizens:reopen_link", args=[reopen_token(report, email)]), host),
                    }
                )
            lines.append(my_reports_line())
    return subject, "\n".join(lines)


def notice_message(report: Report, language: str, text: str) -> tuple[str, str]:
    """A notice about a request that does not change its status (a Ley 20.285 extension, a subsanación asked, a
    reclassification): `text`, already in the recipient's language (reports.events.event_text), and its link."""
    host = commune_public_host(report.commune_id)
    with translation.override(language):
        subject = _("Su solicitud %(code)s: aviso") % {"code": report.tracking_code}
        lines = [
            text,
            _("Siga la solicitud en %(link)s")
            % {"link": absolute(reverse("reports:tracking", args=[report.tracking_code]), host)},
        ]
    return subject, "\n".join(line for line in lines if line)


def letter_link_message(letter: AnswerLetter, language: str, *, sms: bool = False) -> tuple[str, str]:
    """A fresh link to `letter`, asked from its tracking page (services.letter_link_send): the page alone (it links
    its PDF). An `sms` (or WhatsApp) carries the code and the link only, without accents: one part, not three."""
    report = letter.report
    link = absolute(letter_url(letter, keyed=True), commune_public_host(report.commune_id))
    with translation.override(language):
        subject = _("Enlace nuevo a la carta de su solicitud %(code)s") % {"code": report.tracking_code}
        if sms:
            return subject, _("Carta de la solicitud %(code)s: %(link)s") % {"code": report.tracking_code, "link": link}
        body = _(
            "Su enlace nuevo a la carta de respuesta de la solicitud %(code)s, válido por %(days)d días: %(link)s\n"
            "Si usted no lo pidió, ignore este mensaje: solo quien lo recibe puede abrir la carta."
        ) % {"code": report.tracking_code, "days": settings.GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS, "link": link}
    return subject, body


def sign_in_message(link: str, language: str) -> tuple[str, str]:
    with translation.override(language):
        subject = _("Su enlace para entrar a Mis solicitudes")
        body = _(
            "Para ver sus solicitudes, abra este enlace dentro de %(minutes)d minutos. Sirve una sola vez.\n"
            "%(link)s\nSi usted no lo pidió, ignore este mensaje: nadie entra sin abrir el enlace."
        ) % {"minutes": settings.GEO_SIAC_SIGN_IN_LINK_MINUTES, "link": link}
    return subject, body
