"""The iCalendar feed of the sessions, read back by a real parser (icalendar)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
from django.utils import timezone

SANTIAGO = ZoneInfo("America/Santiago")


def feed_events(client) -> list:
    response = client.get("/puntos-de-atencion/sesiones.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.content).walk("VEVENT")


def test_feed_lists_each_monthly_night_session_with_place_and_link(client, make_point, monkeypatch):
    point = make_point(name="Municipalidad de Puente Alto, edificio consistorial")
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 2, 10, 0, tzinfo=SANTIAGO))
    events = feed_events(client)
    first = events[0]
    assert str(first["SUMMARY"]) == "Atención Nocturna · Municipalidad de Puente Alto, edificio consistorial"
    assert first.decoded("DTSTART") == datetime(2026, 12, 3, 19, 0, tzinfo=SANTIAGO)
    assert first.decoded("DTEND") == datetime(2026, 12, 3, 22, 30, tzinfo=SANTIAGO)
    assert "Av. Concha y Toro 1820" in str(first["LOCATION"])
    assert str(first["URL"]).endswith(f"/puntos-de-atencion/{point.pk}/")
    assert len({str(event["UID"]) for event in events}) == len(events)
    assert [e.decoded("DTSTART").astimezone(SANTIAGO).strftime("%a %d") for e in events[:3]] == [
        "Thu 03",
        "Thu 07",
        "Thu 04",
    ]  # December, January, February: each month's first Thursday


def test_feed_keeps_the_wall_clock_hour_across_dst_and_skips_a_holiday(client, make_point, monkeypatch):
    make_point(
        opening_hours={
            "weekly": {},
            "special_sessions": [
                {"weekday": "sat", "nth": 1, "hours": [["19:00", "22:30"]], "label": "Sesión sabatina"}
            ],
        }
    )
    monkeypatch.setattr(timezone, "now", lambda: datetime(2027, 3, 20, 10, 0, tzinfo=SANTIAGO))
    starts = [event.decoded("DTSTART").astimezone(UTC) for event in feed_events(client)[:2]]
    # 3 April 2027 is still summer time (UTC-3); 1 May (Labour Day) is a holiday; 5 June is winter time (UTC-4).
    assert starts == [datetime(2027, 4, 3, 22, 0, tzinfo=UTC), datetime(2027, 6, 5, 23, 0, tzinfo=UTC)]
