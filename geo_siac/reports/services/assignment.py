"""Who handles a report and by when: routing of imported reports, a crew handing one back, a supervisor's
rerouting, deadline extension and bulk changes."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import Action, RequestKind, allows
from geo_siac.reports.deadlines import SANTIAGO, deadline, local_day
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.routing import route
from geo_siac.reports.services.status import Unchanged, lock_report, report_change_status
from geo_siac.reports.states import OPEN, Status
from geo_siac.reports.work_location import WorkLocation, event_fields
from geo_siac.zones.models import Crew
from geo_siac.zones.selectors import closed_days


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


@transaction.atomic
def report_return(
    *, report: Report, reason: str, actor=None, seen_updated_at=None, work_location: WorkLocation | None = None
) -> Report:
    """A crew hands a report back (not theirs, wrong place...): it leaves the crew and waits in triage."""
    reason = required_reason(reason)
    locked = lock_report(report, seen_updated_at)
    if locked.crew_id is None:
        raise ValidationError({"crew": _("La solicitud ya está en la cola de triage.")})
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


@transaction.atomic
def report_reroute(*, report: Report, crew: Crew, reason: str = "", actor=None, seen_updated_at=None) -> Report:
    """A supervisor sends the report to a crew ("derivación"), from triage or from another crew."""
    locked = lock_report(report, seen_updated_at)
    if crew.commune_id != locked.commune_id:
        raise ValidationError(
            {
                "crew": _("%(crew)s trabaja en %(commune)s; esta solicitud es de otra comuna.")
                % {"crew": crew.name, "commune": crew.commune.name}
            }
        )
    if locked.crew_id == crew.pk:
        raise Unchanged({"crew": _("Ya está asignada a %(crew)s.") % {"crew": crew.name}})
    previous = locked.crew.name if locked.crew_id else _("cola de triage")
    note = _("Derivada de %(from)s a %(to)s.") % {"from": previous, "to": crew.name}
    if reason.strip():
        note = f"{note} {reason.strip()}"
    locked.crew = crew
    locked.department = crew.department
    return record(locked, kind=EventKind.REROUTED, note=note, actor=actor, fields=["crew", "department"])


@transaction.atomic
def report_extend_deadline(
    *, report: Report, business_days: int, reason: str, actor=None, seen_updated_at=None
) -> Report:
    """A supervisor's one extension ("prórroga"): the deadline moves `business_days` business days later."""
    reason = required_reason(reason)
    locked = lock_report(report, seen_updated_at)
    if not allows(locked.kind, Action.DEADLINE_EXTEND):
        raise ValidationError(
            {
                "business_days": _(
                    "Una solicitud de tipo «%(kind)s» no se prorroga así: una de "
                    "acceso a información tiene su prórroga legal de 10 días hábiles."
                )
                % {"kind": RequestKind(locked.kind).label}
            }
        )
    if locked.deadline_extended_at is not None:
        raise ValidationError({"business_days": _("El plazo de esta solicitud ya fue prorrogado una vez.")})
    if not 1 <= business_days <= 60:
        raise ValidationError({"business_days": _("La prórroga debe ser de 1 a 60 días hábiles.")})
    previous = locked.expected_at
    locked.expected_at = deadline(local_day(previous), business_days, closed_days=closed_days())
    locked.deadline_extended_at = timezone.now()
    note = _("Plazo prorrogado %(days)s días hábiles, del %(from)s al %(to)s: %(reason)s") % {
        "days": business_days,
        "from": previous.astimezone(SANTIAGO).date().isoformat(),
        "to": locked.expected_at.astimezone(SANTIAGO).date().isoformat(),
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
