"""The reporting periods the public pages use, as local (Santiago) half-open day ranges [start, end).

Relative periods (the last 365 days, the last month...) move with the day they are computed on; named periods are
a calendar month ("2025-03") or a calendar year ("2025") and always cover the same days."""

import re
from datetime import date, timedelta

from django.utils.translation import gettext as _

from geo_siac.reports.deadlines import CALENDAR_END, CALENDAR_START

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_YEAR = re.compile(r"\d{4}")


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def last_month(today: date) -> tuple[date, date]:
    return month_start(today, 1), month_start(today)


def last_twelve_months(today: date) -> tuple[date, date]:
    """The twelve complete months before the current one."""
    return month_start(today, 12), month_start(today)


def month_covered_in_part(month: date, start: date, end: date, today: date) -> bool:
    """Whether the days [start, end) up to `today` (included) leave out some of `month`'s: the current month, or the
    first of a period that starts within it. Its figures are of fewer days than a whole month's."""
    return max(start, month) > month or min(end, today + timedelta(days=1)) < month_start(month, -1)


def trailing_year(today: date) -> tuple[date, date]:
    """The last 365 days, today included."""
    return today - timedelta(days=364), today + timedelta(days=1)


def _in_calendar(year: int, value: str) -> int:
    # The indicators count business days in the calendar table, which covers these years only.
    if not CALENDAR_START.year <= year <= CALENDAR_END.year:
        raise ValueError(
            _("El año de «%(value)s» debe estar entre %(first)s y %(last)s.")
            % {"value": value, "first": CALENDAR_START.year, "last": CALENDAR_END.year}
        )
    return year


def parse_month(value: str) -> date:
    """The first day of the calendar month written YYYY-MM; ValueError naming the problem otherwise."""
    match = _MONTH.fullmatch(value)
    if not match or not 1 <= int(match[2]) <= 12:
        raise ValueError(
            _("El mes debe tener la forma AAAA-MM, por ejemplo 2026-10, y no «%(value)s».") % {"value": value}
        )
    return date(_in_calendar(int(match[1]), value), int(match[2]), 1)


def is_named(period: str) -> bool:
    return bool(_YEAR.fullmatch(period) or _MONTH.fullmatch(period))


def named_period(value: str) -> tuple[date, date]:
    """The days of a calendar year ("2025") or month ("2025-03"); ValueError naming the problem otherwise."""
    if _YEAR.fullmatch(value):
        year = _in_calendar(int(value), value)
        return date(year, 1, 1), date(year + 1, 1, 1)
    if not _MONTH.fullmatch(value):
        raise ValueError(
            _(
                "El periodo debe ser un año (AAAA, por ejemplo 2025) o un mes (AAAA-MM, por ejemplo "
                "2025-03), y no «%(value)s»."
            )
            % {"value": value}
        )
    start = parse_month(value)
    return start, month_start(start, -1)
