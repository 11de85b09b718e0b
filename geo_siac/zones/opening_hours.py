"""Opening hours of municipal service points.

A spec is a JSON-serialisable dict (stored in a JSONField)::

    {"timezone": "America/Santiago",
     "weekly": {"mon": [["08:30", "14:00"], ["15:00", "17:30"]], ...},
     "closed_on_public_holidays": true,
     "exceptions": [{"date": "2026-12-24", "hours": [["08:30", "12:00"]]},
                    {"date": "2026-12-31", "closed": true}],
     "special_sessions": [{"weekday": "thu", "nth": 1, "hours": [["19:00", "22:30"]],
                           "valid_from": "2026-01-01", "valid_until": null,
                           "label": "Municipio en tu barrio nocturno"}]}

Rules for one local date, in order of precedence:

1. An exception for the date is the whole truth for that date: its hours (or
   closure) replace the weekly hours, the holiday closure and every special
   session. A special session on a public holiday therefore only happens if an
   exception for that date lists its hours.
2. Otherwise a public holiday (when ``closed_on_public_holidays``) or a day in
   ``extra_closed_days`` closes the whole date, special sessions included.
   Extra closed days apply even when ``closed_on_public_holidays`` is false.
3. Otherwise the date's hours are the weekly hours of its weekday plus the
   special sessions that fall on it, merged.

An interval whose end is earlier than its start crosses midnight and belongs to
the date it starts on ("22:00"-"02:00" runs until 02:00 of the next day, even if
that next day is closed). "24:00" is accepted as an end.

Wall-clock times become instants like this: an ambiguous time (the repeated
hour when DST ends) means its first occurrence; a non-existent time (the
skipped hour when DST starts) means the first instant after the gap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIMEZONE = "America/Santiago"
MINUTES_PER_DAY = 24 * 60

_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TOP_LEVEL_KEYS = {"timezone", "weekly", "closed_on_public_holidays", "exceptions", "special_sessions"}
_EXCEPTION_KEYS = {"date", "hours", "closed", "label"}
_SESSION_KEYS = {"weekday", "nth", "hours", "valid_from", "valid_until", "label"}
_VALID_NTH = (1, 2, 3, 4, 5, -1)

Interval = tuple[int, int]  # minutes after the day's midnight; end > 1440 crosses midnight


# --- validation -------------------------------------------------------------


def validate_opening_hours(spec: Any) -> dict[str, Any]:
    """Return the normalised spec or raise ``ValueError`` (message in Spanish)."""
    if not isinstance(spec, dict):
        raise ValueError("El horario debe ser un objeto JSON (diccionario).")
    _reject_unknown_keys(spec, _TOP_LEVEL_KEYS, "horario")
    tz_name = spec.get("timezone", DEFAULT_TIMEZONE)
    _zone(tz_name)
    closed_on_holidays = spec.get("closed_on_public_holidays", True)
    if not isinstance(closed_on_holidays, bool):
        raise ValueError(f"'closed_on_public_holidays' debe ser true o false, no {closed_on_holidays!r}.")
    weekly = _validate_weekly(spec.get("weekly", {}))
    exceptions = _validate_list(spec.get("exceptions", []), "exceptions", _validate_exception)
    dates = [item["date"] for item in exceptions]
    duplicates = sorted({d for d in dates if dates.count(d) > 1})
    if duplicates:
        raise ValueError(f"Fecha repetida en 'exceptions': {duplicates[0]}.")
    return {
        "timezone": tz_name,
        "weekly": weekly,
        "closed_on_public_holidays": closed_on_holidays,
        "exceptions": sorted(exceptions, key=lambda item: item["date"]),
        "special_sessions": _validate_list(spec.get("special_sessions", []), "special_sessions", _validate_session),
    }


def _reject_unknown_keys(obj: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise ValueError(f"Clave desconocida en {where}: '{unknown[0]}'.")


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"Zona horaria desconocida: {name!r}.") from None


def _validate_weekly(weekly: Any) -> dict[str, list[list[str]]]:
    if not isinstance(weekly, dict):
        raise ValueError("'weekly' debe ser un objeto con días como claves (mon, tue, ..., sun).")
    for day in weekly:
        if day not in WEEKDAYS:
            raise ValueError(f"Día de la semana desconocido en 'weekly': {day!r} (use {', '.join(WEEKDAYS)}).")
    parsed = {day: _parse_intervals(weekly.get(day, []), f"weekly.{day}") for day in WEEKDAYS}
    _check_week_overlaps(parsed)
    return {day: _format_intervals(parsed[day]) for day in WEEKDAYS}


def _check_week_overlaps(parsed: dict[str, list[Interval]]) -> None:
    """Detect overlaps between days too, e.g. Monday 22:00-02:00 against Tuesday 01:00-05:00."""
    week = MINUTES_PER_DAY * len(WEEKDAYS)
    spans = sorted(
        (i * MINUTES_PER_DAY + start, i * MINUTES_PER_DAY + end, day)
        for i, day in enumerate(WEEKDAYS)
        for start, end in parsed[day]
    )
    # Sunday night may run into Monday: compare the last span with the first one a week later.
    wrapped = spans + [(start + week, end + week, day) for start, end, day in spans[:1]]
    for (_, end, day), (next_start, _, next_day) in zip(wrapped, wrapped[1:]):
        if end > next_start:
            raise ValueError(f"Intervalos superpuestos en 'weekly' entre {day} y {next_day}.")


def _validate_list(items: Any, key: str, validate_item: Callable[[Any, str], dict[str, Any]]) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise ValueError(f"'{key}' debe ser una lista.")
    return [validate_item(item, f"{key}[{i}]") for i, item in enumerate(items)]


def _validate_exception(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"{where} debe ser un objeto.")
    _reject_unknown_keys(item, _EXCEPTION_KEYS, where)
    day = _parse_date(item.get("date"), f"{where}.date", required=True)
    closed = item.get("closed", False)
    if not isinstance(closed, bool):
        raise ValueError(f"{where}.closed debe ser true o false, no {closed!r}.")
    if closed == ("hours" in item):
        raise ValueError(f"{where} debe indicar 'hours' o bien \"closed\": true (solo uno de los dos).")
    hours = _parse_intervals(item.get("hours", []), f"{where}.hours")
    normalised: dict[str, Any] = {"date": day.isoformat(), "hours": _format_intervals(hours)}
    if "label" in item:
        normalised["label"] = _parse_label(item["label"], where)
    return normalised


def _validate_session(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValueError(f"{where} debe ser un objeto.")
    _reject_unknown_keys(item, _SESSION_KEYS, where)
    weekday = item.get("weekday")
    if weekday not in WEEKDAYS:
        raise ValueError(f"Día de la semana desconocido en {where}.weekday: {weekday!r}.")
    nth = item.get("nth")
    if isinstance(nth, bool) or nth not in _VALID_NTH:
        raise ValueError(f"{where}.nth fuera de rango: {nth!r} (use 1 a 5, o -1 para el último del mes).")
    valid_from = _parse_date(item.get("valid_from"), f"{where}.valid_from")
    valid_until = _parse_date(item.get("valid_until"), f"{where}.valid_until")
    if valid_from and valid_until and valid_until < valid_from:
        raise ValueError(f"{where}: 'valid_until' ({valid_until}) es anterior a 'valid_from' ({valid_from}).")
    hours = _parse_intervals(item.get("hours"), f"{where}.hours")
    if not hours:
        raise ValueError(f"{where}.hours no puede estar vacío.")
    return {
        "weekday": weekday,
        "nth": nth,
        "hours": _format_intervals(hours),
        "valid_from": valid_from.isoformat() if valid_from else None,
        "valid_until": valid_until.isoformat() if valid_until else None,
        "label": _parse_label(item.get("label", ""), where),
    }


def _parse_label(label: Any, where: str) -> str:
    if not isinstance(label, str):
        raise ValueError(f"{where}.label debe ser texto.")
    return label


def _parse_date(value: Any, where: str, required: bool = False) -> date | None:
    if value is None and not required:
        return None
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"Fecha inválida en {where}: {value!r} (formato AAAA-MM-DD).")


def _parse_intervals(raw: Any, where: str) -> list[Interval]:
    """Parse ``[["HH:MM", "HH:MM"], ...]``, sorted; overlaps within the list are errors."""
    if not isinstance(raw, list):
        raise ValueError(f'{where} debe ser una lista de intervalos ["HH:MM", "HH:MM"].')
    intervals = sorted(_parse_interval(pair, f"{where}[{i}]") for i, pair in enumerate(raw))
    for (_, end), (next_start, _) in zip(intervals, intervals[1:]):
        if end > next_start:
            raise ValueError(f"Intervalos superpuestos en {where}.")
    return intervals


def _parse_interval(pair: Any, where: str) -> Interval:
    if not (isinstance(pair, list | tuple) and len(pair) == 2):
        raise ValueError(f'{where} debe ser un par ["HH:MM", "HH:MM"], no {pair!r}.')
    start = _parse_minutes(pair[0], f"{where} (inicio)", allow_24=False)
    end = _parse_minutes(pair[1], f"{where} (fin)", allow_24=True)
    if end == start:
        raise ValueError(
            f"{where}: el fin ({pair[1]}) debe ser posterior al inicio ({pair[0]}); "
            "un fin anterior al inicio significa que el intervalo cruza la medianoche."
        )
    return start, end if end > start else end + MINUTES_PER_DAY


def _parse_minutes(value: Any, where: str, allow_24: bool) -> int:
    if allow_24 and value == "24:00":
        return MINUTES_PER_DAY
    match = _TIME_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"Hora inválida en {where}: {value!r} (formato HH:MM, 00:00 a 23:59).")
    return int(match[1]) * 60 + int(match[2])


def _format_intervals(intervals: Iterable[Interval]) -> list[list[str]]:
    return [[_format_minutes(start), _format_minutes(end)] for start, end in intervals]


def _format_minutes(minutes: int) -> str:
    if minutes == MINUTES_PER_DAY:
        return "24:00"
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- holidays ---------------------------------------------------------------


@lru_cache(maxsize=64)
def chile_public_holidays(year: int) -> frozenset[date]:
    """Chilean national public holidays of ``year`` (``holidays`` package)."""
    return frozenset(holidays.country_holidays("CL", years=year))


def is_public_holiday(day: date) -> bool:
    return day in chile_public_holidays(day.year)


# --- evaluation -------------------------------------------------------------


def open_intervals_on(
    spec: dict[str, Any], day: date, extra_closed_days: set[date] | None = None
) -> list[tuple[datetime, datetime]]:
    """Opening intervals that start on local date ``day``.

    Datetimes carry the spec timezone's UTC offset at each instant (fixed-offset tzinfo).
    """
    return _open_intervals(validate_opening_hours(spec), day, extra_closed_days or set())


def is_open_at(spec: dict[str, Any], when: datetime, extra_closed_days: set[date] | None = None) -> bool:
    """Whether the service point is open at the aware datetime ``when``."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("La fecha y hora debe incluir zona horaria (datetime 'aware').")
    normalised = validate_opening_hours(spec)
    local_day = when.astimezone(_zone(normalised["timezone"])).date()
    closed = extra_closed_days or set()
    # Intervals end by 24:00 of the day after they start, so only today's and yesterday's matter.
    return any(
        start <= when < end  # fixed-offset bounds: compared as instants, even for a ``when`` with fold=1
        for day in (local_day - timedelta(days=1), local_day)
        for start, end in _open_intervals(normalised, day, closed)
    )


