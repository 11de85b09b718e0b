"""manage.py escalate: each rule fires once per level and request over a month of Chilean business days, answered
requests never escalate, a request found past several levels is told only the highest, and concurrent or
interrupted runs tell each person once."""

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone, translation

from geo_siac.alerts.admin import EscalationRuleForm
from geo_siac.alerts.checks import escalation_rules_order
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
from geo_siac.notifications.services import notifications_send_due
from geo_siac.reports.deadlines import SANTIAGO, deadline
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, business_calendar_sync, report_change_status
from geo_siac.testing import PROJECT_ROOT, WEST_POINT, free_port, staff_account
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
    """Each report found past its three levels: 1 and 2 recorded silent, 3 told, each once."""
    fired = Counter(Alert.objects.filter(kind=AlertKind.ESCALATION).values_list("report", "level", "silent"))
    assert fired == {(report.pk, level, level < 3): 1 for report in reports for level in (1, 2, 3)}
    told_levels = Alert.objects.filter(kind=AlertKind.ESCALATION, level=3).values_list("passed_levels", flat=True)
    assert list(told_levels) == [[1, 2]] * len(reports)
    told = Counter(Notification.objects.values_list("report", "recipient", "subject"))
    assert told and set(told.values()) == {1}
    # olga: every report's level 3; jefa (level 2) and carla (level 1, beside her crew's alerts) no escalation.
    escalations = Counter(
        Notification.objects.filter(subject__startswith="Escalamiento").values_list("recipient", flat=True)
    )
    assert escalations == {"olga@muni.example": len(reports), "adam@muni.example": len(reports)}
    assert StaffAlert.objects.filter(user__username="olga").count() == len(reports)
    assert not StaffAlert.objects.filter(user__username="jefa").exists()


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
    report = report_due(make_report, date(2025, 9, 10), 8)
    assert report.category.department == crews["A"].department
    Report.objects.filter(pk=report.pk).update(department=None)
    alerts_run(now=datetime(2025, 9, 26, 9, tzinfo=SANTIAGO))  # due the 24th: level 2 is the highest reached
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
    report = report_due(make_report, date(2025, 9, 10), 8)
    for day in (date(2025, 9, 22), date(2025, 9, 25), date(2025, 10, 2)):  # each level on its day
        alerts_run(now=datetime.combine(day, datetime.min.time().replace(hour=9), tzinfo=SANTIAGO))
    # Since it fired: the rules say otherwise and the request belongs to another department, with no rules.
    EscalationRule.objects.filter(level=2).update(threshold_business_days=3, recipients=[Recipient.CREW])
    EscalationRule.objects.filter(level=3).update(threshold_business_days=9, recipients=[Recipient.DEPARTMENT_HEAD])
    Report.objects.filter(pk=report.pk).update(department=Department.objects.create(name="Dirección de Tránsito"))

    client.force_login(django_user_model.objects.get(username="olga"))
    inbox = client.get("/cuadrilla/avisos/").content.decode()
    assert (
        "Escalamiento nivel 3 (regla: 5 días hábiles después del plazo); avisado a Coordinación OIRS y Administración "
        "municipal"
    ) in inbox
    (carla,) = Notification.objects.filter(recipient="carla@muni.example", subject__startswith="Escalamiento")
    assert carla.subject == f"Escalamiento, nivel 1: solicitud {report.tracking_code}"
    assert carla.body.startswith(
        "Escalamiento nivel 1 (regla: 2 días hábiles antes del plazo); avisado a Supervisión de la cuadrilla: solicitud "
        f"{report.tracking_code}, plazo "
    )
    (jefa,) = Notification.objects.filter(recipient="jefa@muni.example", subject__startswith="Escalation")
    assert len(jefa.subject) <= 60 and report.tracking_code in jefa.subject
    assert jefa.body.startswith(
        f"Escalation level 2 (rule: 1 business day after the deadline); notified: Department head: request "
        f"{report.tracking_code}, deadline "
    )
    staff_digests_send()
    (digest,) = Notification.objects.filter(recipient="adam@muni.example")
    assert (
        "- Escalamiento nivel 3 (regla: 5 días hábiles después del plazo); avisado a Coordinación OIRS y Administración "
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
            "Escalamiento nivel 1 (regla: el día del plazo); avisado a Supervisión de la cuadrilla e Integrantes de la "
            "cuadrilla"
        )
    with translation.override("en"):
        assert (
            alert_text(alert)
            == "Escalation level 1 (rule: on the deadline); notified: Crew supervisor and Crew members"
        )


