"""The one place that defines report states, their groups and the allowed transitions."""

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.kinds import RequestKind, answers_by_letter, closing_by_law


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Recibida")
    ACKNOWLEDGED = "acknowledged", _("Acogida")
    IN_PROGRESS = "in_progress", _("En ejecución")
    RESOLVED = "resolved", _("Resuelta")
    CLOSED_DUPLICATE = "closed_duplicate", _("Cerrada: duplicada")
    CLOSED_NOT_MUNICIPAL = "closed_not_municipal", _("Cerrada: no corresponde al municipio")
    CLOSED_UNFIXABLE = "closed_unfixable", _("Cerrada: no se pudo resolver")
    # Ley 20.285 art. 12: a subsanación not answered in time; or a citizen who withdrew the request.
    CLOSED_WITHDRAWN = "closed_withdrawn", _("Cerrada: desistida")


OPEN = frozenset({Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS})
CLOSED = frozenset(Status) - OPEN
# The closings after work the municipality did itself, which its survey asks about (reports.closing.offers_survey):
# not a merge, a withdrawal, or a request that belonged elsewhere.
MUNICIPAL_WORK = frozenset({Status.RESOLVED, Status.CLOSED_UNFIXABLE})

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.SUBMITTED: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, *CLOSED}),
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, *CLOSED}),
    Status.IN_PROGRESS: frozenset({Status.ACKNOWLEDGED, *CLOSED}),
    # Reopening: a closed report goes back to work and counts as reopened in the indicators.
    Status.RESOLVED: frozenset({Status.IN_PROGRESS}),
    Status.CLOSED_DUPLICATE: frozenset({Status.ACKNOWLEDGED}),
    Status.CLOSED_NOT_MUNICIPAL: frozenset({Status.ACKNOWLEDGED}),
    Status.CLOSED_UNFIXABLE: frozenset({Status.ACKNOWLEDGED}),
    Status.CLOSED_WITHDRAWN: frozenset({Status.ACKNOWLEDGED}),
}


def is_open(status: str) -> bool:
    return status in OPEN


def status_names() -> dict[str, str]:
    """Each status's name in the active language, for a page that names many reports' statuses: looked up once
    rather than through gettext (or get_status_display) per report."""
    return {value: str(label) for value, label in Status.choices}


def open311_status(status: str) -> str:
    """GeoReport v2 knows only 'open' and 'closed'."""
    return "open" if is_open(status) else "closed"


# The statuses of FixMyStreet's Open311 extension (GET servicerequestupdates), which says more than open/closed.
OPEN311_UPDATE_STATUS = {
    Status.SUBMITTED: "open",
    Status.ACKNOWLEDGED: "investigating",
    Status.IN_PROGRESS: "in_progress",
    Status.RESOLVED: "fixed",
    Status.CLOSED_DUPLICATE: "duplicate",
    Status.CLOSED_NOT_MUNICIPAL: "not_councils_responsibility",
    Status.CLOSED_UNFIXABLE: "no_further_action",
}


def open311_update_status(status: str) -> str:
    return OPEN311_UPDATE_STATUS.get(status) or open311_status(status)


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def resolved_only_by_letter(kind: str, target: str) -> bool:
    """A kind answered by a formal letter (reclamo, Ley 20.285) reaches "resuelta" only with its letter
    (reports.services.report_answer), never by a bare change of status."""
    return target == Status.RESOLVED and answers_by_letter(kind)


def resolved_only_by_letter_message(kind: str) -> str:
    """Why a bare move to "resuelta" is refused: the service and the status form say the same."""
    return gettext("Una solicitud de tipo «%(kind)s» se resuelve respondiendo con carta.") % {
        "kind": RequestKind(kind).label
    }


def transitions_by_hand(current: str, kind: str) -> list[Status]:
    """The statuses a person may move a report of `kind` to from `current` without a letter or a legal step, in
    Status order: what report_change_status accepts, so a form offers no choice the service would refuse."""
    return [
        s
        for s in Status
        if can_transition(current, s) and not resolved_only_by_letter(kind, s) and not closing_by_law(kind, s)
    ]


# The outcomes the citizen is told of with a reason: what was done, or why nothing will be. A merge names the original
# and a withdrawal is the citizen's own, so those two explain themselves.
PUBLIC_TEXT_REQUIRED = frozenset({Status.RESOLVED, Status.CLOSED_NOT_MUNICIPAL, Status.CLOSED_UNFIXABLE})


# Kept in the rule, not only in a form: a change queued offline is checked at its replay, where there is no form.
PUBLIC_TEXT_MAX_LENGTH = 2000


def public_text(public_note: str | None, note: str = "", note_is_public: bool = False) -> str:
    """What a status change tells the citizen: the reply, and a note ticked visible (the bulk form, and changes queued
    on phones before the reply box existed, still send one)."""
    return "\n\n".join(t for t in ((public_note or "").strip(), note.strip() if note_is_public else "") if t)


def public_text_refusal(target: str, public_text: str) -> str:
    """Why a person's change to `target` is refused for its text for the citizen (missing or too long), or "" when it
    may go: the crew's status form, the supervisor's, a bulk change and a change queued offline all ask this."""
    if len(public_text) > PUBLIC_TEXT_MAX_LENGTH:
        return gettext("La respuesta al vecino tiene %(length)d caracteres; el máximo es %(max)d.") % {
            "length": len(public_text),
            "max": PUBLIC_TEXT_MAX_LENGTH,
        }
    return public_text_missing_message() if target in PUBLIC_TEXT_REQUIRED and not public_text.strip() else ""


def public_text_missing_message() -> str:
    """Said by the server and, before an offline change is queued, by the phone (the status form carries it)."""
    return gettext("Escriba qué se hizo, para el vecino: lo verá en el seguimiento y en el aviso.")


def reopening_status(status: str) -> str:
    """The open status a closed report goes back to when reopened: each closed status allows exactly one."""
    (target,) = TRANSITIONS[status] & OPEN
    return target


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    PHONE = "phone", _("Teléfono")
    IN_PERSON = "in_person", _("Presencial (OIRS)")
    OPEN311 = "open311", _("API Open311")
    EMAIL = "email", _("Correo electrónico")
    SOCIAL = "social", _("Redes sociales")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    IMPORT = "import", _("Importación")
    # The QR code of a service point's suggestion box, opened on the citizen's own phone (attention.suggestion_box):
    # its own channel so each point's box is counted apart from the web page and the desk.
    SUGGESTION_BOX = "suggestion_box", _("Buzón QR de un punto de atención")


# The channels' values for a membership check: Django's Choices.values builds its list on every read.
CHANNEL_VALUES = frozenset(Channel.values)


# The citizen files it on a device of their own: the QR box is a web form, so it counts as digital.
DIGITAL_CHANNELS = frozenset(
    {Channel.WEB, Channel.OPEN311, Channel.EMAIL, Channel.SOCIAL, Channel.WHATSAPP, Channel.SMS, Channel.SUGGESTION_BOX}
)
