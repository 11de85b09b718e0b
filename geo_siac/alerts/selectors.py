"""Reads for staff alerts: who hears of what (the directory a run resolves recipients with), the business-day
cut-offs of the rules, and each person's inbox."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Concat, TruncWeek

from geo_siac.alerts.models import (
    MUNICIPAL_ADMINISTRATION,
    OIRS_COORDINATION,
    DepartmentHead,
    EscalationRule,
    Recipient,
    StaffAlert,
    StaffAlertPreference,
)
from geo_siac.reports.deadlines import SANTIAGO, due_soon_before, local_day
from geo_siac.reports.models import CalendarDay, Report
from geo_siac.reports.punctuality import deadline_compliance
from geo_siac.reports.responsibility import DEPARTMENT_NAME, RESPONSIBLE_DEPARTMENT, responsible_department_id
from geo_siac.reports.selectors import counted_reports
from geo_siac.reports.states import OPEN
from geo_siac.zones.models import CommuneMembership, Crew
from geo_siac.zones.roles import SUPERVISOR, is_supervisor
from geo_siac.zones.selectors import closed_days, staff_communes


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
    heads: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # (comuna, department) -> heads
    groups: dict[str, list[int]] = field(default_factory=dict)
    rules: dict[tuple[int, int, int], list[str]] = field(default_factory=dict)  # (comuna, department, level)
    communes: dict[int, set[int]] = field(default_factory=dict)  # each person's comunas (zones.tenancy)
    superusers: set[int] = field(default_factory=set)

    def works_for(self, user_id: int, commune_id: int) -> bool:
        """An alert about a comuna's request reaches only people working for that comuna (zones.tenancy's rule)."""
        return user_id in self.superusers or commune_id in self.communes.get(user_id, ())

    def crew_or_triage(self, crew_id: int | None) -> list[int]:
        """A crew's own alerts go to its members; a request in triage (no crew) is the supervisors'."""
        return self.crew_members.get(crew_id, []) if crew_id else self.supervisors

    def escalation(self, *, commune_id: int, department_id: int, level: int, crew_id: int | None) -> list[int]:
        """Who level `level` of the comuna's escalation for the department reaches: the comuna's own rule and its
        own head of the department, never another comuna's."""
        users: list[int] = []
        for recipient in self.rules.get((commune_id, department_id, level), []):
            if recipient == Recipient.CREW:
                users += self.crew_or_triage(crew_id)
            elif recipient == Recipient.CREW_SUPERVISOR:
                # The crew's members who supervise; a crew without one, or triage, reaches every supervisor.
                users += self.crew_supervisors.get(crew_id) or self.supervisors
            elif recipient == Recipient.DEPARTMENT_HEAD:
                users += self.heads.get((commune_id, department_id), [])
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
            email=email,
            language=preference.language if preference else "es-cl",
            digest=preference is not None and preference.delivery == "digest",
        )
    directory.superusers = set(users.filter(is_superuser=True).values_list("pk", flat=True))
    for user_id, commune_id in CommuneMembership.objects.filter(user__is_active=True).values_list("user", "commune"):
        directory.communes.setdefault(user_id, set()).add(commune_id)
    in_group = {name: [] for name in (SUPERVISOR, OIRS_COORDINATION, MUNICIPAL_ADMINISTRATION)}
    for user_id, name in users.filter(groups__name__in=in_group).values_list("pk", "groups__name"):
        in_group[name].append(user_id)
    directory.supervisors = in_group.pop(SUPERVISOR)
    directory.groups = in_group
    supervisors = set(directory.supervisors)
    for crew_id, user_id in Crew.members.through.objects.filter(user__is_active=True).values_list("crew_id", "user_id"):
        directory.crew_members.setdefault(crew_id, []).append(user_id)
        if user_id in supervisors:
            directory.crew_supervisors.setdefault(crew_id, []).append(user_id)
    for commune_id, department_id, user_id in DepartmentHead.objects.filter(user__is_active=True).values_list(
        "commune_id", "department_id", "user_id"
    ):
        directory.heads.setdefault((commune_id, department_id), []).append(user_id)
    for rule in EscalationRule.objects.all():
        directory.rules[(rule.commune_id, rule.department_id, rule.level)] = list(rule.recipients)
    return directory


