"""Property-based tests (hypothesis): coordinate parsing and the business-day calendar."""

import math
from datetime import date, timedelta

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from geo_siac.reports.deadlines import add_business_days, business_days_between, is_business_day
from geo_siac.reports.validation import coordinate_columns, coordinate_errors, parse_coordinate

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.binary(),
    st.lists(st.integers(), max_size=2),
)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31))


@given(anything)
def test_parse_coordinate_returns_a_finite_number_in_range_or_raises_value_error(value):
    try:
        number = parse_coordinate(value, name="latitud", low=-90, high=90)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(number, float) and math.isfinite(number) and -90 <= number <= 90


@given(st.floats(min_value=-180, max_value=180))
def test_every_in_range_float_round_trips_through_text_with_a_comma_or_a_point(number):
    assert parse_coordinate(repr(number), name="longitud", low=-180, high=180) == number
    assert parse_coordinate(repr(number).replace(".", ","), name="longitud", low=-180, high=180) == number


@given(st.floats().filter(lambda x: not math.isfinite(x) or abs(x) > 90))
def test_non_finite_or_out_of_range_latitudes_are_always_rejected(number):
    for value in (number, repr(number)):
        try:
            parse_coordinate(value, name="latitud", low=-90, high=90)
        except ValueError:
            continue
        raise AssertionError(f"{value!r} was accepted")


# What a coordinate column of a file can hold: numbers written every way, with a comma, and near-numbers.
coordinate_text = st.one_of(
    st.floats().map(repr),
    st.floats().map(lambda x: repr(x).replace(".", ",")),
    st.text(alphabet="0123456789.,-+eEinfatyINFA_ \u0661", max_size=12),
    st.text(max_size=6),
).map(str.strip)


@given(st.lists(st.tuples(coordinate_text, coordinate_text), min_size=1, max_size=6))
def test_the_importer_reads_every_coordinate_as_report_create_does(pairs):
    latitudes, longitudes, errors = coordinate_columns(
        pd.Series([a for a, _ in pairs]), pd.Series([b for _, b in pairs])
    )
    for i, (latitude, longitude) in enumerate(pairs):
        lat, lng, found = coordinate_errors(latitude, longitude)
        if found:
            assert errors[i] == next(iter(found.items()))
        else:
            assert i not in errors and (latitudes[i], longitudes[i]) == (lat, lng)


@given(days, st.integers(min_value=1, max_value=60))
def test_a_deadline_lands_on_a_business_day_exactly_n_business_days_later(start, n):
    due = add_business_days(start, n, closed_days=())
    assert due > start and is_business_day(due)
    assert business_days_between(start, due) == n


@given(days, st.integers(min_value=0, max_value=30), st.integers(min_value=0, max_value=30))
def test_business_days_add_up(start, a, b):
    assert add_business_days(add_business_days(start, a, closed_days=()), b, closed_days=()) == add_business_days(
        start, a + b, closed_days=()
    )


@given(days, st.integers(min_value=1, max_value=20), st.sets(days, max_size=5))
def test_extra_closed_days_never_make_a_deadline_earlier(start, n, closed):
    assert add_business_days(start, n, closed_days=closed) >= add_business_days(start, n, closed_days=())
    assert add_business_days(start, n, closed_days=closed) not in closed


@given(days, st.integers(min_value=1, max_value=60))
def test_deadlines_never_land_on_weekends(start, n):
    assert add_business_days(start, n, closed_days=()).weekday() < 5
    assert add_business_days(start, n, closed_days=()) - start >= timedelta(days=n)
