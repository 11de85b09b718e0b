from datetime import date

from geo_siac.reports.deadlines import add_business_days, business_days_between, is_business_day


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
