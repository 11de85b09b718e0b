"""The alerts run behind `manage.py escalate` (docs/escalation.md) and the daily staff digest.

The run finds every alert due at `now` in one set-wise statement over the open reports, then fires them in
batches, each its own transaction: the alert rows (INSERT ... ON CONFLICT DO NOTHING against the unique report,
kind and level), the inbox rows and the immediate emails (the outbox) commit together. So a crash loses at most the
batch in flight, which the next run finds again, and a second process that fires the same alert at the same time
waits on the unique index and then inserts nothing: each alert is fired, and told, once. An escalation that finds
several levels due at once (a catch-up) tells only the highest and records the lower ones silent, in the same
statement, so they never fire later either."""

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from psycopg2.extras import execute_values

from geo_siac.alerts.models import (
    Alert,
    AlertKind,
    Delivery,
    EscalationRule,
    Recipient,
    StaffAlert,
    StaffAlertPreference,
)
from geo_siac.alerts.selectors import Directory, alert_directory, deadline_cutoff
from geo_siac.notifications.services import Message, notifications_enqueue
from geo_siac.reports.deadlines import SANTIAGO, countdown, due_soon_before
from geo_siac.reports.messages import absolute
from geo_siac.reports.models import EventKind, Report, ReportEvent
from geo_siac.reports.responsibility import responsible_department_sql
from geo_siac.reports.states import CLOSED, OPEN
from geo_siac.zones.selectors import closed_days

_REPORTS = Report._meta.db_table
_ALERTS = Alert._meta.db_table
_EVENTS = ReportEvent._meta.db_table
_OPEN = ", ".join(f"'{status}'" for status in sorted(OPEN))
_CANDIDATES = "alerts_run_candidates"


@dataclass
class RunSummary:
    fired: Counter = field(default_factory=Counter)  # per kind
    silent: int = 0  # escalation levels a catch-up recorded without telling anyone
    delivered: int = 0  # inbox rows
    emails: int = 0  # immediate messages enqueued
    unaddressed: int = 0  # alerts that reached nobody (no head, no crew member...)
    batches: int = 0


def _candidates_sql(
    rules: list[tuple[int, int, int, datetime, int, list[str]]],
    *,
    due_soon: datetime,
    now: datetime,
    triage: datetime,
    assigned: datetime,
) -> tuple[str, list]:
    """Every (report, kind, level) due at the run's instant and not fired yet, numbered in report order, over open
    reports only: an answered or closed request leaves the candidates, an extended one is judged by its new
    deadline. An escalation carries its rule's threshold and recipients, which the alert keeps. Only the highest
    escalation level due (fired or not) is told: a lower one not fired yet is `silent`, and the highest names
    those in `passed`. `first_seq` is the seq of its (report, kind)'s first row, so a batch takes whole groups."""
    open_reports = f"FROM {_REPORTS} r WHERE r.status IN ({_OPEN})"
    parts, params = [], []
    if rules:
        values = ", ".join("(%s, %s, %s, %s::timestamptz, %s::smallint, %s::varchar[])" for _rule in rules)
        parts.append(
            f"SELECT r.id, '{AlertKind.ESCALATION}', rule.level, rule.threshold, rule.recipients, "
            f"max(rule.level) OVER (PARTITION BY r.id) FROM {_REPORTS} r "
            f"JOIN (VALUES {values}) AS rule(commune_id, department_id, level, cutoff, threshold, recipients) "
            f"ON rule.commune_id = r.commune_id AND rule.department_id = {responsible_department_sql('r')} "
            f"WHERE r.status IN ({_OPEN}) AND r.expected_at < rule.cutoff"
        )
        params += [value for rule in rules for value in rule]
    no_rule = "NULL::smallint, '{}'::varchar[], NULL::int"
    parts += [
        f"SELECT r.id, '{AlertKind.DUE_SOON}', 0, {no_rule} {open_reports} AND r.expected_at < %s",
        f"SELECT r.id, '{AlertKind.OVERDUE}', 0, {no_rule} {open_reports} AND r.expected_at < %s",
        f"SELECT r.id, '{AlertKind.TRIAGE_WAIT}', 0, {no_rule} {open_reports} AND r.crew_id IS NULL "
        f"AND r.created_at < %s",
        f"SELECT r.id, '{AlertKind.REOPENED}', r.times_reopened, {no_rule} {open_reports} AND r.times_reopened > 0",
        # Level: how many times citizens added to it so far, so each addition seen by a run fires once.
        f"SELECT e.report_id, '{AlertKind.CITIZEN_INFO}', count(*), {no_rule} FROM {_EVENTS} e JOIN {_REPORTS} r "
        f"ON r.id = e.report_id WHERE e.kind = '{EventKind.CITIZEN_INFO}' AND r.status IN ({_OPEN}) "
        f"GROUP BY e.report_id",
        f"SELECT r.id, '{AlertKind.ASSIGNED}', r.crew_id, {no_rule} {open_reports} AND r.crew_id IS NOT NULL "
        f"AND r.updated_at >= %s",
    ]
    params += [due_soon, now, triage, assigned]
    sql = (
        f"CREATE TEMPORARY TABLE {_CANDIDATES} AS SELECT row_number() OVER run AS seq, "
        f"row_number() OVER run - row_number() OVER report_kind + 1 AS first_seq, "
        f"c.report_id, c.kind, c.level, c.threshold, c.recipients, coalesce(c.level < c.top, false) AS silent, "
        f"CASE WHEN c.level = c.top THEN coalesce(array_agg(c.level::smallint) FILTER (WHERE c.level < c.top) "
        f"OVER report_kind, '{{}}') ELSE '{{}}' END AS passed "
        f"FROM ({' UNION ALL '.join(parts)}) AS c(report_id, kind, level, threshold, recipients, top) "
        f"WHERE NOT EXISTS (SELECT 1 FROM {_ALERTS} a WHERE a.report_id = c.report_id AND a.kind = c.kind "
        f"AND a.level = c.level) "
        f"WINDOW run AS (ORDER BY c.report_id, c.kind, c.level), "
        f"report_kind AS (PARTITION BY c.report_id, c.kind ORDER BY c.level)"
    )
    return sql, params


