"""The reporting periods the public pages use, as local (Santiago) half-open day ranges [start, end)."""

from datetime import date, timedelta


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def last_month(today: date) -> tuple[date, date]:
    return month_start(today, 1), month_start(today)


def last_twelve_months(today: date) -> tuple[date, date]:
    """The twelve complete months before the current one."""
    return month_start(today, 12), month_start(today)


def trailing_year(today: date) -> tuple[date, date]:
    """The last 365 days, today included."""
    return today - timedelta(days=364), today + timedelta(days=1)
