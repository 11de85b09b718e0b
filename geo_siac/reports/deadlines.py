"""Deadlines in business days: weekends, Chilean public holidays (the `holidays` package) and the installation's
closed days (zones.ClosedDay, read by zones.selectors.closed_days) do not count."""

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.db import models
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.kinds import LEY_20285_DAYS, RequestKind, response_days
from geo_siac.reports.states import CLOSED

SANTIAGO = ZoneInfo("America/Santiago")


@lru_cache(maxsize=64)
def chilean_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("CL", years=year))


def is_business_day(day: date, extra_closed: Iterable[date] = ()) -> bool:
    return day.weekday() < 5 and day not in chilean_holidays(day.year) and day not in extra_closed


def add_business_days(start: date, days: int, *, closed_days: Collection[date]) -> date:
    """The date `days` business days after `start` (the start day itself never counts); always a business day, so
    that 0 days from a Saturday (a term saved before catalogue.terms refused it) is Monday, never the Saturday."""
    closed = frozenset(closed_days)
    day = start
    remaining = days
    while remaining > 0 or not is_business_day(day, closed):
        day += timedelta(days=1)
        if is_business_day(day, closed):
            remaining -= 1
    return day


def business_days_between(start: date, end: date, extra_closed: Iterable[date] = ()) -> int:
    """Business days after `start` up to and including `end` (0 when end <= start)."""
    closed = frozenset(extra_closed)
    return sum(1 for n in range(1, (end - start).days + 1) if is_business_day(start + timedelta(days=n), closed))


# The days the SQL calendar (models.CalendarDay) covers: every date a report can carry.
CALENDAR_START, CALENDAR_END = date(1970, 1, 1), date(2100, 12, 31)


def calendar_days(
    start: date = CALENDAR_START, end: date = CALENDAR_END, extra_closed: Iterable[date] = ()
) -> Iterator[tuple[date, bool, int]]:
    """(day, is business day, business days from `start` up to and including day) for start <= day <= end, so
    that business_days_between(a, b, extra_closed) is the difference of the third values of b and a (when b > a)."""
    closed = frozenset(extra_closed)
    count = 0
    for n in range((end - start).days + 1):
        day = start + timedelta(days=n)
        business = is_business_day(day, closed)
        count += business
        yield day, business, count


def local_day(moment: datetime) -> date:
    return moment.astimezone(SANTIAGO).date()


def shown_day(moment: datetime) -> str:
    """The local day as staff read it in an internal note or a refusal, in Chile's day-month-year whatever the
    language (20-01-2027). The citizen's history, notices and letters write it out instead: written_day."""
    return moment.astimezone(SANTIAGO).strftime("%d-%m-%Y")


def written_day(moment: datetime | date) -> str:
    """The local day as the active language writes a date (its DATE_FORMAT: 20 de enero de 2027, 20 January 2027):
    every date in the citizen's history lines, notices and letters."""
    day = local_day(moment) if isinstance(moment, datetime) else moment
    return formats.date_format(day, "DATE_FORMAT")


def deadline(day: date, business_days: int, *, closed_days: Collection[date]) -> datetime:
    """End (23:59:59, Santiago time) of the `business_days`-th business day after the local date `day`. The
    installation's closed days have no default, so that no caller can leave them out by forgetting them."""
    due = add_business_days(day, business_days, closed_days=closed_days)
    return datetime.combine(due, time(23, 59, 59), tzinfo=SANTIAGO)


def request_deadline(received_at: datetime, kind: str, topic_days: int, *, closed_days: Collection[date]) -> datetime:
    """The deadline of a request of `kind` on a topic promising `topic_days`, received at `received_at`: the one
    rule of report_create and of a reclassification (report_reclassify), which counts again from the same day."""
    return deadline(local_day(received_at), response_days(kind, topic_days), closed_days=closed_days)


@dataclass(frozen=True)
class Countdown:
    """Where a deadline stands at an instant, in business days as `deadline` counts them."""

    due_today: bool
    overdue: bool
    business_days: int  # left (today not counted, the due day counted) or, once overdue, elapsed since the due day


