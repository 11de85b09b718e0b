import copy
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from geo_siac.zones.opening_hours import (
    is_open_at,
    is_public_holiday,
    open_intervals_on,
    validate_opening_hours,
)

SCL = ZoneInfo("America/Santiago")
OFFICE_HOURS = [["08:30", "14:00"], ["15:00", "17:30"]]

PUENTE_ALTO = {
    "timezone": "America/Santiago",
    "weekly": {day: OFFICE_HOURS for day in ("mon", "tue", "wed", "thu", "fri")},
    "closed_on_public_holidays": True,
    "exceptions": [
        {"date": "2026-12-24", "hours": [["08:30", "12:00"]]},
        {"date": "2026-12-31", "closed": True},
    ],
    "special_sessions": [
        {
            "weekday": "thu",
            "nth": 1,
            "hours": [["19:00", "22:30"]],
            "valid_from": "2026-01-01",
            "valid_until": None,
            "label": "Municipio en tu barrio nocturno",
        }
    ],
}

# Saturday night service crossing midnight; the DST changes of 2026 happen on Saturday nights.
NIGHT_SERVICE = {"weekly": {"sat": [["22:00", "02:00"]]}, "closed_on_public_holidays": False}


def local(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=SCL, fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- Puente Alto night service: first Thursday of each month 19:00-22:30 ---


def test_night_service_open_on_first_thursday():
    assert is_open_at(PUENTE_ALTO, local(2026, 3, 5, 20, 0))
    assert is_open_at(PUENTE_ALTO, local(2026, 3, 5, 22, 29))
    assert not is_open_at(PUENTE_ALTO, local(2026, 3, 5, 22, 30))


def test_night_service_closed_on_second_thursday():
    assert not is_open_at(PUENTE_ALTO, local(2026, 3, 12, 20, 0))


def test_night_service_closed_before_it_starts():
    assert not is_open_at(PUENTE_ALTO, local(2026, 3, 5, 18, 59))


def test_any_timezone_is_converted():
    # 23:00 UTC is 20:00 in Santiago in March (UTC-3).
    assert is_open_at(PUENTE_ALTO, utc(2026, 3, 5, 23, 0))
    assert not is_open_at(PUENTE_ALTO, utc(2026, 3, 6, 1, 30))


def test_last_weekday_of_month():
    spec = {"special_sessions": [{"weekday": "fri", "nth": -1, "hours": [["18:00", "20:00"]]}]}
    assert is_open_at(spec, local(2026, 7, 31, 19, 0))
    assert not is_open_at(spec, local(2026, 7, 24, 19, 0))


def test_special_session_validity_window():
    spec = copy.deepcopy(PUENTE_ALTO)
    spec["special_sessions"][0]["valid_until"] = "2026-02-28"
    assert is_open_at(spec, local(2026, 2, 5, 20, 0))
    assert not is_open_at(spec, local(2026, 3, 5, 20, 0))


# --- weekly hours, holidays, exceptions ---


def test_weekday_hours():
    monday = (2026, 3, 9)
    assert not is_open_at(PUENTE_ALTO, local(*monday, 8, 29))
    assert is_open_at(PUENTE_ALTO, local(*monday, 8, 30))
    assert not is_open_at(PUENTE_ALTO, local(*monday, 14, 30))
    assert is_open_at(PUENTE_ALTO, local(*monday, 17, 29))
    assert not is_open_at(PUENTE_ALTO, local(*monday, 17, 30))
    assert not is_open_at(PUENTE_ALTO, local(2026, 3, 7, 10, 0))  # Saturday


def test_open_intervals_on_returns_aware_local_datetimes():
    assert open_intervals_on(PUENTE_ALTO, date(2026, 3, 5)) == [
        (local(2026, 3, 5, 8, 30), local(2026, 3, 5, 14, 0)),
        (local(2026, 3, 5, 15, 0), local(2026, 3, 5, 17, 30)),
        (local(2026, 3, 5, 19, 0), local(2026, 3, 5, 22, 30)),
    ]


def test_chilean_public_holiday_is_closed():
    assert is_public_holiday(date(2026, 9, 18))
    assert is_open_at(PUENTE_ALTO, local(2026, 9, 17, 10, 0))
    assert not is_open_at(PUENTE_ALTO, local(2026, 9, 18, 10, 0))
    assert open_intervals_on(PUENTE_ALTO, date(2026, 9, 18)) == []


def test_special_session_on_holiday_needs_an_exception():
    # 1 January 2026 is a holiday and the first Thursday of the month.
    assert not is_open_at(PUENTE_ALTO, local(2026, 1, 1, 20, 0))
    spec = copy.deepcopy(PUENTE_ALTO)
    spec["exceptions"].append({"date": "2026-01-01", "hours": [["19:00", "22:30"]]})
    assert is_open_at(spec, local(2026, 1, 1, 20, 0))
    assert not is_open_at(spec, local(2026, 1, 1, 10, 0))


def test_holidays_ignored_when_not_closing_on_them():
    spec = {**PUENTE_ALTO, "closed_on_public_holidays": False}
    assert is_open_at(spec, local(2026, 9, 18, 10, 0))


def test_exception_dates():
    assert is_open_at(PUENTE_ALTO, local(2026, 12, 24, 11, 0))
    assert not is_open_at(PUENTE_ALTO, local(2026, 12, 24, 13, 0))
    assert not is_open_at(PUENTE_ALTO, local(2026, 12, 31, 10, 0))
    assert is_open_at(PUENTE_ALTO, local(2026, 12, 30, 10, 0))


def test_exception_overrides_holiday_and_extra_closed_days():
    spec = copy.deepcopy(PUENTE_ALTO)
    spec["exceptions"].append({"date": "2026-09-18", "hours": [["10:00", "13:00"]]})
    assert is_open_at(spec, local(2026, 9, 18, 11, 0))
    assert is_open_at(spec, local(2026, 9, 18, 11, 0), extra_closed_days={date(2026, 9, 18)})


def test_extra_closed_days():
    closed = {date(2026, 3, 9)}
    assert not is_open_at(PUENTE_ALTO, local(2026, 3, 9, 10, 0), extra_closed_days=closed)
    assert is_open_at(PUENTE_ALTO, local(2026, 3, 10, 10, 0), extra_closed_days=closed)


def test_interval_crossing_midnight():
    assert is_open_at(NIGHT_SERVICE, local(2026, 3, 7, 23, 0))
    assert is_open_at(NIGHT_SERVICE, local(2026, 3, 8, 1, 59))
    assert not is_open_at(NIGHT_SERVICE, local(2026, 3, 8, 2, 0))
    assert not is_open_at(NIGHT_SERVICE, local(2026, 3, 7, 21, 59))


# --- DST changes in America/Santiago, 2026 ---
# 5 April 2026 00:00 (UTC-3) the clocks go back to 4 April 23:00 (UTC-4): 23:00-23:59 happens twice.
# 6 September 2026 00:00 (UTC-4) the clocks jump to 01:00 (UTC-3): 00:00-00:59 does not exist.


def test_dst_end_april_interval_lasts_an_extra_hour():
    [(start, end)] = open_intervals_on(NIGHT_SERVICE, date(2026, 4, 4))
    assert start == utc(2026, 4, 5, 1, 0)
    assert end == utc(2026, 4, 5, 6, 0)
    assert end - start == timedelta(hours=5)
    assert end.utcoffset() == timedelta(hours=-4)
    assert is_open_at(NIGHT_SERVICE, local(2026, 4, 4, 23, 30, fold=0))
    assert is_open_at(NIGHT_SERVICE, local(2026, 4, 4, 23, 30, fold=1))
    assert is_open_at(NIGHT_SERVICE, utc(2026, 4, 5, 5, 59))
    assert not is_open_at(NIGHT_SERVICE, utc(2026, 4, 5, 6, 0))


def test_dst_end_ambiguous_closing_time_means_first_occurrence():
    spec = {"weekly": {"sat": [["20:00", "23:30"]]}, "closed_on_public_holidays": False}
    [(_, end)] = open_intervals_on(spec, date(2026, 4, 4))
    assert end == utc(2026, 4, 5, 2, 30)
    assert is_open_at(spec, local(2026, 4, 4, 23, 15, fold=0))
    assert not is_open_at(spec, local(2026, 4, 4, 23, 45, fold=0))
    # The repeated 23:15 comes after closing: it must not reopen.
    assert not is_open_at(spec, local(2026, 4, 4, 23, 15, fold=1))


def test_dst_end_holy_saturday_is_a_holiday():
    spec = {**NIGHT_SERVICE, "closed_on_public_holidays": True}
    assert not is_open_at(spec, local(2026, 4, 4, 23, 30))


def test_dst_start_september_interval_loses_an_hour():
    [(start, end)] = open_intervals_on(NIGHT_SERVICE, date(2026, 9, 5))
    assert start == utc(2026, 9, 6, 2, 0)
    assert end == utc(2026, 9, 6, 5, 0)
    assert end - start == timedelta(hours=3)
    assert is_open_at(NIGHT_SERVICE, utc(2026, 9, 6, 4, 30))
    assert not is_open_at(NIGHT_SERVICE, utc(2026, 9, 6, 5, 0))


def test_dst_start_nonexistent_opening_time_starts_after_the_gap():
    spec = {"weekly": {"sun": [["00:30", "03:00"]]}}
    [(start, end)] = open_intervals_on(spec, date(2026, 9, 6))
    assert start == local(2026, 9, 6, 1, 0)
    assert start == utc(2026, 9, 6, 4, 0)
    assert end == utc(2026, 9, 6, 6, 0)
    assert not is_open_at(spec, utc(2026, 9, 6, 3, 59))
    assert is_open_at(spec, utc(2026, 9, 6, 4, 0))
    # A non-existent wall time given as input is read with fold=0 (01:30 UTC-3).
    assert is_open_at(spec, local(2026, 9, 6, 0, 30))


def test_weekday_hours_after_dst_changes():
    assert is_open_at(PUENTE_ALTO, utc(2026, 4, 6, 12, 30))  # 08:30 UTC-4
    assert not is_open_at(PUENTE_ALTO, utc(2026, 4, 6, 12, 29))
    assert is_open_at(PUENTE_ALTO, utc(2026, 9, 7, 11, 30))  # 08:30 UTC-3
    assert not is_open_at(PUENTE_ALTO, utc(2026, 9, 7, 11, 29))


# --- validation ---

NIGHT_SESSION = {"weekday": "thu", "nth": 1, "hours": [["19:00", "22:30"]]}


def test_validate_normalises():
    weekly = {"mon": [["15:00", "17:30"], ["8:30", "14:00"]], "sat": [["22:00", "00:00"]]}
    spec = validate_opening_hours({"weekly": weekly})
    assert spec["timezone"] == "America/Santiago"
    assert spec["closed_on_public_holidays"] is True
    assert spec["weekly"]["mon"] == [["08:30", "14:00"], ["15:00", "17:30"]]
    assert spec["weekly"]["sat"] == [["22:00", "24:00"]]
    assert spec["weekly"]["sun"] == []
    assert validate_opening_hours(PUENTE_ALTO) == validate_opening_hours(validate_opening_hours(PUENTE_ALTO))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weekly": {"mon": [["8h30", "14:00"]]}}, "Hora inválida en weekly.mon[0] (inicio): '8h30'"),
        ({"weekly": {"mon": [["08:30", "24:30"]]}}, "Hora inválida en weekly.mon[0] (fin): '24:30'"),
        ({"weekly": {"mon": [["24:00", "02:00"]]}}, "Hora inválida"),
        ({"weekly": {"mon": [["08:30", "08:30"]]}}, "el fin (08:30) debe ser posterior al inicio (08:30)"),
        ({"weekly": {"lun": [["08:30", "14:00"]]}}, "Día de la semana desconocido en 'weekly': 'lun'"),
        ({"weekly": {"mon": [["08:30", "14:00"], ["13:00", "17:30"]]}}, "Intervalos superpuestos en weekly.mon"),
        ({"weekly": {"mon": [["22:00", "02:00"]], "tue": [["01:00", "05:00"]]}}, "entre mon y tue"),
        ({"weekly": {"sun": [["22:00", "09:00"]], "mon": [["08:30", "14:00"]]}}, "entre sun y mon"),
        ({"exceptions": [{"date": "2026-02-30", "closed": True}]}, "Fecha inválida en exceptions[0].date"),
        ({"exceptions": [{"date": "24-12-2026", "closed": True}]}, "Fecha inválida"),
        ({"exceptions": [{"date": "2026-12-24"}]}, "solo uno de los dos"),
        ({"exceptions": [{"date": "2026-12-24", "closed": True}] * 2}, "Fecha repetida en 'exceptions': 2026-12-24"),
        ({"special_sessions": [{**NIGHT_SESSION, "nth": 6}]}, "nth fuera de rango: 6"),
        ({"special_sessions": [{**NIGHT_SESSION, "nth": 0}]}, "nth fuera de rango: 0"),
        ({"special_sessions": [{**NIGHT_SESSION, "weekday": "jue"}]}, "Día de la semana desconocido"),
        ({"special_sessions": [{**NIGHT_SESSION, "valid_from": "2026-13-01"}]}, "special_sessions[0].valid_from"),
        ({"special_sessions": [{**NIGHT_SESSION, "hours": [["19:00", "20:00"], ["19:30", "22:30"]]}]}, "superpuestos"),
        ({"timezone": "America/Puente_Alto"}, "Zona horaria desconocida"),
        ({"horario": {}}, "Clave desconocida en horario: 'horario'"),
    ],
)
def test_validation_errors(change, message):
    with pytest.raises(ValueError) as error:
        validate_opening_hours({**PUENTE_ALTO, **change})
    assert message in str(error.value)


def test_naive_datetime_is_rejected():
    with pytest.raises(ValueError, match="zona horaria"):
        is_open_at(PUENTE_ALTO, datetime(2026, 3, 5, 20, 0))
