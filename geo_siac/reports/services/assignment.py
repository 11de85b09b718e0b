"""Who handles a report and by when: routing of imported reports, a crew handing one back, a supervisor's
rerouting, deadline extension, reclassification to another topic (and kind) and bulk changes."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import Action, RequestKind, allows, rule
from geo_siac.catalogue.models import Category, Department
from geo_siac.reports.deadlines import deadline, local_day, request_deadline, shown_day
from geo_siac.reports.events import bilingual
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.responsibility import responsible_department_id, responsible_department_name
from geo_siac.reports.routing import decide, decide_without_place, route
from geo_siac.reports.services.create import resolve_category
from geo_siac.reports.services.status import Unchanged, lock_report, public_notice, report_change_status
from geo_siac.reports.states import OPEN, Status, public_text, public_text_refusal
from geo_siac.reports.work_location import WorkLocation, crew_work_check, event_fields
from geo_siac.text import installation_language
from geo_siac.zones.models import Crew
from geo_siac.zones.selectors import category_terms, closed_days, not_offered, placement


def required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Indique el motivo.")})
    return reason


def record(
    report: Report, *, kind: str, note: str, actor, fields: list[str], work_location: WorkLocation | None = None
) -> Report:
    now = timezone.now()
    report.updated_at = now
    report.save(update_fields=[*fields, "updated_at"])
    ReportEvent.objects.create(
        report=report,
        kind=kind,
        note=note,
        is_public=False,
        actor=actor,
        actor_label=actor.get_username() if actor else "",
        created_at=now,
        **event_fields(work_location),
    )
    return report


def closed_refusal(report: Report) -> dict[str, str]:
    """A closed request takes no step but reopening (states.TRANSITIONS): the refusal every other step starts with."""
    if report.status in OPEN:
        return {}
    return {"__all__": _("La solicitud %(code)s está cerrada.") % {"code": report.tracking_code}}


def return_refusal(report: Report) -> dict[str, str]:
    """Why the report cannot be handed back to triage, by field; empty when it can (report_return and the pages)."""
    if refusal := closed_refusal(report):
        return refusal
    if report.crew_id is None:
        return {"crew": _("La solicitud ya está en la cola de triage.")}
    return {}


@transaction.atomic
def report_return(
    *, report: Report, reason: str, actor=None, seen_updated_at=None, work_location: WorkLocation | None = None
) -> Report:
    """A crew hands a report back (not theirs, wrong place...): it leaves the crew and waits in triage. A work
    location only where the kind has a crew's work (work_location.crew_work_refusal)."""
    reason = required_reason(reason)
    locked = lock_report(report, seen_updated_at)
    crew_work_check(locked.kind, location=work_location)  # the kind as locked: a reclassification may have moved it
    if refusal := return_refusal(locked):
        raise ValidationError(refusal)
    with installation_language():
        note = _("Devuelta por %(crew)s: %(reason)s") % {"crew": locked.crew.name, "reason": reason}
    locked.crew = None
    return record(locked, kind=EventKind.RETURNED, note=note, actor=actor, fields=["crew"], work_location=work_location)


def reports_route_unrouted(*, source: str | None = None, batch: int = 500) -> int:
    """Route the open reports that were never routed: the bulk importer writes history rows, not decisions, so
    an imported report still open would otherwise wait in triage. Each gets what report_create would have
    decided for it (zone, crew, department) and the same internal `routed` event; a report with that event is
    never routed twice, so running this again changes nothing. Returns how many were routed."""
    already = ReportEvent.objects.filter(report=OuterRef("pk"), kind=EventKind.ROUTED)
    pending = (
        Report.objects.filter(status__in=OPEN)
        .exclude(Exists(already))
        .select_related("category", "commune")
        .defer("commune__geometry")
        .order_by("pk")
    )
    if source is not None:
        pending = pending.filter(source=source)
    routed = 0
    while chunk := list(pending[:batch]):
        with transaction.atomic():
            now = timezone.now()
            events = []
            for report in chunk:
                decision = route(report.location, report.commune, report.category)
                report.zone, report.crew, report.department = decision.zone, decision.crew, decision.department
                report.save(update_fields=["zone", "crew", "department"])
                events.append(
                    ReportEvent(
                        report=report,
                        kind=EventKind.ROUTED,
                        note=decision.reason,
                        is_public=False,
                        actor_label="GeoSIAC",
                        created_at=now,
                    )
                )
            ReportEvent.objects.bulk_create(events)
        routed += len(chunk)
    return routed


