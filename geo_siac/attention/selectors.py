"""Reads of the attention app: service points' hours and sessions, the procedures guide, free slots, the desk's
agenda and the figures per service point."""

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from geo_siac.attention.models import HOLDS_SEAT, Appointment, AppointmentStatus, Offering, Procedure, Slot
from geo_siac.geo import STORAGE_SRID
from geo_siac.reports.selectors import phone_key, phone_key_sql, received_by_point
from geo_siac.reports.states import Channel
from geo_siac.zones import opening_hours as hours
from geo_siac.zones.models import Commune, ServicePoint
from geo_siac.zones.selectors import closed_days

# A monthly session can be skipped by a holiday: look two months and a bit ahead.
SESSION_HORIZON_DAYS = 70
FEED_DAYS = 180
CLOSURE_HORIZON_DAYS = 60
BOOKING_HORIZON_DAYS = 30


@dataclass(frozen=True)
class Session:
    label: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Closure:
    day: date
    reason: str


def public_points() -> QuerySet[ServicePoint]:
    """The municipal service points of the served comunas, with the procedures done at each."""
    offerings = Offering.objects.select_related("procedure").order_by("procedure__name")
    return (
        ServicePoint.objects.municipal()
        .filter(commune__is_active=True)
        .select_related("commune")
        .defer("commune__geometry")
        .prefetch_related(Prefetch("offerings", queryset=offerings))
    )


def points_near(points: QuerySet[ServicePoint], latitude: float, longitude: float) -> QuerySet[ServicePoint]:
    """Nearest first, with `distance` (metres on the spheroid, as PostGIS measures geography)."""
    here = Point(longitude, latitude, srid=STORAGE_SRID)
    return points.annotate(distance=Distance("point", here)).order_by("distance", "name")


def point_sessions(point: ServicePoint, start: date, days: int, closed: frozenset[date]) -> list[Session]:
    """The named sessions (e.g. a monthly night session) of the local dates start .. start + days - 1."""
    if not point.opening_hours or not (
        point.opening_hours.get("special_sessions") or point.opening_hours.get("exceptions")
    ):
        return []
    return [
        Session(label, begin, end)
        for offset in range(days)
        for label, begin, end in hours.sessions_on(point.opening_hours, start + timedelta(days=offset), closed)
    ]


def next_session(point: ServicePoint, now: datetime, closed: frozenset[date]) -> Session | None:
    """The session running now or the next one to start."""
    today = local_date(point, now)
    return next((s for s in point_sessions(point, today, SESSION_HORIZON_DAYS, closed) if s.ends_at > now), None)


def local_date(point: ServicePoint, when: datetime) -> date:
    spec = point.opening_hours or {}
    return timezone.localtime(when, ZoneInfo(spec.get("timezone", hours.DEFAULT_TIMEZONE))).date()


def upcoming_closures(point: ServicePoint, today: date, closed: frozenset[date]) -> list[Closure]:
    """Dates of the coming weeks when the point would open by its weekly hours but does not (a holiday, a
    closed day or an exception)."""
    if not point.opening_hours:
        return []
    spec = hours.validate_opening_hours(point.opening_hours)
    result = []
    for offset in range(CLOSURE_HORIZON_DAYS):
        day = today + timedelta(days=offset)
        if spec["weekly"][hours.WEEKDAYS[day.weekday()]] and not hours.open_intervals_on(spec, day, closed):
            result.append(Closure(day, holiday_names(day.year).get(day, "")))
    return result


def holiday_names(year: int) -> dict[date, str]:
    """Chile's public holidays of a year, named in the page's language (the holidays package has es and en_US)."""
    language = "en_US" if (get_language() or "es").startswith("en") else "es"
    return dict(holidays.country_holidays("CL", years=year, language=language))


def points_with_status(points, now: datetime) -> list[dict]:
    """Each point with whether it is open now and its next session, as the list page and the map show them."""
    closed = closed_days()
    return [
        {"point": point, "open_now": point.is_open_at(now), "next_session": next_session(point, now, closed)}
        for point in points
    ]