def alerts_run(
    *, now: datetime | None = None, batch_size: int | None = None, after_batch: Callable[[int], None] | None = None
) -> RunSummary:
    """Fire every staff alert and escalation due at `now` (see the module's docstring). Safe to repeat, to run in
    several processes at once and to run again after a crash. `after_batch(n)` is called after each commit."""
    now = now or timezone.now()
    batch_size = batch_size or settings.GEO_SIAC_ESCALATE_BATCH
    directory = alert_directory()
    thresholds = {rule.threshold_business_days for rule in EscalationRule.objects.all()}
    cutoffs = {threshold: deadline_cutoff(now, threshold) for threshold in thresholds}
    rules = [
        (
            rule.commune_id,
            rule.department_id,
            rule.level,
            cutoffs[rule.threshold_business_days],
            rule.threshold_business_days,
            list(rule.recipients),
        )
        for rule in EscalationRule.objects.all()
    ]
    sql, params = _candidates_sql(
        rules,
        due_soon=due_soon_before(now, closed_days=closed_days()),
        now=now,
        triage=now - timedelta(hours=settings.GEO_SIAC_ALERT_TRIAGE_HOURS),
        assigned=now - timedelta(hours=settings.GEO_SIAC_ALERT_ASSIGNED_LOOKBACK_HOURS),
    )
    summary = RunSummary()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_CANDIDATES}")
        cursor.execute(sql, params)
        cursor.execute(f"SELECT count(*) FROM {_CANDIDATES}")
        (total,) = cursor.fetchone()
    try:
        for start in range(0, total, batch_size):
            _fire_batch(first=start + 1, last=start + batch_size, now=now, directory=directory, summary=summary)
            summary.batches += 1
            if after_batch is not None:
                after_batch(summary.batches)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_CANDIDATES}")
    return summary