def sessions_on(
    spec: dict[str, Any], day: date, extra_closed_days: set[date] | None = None
) -> list[tuple[str, datetime, datetime]]:
    """The named sessions (label, start, end) held on local date ``day`` under the rules above.

    A special session counts on the dates its rule picks that no exception or closure replaces; an exception
    with a label and hours is a session of its own (e.g. a night session moved to another date).
    """
    normalised = validate_opening_hours(spec)
    tz = _zone(normalised["timezone"])
    midnight = datetime.combine(day, time())
    iso = day.isoformat()
    exception = next((item for item in normalised["exceptions"] if item["date"] == iso), None)
    if exception is not None:
        named = [(exception["label"], exception["hours"])] if exception.get("label") else []
    elif day in (extra_closed_days or set()) or (normalised["closed_on_public_holidays"] and is_public_holiday(day)):
        named = []
    else:
        weekday = WEEKDAYS[day.weekday()]
        named = [
            (session["label"], session["hours"])
            for session in normalised["special_sessions"]
            if session["weekday"] == weekday and _session_applies(session, day)
        ]
    return [
        (label, _instant(midnight + timedelta(minutes=start), tz), _instant(midnight + timedelta(minutes=end), tz))
        for label, hours_ in named
        for start, end in _minutes(hours_)
    ]


