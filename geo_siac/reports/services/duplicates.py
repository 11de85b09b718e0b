"""A supervisor merges a duplicate report into the original that describes the same problem."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import Action, RequestKind, allows
from geo_siac.reports.models import EventKind, Follower, Report, ReportEvent
from geo_siac.reports.services.status import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.reports.states import CLOSED, Status
from geo_siac.text import installation_language


@transaction.atomic
def report_merge_duplicate(*, duplicate: Report, original: Report, by) -> Report:
    """Close `duplicate` as "Cerrada: duplicada" pointing at `original`: its reporter and followers are told (in
    their language) which report to follow and become followers of the original, and the indicators count the
    problem once (transparency.selectors.transparency_reports). Refuses a report merged into itself, into a closed
    report or into a duplicate (no chains, hence no cycles), a closed duplicate, and two comunas."""
    if duplicate.pk == original.pk:
        raise ValidationError({"original": _("Una solicitud no puede ser duplicada de sí misma.")})
    # Both rows locked in key order: two merges of the same pair in opposite directions wait instead of deadlocking.
    locked = {
        r.pk: r
        for r in Report.objects.select_for_update()
        .filter(pk__in=[duplicate.pk, original.pk])
        .select_related("commune")
        .defer("commune__geometry")
        .order_by("pk")
    }
    duplicate, original = locked[duplicate.pk], locked[original.pk]
    merge_errors(duplicate, original)
    duplicate.duplicate_of = original
    duplicate.save(update_fields=["duplicate_of"])
    by_label = by.get_username() if by else ""
    with installation_language():
        joined = _("Unida a %(original)s.") % {"original": original.tracking_code}
    closed = report_change_status(
        public_note=EXPLAINED_BY_CALLER,
        report=duplicate,
        status=Status.CLOSED_DUPLICATE,
        actor=by,
        actor_label=by_label,
        note=joined,
    )
    moved = followers_move(duplicate, original)
    with installation_language():
        merged = _("Se le unió la duplicada %(duplicate)s (%(count)d seguidores nuevos).") % {
            "duplicate": duplicate.tracking_code,
            "count": moved,
        }
    # Earlier duplicates of this report now point at the original, so a duplicate never leads to another one.
    Report.objects.filter(duplicate_of=duplicate).update(duplicate_of=original)
    ReportEvent.objects.create(
        report=original,
        kind=EventKind.NOTE,
        is_public=False,
        actor=by,
        actor_label=by_label,
        created_at=timezone.now(),
        note=merged,
    )
    return closed


def merge_errors(duplicate: Report, original: Report) -> None:
    codes = {"duplicate": duplicate.tracking_code, "original": original.tracking_code}
    for field, report in (("duplicate", duplicate), ("original", original)):
        if not allows(report.kind, Action.DUPLICATE_MERGE):
            raise ValidationError(
                {
                    field: _("%(code)s es de tipo «%(kind)s»: solo se unen solicitudes que admiten fusión.")
                    % {"code": report.tracking_code, "kind": RequestKind(report.kind).label}
                }
            )
    if original.duplicate_of_id is not None:
        raise ValidationError(
            {
                "original": _("%(original)s ya es duplicada de %(target)s: elija esa como original.")
                % {**codes, "target": original.duplicate_of.tracking_code}
            }
        )
    if original.status in CLOSED:
        raise ValidationError({"original": _("%(original)s está cerrada: la original debe estar abierta.") % codes})
    if duplicate.status in CLOSED:
        raise ValidationError({"duplicate": _("%(duplicate)s ya está cerrada.") % codes})
    if duplicate.commune_id != original.commune_id:
        raise ValidationError(
            {
                "original": _(
                    "%(duplicate)s es de %(a)s y %(original)s de %(b)s: solo se unen solicitudes de la misma comuna."
                )
                % {**codes, "a": duplicate.commune.name, "b": original.commune.name}
            }
        )


def followers_move(duplicate: Report, original: Report) -> int:
    """The duplicate's followers, and its reporter when they left an email, follow the original from now on.
    Returns how many follow it anew."""
    following = set(original.followers.values_list("email", flat=True))
    following.add(original.reporter_email.lower())
    incoming = {f.email: f.language for f in duplicate.followers.all()}
    if duplicate.reporter_email:
        incoming.setdefault(duplicate.reporter_email.lower(), duplicate.language)
    now = timezone.now()
    new = [
        Follower(report=original, email=email, language=language, created_at=now)
        for email, language in incoming.items()
        if email not in following
    ]
    Follower.objects.bulk_create(new)
    duplicate.followers.all().delete()
    return len(new)