class Mailbox:
    """aiosmtpd handler keeping each recipient's (subject, body) of what the outbox really sent."""

    def __init__(self):
        self.received: list[tuple[str, str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",)).get_content()
        self.received += [(to, str(message["subject"]), body) for to in envelope.rcpt_tos]
        return "250 OK"

    def escalations(self) -> list[tuple[str, str, str]]:
        return sorted(mail for mail in self.received if mail[1].startswith("Escalamiento"))


@pytest.fixture
def mailbox(settings):
    """The outbox's emails sent over real SMTP to a loopback server (tests/test_faults.py's way)."""
    box, port = Mailbox(), free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", port, False
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()


def run_and_send(day: date, hour: int = 9):
    summary = alerts_run(now=datetime.combine(day, datetime.min.time().replace(hour=hour), tzinfo=SANTIAGO))
    notifications_send_due()
    return summary


def escalations(report: Report) -> dict[int, tuple[bool, list[int]]]:
    alerts = Alert.objects.filter(report=report, kind=AlertKind.ESCALATION)
    return {level: (silent, passed) for level, silent, passed in alerts.values_list("level", "silent", "passed_levels")}


@pytest.mark.django_db
def test_a_request_first_seen_past_three_levels_is_told_only_the_highest_once_and_the_others_are_recorded_silent(
    client, crews, make_report, django_user_model, mailbox
):
    escalation_setup(crews, django_user_model)
    report = report_due(make_report, date(2025, 9, 10), 8)  # due Wednesday 24 September: level 3 on 1 October
    first = run_and_send(date(2025, 10, 6))  # the checker's first look (a rule added later, an import, an outage)

    assert escalations(report) == {1: (True, []), 2: (True, []), 3: (False, [1, 2])}
    assert (first.fired[AlertKind.ESCALATION], first.silent) == (1, 2)
    told = (
        "Escalamiento nivel 3 (regla: 5 días hábiles después del plazo); avisado a Coordinación OIRS y Administración "
        "municipal; los niveles 1 y 2 se alcanzaron sin aviso a Supervisión de la cuadrilla ni a Jefatura de la dirección"
    )
    subject = f"Escalamiento, nivel 3: solicitud {report.tracking_code}"
    assert [(to, title) for to, title, _body in mailbox.escalations()] == [
        ("adam@muni.example", subject),
        ("olga@muni.example", subject),
    ]
    assert all(body.startswith(f"{told}: solicitud {report.tracking_code}") for _to, _s, body in mailbox.escalations())
    heard = StaffAlert.objects.filter(alert__report=report, alert__kind=AlertKind.ESCALATION)
    assert sorted(heard.values_list("user__username", flat=True)) == ["adam", "olga"]
    client.force_login(django_user_model.objects.get(username="olga"))
    assert told in client.get("/cuadrilla/avisos/").content.decode()

    again = run_and_send(date(2025, 10, 6), hour=18)
    assert (again.fired[AlertKind.ESCALATION], again.silent) == (0, 0)
    assert len(mailbox.escalations()) == 2


@pytest.mark.django_db
def test_after_a_gap_only_the_highest_pending_level_is_told_and_a_later_level_still_fires(
    crews, make_report, django_user_model
):
    escalation_setup(crews, django_user_model)
    EscalationRule.objects.create(
        commune=crews["A"].commune,
        department=crews["A"].department,
        level=4,
        threshold_business_days=10,
        recipients=[Recipient.DEPARTMENT_HEAD],
    )
    report = report_due(make_report, date(2025, 9, 10), 8)
    alerts_run(now=datetime(2025, 9, 22, 9, tzinfo=SANTIAGO))  # level 1 on its day
    alerts_run(now=datetime(2025, 10, 6, 9, tzinfo=SANTIAGO))  # the checker was down: levels 2 and 3 due
    assert escalations(report) == {1: (False, []), 2: (True, []), 3: (False, [2])}
    (level_3,) = Alert.objects.filter(report=report, kind=AlertKind.ESCALATION, level=3)
    with translation.override("es-cl"):
        assert alert_text(level_3).endswith("; el nivel 2 se alcanzó sin aviso a Jefatura de la dirección")
    with translation.override("en"):
        assert alert_text(level_3).endswith("; level 2 was reached without alerting Department head")

    alerts_run(now=datetime(2025, 10, 9, 9, tzinfo=SANTIAGO))  # level 4: ten business days after the 24th
    assert escalations(report)[4] == (False, [])
    told = Notification.objects.filter(report=report, subject__startswith="Escalamiento").values_list(
        "recipient", "subject"
    )
    code = report.tracking_code
    assert sorted(told) == [
        ("adam@muni.example", f"Escalamiento, nivel 3: solicitud {code}"),
        ("carla@muni.example", f"Escalamiento, nivel 1: solicitud {code}"),
        ("jefa@muni.example", f"Escalamiento, nivel 4: solicitud {code}"),
        ("olga@muni.example", f"Escalamiento, nivel 3: solicitud {code}"),
    ]


@pytest.mark.django_db
def test_a_level_added_below_one_already_told_is_recorded_without_telling_anyone(crews, make_report, django_user_model):
    escalation_setup(crews, django_user_model)
    EscalationRule.objects.filter(level=2).delete()
    report = report_due(make_report, date(2025, 9, 10), 8)
    alerts_run(now=datetime(2025, 10, 6, 9, tzinfo=SANTIAGO))
    assert escalations(report) == {1: (True, []), 3: (False, [1])}
    EscalationRule.objects.create(
        commune=crews["A"].commune,
        department=crews["A"].department,
        level=2,
        threshold_business_days=1,
        recipients=[Recipient.DEPARTMENT_HEAD],
    )
    alerts_run(now=datetime(2025, 10, 7, 9, tzinfo=SANTIAGO))
    assert escalations(report)[2] == (True, [])
    assert not StaffAlert.objects.filter(user__username="jefa").exists()
    assert not Notification.objects.filter(recipient="jefa@muni.example").exists()


@pytest.mark.django_db
def test_a_rules_threshold_must_rise_with_its_level_in_the_admin_form(crews, django_user_model):
    escalation_setup(crews, django_user_model)
    commune, department = crews["A"].commune, crews["A"].department

    def form(level, threshold, instance=None):
        data = {
            "commune": commune.pk,
            "department": department.pk,
            "level": level,
            "threshold_business_days": threshold,
            "recipients": [Recipient.CREW],
        }
        return EscalationRuleForm(data=data, instance=instance)

    # Levels 1, 2, 3 at -2, 1 and 5 business days.
    level_4 = form(4, 5)
    assert not level_4.is_valid()
    assert level_4.errors["threshold_business_days"] == [
        "Debe ser mayor que el umbral del nivel 3 (5): un nivel se alcanza después del anterior."
    ]
    level_2 = form(2, 5, instance=EscalationRule.objects.get(level=2))
    assert not level_2.is_valid()
    assert level_2.errors["threshold_business_days"] == [
        "Debe ser menor que el umbral del nivel 3 (5): un nivel se alcanza antes del siguiente."
    ]
    assert not form(2, -2, instance=EscalationRule.objects.get(level=2)).is_valid()
    assert form(2, 4, instance=EscalationRule.objects.get(level=2)).is_valid()
    assert form(4, 6).is_valid()


@pytest.mark.django_db
def test_the_system_check_lists_rules_saved_out_of_order(crews, django_user_model):
    escalation_setup(crews, django_user_model)
    assert escalation_rules_order(databases=["default"]) == []
    EscalationRule.objects.filter(level=2).update(threshold_business_days=-3)  # saved before clean refused it
    [warning] = escalation_rules_order(databases=["default"])
    assert warning.id == "alerts.W001"
    assert f"{crews['A'].commune.name}, {crews['A'].department}: nivel 2 a -3 días hábiles." in warning.msg
    assert "nivel 3" not in warning.msg


@pytest.mark.django_db
def test_when_the_highest_level_due_reaches_nobody_the_highest_silent_level_that_reaches_someone_is_told(
    crews, make_report, django_user_model
):
    escalation_setup(crews, django_user_model)
    EscalationRule.objects.filter(level=3).delete()
    DepartmentHead.objects.all().delete()  # level 2 tells the department head: there is none
    report = report_due(make_report, date(2025, 9, 10), 8)
    summary = alerts_run(now=datetime(2025, 10, 6, 9, tzinfo=SANTIAGO))

    assert escalations(report) == {1: (False, []), 2: (False, [])}
    assert (summary.fired[AlertKind.ESCALATION], summary.silent, summary.unaddressed) == (1, 0, 1)
    heard = StaffAlert.objects.filter(alert__report=report, alert__kind=AlertKind.ESCALATION)
    assert list(heard.values_list("user__username", "alert__level")) == [("carla", 1)]
    told = Notification.objects.filter(report=report, subject__startswith="Escalamiento")
    assert list(told.values_list("recipient", "subject")) == [
        ("carla@muni.example", f"Escalamiento, nivel 1: solicitud {report.tracking_code}")
    ]
    assert told.get().body.startswith(
        "Escalamiento nivel 1 (regla: 2 días hábiles antes del plazo); avisado a Supervisión"
    )

    alerts_run(now=datetime(2025, 10, 6, 18, tzinfo=SANTIAGO))
    assert heard.count() == 1 and told.count() == 1


@pytest.mark.django_db
def test_a_level_another_run_told_first_is_not_named_as_passed_by_the_catch_up(crews, make_report, django_user_model):
    escalation_setup(crews, django_user_model)
    x = report_due(make_report, date(2025, 9, 10), 8)
    y = report_due(make_report, date(2025, 9, 10), 8)
    assert x.pk < y.pk  # candidates run in report order: every batch of x's before y's

    def another_run_tells_y_level_2(batch):
        if batch == 1:
            Alert.objects.create(
                report=y,
                kind=AlertKind.ESCALATION,
                level=2,
                fired_at=timezone.now(),
                threshold_business_days=1,
                recipients=[Recipient.DEPARTMENT_HEAD],
            )

    alerts_run(now=datetime(2025, 10, 6, 9, tzinfo=SANTIAGO), batch_size=1, after_batch=another_run_tells_y_level_2)
    assert escalations(x) == {1: (True, []), 2: (True, []), 3: (False, [1, 2])}
    assert escalations(y) == {1: (True, []), 2: (False, []), 3: (False, [1])}
    level_3 = Alert.objects.get(report=y, kind=AlertKind.ESCALATION, level=3)
    assert level_3.passed_recipients == [Recipient.CREW_SUPERVISOR]
    with translation.override("es-cl"):
        assert alert_text(level_3) == (
            "Escalamiento nivel 3 (regla: 5 días hábiles después del plazo); avisado a Coordinación OIRS y Administración "
            "municipal; el nivel 1 se alcanzó sin aviso a Supervisión de la cuadrilla"
        )
    told = Notification.objects.filter(report=y, recipient="olga@muni.example", subject__startswith="Escalamiento")
    assert told.get().body.startswith(f"{alert_text(level_3)}: solicitud {y.tracking_code}")