def reroute_refusal(report: Report) -> dict[str, str]:
    """Why the report cannot go to any crew, by field; empty when it can (the crew chosen is checked apart)."""
    return closed_refusal(report)


@transaction.atomic
def report_reroute(*, report: Report, crew: Crew, reason: str = "", actor=None, seen_updated_at=None) -> Report:
    """A supervisor sends the open report to a crew ("derivación"), from triage or from another crew."""
    locked = lock_report(report, seen_updated_at)
    if refusal := reroute_refusal(locked):
        raise ValidationError(refusal)
    if crew.commune_id != locked.commune_id:
        raise ValidationError(
            {
                "crew": _("%(crew)s trabaja en %(commune)s; esta solicitud es de otra comuna.")
                % {"crew": crew.name, "commune": crew.commune.name}
            }
        )
    if locked.crew_id == crew.pk:
        raise Unchanged({"crew": _("Ya está asignada a %(crew)s.") % {"crew": crew.name}})
    with installation_language():
        previous = locked.crew.name if locked.crew_id else _("cola de triage")
        note = _("Derivada de %(from)s a %(to)s.") % {"from": previous, "to": crew.name}
    if reason.strip():
        note = f"{note} {reason.strip()}"
    previous_department_id = responsible_department_id(locked)
    locked.crew = crew
    locked.department = crew.department
    record(locked, kind=EventKind.REROUTED, note=note, actor=actor, fields=["crew", "department"])
    return department_changed(locked, previous_department_id, actor=actor)


def department_moved(locked: Report, previous_department_id: int | None) -> bool:
    """Whether the department the citizen is shown as responsible (responsibility.py's rule: a crew without one
    leaves its topic's) is another than the one they were shown before."""
    return responsible_department_id(locked) not in (None, previous_department_id)


def department_changed(locked: Report, previous_department_id: int | None, *, actor) -> Report:
    """Tell the citizen (a public event and a notice) when a rerouting left another department responsible than the
    one they were shown: only the department, never the crew's or staff member's name. The event's note is the
    department's name alone (models.PUBLIC_REROUTING), worded by each page in its language."""
    if not department_moved(locked, previous_department_id):
        return locked
    public_notice(
        locked,
        kind=EventKind.REROUTED,
        line="rerouted",
        params={"department": responsible_department_name(locked)},
        actor=actor,
        created_at=locked.updated_at,
    )
    return locked


def extend_refusal(report: Report) -> dict[str, str]:
    """Why the report's deadline cannot be extended, by field; empty when it can (report_extend_deadline and the
    pages)."""
    if refusal := closed_refusal(report):
        return refusal
    if not allows(report.kind, Action.DEADLINE_EXTEND):
        return {
            "business_days": _(
                "Una solicitud de tipo «%(kind)s» no se prorroga así: una de "
                "acceso a información tiene su prórroga legal de 10 días hábiles."
            )
            % {"kind": RequestKind(report.kind).label}
        }
    if report.deadline_extended_at is not None:
        return {"business_days": _("El plazo de esta solicitud ya fue prorrogado una vez.")}
    return {}


@transaction.atomic
def report_extend_deadline(
    *, report: Report, business_days: int, reason: str, actor=None, seen_updated_at=None
) -> Report:
    """A supervisor's one extension ("prórroga") of an open report: the deadline moves `business_days` business
    days later."""
    reason = required_reason(reason)
    locked = lock_report(report, seen_updated_at)
    if refusal := extend_refusal(locked):
        raise ValidationError(refusal)
    if not 1 <= business_days <= 60:
        raise ValidationError({"business_days": _("La prórroga debe ser de 1 a 60 días hábiles.")})
    previous = locked.expected_at
    locked.expected_at = deadline(local_day(previous), business_days, closed_days=closed_days())
    locked.deadline_extended_at = timezone.now()
    with installation_language():
        note = _("Plazo prorrogado %(days)s días hábiles, del %(from)s al %(to)s: %(reason)s") % {
            "days": business_days,
            "from": shown_day(previous),
            "to": shown_day(locked.expected_at),
            "reason": reason,
        }
    return record(
        locked, kind=EventKind.EXTENDED, note=note, actor=actor, fields=["expected_at", "deadline_extended_at"]
    )


@dataclass(frozen=True)
class BulkResult:
    """What a bulk change did to one report: `outcome` is "changed", "unchanged" or "error"; `text` says what."""

    code: str
    outcome: str
    text: str


