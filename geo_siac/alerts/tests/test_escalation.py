"""manage.py escalate: each rule fires once per level and request over a month of Chilean business days, answered
requests never escalate, and concurrent or interrupted runs tell each person once."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone, translation

from geo_siac.alerts.models import (
    MUNICIPAL_ADMINISTRATION,
    OIRS_COORDINATION,
    Alert,
    AlertKind,
    DepartmentHead,
    EscalationRule,
    Recipient,
    StaffAlert,
)
from geo_siac.alerts.selectors import escalation_replay
from geo_siac.alerts.services import alert_text, alerts_run, staff_alert_preference_set, staff_digests_send
from geo_siac.catalogue.models import Department
from geo_siac.notifications.models import Notification
from geo_siac.reports.deadlines import SANTIAGO, deadline
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, business_calendar_sync, report_change_status
from geo_siac.testing import PROJECT_ROOT, WEST_POINT, staff_account
from geo_siac.zones.models import ClosedDay
from geo_siac.zones.roles import SUPERVISOR


def escalation_setup(crews, django_user_model):
    """The issue's example rules for the crews' department, and someone in every role they reach."""
    department = crews["A"].department
    for name in ("ana", "sofia"):
        django_user_model.objects.filter(username=name).update(email=f"{name}@muni.example")
    head = staff_account("jefa", email="jefa@muni.example")
    DepartmentHead.objects.create(commune=crews["A"].commune, department=department, user=head)
    for username, group in (("olga", OIRS_COORDINATION), ("adam", MUNICIPAL_ADMINISTRATION)):
        staff_account(username, email=f"{username}@muni.example").groups.add(Group.objects.get_or_create(name=group)[0])
    crew_supervisor = staff_account("carla", email="carla@muni.example")
    crew_supervisor.groups.add(Group.objects.get_or_create(name=SUPERVISOR)[0])
    crews["A"].members.add(crew_supervisor)
    EscalationRule.objects.create(
        commune=crews["A"].commune,
        department=department,
        level=1,
        threshold_business_days=-2,
        recipients=[Recipient.CREW_SUPERVISOR],
    )
    EscalationRule.objects.create(
        commune=crews["A"].commune,
        department=department,
        level=2,
        threshold_business_days=1,
        recipients=[Recipient.DEPARTMENT_HEAD],
    )
    EscalationRule.objects.create(
        commune=crews["A"].commune,
        department=department,
        level=3,
        threshold_business_days=5,
        recipients=[Recipient.OIRS_COORDINATOR, Recipient.MUNICIPAL_ADMINISTRATOR],
    )


def report_due(make_report, received: date, business_days: int) -> Report:
    report = make_report(point=WEST_POINT)
    created = datetime.combine(received, datetime.min.time().replace(hour=10), tzinfo=SANTIAGO)
    Report.objects.filter(pk=report.pk).update(
        created_at=created,
        updated_at=created,
        expected_at=deadline(received, business_days, closed_days=frozenset({date(2025, 9, 29)})),
    )
    report.refresh_from_db()
    return report


def fired_days(report: Report) -> dict[int, date]:
    return {
        level: fired.astimezone(SANTIAGO).date()
        for level, fired in Alert.objects.filter(report=report, kind=AlertKind.ESCALATION).values_list(
            "level", "fired_at"
        )
    }


@pytest.mark.django_db
def test_a_month_of_business_days_fires_each_level_once_on_its_business_day(crews, make_report, django_user_model):
    escalation_setup(crews, django_user_model)
    ClosedDay.objects.create(day=date(2025, 9, 29), reason="Aniversario comunal")
    business_calendar_sync()
    # Due Wednesday 24 September 2025: 8 business days after the 10th, skipping the 18-19 holidays and a weekend.
    late = report_due(make_report, date(2025, 9, 10), 8)
    answered = report_due(make_report, date(2025, 9, 10), 8)
    day = date(2025, 9, 10)
    while day <= date(2025, 10, 31):
        for hour in (8, 18):
            alerts_run(now=datetime.combine(day, datetime.min.time().replace(hour=hour), tzinfo=SANTIAGO))
        if day == date(2025, 9, 19):  # a holiday, before the first threshold
            report_change_status(public_note=EXPLAINED_BY_CALLER, report=answered, status="resolved")
        day += timedelta(days=1)

    assert late.expected_at.astimezone(SANTIAGO).date() == date(2025, 9, 24)
    # -2: Monday 22 (the holidays and the weekend count for nothing); +1: Thursday 25; +5: Thursday 2 October,
    # as Monday 29 September is the installation's closed day.
    assert fired_days(late) == {1: date(2025, 9, 22), 2: date(2025, 9, 25), 3: date(2025, 10, 2)}
    assert fired_days(answered) == {}
    received = Counter(Notification.objects.filter(report=late).values_list("recipient", "subject"))
    assert set(received.values()) == {1}
    escalations = {recipient for recipient, subject in received if "Escalamiento" in subject}
    assert escalations == {"carla@muni.example", "jefa@muni.example", "olga@muni.example", "adam@muni.example"}
    crew_alerts = {subject.split(":")[0] for recipient, subject in received if recipient == "ana@muni.example"}
    assert crew_alerts == {"Asignada a su cuadrilla", "Vence pronto", "Vencida"}


@pytest.mark.django_db
def test_an_extended_request_escalates_by_its_new_deadline(crews, make_report, django_user_model):
    escalation_setup(crews, django_user_model)
    report = report_due(make_report, date(2025, 9, 10), 8)
    Report.objects.filter(pk=report.pk).update(expected_at=deadline(date(2025, 9, 24), 10, closed_days=()))
    alerts_run(now=datetime(2025, 9, 26, 9, tzinfo=SANTIAGO))
    assert fired_days(report) == {}


def run_escalate(*, pause: float = 0, batch: int = 2) -> subprocess.Popen:
    database = {**connection.settings_dict, "PORT": connection.settings_dict["PORT"] or 5432}
    url = "postgis://{USER}:{PASSWORD}@{HOST}:{PORT}/{NAME}".format(**database)  # the test database
    environment = {**os.environ, "DATABASE_URL": url, "GEO_SIAC_ESCALATE_TEST_PAUSE": str(pause)}
    return subprocess.Popen(
        [sys.executable, "manage.py", "escalate", "--batch", str(batch)],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def overdue_reports(crews, make_report, django_user_model, count: int) -> list[Report]:
    escalation_setup(crews, django_user_model)
    reports = [make_report(point=WEST_POINT) for _ in range(count)]
    Report.objects.filter(pk__in=[r.pk for r in reports]).update(expected_at=timezone.now() - timedelta(days=20))
    return reports


def assert_told_once(reports: list[Report]) -> None:
    fired = Counter(Alert.objects.filter(kind=AlertKind.ESCALATION).values_list("report", "level"))
    assert fired == {(report.pk, level): 1 for report in reports for level in (1, 2, 3)}
    told = Counter(Notification.objects.values_list("report", "recipient", "subject"))
    assert told and set(told.values()) == {1}
    # jefa: every report's level 2; olga: every report's level 3.
    assert Counter(Notification.objects.values_list("recipient", flat=True))["jefa@muni.example"] == len(reports)
    assert StaffAlert.objects.filter(user__username="olga").count() == len(reports)


@pytest.mark.django_db(transaction=True)
def test_two_escalate_processes_started_together_escalate_each_request_once(crews, make_report, django_user_model):
    reports = overdue_reports(crews, make_report, django_user_model, 12)
    first, second = run_escalate(), run_escalate()
    for process in (first, second):
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert_told_once(reports)


@pytest.mark.django_db(transaction=True)
def test_an_escalate_killed_half_way_and_run_again_sends_what_was_missing_and_nothing_twice(
    crews, make_report, django_user_model
):
    reports = overdue_reports(crews, make_report, django_user_model, 12)
    process = run_escalate(pause=60)
    waited = time.monotonic() + 60
    while not Alert.objects.exists() and time.monotonic() < waited:
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert 0 < Alert.objects.count() <= 2  # one batch committed, the rest never started
    again = run_escalate()
    _out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert_told_once(reports)


@pytest.mark.django_db
def test_the_replay_counts_what_the_daily_runs_fired(crews, make_report, django_user_model):
    escalation_setup(crews, django_user_model)
    late = report_due(make_report, date(2025, 9, 10), 8)
    answered = report_due(make_report, date(2025, 9, 10), 8)
    october = report_due(make_report, date(2025, 9, 29), 8)
    day = date(2025, 9, 10)
    while day <= date(2025, 10, 31):
        alerts_run(now=datetime.combine(day, datetime.min.time(), tzinfo=SANTIAGO))
        if day == date(2025, 9, 23):  # after level 1, before level 2
            report_change_status(public_note=EXPLAINED_BY_CALLER, report=answered, status="resolved")
            Report.objects.filter(pk=answered.pk).update(closed_at=datetime(2025, 9, 23, 12, tzinfo=SANTIAGO))
        day += timedelta(days=1)
    fired = Counter(
        (at.astimezone(SANTIAGO).date().replace(day=1), level)
        for level, at in Alert.objects.filter(kind=AlertKind.ESCALATION).values_list("level", "fired_at")
    )
    replayed = escalation_replay(
        Report.objects.filter(pk__in=[late.pk, answered.pk, october.pk]),
        {1: -2, 2: 1, 3: 5},
        as_of=datetime(2025, 10, 31, 12, tzinfo=SANTIAGO),
    )
    assert {(month, level): n for month, counts in replayed.items() for level, n in counts.items()} == fired
    assert replayed == {date(2025, 9, 1): {1: 2, 2: 1}, date(2025, 10, 1): {1: 1, 2: 1, 3: 2}}


@pytest.mark.django_db
def test_a_request_without_department_escalates_to_the_head_of_its_categorys_department(
    crews, make_report, django_user_model
):
    escalation_setup(crews, django_user_model)
    report = make_report(point=WEST_POINT)
    assert report.category.department == crews["A"].department
    Report.objects.filter(pk=report.pk).update(department=None, expected_at=timezone.now() - timedelta(days=20))
    alerts_run()
    heads = StaffAlert.objects.filter(alert__report=report, alert__kind=AlertKind.ESCALATION, alert__level=2)
    assert list(heads.values_list("user__username", flat=True)) == ["jefa"]
    assert Notification.objects.filter(recipient="jefa@muni.example", report=report).count() == 1


@pytest.mark.django_db
def test_an_escalation_says_its_rule_as_it_stood_when_it_fired_in_the_inbox_the_email_and_the_digest(
    client, crews, make_report, django_user_model
):
    escalation_setup(crews, django_user_model)
    staff_alert_preference_set(user=django_user_model.objects.get(username="jefa"), delivery="immediate", language="en")
    staff_alert_preference_set(user=django_user_model.objects.get(username="adam"), delivery="digest", language="es-cl")
    report = make_report(point=WEST_POINT)
    Report.objects.filter(pk=report.pk).update(expected_at=timezone.now() - timedelta(days=15))
    alerts_run()
    # Since it fired: the rules say otherwise and the request belongs to another department, with no rules.
    EscalationRule.objects.filter(level=2).update(threshold_business_days=3, recipients=[Recipient.CREW])
    EscalationRule.objects.filter(level=3).update(threshold_business_days=9, recipients=[Recipient.DEPARTMENT_HEAD])
    Report.objects.filter(pk=report.pk).update(department=Department.objects.create(name="Dirección de Tránsito"))

    client.force_login(django_user_model.objects.get(username="olga"))
    inbox = client.get("/cuadrilla/avisos/").content.decode()
    assert (
        "Escalamiento nivel 3 (5 días hábiles después del plazo); avisado a Coordinación OIRS y Administración "
        "municipal"
    ) in inbox
    (carla,) = Notification.objects.filter(recipient="carla@muni.example", subject__startswith="Escalamiento")
    assert carla.subject == f"Escalamiento, nivel 1: solicitud {report.tracking_code}"
    assert carla.body.startswith(
        "Escalamiento nivel 1 (2 días hábiles antes del plazo); avisado a Supervisión de la cuadrilla: solicitud "
        f"{report.tracking_code}, plazo "
    )
    (jefa,) = Notification.objects.filter(recipient="jefa@muni.example", subject__startswith="Escalation")
    assert len(jefa.subject) <= 60 and report.tracking_code in jefa.subject
    assert jefa.body.startswith(
        f"Escalation level 2 (1 business day after the deadline); notified: Department head: request "
        f"{report.tracking_code}, deadline "
    )
    staff_digests_send()
    (digest,) = Notification.objects.filter(recipient="adam@muni.example")
    assert (
        "- Escalamiento nivel 3 (5 días hábiles después del plazo); avisado a Coordinación OIRS y Administración "
        "municipal: 1"
    ) in digest.body


@pytest.mark.django_db
def test_an_escalation_fired_before_its_rule_was_kept_says_only_its_level():
    legacy = Alert(kind=AlertKind.ESCALATION, level=2)
    with translation.override("es-cl"):
        assert alert_text(legacy) == "Escalamiento, nivel 2"


def test_the_recipients_list_says_e_before_an_i_sound_and_skips_codes_it_no_longer_knows():
    alert = Alert(
        kind=AlertKind.ESCALATION,
        level=1,
        threshold_business_days=0,
        recipients=[Recipient.CREW_SUPERVISOR, "retired_role", Recipient.CREW],
    )
    with translation.override("es-cl"):
        assert alert_text(alert) == (
            "Escalamiento nivel 1 (el día del plazo); avisado a Supervisión de la cuadrilla e Integrantes de la "
            "cuadrilla"
        )
    with translation.override("en"):
        assert alert_text(alert) == "Escalation level 1 (on the deadline); notified: Crew supervisor and Crew members"
