"""A one-off repair: requests filed under a 0-day term (saved before catalogue.terms refused it) were due the day
they arrived, a weekend or holiday included; their deadline moves to the next business day. Behind `manage.py
repair_weekend_deadlines`."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.reports.deadlines import deadline, is_business_day, local_day, shown_day
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.services.status import lock_report
from geo_siac.reports.states import OPEN
from geo_siac.text import installation_language
from geo_siac.zones.selectors import closed_days


@dataclass(frozen=True)
class MovedDeadline:
    code: str
    old: datetime
    new: datetime


def open_deadlines_repair(*, commit: bool = False) -> list[MovedDeadline]:
    """Every open request whose deadline falls on a local non-business day, with the next business day's end;
    written (the deadline and an internal note per request, one transaction each) only when `commit`."""
    closed = closed_days()
    moved = []
    # A request awaiting its subsanación has its deadline set by that clock (correction_due_at, which the art. 12
    # lapse reads): moving expected_at alone would show one day and lapse on another.
    waiting = Report.objects.filter(status__in=OPEN, correction_due_at__isnull=True)
    for pk, code, due in waiting.values_list("pk", "tracking_code", "expected_at"):
        if is_business_day(local_day(due), closed):
            continue
        if not commit:
            moved.append(MovedDeadline(code, due, next_business_day(due, closed)))
            continue
        with transaction.atomic():
            locked = lock_report(Report(pk=pk))
            previous = locked.expected_at
            if (
                locked.status not in OPEN
                or locked.correction_due_at is not None
                or is_business_day(local_day(previous), closed)
            ):
                continue  # closed or moved meanwhile
            now = timezone.now()
            locked.expected_at, locked.updated_at = next_business_day(previous, closed), now
            locked.save(update_fields=["expected_at", "updated_at"])
            with installation_language():
                note = _("Plazo movido del %(from)s al %(to)s: vencía en un día inhábil.") % {
                    "from": shown_day(previous),
                    "to": shown_day(locked.expected_at),
                }
            ReportEvent.objects.create(
                report=locked, kind=EventKind.NOTE, note=note, is_public=False, actor_label="GeoSIAC", created_at=now
            )
            moved.append(MovedDeadline(locked.tracking_code, previous, locked.expected_at))
    return moved


def next_business_day(due: datetime, closed) -> datetime:
    # 0 business days after a non-business day is the first business day after it (deadlines.add_business_days).
    return deadline(local_day(due), 0, closed_days=closed)
