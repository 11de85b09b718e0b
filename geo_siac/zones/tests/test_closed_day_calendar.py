"""A closed day added or removed in the admin moves the SQL business-day calendar with it, so the indicators'
business-day durations skip the same days the deadlines skip."""

import threading
from datetime import date, datetime
from unittest import mock

import pytest
from django.db import connection, transaction

from geo_siac.reports.deadlines import SANTIAGO, business_days_between
from geo_siac.reports.models import CalendarDay, Report
from geo_siac.reports.services import (
    EXPLAINED_BY_CALLER,
    business_calendar_sync,
    closed_day_save,
    closed_days_delete,
    report_change_status,
)
from geo_siac.transparency.selectors import indicators_by
from geo_siac.zones.models import ClosedDay
from geo_siac.zones.selectors import closed_days

ANNIVERSARY = date(2026, 10, 14)  # a Wednesday


def numbers(*days: date) -> list[int]:
    found = dict(CalendarDay.objects.filter(day__in=days).values_list("day", "business_days"))
    return [found[day] for day in days]


def closing_business_days(report) -> float:
    return indicators_by(Report.objects.filter(pk=report.pk), [None])[None][None]["closing_median_business_days"]


def test_a_closed_day_from_the_admin_is_skipped_by_the_calendar_until_it_is_removed(client, crews, make_report):
    client.force_login(crews["admin"])
    monday, friday = date(2026, 10, 12), date(2026, 10, 16)
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 10, 12, 10, tzinfo=SANTIAGO)):
        report = make_report()
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 10, 16, 12, tzinfo=SANTIAGO)):
        report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved", note="Hecho.")
    assert closing_business_days(report) == 4

    response = client.post("/admin/zones/closedday/add/", {"day": "2026-10-14", "reason": "Aniversario comunal"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CalendarDay.objects.get(day=ANNIVERSARY).is_business_day is False
    later, earlier = numbers(friday, monday)
    assert later - earlier == business_days_between(monday, friday, closed_days()) == 3
    assert closing_business_days(report) == 3

    closed = ClosedDay.objects.get(day=ANNIVERSARY)
    response = client.post(f"/admin/zones/closedday/{closed.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert CalendarDay.objects.get(day=ANNIVERSARY).is_business_day is True
    assert closing_business_days(report) == 4


def test_closed_day_services_write_the_day_and_the_calendar_together(db):
    closed = closed_day_save(closed_day=ClosedDay(day=ANNIVERSARY, reason="Aniversario comunal"))
    assert ClosedDay.objects.get(day=ANNIVERSARY) == closed
    assert CalendarDay.objects.get(day=ANNIVERSARY).is_business_day is False
    assert closed_days_delete(days=ClosedDay.objects.filter(day=ANNIVERSARY)) == 1
    assert CalendarDay.objects.get(day=ANNIVERSARY).is_business_day is True


def test_closed_days_deleted_in_bulk_from_the_list_leave_the_calendar_as_before(client, crews):
    client.force_login(crews["admin"])
    before = numbers(date(2026, 12, 31))
    for day in ("2026-11-04", "2026-11-05"):
        assert client.post("/admin/zones/closedday/add/", {"day": day, "reason": "Cierre"}).status_code == 302
    assert numbers(date(2026, 12, 31))[0] == before[0] - 2
    response = client.post(
        "/admin/zones/closedday/",
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [str(pk) for pk in ClosedDay.objects.values_list("pk", flat=True)],
        },
    )
    assert response.status_code == 302 and not ClosedDay.objects.exists()
    assert numbers(date(2026, 12, 31)) == before


def test_a_weekend_closed_day_changes_nothing(crews, client):
    client.force_login(crews["admin"])
    before = numbers(date(2026, 12, 31))
    assert client.post("/admin/zones/closedday/add/", {"day": "2026-10-17", "reason": "Sábado"}).status_code == 302
    assert numbers(date(2026, 12, 31)) == before


def add_closed_day_and_sync(day, outcome, name, holding=None, release=None):
    """Add a closed day and rewrite the calendar in one transaction, as the admin does; the first of two keeps
    its transaction open until told, so the second arrives meanwhile."""
    try:
        with transaction.atomic():
            ClosedDay.objects.create(day=day, reason=name)
            business_calendar_sync()
            if holding is not None:
                holding.set()
                release.wait(timeout=30)
        outcome[name] = "ok"
    except Exception as exc:  # the outcome is what the test checks
        outcome[name] = repr(exc)
    finally:
        if holding is not None:
            holding.set()
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_closed_days_added_at_once_both_reach_the_calendar(communes):
    first_day, second_day = date(2026, 11, 4), date(2026, 11, 5)
    outcome, holding, release = {}, threading.Event(), threading.Event()
    one = threading.Thread(target=add_closed_day_and_sync, args=(first_day, outcome, "first", holding, release))
    one.start()
    holding.wait(timeout=30)
    two = threading.Thread(target=add_closed_day_and_sync, args=(second_day, outcome, "second"))
    two.start()
    two.join(timeout=0.5)  # gives the second time to queue behind the first; no assertion on timing
    release.set()
    one.join(timeout=60)
    two.join(timeout=60)
    assert outcome == {"first": "ok", "second": "ok"}
    calendar = dict(CalendarDay.objects.filter(day__in=[first_day, second_day]).values_list("day", "is_business_day"))
    assert calendar == {first_day: False, second_day: False}
    assert business_calendar_sync() == 0
