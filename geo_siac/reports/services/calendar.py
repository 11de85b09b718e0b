"""The numbered business-day calendar in SQL (CalendarDay), kept equal to the one deadlines use."""

from django.db import connection, transaction
from django.db.models import QuerySet

from geo_siac.reports.deadlines import calendar_days
from geo_siac.reports.models import CalendarDay
from geo_siac.zones.models import ClosedDay
from geo_siac.zones.selectors import closed_days


@transaction.atomic
def business_calendar_sync() -> int:
    """Make the SQL calendar equal to deadlines.calendar_days() with the installation's closed days, the calendar
    deadlines use. It changes when a closed day is added or removed (the admin calls this) or the `holidays`
    package learns a new holiday (refresh_indicators calls this). Returns the number of days rewritten, 0 when it
    was already equal."""
    with connection.cursor() as cursor:
        # One rewrite at a time (two admins, the admin and refresh_indicators): the second waits here, then reads
        # the closed days the first committed, instead of failing on the rows the first inserted. SHARE ROW
        # EXCLUSIVE conflicts with itself and with writes, not with reads: the indicators keep reading.
        cursor.execute(f"LOCK TABLE {CalendarDay._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
    expected = {day: (business, count) for day, business, count in calendar_days(extra_closed=closed_days())}
    stored = {
        day: (business, count)
        for day, business, count in CalendarDay.objects.values_list("day", "is_business_day", "business_days")
    }
    changed = [day for day, values in expected.items() if stored.get(day) != values]
    if not changed and stored.keys() == expected.keys():
        return 0
    CalendarDay.objects.all().delete()
    CalendarDay.objects.bulk_create(
        (
            CalendarDay(day=day, is_business_day=business, business_days=count)
            for day, (business, count) in expected.items()
        ),
        batch_size=5000,
    )
    return len(changed) + len(stored.keys() - expected.keys())


@transaction.atomic
def closed_day_save(*, closed_day: ClosedDay) -> ClosedDay:
    """Add or change an extra closed day, and the SQL calendar with it: deadlines of reports filed from then on skip
    it, and the indicators' business-day durations count it as a non-working day."""
    closed_day.save()
    business_calendar_sync()
    return closed_day


@transaction.atomic
def closed_days_delete(*, days: QuerySet[ClosedDay]) -> int:
    """Remove closed days, and the SQL calendar's record of them. Returns how many were removed."""
    removed = days.delete()[0]
    business_calendar_sync()
    return removed
