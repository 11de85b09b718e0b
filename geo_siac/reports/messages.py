"""The text of the messages citizens receive, in the language each one chose."""

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from geo_siac.reports.models import Report
from geo_siac.reports.states import CLOSED, Status

SURVEY_SALT = "geo_siac.reports.survey"


def survey_token(report: Report) -> str:
    return signing.dumps(report.tracking_code, salt=SURVEY_SALT)


def tracking_code_from_survey_token(token: str) -> str | None:
    try:
        return signing.loads(token, salt=SURVEY_SALT, max_age=settings.GEO_SIAC_SURVEY_MAX_AGE_DAYS * 86400)
    except signing.BadSignature:
        return None


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def received_message(report: Report, language: str) -> tuple[str, str]:
    with translation.override(language):
        subject = _("Recibimos su solicitud %(code)s") % {"code": report.tracking_code}
        body = _(
            "Su solicitud «%(category)s» fue recibida con el código %(code)s.\n"
            "Responsable: %(department)s.\nPuede seguirla en %(link)s"
        ) % {
            "category": report.category.name,
            "code": report.tracking_code,
            "department": report.category.department_name,
            "link": absolute(reverse("reports:tracking", args=[report.tracking_code])),
        }
    return subject, body


def status_message(report: Report, language: str, note: str = "") -> tuple[str, str]:
    with translation.override(language):
        subject = _("Su solicitud %(code)s: %(status)s") % {
            "code": report.tracking_code, "status": Status(report.status).label,
        }
        lines = [
            _("La solicitud %(code)s («%(category)s») cambió a: %(status)s.") % {
                "code": report.tracking_code, "category": report.category.name, "status": Status(report.status).label,
            }
        ]
        if note:
            lines.append(note)
        if report.duplicate_of_id is not None:
            original = report.duplicate_of.tracking_code
            lines.append(_("Es el mismo problema que la solicitud %(original)s: lo atendemos allí y usted recibirá "
                           "sus avisos. Siga la solicitud %(original)s en %(link)s") % {
                "original": original, "link": absolute(reverse("reports:tracking", args=[original]))
            })
        else:
            lines.append(_("Siga la solicitud en %(link)s") % {
                "link": absolute(reverse("reports:tracking", args=[report.tracking_code]))
            })
        if report.status in CLOSED and report.duplicate_of_id is None:
            lines.append(_("¿Cómo lo hicimos? Responda la encuesta de un minuto: %(link)s") % {
                "link": absolute(reverse("reports:survey", args=[survey_token(report)]))
            })
    return subject, "\n".join(lines)
