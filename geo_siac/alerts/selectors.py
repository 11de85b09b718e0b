"""Reads for staff alerts: who hears of what (the directory a run resolves recipients with), the business-day
cut-offs of the rules, and each person's inbox."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import QuerySet

from geo_siac.alerts.models import (
    MUNICIPAL_ADMINISTRATION,
    OIRS_COORDINATION,
    DepartmentHead,
    EscalationRule,
    Recipient,
    StaffAlert,
    StaffAlertPreference,
)
from geo_siac.reports.deadlines import SANTIAGO, local_day
from geo_siac.reports.models import CalendarDay
from geo_siac.zones.models import Crew
from geo_siac.zones.roles import SUPERVISOR


@dataclass(frozen=True)
class Person:
    email: str
    language: str
    digest: bool


@dataclass
class Directory:
    """Everyone an alert can reach, read once per run (a few queries), so a batch resolves recipients in memory."""

    people: dict[int, Person] = field(default_factory=dict)
    crew_members: dict[int, list[int]] = field(default_factory=dict)
    crew_supervisors: dict[int, list[int]] = field(default_factory=dict)
    supervisors: list[int] = field(default_factory=list)
    heads: dict[int, list[int]] = field(default_factory=dict)
    groups: dict[str, list[int]] = field(default_factory=dict)
    rules: dict[tuple[int, int], list[str]] = field(default_factory=dict)

    def crew_or_triage(self, crew_id: int | None) -> list[int]:
        """A crew's own alerts go to its members; a request in triage (no crew) is the supervisors'."""
        return self.crew_members.get(crew_id, []) if crew_id else self.supervisors

    def escalation(self, *, department_id: int, level: int, crew_id: int | None) -> list[int]:
        users: list[int] = []
        for recipient in self.rules.get((department_id, level), []):
            if recipient == Recipient.CREW:
                users += self.crew_or_triage(crew_id)
            elif recipient == Recipient.CREW_SUPERVISOR:
                # The crew's members who supervise; a crew without one, or triage, reaches every supervisor.
                users += self.crew_supervisors.get(crew_id) or self.supervisors
            elif recipient == Recipient.DEPARTMENT_HEAD:
                users += self.heads.get(department_id, [])
            elif recipient == Recipient.OIRS_COORDINATOR:
                users += self.groups.get(OIRS_COORDINATION, [])
            else:
                users += self.groups.get(MUNICIPAL_ADMINISTRATION, [])
        return list(dict.fromkeys(users))


def alert_directory() -> Directory:
    directory = Directory()
    users = get_user_model().objects.filter(is_active=True)
    preferences = {p.user_id: p for p in StaffAlertPreference.objects.all()}
    for user_id, email in users.values_list("pk", "email"):
        preference = preferences.get(user_id)
        directory.people[user_id] = Person(
            email=email, language=preference.language if preference else "es-cl",
            digest=preference is not None and preference.delivery == "digest",
        )
    in_group = {name: [] for name in (SUPERVISOR, OIRS_COORDINATION, MUNICIPAL_ADMINISTRATION)}
    for user_id, name in users.filter(groups__name__in=in_group).values_list("pk", "groups__name"):
        in_group[name].append(user_id)
    directory.supervisors = in_group.pop(SUPERVISOR)
    directory.groups = in_group
    supervisors = set(directory.supervisors)
    for crew_id, user_id in Crew.members.through.objects.filter(user__is_active=True).values_list("crew_id",
                                                                                                   "user_id"):
        directory.crew_members.setdefault(crew_id, []).append(user_id)
        if user_id in supervisors:
            directory.crew_supervisors.setdefault(crew_id, []).append(user_id)
    for department_id, user_id in DepartmentHead.objects.filter(user__is_active=True).values_list("department_id",
                                                                                                   "user_id"):
        directory.heads.setdefault(department_id, []).append(user_id)
    for rule in EscalationRule.objects.all():
        directory.rules[(rule.department_id, rule.level)] = list(rule.recipients)
    return directory


def business_day_number(day: date) -> int:
    """The day's number in the SQL business-day calendar (CalendarDay), the one the deadlines were counted with."""
    number = CalendarDay.objects.filter(day=day).values_list("business_days", flat=True).first()
    if number is None:
        raise ValueError(f"{day} is outside the business-day calendar (reports_calendarday): run migrate, or "
                         "business_calendar_sync.")
    return number


def deadline_cutoff(now: datetime, threshold_business_days: int) -> datetime:
    """The instant before which a deadline has reached `threshold_business_days` business days after its due day
    at `now`: a report whose due day is D crosses when number(today) - number(D) >= threshold, i.e. when D is at
    most the last day numbered number(today) - threshold (its weekend and holidays included)."""
    target = business_day_number(local_day(now)) - threshold_business_days
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(day) FROM {CalendarDay._meta.db_table} WHERE business_days <= %s", [target])
        (last_day,) = cursor.fetchone()
    if last_day is None:
        raise ValueError(f"threshold {threshold_business_days} reaches before the business-day calendar.")
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=SANTIAGO)


def inbox(user) -> QuerySet[StaffAlert]:
    """The person's alerts, newest first, with what the inbox shows of each."""
    return (StaffAlert.objects.filter(user=user).select_related("alert__report")
            .only("read_at", "alert__kind", "alert__level", "alert__fired_at", "alert__report__tracking_code",
                  "alert__report__expected_at", "alert__report__status")
            .order_by("-alert__fired_at", "-pk"))


def unread_count(user) -> int:
    return StaffAlert.objects.filter(user=user, read_at__isnull=True).count()