@transaction.atomic
def _fire_batch(*, first: int, last: int, now: datetime, directory: Directory, summary: RunSummary) -> None:
    """Candidates first..last: the alerts this process is the first to insert, their inbox rows and emails."""
    with connection.cursor() as cursor:
        # In report order, so two processes take the unique index's entries in the same order and never deadlock.
        cursor.execute(
            f"WITH fired AS (INSERT INTO {_ALERTS} (report_id, kind, level, fired_at, threshold_business_days, "
            f"recipients, silent, passed_levels) SELECT c.report_id, c.kind, c.level, %s, c.threshold, c.recipients, "
            f"c.silent, c.passed FROM {_CANDIDATES} c JOIN {_REPORTS} r ON r.id = c.report_id AND r.status IN "
            f"({_OPEN}) WHERE c.first_seq BETWEEN %s AND %s ORDER BY c.seq ON CONFLICT DO NOTHING "
            f"RETURNING id, report_id, kind, level, threshold_business_days, recipients, silent, passed_levels) "
            f"SELECT f.id, f.kind, f.level, f.threshold_business_days, f.recipients, f.silent, f.passed_levels, "
            f"r.id, r.tracking_code, "
            f"r.crew_id, {responsible_department_sql('r')}, r.expected_at, r.commune_id "
            f"FROM fired f JOIN {_REPORTS} r ON r.id = f.report_id",
            [now, first, last],
        )
        fired = cursor.fetchall()
    silent = {}  # report -> the rows this statement recorded silent: (level, alert id, threshold, recipients)
    for alert_id, _kind, level, threshold, recipients, is_silent, _planned, report_id, *_rest in fired:
        if is_silent:
            silent.setdefault(report_id, []).append((level, alert_id, threshold, recipients))
    summary.silent += sum(len(rows) for rows in silent.values())
    deliveries, emails, corrected = [], [], []
    for (
        alert_id,
        kind,
        level,
        threshold,
        recipients,
        is_silent,
        passed,
        report_id,
        code,
        crew_id,
        department_id,
        expected_at,
        commune_id,
    ) in fired:
        if is_silent:
            continue
        summary.fired[kind] += 1
        where = {"crew_id": crew_id, "department_id": department_id, "commune_id": commune_id}
        users = _reached(directory, kind=kind, level=level, **where)
        below = sorted(row for row in silent.get(report_id, []) if row[0] < level)  # (level, id, threshold, whom)
        told = (level, alert_id, threshold, recipients)
        if not users:
            summary.unaddressed += 1
            # The highest level due reaches nobody (no one in that role): the highest silent one that reaches
            # someone is told instead, so that a catch-up is never heard by nobody.
            for row in reversed(below):
                users = _reached(directory, kind=kind, level=row[0], **where)
                if users:
                    told = row
                    below.remove(row)
                    summary.silent -= 1
                    corrected.append((alert_id, *_passed(below)))
                    break
        levels, whom = _passed([row for row in below if row[0] < told[0]])
        if below or passed or told[1] != alert_id:
            corrected.append((told[1], levels, whom))
        alert = Alert(
            kind=kind,
            level=told[0],
            threshold_business_days=told[2],
            recipients=told[3],
            passed_levels=levels,
            passed_recipients=whom,
        )
        for user_id in users:
            deliveries.append((told[1], user_id))
            person = directory.people.get(user_id)
            if person and person.email and not person.digest:
                emails.append((person, alert, code, expected_at, report_id))
    if corrected:
        # The levels each told alert names are those its statement recorded silent: another run may have fired
        # one of those the candidates planned first (and told it), and a told silent level is no longer passed.
        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                f"UPDATE {_ALERTS} a SET silent = false, passed_levels = v.levels, passed_recipients = v.whom "
                f"FROM (VALUES %s) AS v(id, levels, whom) WHERE a.id = v.id",
                corrected,
                template="(%s, %s::smallint[], %s::varchar[])",
            )
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"INSERT INTO {StaffAlert._meta.db_table} (alert_id, user_id) VALUES %s",
            deliveries,
            page_size=5000,
        )
    notifications_enqueue(messages=alert_messages(emails, now=now))
    summary.delivered += len(deliveries)
    summary.emails += len(emails)


def _passed(rows: list[tuple]) -> tuple[list[int], list[str]]:
    """The silent rows (level, id, threshold, recipients) a told alert names: their levels, and whom their rules
    would have told, each once, in level order."""
    whom = []
    for _level, _id, _threshold, recipients in sorted(rows):
        whom += [code for code in recipients if code not in whom]
    return [row[0] for row in sorted(rows)], whom


def _reached(
    directory: Directory, *, kind: str, level: int, crew_id: int | None, department_id: int | None, commune_id: int
) -> list[int]:
    """Whom an alert reaches: its recipients who work for the request's comuna."""
    return [
        user_id
        for user_id in _recipients(
            directory, kind=kind, level=level, crew_id=crew_id, department_id=department_id, commune_id=commune_id
        )
        if directory.works_for(user_id, commune_id)
    ]


def _recipients(
    directory: Directory, *, kind: str, level: int, crew_id: int | None, department_id: int | None, commune_id: int
) -> list[int]:
    if kind == AlertKind.ESCALATION:
        return directory.escalation(commune_id=commune_id, department_id=department_id, level=level, crew_id=crew_id)
    if kind == AlertKind.TRIAGE_WAIT:
        return directory.supervisors
    return directory.crew_or_triage(crew_id)


_TEXTS = {
    AlertKind.ASSIGNED: gettext_lazy("Asignada a su cuadrilla"),
    AlertKind.DUE_SOON: gettext_lazy("Vence pronto"),
    AlertKind.OVERDUE: gettext_lazy("Vencida"),
    AlertKind.REOPENED: gettext_lazy("Reabierta por la ciudadanía"),
    AlertKind.CITIZEN_INFO: gettext_lazy("La ciudadanía agregó información"),
    AlertKind.TRIAGE_WAIT: gettext_lazy("Espera en triage"),
}


