"""The iCalendar feed of the service points' sessions (RFC 5545, written by the icalendar package)."""

from datetime import UTC, datetime

import icalendar
from django.urls import reverse

from geo_siac.attention.selectors import Session
from geo_siac.reports.messages import absolute
from geo_siac.zones.models import ServicePoint


def sessions_calendar(items: list[tuple[ServicePoint, Session]], now: datetime) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//GeoSIAC//Sesiones de atencion//ES")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "GeoSIAC: sesiones de los puntos de atención")
    for point, session in items:
        event = icalendar.Event()
        # Stable across regenerations, so a subscribed calendar updates an event instead of duplicating it.
        event.add("uid", f"punto-{point.pk}-{session.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}@geosiac")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", session.starts_at.astimezone(UTC))
        event.add("dtend", session.ends_at.astimezone(UTC))
        event.add("summary", f"{session.label or point.name} · {point.name}")
        event.add("location", ", ".join(part for part in (point.address, point.name) if part))
        event.add("url", absolute(reverse("attention:point", args=[point.pk])))
        event.add("geo", (point.point.y, point.point.x))
        calendar.add_component(event)
    return calendar.to_ical()
