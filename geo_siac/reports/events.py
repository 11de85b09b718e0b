"""The citizen's lines of the public events GeoSIAC writes itself (a reclassification, a rerouting, the Ley 20.285
steps): kept as a line's name and its parameters (ReportEvent.data), and worded by event_text in each reader's
language, dates by the locale's DATE_FORMAT. Every reader words them here: the tracking page and "Mis solicitudes",
the staff's history (the report page, the admin's inline), the notices, and the stored note published in the
installation's language (Open311, webhooks)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import TextChoices
from django.utils import translation
from django.utils.functional import Promise
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.kinds import DenialGround, LegalOutcome, RequestKind
from geo_siac.catalogue.models import localized_value
from geo_siac.reports.deadlines import local_day, written_day


@dataclass(frozen=True)
class Line:
    text: Promise | str
    # What the notice says, where it words the line for the citizen it is sent to; the history's line otherwise.
    notice: Promise | None = None
    dates: tuple[str, ...] = ()
    # Parameters kept as a value of these choices, worded by their label.
    labels: tuple[tuple[str, type[TextChoices]], ...] = ()
    # (parameter, sentence): sentences said only when their parameter is not empty.
    optional: tuple[tuple[str, Promise], ...] = ()
    # The history's heading of the event, where its kind's would be ambiguous (a subsanación asked and answered).
    title: Promise | None = None
    # Parameters a page shows as a link: web addresses GeoSIAC keeps itself (an institution's), never typed text.
    links: tuple[str, ...] = ()


LINES = {
    "rerouted": Line(
        _("Derivada a %(department)s."),
        notice=_("Su solicitud fue derivada a %(department)s, que ahora es responsable de responderle."),
    ),
    "reclassified": Line(
        _(
            "Su solicitud, recibida como «%(from)s», quedó registrada como «%(to)s» (%(category)s). "
            "El plazo para responderle es el %(day)s."
        ),
        dates=("day",),
        labels=(("from", RequestKind), ("to", RequestKind)),
    ),
    # The same, when the new topic also leaves another department responsible: one line, not a rerouting's too.
    "reclassified_department": Line(
        _(
            "Su solicitud, recibida como «%(from)s», quedó registrada como «%(to)s» (%(category)s) y ahora la "
            "responde %(department)s. El plazo para responderle es el %(day)s."
        ),
        dates=("day",),
        labels=(("from", RequestKind), ("to", RequestKind)),
    ),
    "information_extended": Line(
        _("El plazo para responder se prorrogó %(days)d días hábiles, del %(from)s al %(to)s (Ley 20.285, art. 14)."),
        dates=("from", "to"),
    ),
    "correction_requested": Line(
        _(
            "Necesitamos que corrija o complete su solicitud hasta el %(day)s; si no lo hace, se "
            "tendrá por desistida (Ley 20.285, art. 12)."
        ),
        dates=("day",),
        title=_("Subsanación pedida"),
    ),
    "correction_received": Line(
        _("Subsanación recibida: el plazo de 20 días hábiles corre de nuevo, hasta el %(day)s."),
        dates=("day",),
        title=_("Subsanación recibida"),
    ),
    "referred": Line(
        _("Derivada a %(body)s, el organismo competente."),
        optional=(("contact", _("Cómo contactarlo: %(contact)s")), ("url", _("Sitio web: %(url)s"))),
        links=("url",),
    ),
    # The legal outcome of a Ley 20.285 answer (services.information.report_answer), before the officer's answer.
    "answered": Line("%(outcome)s.", labels=(("outcome", LegalOutcome),)),
    "answered_ground": Line("%(outcome)s (%(ground)s).", labels=(("outcome", LegalOutcome), ("ground", DenialGround))),
    "correction_lapsed": Line(
        _("No se recibió la subsanación hasta el %(day)s: la solicitud se tiene por desistida (Ley 20.285, art. 12)."),
        dates=("day",),
    ),
}


def kept_value(value):
    if isinstance(value, datetime):
        return local_day(value).isoformat()
    return value.isoformat() if isinstance(value, date) else value


def event_data(line: str, params: dict, reason: str = "") -> dict:
    """ReportEvent.data of LINES[line] with `params` (a day or datetime kept as its local day, worded when read)
    and what the officer typed for the citizen, kept as typed."""
    if line not in LINES:
        raise ValueError(f"unknown event line: {line}")
    kept = {name: kept_value(value) for name, value in params.items()}
    return {"line": line, "params": kept, **({"reason": reason} if reason else {})}


def bilingual(obj, field: str) -> dict:
    """A parameter of a catalogue name kept in both its languages (catalogue.models.localized), worded in the
    reader's."""
    return {"es": getattr(obj, f"{field}_es"), "en": getattr(obj, f"{field}_en")}


