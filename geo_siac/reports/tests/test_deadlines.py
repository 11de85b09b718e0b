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