def _open_intervals(spec: dict[str, Any], day: date, extra_closed_days: set[date]) -> list[tuple[datetime, datetime]]:
    tz = _zone(spec["timezone"])
    midnight = datetime.combine(day, time())
    return [
        (_instant(midnight + timedelta(minutes=start), tz), _instant(midnight + timedelta(minutes=end), tz))
        for start, end in _day_minutes(spec, day, extra_closed_days)
    ]


def _instant(naive: datetime, tz: ZoneInfo) -> datetime:
    """Wall time as a fixed-offset datetime.

    Python compares and subtracts datetimes sharing a ZoneInfo by wall time, which
    is wrong across DST changes; fixed offsets make ``end - start`` the real duration.
    """
    aware = _resolve_wall_time(naive, tz)
    return aware.astimezone(timezone(aware.utcoffset()))


def _day_minutes(spec: dict[str, Any], day: date, extra_closed_days: set[date]) -> list[Interval]:
    iso = day.isoformat()
    for exception in spec["exceptions"]:
        if exception["date"] == iso:
            return _minutes(exception["hours"])
    if day in extra_closed_days or (spec["closed_on_public_holidays"] and is_public_holiday(day)):
        return []
    weekday = WEEKDAYS[day.weekday()]
    intervals = _minutes(spec["weekly"][weekday])
    for session in spec["special_sessions"]:
        if session["weekday"] == weekday and _session_applies(session, day):
            intervals += _minutes(session["hours"])
    return _merge(intervals)


def _session_applies(session: dict[str, Any], day: date) -> bool:
    if session["valid_from"] and day < date.fromisoformat(session["valid_from"]):
        return False
    if session["valid_until"] and day > date.fromisoformat(session["valid_until"]):
        return False
    if session["nth"] == -1:
        return (day + timedelta(days=7)).month != day.month
    return (day.day - 1) // 7 + 1 == session["nth"]


def _minutes(hours: list[list[str]]) -> list[Interval]:
    return [_parse_interval(pair, "horario") for pair in hours]


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _resolve_wall_time(naive: datetime, tz: ZoneInfo) -> datetime:
    """Aware datetime for a wall time: first occurrence if ambiguous, end of the gap if skipped."""
    aware = naive.replace(tzinfo=tz)  # fold=0: the first occurrence of an ambiguous time
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive:
        return aware
    # In a DST gap fold=1 lands before the transition and fold=0 after it; bisect to the transition.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = aware.astimezone(UTC)
    while (high - low) > timedelta(seconds=1):
        middle = low + timedelta(seconds=int((high - low).total_seconds()) // 2)
        if middle.astimezone(tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle
    return high.astimezone(tz)