def business_day_number(day: date) -> int:
    """The day's number in the SQL business-day calendar (CalendarDay), the one the deadlines were counted with."""
    number = CalendarDay.objects.filter(day=day).values_list("business_days", flat=True).first()
    if number is None:
        raise ValueError(
            f"{day} is outside the business-day calendar (reports_calendarday): run migrate, or business_calendar_sync."
        )
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
    """The person's alerts, most urgent first: those of open requests by deadline (the longest overdue first, a
    request's higher level before its lower), then those of closed requests, newest first; with what the inbox
    shows of each."""
    is_open = Q(alert__report__status__in=OPEN)
    return (
        StaffAlert.objects.filter(user=user)
        .select_related("alert__report__category", "alert__report__commune")
        .only(
            "read_at",
            "alert__kind",
            "alert__level",
            "alert__threshold_business_days",
            "alert__recipients",
            "alert__passed_levels",
            "alert__passed_recipients",
            "alert__fired_at",
            "alert__report__tracking_code",
            "alert__report__expected_at",
            "alert__report__status",
            "alert__report__category__name_es",
            "alert__report__category__name_en",
            "alert__report__commune__name",
        )
        .alias(
            closed_rank=Case(When(is_open, then=Value(0)), default=Value(1)),
            open_due=Case(When(is_open, then=F("alert__report__expected_at"))),
        )
        .order_by("closed_rank", F("open_due").asc(nulls_last=True), "-alert__level", "-alert__fired_at", "-pk")
    )


def may_use_inbox(user) -> bool:
    """Every active account: the inbox shows only the person's own alerts."""
    return user.is_authenticated and user.is_active


def unread_count(user) -> int:
    return StaffAlert.objects.filter(user=user, read_at__isnull=True).count()


# The board's groupings: each a label and the expression the reports are grouped by.
BOARD_DIMENSIONS = {
    "department": DEPARTMENT_NAME,
    "crew": F("crew__name"),
    "category": F("category__name_es"),
}
# A department by its name and its comuna's, for a person working for more than one: each comuna has its own
# department of that name, with its own requests and head.
# Null without a department (the board's «Sin asignar»): PostgreSQL's CONCAT skips nulls and would give " (Comuna)".
DEPARTMENT_IN_COMMUNE = Case(
    When(Q(department__isnull=True) & Q(category__department__isnull=True), then=Value(None)),
    default=Concat(DEPARTMENT_NAME, Value(" ("), F("commune__name"), Value(")")),
    output_field=CharField(),
)
# Ages of open requests, in calendar days since received: (label, from, to excluded).
AGE_BANDS = (("0-7", 0, 8), ("8-30", 8, 31), ("31+", 31, None))
TREND_WEEKS = 12


@dataclass
class BoardRow:
    group: str | None
    due_today: int = 0
    due_soon: int = 0  # due soon (reports.deadlines.due_soon_before), after today
    overdue: int = 0
    ages: dict[str, int] = field(default_factory=dict)
    # (Monday, share met of the requests due that week), the last 12 weeks, oldest first; None: none was due.
    trend: list[tuple[date, float | None]] = field(default_factory=list)
    share: float | None = None  # share met of the requests received in the last 365 days


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SANTIAGO)


