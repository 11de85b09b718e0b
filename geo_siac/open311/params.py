"""Reading GeoReport v2 parameters. Each bad value raises Open311Error, answered as the spec's error list."""

from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from geo_siac.reports.states import CLOSED, OPEN

MAX_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
DEFAULT_RADIUS_M = 500
MAX_RADIUS_M = 5000
STATUS_GROUPS = {"open": OPEN, "closed": CLOSED}


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def bad(name: str, message: str) -> Open311Error:
    return Open311Error(400, f"{name}: {message}")


def reject_null_characters(values) -> None:
    """PostgreSQL text cannot hold NUL, so such a parameter is bad input, not a server error."""
    for name in values:
        if "\x00" in name or any("\x00" in str(value) for value in values.getlist(name)):
            raise bad(name.replace("\x00", ""), _("no se permiten caracteres nulos."))


def comma_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def moment(query, name: str) -> datetime | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        parsed = parse_datetime(raw) or _start_of_day(parse_date(raw))
    except ValueError:
        parsed = None
    if parsed is None:
        raise bad(name, _("se esperaba una fecha ISO 8601, por ejemplo 2026-01-31T12:00:00-03:00."))
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _start_of_day(day):
    return datetime(day.year, day.month, day.day) if day else None


def requested_window(query) -> tuple[datetime, datetime] | None:
    """start_date/end_date, at most 90 days apart; the last 90 days when neither (nor updated_*) is given."""
    start, end = moment(query, "start_date"), moment(query, "end_date")
    if start is None and end is None and (moment(query, "updated_after") or moment(query, "updated_before")):
        return None
    return window(start, end)


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """At most 90 days from start or up to end; the last 90 days when neither is given."""
    if start is None and end is None:
        end = timezone.now()
    try:
        start = start or end - MAX_WINDOW
        end = end or start + MAX_WINDOW
    except OverflowError:
        raise bad("start_date", _("fecha fuera de rango.")) from None
    if start > end:
        raise bad("start_date", _("debe ser anterior a end_date."))
    if end - start > MAX_WINDOW:
        raise bad("end_date", _("el intervalo no puede superar 90 días."))
    return start, end


def updates_window(query) -> tuple[datetime, datetime]:
    """start_date/end_date of GET servicerequestupdates, under the rules of GET requests' window."""
    return window(moment(query, "start_date"), moment(query, "end_date"))


def integer(query, name: str, *, default: int, low: int, high: int) -> int:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise bad(name, _("se esperaba un entero entre %(low)s y %(high)s.") % {"low": low, "high": high})
    return int(raw)


def number(raw: str, name: str, *, low: float, high: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise bad(name, _("se esperaba un número.")) from None
    if not low <= value <= high:
        raise bad(name, _("debe estar entre %(low)s y %(high)s.") % {"low": low, "high": high})
    return value


def bbox(query) -> dict | None:
    parts = comma_list(query.get("bbox"))
    if not parts:
        return None
    if len(parts) != 4:
        raise bad("bbox", _("se esperaban cuatro números: oeste,sur,este,norte."))
    west, east = (number(parts[i], "bbox", low=-180, high=180) for i in (0, 2))
    south, north = (number(parts[i], "bbox", low=-90, high=90) for i in (1, 3))
    if west >= east or south >= north:
        raise bad("bbox", _("el oeste debe ser menor que el este y el sur menor que el norte."))
    return {"west": west, "south": south, "east": east, "north": north}


def circle(query) -> dict | None:
    lat, lng = (query.get("lat") or "").strip(), (query.get("long") or "").strip()
    if not lat and not lng:
        return None
    if not lat or not lng:
        raise bad("lat" if not lat else "long", _("lat y long van juntos."))
    radius = (query.get("radius") or "").strip()
    return {
        "lat": number(lat, "lat", low=-90, high=90),
        "lng": number(lng, "long", low=-180, high=180),
        "radius_m": number(radius, "radius", low=1, high=MAX_RADIUS_M) if radius else DEFAULT_RADIUS_M,
    }


def statuses(query) -> set[str] | None:
    names = comma_list(query.get("status"))
    if not names:
        return None
    unknown = [name for name in names if name not in STATUS_GROUPS]
    if unknown:
        raise bad("status", _("use open o closed (recibido: %s).") % ", ".join(unknown))
    return set().union(*(STATUS_GROUPS[name] for name in names))


def request_ids(query) -> list[int] | None:
    ids = comma_list(query.get("service_request_id"))
    if not ids:
        return None
    if not all(item.isdigit() and len(item) < 19 for item in ids):
        raise bad("service_request_id", _("se esperaban números separados por coma."))
    return [int(item) for item in ids]


def is_true(query, name: str) -> bool:
    return (query.get(name) or "").strip().lower() == "true"