def alert_text(alert: Alert) -> str:
    """What an alert says, in the active language (the inbox, the emails and the digest). An escalation says its
    rule as it stood when it fired: the threshold and whom it told (alerts fired before 0007 kept neither), and the
    lower levels a catch-up passed without telling, with whom they did not tell."""
    if alert.kind != AlertKind.ESCALATION:
        return str(_TEXTS[alert.kind])
    if alert.threshold_business_days is None:
        return alert_subject(alert)
    # A recipient code no longer in Recipient (a rule saved by an older release) is left out, not an error.
    whom = [str(Recipient(code).label) for code in alert.recipients if code in Recipient.values]
    values = {"level": alert.level, "when": escalation_threshold_text(alert.threshold_business_days)}
    if not whom:
        text = _("Escalamiento nivel %(level)s (regla: %(when)s)") % values
    else:
        text = _("Escalamiento nivel %(level)s (regla: %(when)s); avisado a %(whom)s") % {
            **values,
            "whom": spoken_list(whom),
        }
    if not alert.passed_levels:
        return text
    values = {"levels": spoken_list([str(level) for level in alert.passed_levels])}
    unheard = [str(Recipient(code).label) for code in alert.passed_recipients if code in Recipient.values]
    if unheard:
        passed = ngettext(
            "el nivel %(levels)s se alcanzó sin aviso a %(whom)s",
            "los niveles %(levels)s se alcanzaron sin aviso a %(whom)s",
            len(alert.passed_levels),
        ) % {**values, "whom": get_text_list(unheard, pgettext("lista negativa", "ni a"))}
    else:
        passed = (
            ngettext(
                "el nivel %(levels)s se alcanzó sin aviso aparte",
                "los niveles %(levels)s se alcanzaron sin aviso aparte",
                len(alert.passed_levels),
            )
            % values
        )
    return f"{text}; {passed}"


def alert_subject(alert: Alert) -> str:
    """An alert's short form, for an email's subject: an escalation says only its level."""
    if alert.kind == AlertKind.ESCALATION:
        return _("Escalamiento, nivel %(level)s") % {"level": alert.level}
    return str(_TEXTS[alert.kind])


def escalation_threshold_text(days: int) -> str:
    """A rule's threshold (business days from the due day, EscalationRule) as the rule says it."""
    if days < 0:
        return ngettext("%(days)d día hábil antes del plazo", "%(days)d días hábiles antes del plazo", -days) % {
            "days": -days
        }
    if days == 0:
        return _("el día del plazo")
    return ngettext("%(days)d día hábil después del plazo", "%(days)d días hábiles después del plazo", days) % {
        "days": days
    }


def spoken_list(words: list[str]) -> str:
    """«a, b y c» in the active language; Spanish says «e» before an /i/ sound («… e Integrantes»), not before
    «hie»/«hia», which sound /y/."""
    conjunction = pgettext("lista", "y")
    if conjunction == "y" and words and re.match(r"h?[ií](?![aeiouáéó])", words[-1], re.IGNORECASE):
        conjunction = "e"
    return get_text_list(words, conjunction)


def deadline_state_text(expected_at: datetime, now: datetime, *, closed_days, status: str | None = None) -> str:
    """Where a request's deadline stands at `now`, in words that lead an alert (a closed request's is over): the rule
    that fired the alert says when it fired, not whether the request is late today."""
    if status in CLOSED:
        return _("cerrada")
    where = countdown(expected_at, now, closed_days=closed_days)
    if where.overdue:
        if not where.business_days:
            return _("vencida")
        return ngettext(
            "vencida hace %(days)d día hábil", "vencida hace %(days)d días hábiles", where.business_days
        ) % {"days": where.business_days}
    if where.due_today or not where.business_days:
        return _("vence hoy")
    return ngettext("vence en %(days)d día hábil", "vence en %(days)d días hábiles", where.business_days) % {
        "days": where.business_days
    }


