from datetime import date, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from geo_siac.catalogue.models import Category
from geo_siac.reports.selectors import open_reports, overdue_reports
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status, report_extend_deadline
from geo_siac.zones.models import ClosedDay

SANTIAGO = ZoneInfo("America/Santiago")
THURSDAY_BEFORE_FIESTAS_PATRIAS = datetime(2026, 9, 17, 10, 0, tzinfo=SANTIAGO)


@pytest.fixture
def two_day_category(communes):
    Category.objects.filter(service_code="retiro-escombros").update(response_days=2)


def created_on(make_report, moment, **kwargs):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return make_report(**kwargs)


def local_day(moment) -> date:
    return moment.astimezone(SANTIAGO).date()


def test_deadline_skips_fiestas_patrias_and_the_weekend(make_report, two_day_category):
    report = created_on(make_report, THURSDAY_BEFORE_FIESTAS_PATRIAS)
    assert local_day(report.expected_at) == date(2026, 9, 22)  # Fri 18 and Sat 19 holidays, Sun 20: Mon 21, Tue 22


def test_deadline_skips_a_closed_day_configured_for_the_installation(make_report, two_day_category):
    ClosedDay.objects.create(day=date(2026, 9, 21), reason="Aniversario comunal")
    report = created_on(make_report, THURSDAY_BEFORE_FIESTAS_PATRIAS)
    assert local_day(report.expected_at) == date(2026, 9, 23)


def test_supervisor_extends_a_deadline_once_in_business_days_with_the_reason_in_the_history(
    make_report, two_day_category, crews
):
    report = created_on(make_report, THURSDAY_BEFORE_FIESTAS_PATRIAS)
    report_extend_deadline(report=report, business_days=3, reason="Requiere camión aljibe", actor=crews["supervisor"])
    report.refresh_from_db()
    assert local_day(report.expected_at) == date(2026, 9, 25)  # Wed 23, Thu 24, Fri 25
    note = report.events.get(kind="extended").note
    assert "del 22-09-2026 al 25-09-2026" in note and "camión aljibe" in note
    with pytest.raises(ValidationError) as caught:
        report_extend_deadline(report=report, business_days=1, reason="Otra vez", actor=crews["supervisor"])
    assert "ya fue prorrogado" in caught.value.message_dict["business_days"][0]
    report.refresh_from_db()
    assert local_day(report.expected_at) == date(2026, 9, 25)


def test_extension_without_reason_is_refused(make_report, crews):
    report = make_report()
    with pytest.raises(ValidationError) as caught:
        report_extend_deadline(report=report, business_days=2, reason="", actor=crews["supervisor"])
    assert "motivo" in caught.value.message_dict["reason"][0]
    report.refresh_from_db()
    assert report.deadline_extended_at is None


def test_open_report_is_on_time_then_due_soon_then_overdue_and_closed_ones_are_not_listed(make_report):
    report = make_report()
    states = [
        open_reports(now).get(pk=report.pk).deadline_state
        for now in (
            report.created_at,
            report.expected_at - timedelta(hours=3),
            report.expected_at + timedelta(minutes=1),
        )
    ]
    assert states == ["on_time", "due_soon", "overdue"]
    assert report in overdue_reports(report.expected_at + timedelta(days=1))
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=report, status="resolved")
    assert report not in overdue_reports(report.expected_at + timedelta(days=1))