def points_by_commune(rows: list[dict], *, nearest_first: bool) -> list[tuple[Commune, list[dict]]]:
    """The rows of points_with_status grouped by comuna, each group in the rows' order: the comunas by name, or,
    when the rows are nearest first, in the order of their nearest point."""
    groups: dict[int, tuple[Commune, list[dict]]] = {}
    for row in rows:
        groups.setdefault(row["point"].commune_id, (row["point"].commune, []))[1].append(row)
    ordered = list(groups.values())
    return ordered if nearest_first else sorted(ordered, key=lambda group: fold(group[0].name))


def sessions_feed(now: datetime) -> list[tuple[ServicePoint, Session]]:
    """Every session of every public point from today to FEED_DAYS ahead, in time order."""
    closed = closed_days()
    points = ServicePoint.objects.filter(commune__is_active=True, opening_hours__isnull=False).defer("commune")
    items = [
        (point, session)
        for point in points
        for session in point_sessions(point, local_date(point, now), FEED_DAYS, closed)
    ]
    return sorted(items, key=lambda item: (item[1].starts_at, item[0].pk))


def fold(text: str) -> str:
    """Lower case without accents or tilde: 'tramite' finds 'Trámite' and 'penalolen' finds 'Peñalolén'."""
    return "".join(c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c))


def procedures_search(query: str) -> list[Procedure]:
    """Procedures whose name, description, requirements or responsible unit contain every word of the query, with
    or without accents. A guide holds tens of procedures, so they are matched in Python."""
    words = fold(query).split()
    procedures = Procedure.objects.prefetch_related("offerings__service_point")
    return [
        procedure
        for procedure in procedures
        if all(
            word in fold(" ".join((procedure.name, procedure.summary, procedure.requirements, procedure.responsible)))
            for word in words
        )
    ]


def procedure_by_slug(slug: str) -> Procedure | None:
    return Procedure.objects.filter(slug=slug).first()


def offering_by_pk(pk: int) -> Offering | None:
    return Offering.objects.select_related("procedure", "service_point").filter(pk=pk).first()


def slot_bounds(offering: Offering, day: date, closed: frozenset[date]) -> list[tuple[datetime, datetime]]:
    """The slots of a local date: each opening interval cut into slot_minutes pieces (a remainder too short for a
    slot is left out). Intervals are fixed-offset instants, so a DST night keeps real durations."""
    spec = offering.service_point.opening_hours
    if not spec:
        return []
    length = timedelta(minutes=offering.slot_minutes)
    bounds = []
    for start, end in hours.open_intervals_on(spec, day, closed):
        while start + length <= end:
            bounds.append((start, start + length))
            start += length
    return bounds


def free_slots(offering: Offering, day: date, now: datetime) -> list[dict]:
    """The day's slots still ahead, each with its free seats."""
    bounds = [b for b in slot_bounds(offering, day, closed_days()) if b[0] > now]
    taken = dict(
        Slot.objects.filter(offering=offering, starts_at__in=[b[0] for b in bounds])
        .annotate(taken=Count("appointments", filter=Q(appointments__status__in=HOLDS_SEAT)))
        .values_list("starts_at", "taken")
    )
    return [
        {"starts_at": start, "ends_at": end, "free": offering.capacity_per_slot - taken.get(start, 0)}
        for start, end in bounds
    ]


def booking_days(offering: Offering, today: date) -> list[date]:
    """The dates of the next BOOKING_HORIZON_DAYS with any opening hours."""
    closed = closed_days()
    return [
        day
        for day in (today + timedelta(days=n) for n in range(BOOKING_HORIZON_DAYS))
        if slot_bounds(offering, day, closed)
    ]


def appointment_by_code(code: str) -> Appointment | None:
    return (
        Appointment.objects.select_related("slot__offering__procedure", "slot__offering__service_point")
        .filter(code=code)
        .first()
    )


def appointments_of(email: str = "", phone: str = "") -> QuerySet[Appointment]:
    """The appointments booked with `email`, or with only `phone` (reports.selectors.phone_key, as for reports),
    oldest first: what a citizen's data export lists and their erasure anonymises."""
    if email:
        theirs = Appointment.objects.filter(email__iexact=email)
    elif len(phone_key(phone)) >= 8:
        theirs = Appointment.objects.filter(email="").alias(key=phone_key_sql("phone")).filter(key=phone_key(phone))
    else:
        theirs = Appointment.objects.none()
    return theirs.select_related("slot__offering__procedure", "slot__offering__service_point").order_by(
        "slot__starts_at"
    )


