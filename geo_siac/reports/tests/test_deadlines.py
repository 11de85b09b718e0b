from datetime import date, datetime, timedelta

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.terms import MAX_RESPONSE_DAYS, MIN_RESPONSE_DAYS
from geo_siac.reports.deadlines import (
    SANTIAGO,
    add_business_days,
    business_days_between,
    is_business_day,
    local_day,
    request_deadline,
)


def test_weekend_does_not_count():
    assert add_business_days(date(2026, 11, 20), 1, closed_days=()) == date(2026, 11, 23)  # Friday -> Monday


def test_fiestas_patrias_do_not_count():
    assert not is_business_day(date(2026, 9, 18))
    assert not is_business_day(date(2026, 9, 19))
    assert add_business_days(date(2026, 9, 17), 1, closed_days=()) == date(2026, 9, 21)


def test_extra_closed_day_does_not_count():
    assert add_business_days(date(2026, 11, 23), 1, closed_days={date(2026, 11, 24)}) == date(2026, 11, 25)


def test_business_days_between_matches_add_business_days():
    start = date(2026, 9, 10)
    end = add_business_days(start, 7, closed_days=())
    assert business_days_between(start, end) == 7


def test_within_n_business_days_is_before_the_n_plus_first_as_the_reopening_rule_asks():
    # services.citizen.reopen_window_error asks "end < add_business_days(start, n + 1)" instead of counting every day
    closed = {date(2026, 9, 17)}  # an installation's own closed day, next to the Fiestas Patrias holidays
    for start in (date(2026, 9, 11), date(2026, 9, 16), date(2026, 12, 23), date(2026, 12, 31)):
        for n in (0, 1, 5, 10):
            for offset in range(45):
                end = date.fromordinal(start.toordinal() + offset)
                counted = business_days_between(start, end, closed) <= n
                assert counted == (end < add_business_days(start, n + 1, closed_days=closed)), (start, n, end)


def test_a_deadline_always_falls_on_a_business_day_whatever_the_day_and_hour_a_request_arrives():
    """Regression guard (passes without this branch's change too: with at least 1 day the count already lands on a
    business day): every arrival from Thursday 16 to Sunday 19 September 2027 (Fiestas Patrias on the weekend), every
    three hours, for every term a topic may promise."""
    first = datetime(2027, 9, 16, 0, 30, tzinfo=SANTIAGO)
    for hour in range(0, 4 * 24, 3):
        received = first + timedelta(hours=hour)
        for days in range(MIN_RESPONSE_DAYS, MAX_RESPONSE_DAYS + 1):
            due = request_deadline(received, RequestKind.SERVICE_REQUEST, days, closed_days=())
            assert is_business_day(local_day(due)), (received, days, due)


def test_one_day_from_a_friday_evening_or_a_saturday_is_the_next_monday():
    """Regression guard (passes without this branch's change too): 1 day already skipped the weekend."""
    friday_evening = datetime(2026, 12, 4, 21, 45, tzinfo=SANTIAGO)
    saturday = datetime(2026, 12, 5, 10, 0, tzinfo=SANTIAGO)
    for received in (friday_evening, saturday):
        due = request_deadline(received, RequestKind.SERVICE_REQUEST, 1, closed_days=())
        assert due == datetime(2026, 12, 7, 23, 59, 59, tzinfo=SANTIAGO)


def test_a_zero_day_term_saved_before_the_rule_is_due_on_the_next_business_day_never_on_a_sunday():
    # The walk's request filed on Sunday 6 December 2026 in a 0-day category was "due today", a Sunday.
    assert add_business_days(date(2026, 12, 6), 0, closed_days=()) == date(2026, 12, 7)
    assert add_business_days(date(2026, 12, 7), 0, closed_days=()) == date(2026, 12, 7)
    assert add_business_days(date(2026, 12, 7), 0, closed_days={date(2026, 12, 7)}) == date(2026, 12, 9)