def deadline_board(
    reports: QuerySet[Report], dimension: str, *, as_of: datetime, by_commune: bool = False
) -> list[BoardRow]:
    """ "Por vencer y vencidas" per `dimension`: the open requests due today, due soon after today and overdue, the open
    ones by age, the share met of the requests due in each of the last 12 weeks and of those received in the last
    365 days. Overdue and the shares come from reports.punctuality, the definition the public indicators use.
    `by_commune`: departments are named with their comuna."""
    key = DEPARTMENT_IN_COMMUNE if by_commune and dimension == "department" else BOARD_DIMENSIONS[dimension]
    today = local_day(as_of)
    tomorrow = local_midnight(today + timedelta(days=1))
    soon = due_soon_before(as_of, closed_days=closed_days())
    open_reports = reports.filter(status__in=OPEN).order_by().annotate(group=key).values("group")
    counts = {
        "due_today": Count("pk", filter=Q(expected_at__gte=as_of, expected_at__lt=tomorrow)),
        "due_soon": Count("pk", filter=Q(expected_at__gte=tomorrow, expected_at__lt=soon)),
    }
    for label, start, end in AGE_BANDS:
        band = Q(created_at__lte=as_of - timedelta(days=start))
        if end is not None:
            band &= Q(created_at__gt=as_of - timedelta(days=end))
        counts[f"age_{label}"] = Count("pk", filter=band)
    rows: dict = {}
    for values in open_reports.annotate(**counts):
        row = rows.setdefault(values["group"], BoardRow(group=values["group"]))
        row.due_today, row.due_soon = values["due_today"], values["due_soon"]
        row.ages = {label: values[f"age_{label}"] for label, _start, _end in AGE_BANDS}
    first_week = week_start(today) - timedelta(weeks=TREND_WEEKS - 1)
    weeks = [first_week + timedelta(weeks=n) for n in range(TREND_WEEKS)]
    due_lately = reports.filter(expected_at__gte=local_midnight(first_week), expected_at__lt=as_of)
    trend = deadline_compliance(due_lately, (key, TruncWeek("expected_at", tzinfo=SANTIAGO)), as_of=as_of)
    received = reports.filter(created_at__gte=as_of - timedelta(days=365), created_at__lte=as_of)
    for (group,), figures in deadline_compliance(received, (key,), as_of=as_of).items():
        rows.setdefault(group, BoardRow(group=group)).share = figures["share"]
    for (group,), figures in deadline_compliance(reports.filter(status__in=OPEN), (key,), as_of=as_of).items():
        if group in rows:
            rows[group].overdue = figures["late"]
    for row in rows.values():
        shares = {
            week.astimezone(SANTIAGO).date(): figures["share"]
            for (group, week), figures in trend.items()
            if group == row.group
        }
        row.trend = [(week, shares.get(week)) for week in weeks]
    return sorted(rows.values(), key=lambda row: (-row.overdue, -row.due_today, str(row.group)))


def heads_of(user, *, commune, department) -> QuerySet[DepartmentHead]:
    """The person's headships of `department` in `commune` (each an expression or a value): a head acts on a
    department's requests only in the comuna she heads it in."""
    return DepartmentHead.objects.filter(user=user, commune=commune, department=department)


def may_act_on(user, report: Report) -> bool:
    """Reassign and extend from the board: supervisors, and the head of the report's responsible department in the
    report's comuna (zones.tenancy: the caller found the report among `Report.objects.for_staff(user)`)."""
    return (
        is_supervisor(user)
        or heads_of(user, commune=report.commune_id, department=responsible_department_id(report)).exists()
    )


def reroute_crews(user) -> QuerySet[Crew]:
    """The crews a person may reroute to from the board: any for a supervisor, for a head those of the departments
    she heads, in the comuna she heads each in."""
    crews = Crew.objects.for_staff(user).order_by("name")
    if is_supervisor(user):
        return crews
    return crews.filter(Exists(heads_of(user, commune=OuterRef("commune"), department=OuterRef("department"))))