def day_agenda(point: ServicePoint, day: date) -> QuerySet[Appointment]:
    """The appointments of a point's local date, cancelled ones included (the desk sees them struck out)."""
    tz = ZoneInfo((point.opening_hours or {}).get("timezone", hours.DEFAULT_TIMEZONE))
    start = datetime.combine(day, datetime.min.time(), tz)
    return (
        Appointment.objects.filter(
            slot__offering__service_point=point,
            slot__starts_at__gte=start,
            slot__starts_at__lt=start + timedelta(days=1),
        )
        .select_related("slot__offering__procedure")
        .order_by("slot__starts_at", "id")
    )


def points_with_offerings() -> QuerySet[ServicePoint]:
    return ServicePoint.objects.filter(offerings__isnull=False).distinct().defer("point").order_by("name")


EFFICIENCY_SQL = f"""
SELECT o.service_point_id,
       count(*) FILTER (WHERE a.status <> '{AppointmentStatus.CANCELLED}') AS booked,
       count(*) FILTER (WHERE a.status = '{AppointmentStatus.SERVED}') AS served,
       count(*) FILTER (WHERE a.status = '{AppointmentStatus.NO_SHOW}') AS no_shows,
       count(*) FILTER (WHERE a.status = '{AppointmentStatus.CANCELLED}') AS cancelled,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.served_at - a.arrived_at) / 60)
           FILTER (WHERE a.status = '{AppointmentStatus.SERVED}' AND a.arrived_at IS NOT NULL) AS median_wait_minutes
FROM {Appointment._meta.db_table} a
JOIN {Slot._meta.db_table} s ON s.id = a.slot_id
JOIN {Offering._meta.db_table} o ON o.id = s.offering_id
WHERE s.starts_at >= %(start)s AND s.starts_at < %(end)s
GROUP BY o.service_point_id
"""


def point_efficiency(*, month: date, commune: Commune | None = None, user=None) -> list[dict]:
    """Per service point with procedures or with requests received in the month: the requests received there
    (`reports.selectors.received_by_point`: how many, by channel, the share answered in time, judged at the month's
    end or now), and for the slots of the month the appointments booked (not cancelled), served, no-shows,
    cancelled and the median wait in minutes between arrival and service. With `user`, only the points of the
    comunas that person works for (zones.tenancy)."""
    tz = ZoneInfo(hours.DEFAULT_TIMEZONE)
    start = datetime(month.year, month.month, 1, tzinfo=tz)
    end = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=tz)
    with connection.cursor() as cursor:
        cursor.execute(EFFICIENCY_SQL, {"start": start, "end": end})
        columns = [c.name for c in cursor.description]
        figures = {row[0]: dict(zip(columns[1:], row[1:])) for row in cursor.fetchall()}
    received = received_by_point(start=start, end=end, as_of=min(timezone.now(), end))
    points = (
        ServicePoint.objects.filter(Q(offerings__isnull=False) | Q(pk__in=list(received)))
        .distinct()
        .defer("point")
        .order_by("name")
    )
    if commune is not None:
        points = points.filter(commune=commune)
    if user is not None:
        points = points.for_staff(user)
    empty = {"booked": 0, "served": 0, "no_shows": 0, "cancelled": 0, "median_wait_minutes": None}
    return [
        {"point": point, **empty, **figures.get(point.pk, {}), **_received_row(received.get(point.pk))}
        for point in points
    ]


def _received_row(received: dict | None) -> dict:
    """The requests received at a point, with its channels by name, most used first."""
    if received is None:
        return {"received": 0, "channels": [], "on_time_share": None}
    channels = sorted(received["channels"].items(), key=lambda item: (-item[1], item[0]))
    return {
        "received": received["received"],
        "on_time_share": received["on_time_share"],
        "channels": [{"code": code, "label": Channel(code).label, "count": count} for code, count in channels],
    }
