"""What a closed request offers its citizen: reopening it ("No fue resuelto") and the satisfaction survey. One rule
that the closing message (email, SMS, WhatsApp), the tracking page, Mis solicitudes, the reopening link's page and the
services all ask, so none offers what another refuses (docs/request-kinds.md)."""

from django.conf import settings
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import Action, RequestKind, allows, rule
from geo_siac.reports.deadlines import add_business_days, local_day, written_day
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.states import CLOSED, MUNICIPAL_WORK, OPEN, Status
from geo_siac.zones.selectors import closed_days


def reopen_window_error(report: Report) -> str | None:
    """Why a closed report can no longer be reopened: past GEO_SIAC_REOPEN_BUSINESS_DAYS business days (weekends,
    Chilean holidays and the installation's closed days do not count) after the local day of its closing."""
    days = settings.GEO_SIAC_REOPEN_BUSINESS_DAYS
    # Within `days` business days of closing = before the (days + 1)-th: counts `days` days, not every day since.
    if local_day(timezone.now()) < add_business_days(local_day(report.closed_at), days + 1, closed_days=closed_days()):
        return None
    return _(
        "Solo se puede reabrir dentro de %(days)d días hábiles desde el cierre (%(closed)s). Si el problema "
        "sigue, ingrese una nueva solicitud."
    ) % {"days": days, "closed": written_day(report.closed_at)}


def closed_by_letter(report: Report) -> bool:
    """Whether the report's current closing is an answer letter's: a letter issued since it was last reopened (a
    letter is issued in its closing's transaction, a moment before closed_at), not one answering an earlier closing."""
    letters = report.letters.all()
    if report.times_reopened:
        last_reopened = (
            ReportEvent.objects.filter(report=report, kind=EventKind.STATUS, from_status__in=CLOSED, to_status__in=OPEN)
            .order_by("-created_at")
            .values("created_at")[:1]
        )
        letters = letters.filter(issued_at__gte=Subquery(last_reopened))
    return letters.exists()


def citizen_reopen_refusal(report: Report) -> str | None:
    """Why a citizen may not reopen the report ("No fue resuelto"), or None. By kind, status, outcome and time: not
    where the law gives its own remedy (an answer letter names it) nor where the request went elsewhere; nor a
    withdrawal (the citizen's own, or a subsanación left unanswered, Ley 20.285 art. 12), which a new request
    replaces."""
    if report.duplicate_of_id is not None:
        return _(
            "Esta solicitud se unió a la solicitud %(original)s, que atiende el mismo problema: siga o reabra esa "
            "solicitud."
        ) % {"original": report.duplicate_of.tracking_code}
    if report.status not in CLOSED:
        return _("La solicitud %(code)s sigue abierta: no hay nada que reabrir. Puede agregarle información.") % {
            "code": report.tracking_code
        }
    if not allows(report.kind, Action.CITIZEN_REOPEN):
        return _(
            "Una solicitud de tipo «%(kind)s» no se reabre: si no está conforme con la respuesta, puede "
            "presentar una nueva solicitud o un reclamo."
        ) % {"kind": RequestKind(report.kind).label}
    if report.status == Status.CLOSED_WITHDRAWN:
        return _(
            "Esta solicitud se cerró por desistimiento y no se reabre: si lo necesita, ingrese una nueva solicitud."
        )
    if (remedy := rule(report.kind).letter_remedy) and closed_by_letter(report):
        # Two remedies with two deadlines would leave the citizen to guess which one counts: the law's is the one.
        return _("Se respondió con una carta, que no se reabre. %(remedy)s") % {"remedy": remedy}
    if report.status == Status.CLOSED_NOT_MUNICIPAL and report.referred_to_id is not None:
        return _(
            "Esta solicitud no corresponde al municipio y no se reabre aquí: diríjase al organismo que indica el "
            "historial."
        )
    if report.status == Status.CLOSED_NOT_MUNICIPAL:  # no body named: the citizen may still think it municipal
        return _(
            "Esta solicitud no corresponde al municipio y no se reabre aquí: si cree que es municipal, ingrese una "
            "nueva solicitud."
        )
    return reopen_window_error(report)


def citizen_may_reopen(report: Report) -> bool:
    return citizen_reopen_refusal(report) is None


def offers_survey(report: Report) -> bool:
    """The survey asks about work the municipality did: not a merge, a withdrawal or a request that went
    elsewhere."""
    return report.status in MUNICIPAL_WORK and report.duplicate_of_id is None