def countdown(expected_at: datetime, now: datetime, *, closed_days: Collection[date]) -> Countdown:
    """Where `expected_at` stands at `now`. Only the due day itself is due today: 0 business days may be left before a
    later day (a closed day added after filing), and read on a weekend a report due on Friday is 0 business days late."""
    today, due = local_day(now), local_day(expected_at)
    if expected_at < now:
        return Countdown(due_today=False, overdue=True, business_days=business_days_between(due, today, closed_days))
    return Countdown(
        due_today=due == today, overdue=False, business_days=business_days_between(today, due, closed_days)
    )


def due_soon_before(now: datetime, *, closed_days: Collection[date]) -> datetime:
    """An open report is due soon at `now` when its deadline falls before this instant: its due day is at most
    GEO_SIAC_DUE_SOON_BUSINESS_DAYS business days after today (today being the 0th), so that the crew still has
    working days to act. The one rule of the crew's queue, the supervision list, the board and the staff alert."""
    first_not_soon = add_business_days(
        local_day(now), settings.GEO_SIAC_DUE_SOON_BUSINESS_DAYS + 1, closed_days=closed_days
    )
    return datetime.combine(first_not_soon, time(0), tzinfo=SANTIAGO)


class DeadlineState(models.TextChoices):
    ON_TIME = "on_time", _("En plazo")
    DUE_SOON = "due_soon", _("Por vencer")
    OVERDUE = "overdue", _("Vencida")


# The Ley 20.285 clock (docs/request-kinds.md). Art. 14: the answer within 20 business days, extendable once by 10
# when the citizen is told before the 20 end; art. 12: a request to correct or complete it ("subsanación") gives
# the citizen 5 business days, after which it is deemed withdrawn; once corrected, the 20 days count from then
# (the Consejo para la Transparencia's reading, Instrucción General N°10, 2.2).
INFORMATION_DAYS = LEY_20285_DAYS
INFORMATION_EXTENSION_DAYS = 10
CORRECTION_DAYS = 5


def information_extended(expected_at: datetime, *, closed_days: Collection[date]) -> datetime:
    """The deadline after the one extension: 10 business days after the current deadline's day."""
    return deadline(local_day(expected_at), INFORMATION_EXTENSION_DAYS, closed_days=closed_days)


def correction_due(asked_at: datetime, *, closed_days: Collection[date]) -> datetime:
    """When a subsanación asked at `asked_at` lapses: the end of the 5th business day after it was asked."""
    return deadline(local_day(asked_at), CORRECTION_DAYS, closed_days=closed_days)


def information_restarted(answered_at: datetime, *, closed_days: Collection[date]) -> datetime:
    """The deadline once the citizen corrected the request: 20 business days from the correction."""
    return deadline(local_day(answered_at), INFORMATION_DAYS, closed_days=closed_days)


class ClockPhase(models.TextChoices):
    RUNNING = "running", _("En plazo")
    EXTENDED = "extended", _("En plazo prorrogado")
    WAITING_CORRECTION = "waiting_correction", _("Esperando subsanación del solicitante")
    OVERDUE = "overdue", _("Plazo vencido")
    CLOSED = "closed", _("Cerrada")


def clock_phase(
    *, is_open: bool, expected_at: datetime, extended: bool, correction_due_at: datetime | None, now: datetime
) -> ClockPhase:
    """Where a Ley 20.285 request's clock stands at `now`, as the tracking page and the officer's page show it."""
    if not is_open:
        return ClockPhase.CLOSED
    if correction_due_at is not None:
        return ClockPhase.WAITING_CORRECTION
    if now > expected_at:
        return ClockPhase.OVERDUE
    return ClockPhase.EXTENDED if extended else ClockPhase.RUNNING


def information_clock(report) -> dict | None:
    """What the tracking page and Mis solicitudes show of a Ley 20.285 request's clock: its phase, deadline, extension and subsanación."""
    if report.kind != RequestKind.INFORMATION:
        return None
    phase = clock_phase(
        is_open=report.status not in CLOSED,
        expected_at=report.expected_at,
        extended=report.deadline_extended_at is not None,
        correction_due_at=report.correction_due_at,
        now=timezone.now(),
    )
    return {
        "phase": phase.label,
        "phase_code": phase.value,
        "extended_at": report.deadline_extended_at,
        "correction_due_at": report.correction_due_at,
        "expected_at": report.expected_at,
        "outcome": report.get_legal_outcome_display(),
        "ground": report.get_denial_ground_display(),
        "referred_to": report.referred_to,
    }