def board_reports(user, *, as_of: datetime) -> QuerySet[Report]:
    """The requests the board lists for action: open, due by the end of today, of the departments the person heads
    (every department for a supervisor), most overdue first."""
    tomorrow = local_midnight(local_day(as_of) + timedelta(days=1))
    reports = Report.objects.for_staff(user).filter(status__in=OPEN, expected_at__lt=tomorrow)
    if not is_supervisor(user):
        reports = reports.alias(responsible=RESPONSIBLE_DEPARTMENT).filter(
            Exists(heads_of(user, commune=OuterRef("commune"), department=OuterRef("responsible")))
        )
    return reports.select_related("crew", "category", "department").order_by("expected_at", "pk")


def board_figures(dimension: str, *, as_of: datetime, user=None) -> list[BoardRow]:
    """The board's table over the requests the public indicators count (each problem once), every category, of the
    comunas `user` works for (all without one: the public indicators' figures), a department named with its
    comuna when they are more than one."""
    if user is None:
        return deadline_board(counted_reports(), dimension, as_of=as_of)
    by_commune = staff_communes(user).active().count() > 1
    return deadline_board(counted_reports().for_staff(user), dimension, as_of=as_of, by_commune=by_commune)


def may_use_board(user) -> bool:
    return is_supervisor(user) or (user.is_authenticated and DepartmentHead.objects.filter(user=user).exists())


def escalation_replay(
    reports: QuerySet[Report], thresholds: dict[int, int], *, as_of: datetime
) -> dict[date, dict[int, int]]:
    """{month: {level: requests}} that would have reached each level (threshold in business days after the due
    day, as EscalationRule) had `manage.py escalate` run at the start of every day: a request reaches a level on
    the first day whose business-day number is its due day's plus the threshold (or on the day it was received,
    if later), unless it was closed before that day began. The run's own rule (deadline_cutoff), counted set-wise
    over history; a request reopened and closed again is judged by its last closing."""
    values = ", ".join("(%s, %s)" for _level in thresholds)
    selection = reports.order_by().values("created_at", "closed_at", "expected_at")
    reports_sql, params = selection.query.get_compiler(using=selection.db).as_sql()
    zone = SANTIAGO.key
    sql = f"""
WITH rules(level, threshold) AS (VALUES {values}),
     first_day AS (SELECT business_days, min(day) AS day FROM {CalendarDay._meta.db_table} GROUP BY business_days),
     fired AS (
       SELECT rules.level, r.closed_at,
              GREATEST(f.day, (r.created_at AT TIME ZONE '{zone}')::date) AS day
         FROM ({reports_sql}) AS r
         JOIN {CalendarDay._meta.db_table} due ON due.day = (r.expected_at AT TIME ZONE '{zone}')::date
        CROSS JOIN rules
         JOIN first_day f ON f.business_days = due.business_days + rules.threshold)
SELECT date_trunc('month', day)::date, level, count(*) FROM fired
 WHERE day <= %s AND (closed_at IS NULL OR closed_at >= (day::timestamp AT TIME ZONE '{zone}'))
 GROUP BY 1, 2 ORDER BY 1, 2"""
    months: dict[date, dict[int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(v for item in thresholds.items() for v in item), *params, local_day(as_of)])
        for month, level, count in cursor.fetchall():
            months.setdefault(month, {})[level] = count
    return months


def escalation_rules_out_of_order() -> list[EscalationRule]:
    """The rules whose threshold is not above the level below's in their comuna and department (EscalationRule.clean
    refuses them now; rules saved before it may remain): a catch-up would leave the lower level silent forever."""
    return list(
        EscalationRule.objects.raw(
            f"SELECT * FROM (SELECT rule.*, lag(rule.threshold_business_days) OVER (PARTITION BY rule.commune_id, "
            f"rule.department_id ORDER BY rule.level) AS below FROM {EscalationRule._meta.db_table} rule) AS rules "
            f"WHERE threshold_business_days <= below ORDER BY commune_id, department_id, level"
        )
    )