def report_bulk_update(
    *,
    reports: list[Report],
    crew: Crew | None = None,
    status: str = "",
    note: str = "",
    note_is_public: bool = False,
    public_note: str = "",
    actor=None,
) -> list[BulkResult]:
    """A supervisor's bulk assignment and/or status change, report by report through the single-report paths.
    Each report changes wholly or not at all (its own savepoint), and one that cannot move does not stop the
    others: the result says, per report, what changed, what already was as asked, and what was refused and why."""
    if not reports:
        raise ValidationError({"__all__": _("Seleccione al menos una solicitud.")})
    if crew is None and not status:
        raise ValidationError({"__all__": _("Elija una cuadrilla o un estado.")})
    if status and status not in Status.values:
        raise ValidationError({"status": _("Estado desconocido: %s") % status})
    # Asked once for the batch rather than refused report by report: the text is the same for all of them.
    if status and (refusal := public_text_refusal(status, public_text(public_note, note, note_is_public))):
        raise ValidationError({"public_note": refusal})
    steps = []
    if crew is not None:
        steps.append(
            (
                lambda r: report_reroute(report=r, crew=crew, reason=note, actor=actor),
                _("derivada a %(crew)s") % {"crew": crew.name},
            )
        )
    if status:
        steps.append(
            (
                lambda r: report_change_status(
                    report=r,
                    status=status,
                    note=note,
                    note_is_public=note_is_public,
                    public_note=public_note,
                    actor=actor,
                    actor_label=actor.get_username() if actor else "",
                ),
                _("pasó a «%(status)s»") % {"status": Status(status).label},
            )
        )
    return [bulk_apply(report, steps) for report in reports]


def bulk_apply(report: Report, steps) -> BulkResult:
    """Run each (step, what it says when done) on the report in one savepoint; any refusal undoes its steps."""
    done, already = [], []
    try:
        with transaction.atomic():
            for step, says in steps:
                try:
                    step(report)
                except Unchanged as exc:
                    already.extend(exc.messages)
                else:
                    done.append(says)
    except ValidationError as exc:
        return BulkResult(report.tracking_code, "error", _("error: %s") % " ".join(exc.messages))
    if done:
        return BulkResult(report.tracking_code, "changed", " ".join([", ".join(done) + ".", *already]))
    return BulkResult(report.tracking_code, "unchanged", _("sin cambios. %s") % " ".join(already))


def reclassify_refusal(locked: Report, found: Category | None = None) -> dict[str, str]:
    """Why a request cannot move to the topic `found` (without one: to any topic, as the pages ask), by field;
    empty when it can."""
    if refusal := closed_refusal(locked):
        return refusal
    if found is not None and found.pk == locked.category_id:
        return {"category": _("Ya está clasificada como «%(category)s».") % {"category": found.name}}
    # Counting the deadline again from the day it was received would undo an extension or a subsanación, and a
    # letter answered it under its kind's law.
    if locked.deadline_extended_at or locked.correction_requested_at or locked.letters.exists():
        return {
            "category": _(
                "La solicitud ya tuvo un trámite propio de su tipo (prórroga, subsanación o carta de respuesta): "
                "no se puede reclasificar."
            )
        }
    if found is None:
        return {}
    kind_rule = rule(found.kind)
    if (
        found.kind == RequestKind.SERVICE_REQUEST
        and locked.kind != found.kind
        and locked.events.filter(is_public=True).exclude(note="").exists()
    ):
        # A service request's public notes are published (selectors.published_events); these were written to one
        # identified person.
        return {
            "category": _(
                "Ya se le escribió al vecino como «%(kind)s»: esos mensajes no pueden publicarse como los de una "
                "solicitud de servicio. Registre una nueva solicitud de servicio."
            )
            % {"kind": RequestKind(locked.kind).label}
        }
    if kind_rule.place_required and locked.location is None:
        return {
            "category": _(
                "«%(category)s» es una solicitud de servicio y necesita un lugar; esta solicitud no tiene. "
                "Elija un tema de otro tipo o registre una nueva solicitud con su lugar."
            )
            % {"category": found.name}
        }
    if kind_rule.identity_required and not (
        locked.reporter_name.strip() and (locked.reporter_email or locked.reporter_phone)
    ):
        return {
            "category": _(
                "Una solicitud de acceso a información necesita el nombre de quien solicita y un correo o teléfono "
                "(Ley 20.285, art. 12); esta no los tiene."
            )
        }
    return {}