def alert_messages(emails: list[tuple], *, now: datetime) -> list[Message]:
    """The emails of a batch: (person, alert, code, deadline, report id) each; the subject short, the body opening
    with the alert's whole text and saying where the deadline stands at `now`. Texts are translated once per
    language and alert text, and the deadline's state once per language and deadline, not once per message: at
    180,000 messages gettext and reverse() cost more than the rest."""
    before, after = absolute(reverse("crew:report", args=["CODE"])).rsplit("CODE", 1)
    texts: dict[tuple, tuple[str, str, str, str]] = {}
    states: dict[tuple, str] = {}
    closed = closed_days()
    messages = []
    for person, alert, code, expected_at, report_id in emails:
        key = (
            person.language,
            alert.kind,
            alert.level,
            alert.threshold_business_days,
            tuple(alert.recipients),
            tuple(alert.passed_levels),
            tuple(alert.passed_recipients),
        )
        if key not in texts:
            with translation.override(person.language):
                texts[key] = (
                    alert_text(alert),
                    alert_subject(alert),
                    _("%(what)s: solicitud %(code)s"),
                    _("%(what)s: solicitud %(code)s, plazo %(deadline)s (%(state)s).\n%(link)s"),
                )
        if (person.language, expected_at) not in states:
            with translation.override(person.language):
                # The run fires alerts of open requests only.
                states[person.language, expected_at] = deadline_state_text(expected_at, now, closed_days=closed)
        what, short, subject, body = texts[key]
        values = {
            "what": what,
            "code": code,
            "deadline": f"{expected_at.astimezone(SANTIAGO):%Y-%m-%d %H:%M}",
            "link": f"{before}{code}{after}",
            "state": states[person.language, expected_at],
        }
        messages.append(
            Message(
                recipient=person.email,
                language=person.language,
                subject=subject % {**values, "what": short},
                body=body % values,
                report_id=report_id,
            )
        )
    return messages


@dataclass
class DigestSummary:
    digests: int = 0
    alerts: int = 0


def staff_digests_send(*, now: datetime | None = None) -> DigestSummary:
    """The daily digest: for each person who chose it, one email with their counts per kind and the list of the
    alerts no digest carried yet. Each person in one transaction that marks what it carried, under row locks a
    second process skips, so a digest is never sent twice nor an alert left out."""
    now = now or timezone.now()
    summary = DigestSummary()
    directory = alert_directory()
    for user_id, person in directory.people.items():
        if person.digest and person.email:
            carried = _digest_one(user_id=user_id, email=person.email, language=person.language, now=now)
            summary.digests += carried > 0
            summary.alerts += carried
    return summary


@transaction.atomic
def _digest_one(*, user_id: int, email: str, language: str, now: datetime) -> int:
    pending = (
        StaffAlert.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(user_id=user_id, digested_at__isnull=True, alert__fired_at__lte=now)
        .order_by("alert__report__expected_at", "pk")
        .values_list(
            "pk",
            "alert__kind",
            "alert__level",
            "alert__report__tracking_code",
            "alert__report__expected_at",
            "alert__threshold_business_days",
            "alert__recipients",
            "alert__passed_levels",
            "alert__passed_recipients",
        )
    )
    rows = list(pending)
    if not rows:
        return 0
    with translation.override(language):
        texts = [
            (
                code,
                due,
                alert_text(
                    Alert(
                        kind=kind,
                        level=level,
                        threshold_business_days=threshold,
                        recipients=recipients,
                        passed_levels=passed,
                        passed_recipients=unheard,
                    )
                ),
            )
            for _pk, kind, level, code, due, threshold, recipients, passed, unheard in rows
        ]
        counts = Counter(what for _code, _due, what in texts)
        lines = [_("Sus avisos del día:"), *(f"- {what}: {count}" for what, count in sorted(counts.items())), ""]
        lines += [f"{code}  {due.astimezone(SANTIAGO):%Y-%m-%d}  {what}" for code, due, what in texts]
        lines += ["", absolute(reverse("alerts:inbox"))]
        subject = _("Resumen de avisos: %(count)s") % {"count": len(rows)}
    notifications_enqueue(
        messages=[Message(recipient=email, language=language, subject=subject, body="\n".join(lines))]
    )
    StaffAlert.objects.filter(pk__in=[row[0] for row in rows]).update(digested_at=now)
    return len(rows)


def staff_alerts_mark_read(*, user, now: datetime | None = None) -> int:
    """The person has seen their inbox: every unread alert of theirs is read."""
    return StaffAlert.objects.filter(user=user, read_at__isnull=True).update(read_at=now or timezone.now())


def staff_alert_preference_set(*, user, delivery: str, language: str) -> StaffAlertPreference:
    """Immediate emails or one daily digest, in Spanish or English."""
    if delivery not in Delivery.values:
        raise ValidationError({"delivery": _("Elija envío inmediato o resumen diario.")})
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Idioma desconocido: %s") % language})
    preference, _created = StaffAlertPreference.objects.update_or_create(
        user=user, defaults={"delivery": delivery, "language": language}
    )
    return preference
