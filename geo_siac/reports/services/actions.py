"""A crew's change sent by the offline app: applied exactly once per key, whatever the retries, and held (not applied)
when someone else re-routed, merged or closed the report while the phone was offline."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.reports.models import CrewAction, EventKind, Report, ReportEvent
from geo_siac.reports.services.assignment import report_return
from geo_siac.reports.services.photos import event_photo_store
from geo_siac.reports.services.status import lock_report, report_change_status, status_photos_process
from geo_siac.reports.states import CLOSED, Status, public_text, public_text_refusal
from geo_siac.reports.work_location import WorkLocation, crew_work_refusal, event_fields, work_location
from geo_siac.zones.roles import is_supervisor
from geo_siac.zones.selectors import crews_of


@dataclass(frozen=True)
class ActionOutcome:
    """What the phone is answered: `result` as first stored; `conflict` when the change was held."""

    result: dict
    conflict: bool
    replayed: bool


def action_key(key) -> uuid.UUID:
    try:
        return uuid.UUID(str(key))
    except ValueError:
        raise ValidationError(
            {"key": _("La clave de la acción debe ser un UUID; llegó «%(key)s».") % {"key": str(key)[:40]}}
        ) from None


def replayed(stored: CrewAction, *, actor, report: Report, kind: str) -> ActionOutcome:
    if (stored.user_id, stored.report_id, stored.kind) != (actor.pk, report.pk, kind):
        raise ValidationError({"key": _("Esta clave ya se usó para otra acción; el teléfono debe generar una nueva.")})
    return ActionOutcome(result=stored.result, conflict=stored.conflict, replayed=True)


def what_happened(locked: Report, *, actor, seen_updated_at: datetime) -> str:
    """Why the crew's change must not be applied blindly, or "" when it may be: the report was merged, closed, or
    taken from the crew's queue (re-routed or handed back) by someone else since the phone saw it; or it is not in
    the queue of a crew this person belongs to now (the phone's token is up to 14 days old)."""
    if locked.updated_at != seen_updated_at:
        if locked.duplicate_of_id is not None:
            return _("Fue unida a %(original)s como duplicada.") % {"original": locked.duplicate_of.tracking_code}
        if locked.status in CLOSED:
            return _("Fue cerrada («%(status)s»).") % {"status": Status(locked.status).label}
    if not is_supervisor(actor) and not crews_of(actor).filter(pk=locked.crew_id).exists():
        crew = locked.crew.name if locked.crew_id else _("la cola de triage")
        return _("Fue derivada a %(crew)s.") % {"crew": crew}
    return ""


def unexplained(kind: str, status: str, told: str) -> str:
    """Why a status change that arrived without a usable text for the citizen is held for a supervisor, or "" when it
    has one (or needs none)."""
    if kind != CrewAction.Kind.STATUS or not (refusal := public_text_refusal(status, told)):
        return ""
    if told:
        return refusal + " " + _("Un supervisor la cierra con la respuesta.")
    return _("Llegó sin respuesta al vecino; un supervisor la cierra con la respuesta.")


def crew_work_left_out(kind: str, *, photos: Sequence, location: WorkLocation | None) -> str:
    """What of a queued change is not kept because the request's kind has no crew's work (work_location
    crew_work_check would refuse it whole), said to the phone; "" when nothing is left out."""
    if not crew_work_refusal(kind, photos=photos, location=location):
        return ""
    return _("No se guardaron las fotos ni la ubicación: una solicitud de tipo «%(kind)s» no las lleva.") % {
        "kind": RequestKind(kind).label
    }


def intended(kind: str, status: str) -> str:
    if kind == CrewAction.Kind.STATUS:
        return _("pasar a «%(status)s»") % {"status": Status(status).label}
    if kind == CrewAction.Kind.RETURN:
        return _("devolverla a triage")
    return _("agregar una nota")


def hold(
    locked: Report,
    *,
    kind: str,
    status: str,
    note: str,
    public_note: str,
    photos,
    actor,
    happened: str,
    changed_meanwhile: bool,
    location: WorkLocation | None,
) -> dict:
    """Keep the crew's intent, note and photos as an internal note the supervisor sees; change nothing else."""
    if changed_meanwhile:
        kept = _(
            "Cambio de la cuadrilla no aplicado: quería %(intended)s, pero mientras estaba sin conexión la solicitud "
            "cambió. %(happened)s"
        ) % {"intended": intended(kind, status), "happened": happened}
    else:
        kept = _("Cambio de la cuadrilla no aplicado: quería %(intended)s. %(happened)s") % {
            "intended": intended(kind, status),
            "happened": happened,
        }
    if note:
        kept += " " + _("Nota de la cuadrilla: %(note)s") % {"note": note}
    if public_note:
        kept += " " + _("Texto para el vecino (no enviado): %(text)s") % {"text": public_note}
    processed = status_photos_process(photos)
    event = ReportEvent.objects.create(
        report=locked,
        kind=EventKind.NOTE,
        note=kept,
        is_public=False,
        actor=actor,
        actor_label=actor.get_username(),
        created_at=timezone.now(),
        **event_fields(location),
    )
    for photo in processed:
        event_photo_store(event=event, processed=photo)
    return {
        "outcome": "conflict",
        "report": locked.tracking_code,
        "happened": happened,
        "kept": _("Su nota y sus fotos quedaron como nota interna para la supervisión; no se cambió nada más."),
        "status": locked.status,
        "status_label": str(Status(locked.status).label),
        "crew": locked.crew.name if locked.crew_id else None,
        "duplicate_of": locked.duplicate_of.tracking_code if locked.duplicate_of_id else None,
    }


def perform(
    locked: Report,
    *,
    kind: str,
    status: str,
    note: str,
    note_is_public: bool,
    public_note: str,
    photos,
    actor,
    location: WorkLocation | None,
) -> dict:
    label = actor.get_username()
    if kind == CrewAction.Kind.STATUS:
        report_change_status(
            report=locked,
            status=status,
            note=note,
            note_is_public=note_is_public,
            public_note=public_note,
            photos=photos,
            actor=actor,
            actor_label=label,
            work_location=location,
        )
    elif kind == CrewAction.Kind.RETURN:
        report_return(report=locked, reason=note, actor=actor, work_location=location)
    elif not note:
        raise ValidationError({"note": _("Escriba la nota.")})
    else:
        # A note alone stays internal: the online pages publish a crew's words only with a status change.
        ReportEvent.objects.create(
            report=locked,
            kind=EventKind.NOTE,
            note=note,
            is_public=False,
            actor=actor,
            actor_label=label,
            created_at=timezone.now(),
            **event_fields(location),
        )
    locked.refresh_from_db(fields=["status"])
    return {
        "outcome": "applied",
        "report": locked.tracking_code,
        "status": locked.status,
        "status_label": str(Status(locked.status).label),
        "message": _("Cambio guardado."),
    }


@transaction.atomic
def crew_action_apply(
    *,
    key: str,
    kind: str,
    report: Report,
    actor,
    seen_updated_at: datetime,
    status: str = "",
    note: str = "",
    note_is_public: bool = False,
    public_note: str | None = None,
    photos: Sequence = (),
    latitude=None,
    longitude=None,
    accuracy_m=None,
) -> ActionOutcome:
    """Apply one change recorded by the offline app, once per `key`. The key's row is inserted first, in the same
    transaction as the change: a concurrent replay waits on the unique index and, once the first commits, gets the
    stored result; a refused change (bad input) rolls back with its key, so nothing is half-written. A change made
    where someone else re-routed, merged or closed the report since `seen_updated_at` is held (`hold`), and that
    outcome is stored like any other. `note` is the hand-back reason for a return; `public_note`, the text for the
    citizen, is None from a phone queued before the reply box existed. A status change whose text for the citizen the
    rule refuses (states.public_text_refusal) is held too, not refused: the phone would drop a refused change, and
    with it the crew's note and photos. For the same reason, photos and a work location on a request whose kind has
    no crew's work (catalogue.kinds.offers_crew_work; a page loaded before the rule) are left out, the change kept,
    and the phone told."""
    key = action_key(key)
    if kind not in CrewAction.Kind.values:
        raise ValidationError({"kind": _("Tipo de acción desconocido: %s") % kind})
    if kind == CrewAction.Kind.STATUS and status not in Status.values:
        raise ValidationError({"status": _("Estado desconocido: %s") % status})
    location = work_location(latitude, longitude, accuracy_m)
    try:
        with transaction.atomic():
            action = CrewAction.objects.create(key=key, user=actor, report=report, kind=kind, created_at=timezone.now())
    except IntegrityError:
        return replayed(CrewAction.objects.get(key=key), actor=actor, report=report, kind=kind)
    locked = lock_report(report)
    left_out = crew_work_left_out(locked.kind, photos=photos, location=location)
    if left_out:
        photos, location = (), None
    note = note.strip()
    meanwhile = what_happened(locked, actor=actor, seen_updated_at=seen_updated_at)
    happened = meanwhile or unexplained(kind, status, public_text(public_note, note, note_is_public))
    if happened:
        action.result = hold(
            locked,
            kind=kind,
            status=status,
            note=note,
            public_note=(public_note or "").strip(),
            photos=photos,
            actor=actor,
            happened=happened,
            changed_meanwhile=bool(meanwhile),
            location=location,
        )
        action.conflict = True
    else:
        action.result = perform(
            locked,
            kind=kind,
            status=status,
            note=note,
            note_is_public=note_is_public,
            public_note=public_note,
            photos=photos,
            actor=actor,
            location=location,
        )
    if left_out:
        told = "kept" if action.conflict else "message"
        action.result[told] = f"{action.result[told]} {left_out}"
    action.save(update_fields=["result", "conflict"])
    return ActionOutcome(result=action.result, conflict=action.conflict, replayed=False)