def report_reclassify(
    *, report: Report, category: Category | str, reason: str, actor=None, seen_updated_at=None
) -> Report:
    """Move an open request to another topic (category), and so perhaps another kind: its deadline counted again
    from the day it was received with the new kind's and topic's days (deadlines.request_deadline), routed again as
    report_create routes, an internal event with the reason, and, when the kind changes, a notice to the citizen
    and a public event. Refused, with nothing written, for a closed request, a service-request topic for a request
    without a place, a request that already had a step of its kind's law, or a form older than the request."""
    reason = required_reason(reason)
    found, error = resolve_category(category)
    if error:
        raise ValidationError({"category": error})
    # Before the lock's transaction (a report's comuna is fixed when filed): a stale prepared statement is prepared
    # again and sent once more only outside one (PreparedStatement.execute).
    terms = category_terms(report.commune, found)
    with transaction.atomic():
        return reclassified(report, found, terms, reason=reason, actor=actor, seen_updated_at=seen_updated_at)


def reclassified(report: Report, found: Category, terms, *, reason: str, actor, seen_updated_at) -> Report:
    """report_reclassify's checks of the locked report and its writes, in its transaction, with the comuna's terms."""
    locked = lock_report(report, seen_updated_at)
    if refusal := reclassify_refusal(locked, found):
        raise ValidationError(refusal)
    if not terms.enabled:
        raise not_offered(found, locked.commune)
    if locked.location is None:
        decision = decide_without_place(locked.commune, found, terms)
    else:
        decision = decide(placement(locked.location, found, commune=locked.commune), found, terms)
    previous_kind, previous_topic = locked.kind, locked.category
    previous_department_id = responsible_department_id(locked)
    locked.kind, locked.category = found.kind, found
    locked.expected_at = request_deadline(locked.created_at, found.kind, terms.response_days, closed_days=closed_days())
    locked.zone, locked.crew, locked.department = decision.zone, decision.crew, decision.department
    fields = ["kind", "category", "expected_at", "zone", "crew", "department"]
    if not found.is_public:
        locked.public_cell = None  # a hidden topic is placed nowhere in public (publication.py's rule)
        fields.append("public_cell")
    with installation_language():
        note = _("Reclasificada de «%(from)s» a «%(to)s»; plazo: %(day)s. %(routing)s Motivo: %(reason)s") % {
            "from": previous_topic.name,
            "to": found.name,
            "day": shown_day(locked.expected_at),
            "routing": decision.reason,
            "reason": reason,
        }
    record(locked, kind=EventKind.RECLASSIFIED, note=note, actor=actor, fields=fields)
    if found.kind != previous_kind:
        params = {
            "from": previous_kind,
            "to": found.kind,
            "category": bilingual(found, "name"),
            "day": locked.expected_at,
        }
        line = "reclassified"
        if department_moved(locked, previous_department_id):
            line, params["department"] = "reclassified_department", responsible_department_name(locked)
        public_notice(
            locked, kind=EventKind.RECLASSIFIED, line=line, params=params, actor=actor, created_at=locked.updated_at
        )
        return locked
    return department_changed(locked, previous_department_id, actor=actor)


def department_refusal(report: Report) -> dict[str, str]:
    """Why no department can be named for the report, by field; empty when one can (report_assign_department and
    the pages): a crew's request answers to the crew's department."""
    if refusal := closed_refusal(report):
        return refusal
    if report.crew_id is not None:
        return {"department": _("La atiende %(crew)s: derívela a otra cuadrilla.") % {"crew": report.crew.name}}
    return {}


@transaction.atomic
def report_assign_department(
    *, report: Report, department: Department, reason: str = "", actor=None, seen_updated_at=None
) -> Report:
    """A supervisor names the department that answers an open request no crew holds (a request without a place in
    the OIRS triage queue, or one its topic's department should not answer); a crew's request answers to the
    crew's department, so it is rerouted to another crew instead."""
    locked = lock_report(report, seen_updated_at)
    if refusal := department_refusal(locked):
        raise ValidationError(refusal)
    if locked.department_id == department.pk:
        raise Unchanged({"department": _("Ya está asignada a %(department)s.") % {"department": department.name}})
    with installation_language():
        previous = locked.department.name if locked.department_id else _("cola de triage")
        note = _("Asignada de %(from)s a %(to)s.") % {"from": previous, "to": department.name}
    if reason.strip():
        note = f"{note} {reason.strip()}"
    previous_department_id = responsible_department_id(locked)
    locked.department = department
    record(locked, kind=EventKind.REROUTED, note=note, actor=actor, fields=["department"])
    return department_changed(locked, previous_department_id, actor=actor)