def worded(line: Line, name: str, value):
    if isinstance(value, dict):
        return localized_value(value["es"], value["en"])
    if name in line.dates:
        return written_day(date.fromisoformat(value))
    if choices := dict(line.labels).get(name):
        return str(choices(value).label)
    return value


def legacy_data(event) -> dict | None:
    """The data of a public rerouting written before lines were data: its note was already only the department."""
    if event.rerouted_to:
        return {"line": "rerouted", "params": {"department": event.rerouted_to}}
    return None


def data_redacted(data: dict, redact: Callable[[str], str]) -> dict:
    """`data` with `redact` applied to its free text: what the officer typed (`reason`) and every text parameter but
    the line's dates and choices (a name may be typed anywhere an officer types), for an erasure
    (services.erasure)."""
    line = LINES.get(data.get("line"))
    fixed = set(line.dates) | set(dict(line.labels)) if line else set()

    def each(value):
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, dict):
            return {key: each(item) for key, item in value.items()}
        return value

    params = {name: value if name in fixed else each(value) for name, value in data.get("params", {}).items()}
    return {**data, "params": params, **({"reason": redact(data["reason"])} if "reason" in data else {})}


def event_line(event) -> tuple[Line, dict] | None:
    """The event's line and its data; None for an event without one (a person's note, an event written before lines
    were data) and for a line this version does not know (written by a newer one, or removed since)."""
    data = event.data or legacy_data(event)
    line = LINES.get(data.get("line")) if data else None
    return (line, data) if line else None


def line_sentences(line: Line, data: dict, *, notice: bool = False, html: bool = False) -> str:
    """The line worded in the active language; `html`: its parameters escaped and its links (Line.links) made."""
    params = {name: worded(line, name, value) for name, value in data["params"].items()}
    if html:
        params = {name: shown(value, link=name in line.links) for name, value in params.items()}
    sentences = [
        line.notice if notice and line.notice else line.text,
        *(sentence for name, sentence in line.optional if params.get(name)),
    ]
    if html:
        return mark_safe(" ".join(conditional_escape(str(sentence)) % params for sentence in sentences))
    return " ".join(str(sentence) % params for sentence in sentences)


def shown(value, *, link: bool):
    if not isinstance(value, str):
        return value
    if link and urlsplit(value).scheme in ("http", "https"):
        return format_html('<a href="{}" rel="noopener">{}</a>', value, value)
    return conditional_escape(value)


def event_text(event, language: str, *, notice: bool = False) -> str:
    """The event's note as a reader of `language` reads it: its line worded from `data`, then what the officer typed;
    an event without a line (event_line) as it was stored. `notice`: the wording of the notice sent with it."""
    found = event_line(event)
    if found is None:
        return event.note
    line, data = found
    with translation.override(language):
        text = line_sentences(line, data, notice=notice)
    # A notice keeps the officer's words on a line of their own, as it did before lines were data.
    return ("\n" if notice else " ").join(part for part in (text, data.get("reason", "")) if part)


def event_html(event, language: str) -> str:
    """event_text for a page: escaped, an institution's web address as a link, and what the officer typed on a line
    of its own (run on after an address it read as part of it)."""
    found = event_line(event)
    if found is None:
        return conditional_escape(event.note)
    line, data = found
    with translation.override(language):
        text = line_sentences(line, data, html=True)
    return mark_safe("<br>".join(conditional_escape(part) for part in (text, data.get("reason", "")) if part))


def event_title(event, language: str) -> str:
    """The event's heading in a history (the citizen's, the staff's): its line's title (Line.title), or its kind's."""
    found = event_line(event)
    with translation.override(language):
        return str(found[0].title) if found and found[0].title else event.get_kind_display()


def stored_note(event) -> str:
    """The note kept with a line's event: its text in the installation's language, which the readers of a column
    (Open311's status_notes, published_events) publish; a rerouting keeps only its department
    (models.PUBLIC_REROUTING), which they word themselves."""
    if event.data["line"] == "rerouted":
        return event.data["params"]["department"]
    return event_text(event, settings.LANGUAGE_CODE)
