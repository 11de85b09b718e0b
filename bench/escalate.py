"""Escalation benchmark (issue #24): one `manage.py escalate` run over many open requests, and a big digest.

    .venv/bin/python bench/escalate.py [--rows 1000000] [--crossing 0.05] [--digest 20000] [--catch-up 0]

Runs against its own database (GEO_SIAC_BENCH_DB, default geo_siac_bench_escalate). It fills it with --rows open
requests (copies of one report_create report, written by SQL), of which a --crossing share reach a threshold in
this run: due in one business day (the "due soon" alert and level 1 of the rules, -2 business days), while the rest
are due in 60 days and were received 10 days ago (no alert). --digest of the crossing ones belong to a second
department whose head chose the daily digest and is reached at level 1. The --catch-up requests after those are
found past all three levels at once (due a month ago: a catch-up, docs/escalation.md). Every run starts by forgetting the alerts,
so the same requests cross again. Prints the run's time and its process's peak memory at this size (run it at two
sizes to see that memory does not grow with the rows), then the time of the daily digest of that head.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("GEO_SIAC_BENCH_DB", "geo_siac_bench_escalate")

from ingest import prepare_database  # noqa: E402  (sets PGDATABASE from GEO_SIAC_BENCH_DB)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fill(rows: int, crossing: float, digest: int, catch_up: int) -> None:
    """The requests, two departments with their crews, people and rules: as many as asked, made once."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from geo_siac.alerts.models import DepartmentHead, EscalationRule, Recipient, StaffAlertPreference
    from geo_siac.catalogue.catalogue import load_catalogue
    from geo_siac.catalogue.models import Category, Department
    from geo_siac.reports.deadlines import deadline, local_day
    from geo_siac.reports.models import Report
    from geo_siac.reports.services import report_create
    from geo_siac.zones.models import Commune, CommuneMembership, Crew
    from geo_siac.zones.roles import SUPERVISOR
    from geo_siac.zones.selectors import closed_days

    if not Category.objects.exists():
        load_catalogue()
    users = get_user_model()
    departments = [Department.objects.get_or_create(name=name)[0] for name in ("Bench Aseo", "Bench Tránsito")]
    supervisors = Group.objects.get_or_create(name=SUPERVISOR)[0]
    puente_alto = Commune.objects.get(cut="13201")
    crews = []
    for n in range(10):
        crew, created = Crew.objects.get_or_create(
            name=f"Bench {n}", defaults={"department": departments[n // 9], "commune": puente_alto}
        )
        if created:
            member = users.objects.create_user(f"bench-member-{n}", email=f"m{n}@bench.example")
            boss = users.objects.create_user(f"bench-supervisor-{n}", email=f"s{n}@bench.example")
            boss.groups.add(supervisors)
            crew.members.add(member, boss)
        crews.append(crew)
    for department, name in zip(departments, ("bench-head-a", "bench-head-b"), strict=True):
        # Heads and escalation rules belong to a comuna (zones.CommuneCategory's sibling rules, alerts.models).
        if not DepartmentHead.objects.filter(commune=puente_alto, department=department).exists():
            head = users.objects.create_user(name, email=f"{name}@bench.example")
            DepartmentHead.objects.create(commune=puente_alto, department=department, user=head)
            EscalationRule.objects.create(
                commune=puente_alto,
                department=department,
                level=1,
                threshold_business_days=-2,
                recipients=[Recipient.CREW_SUPERVISOR, Recipient.DEPARTMENT_HEAD],
            )
            EscalationRule.objects.create(
                commune=puente_alto,
                department=department,
                level=2,
                threshold_business_days=1,
                recipients=[Recipient.DEPARTMENT_HEAD],
            )
    for department in departments:
        # A third level, so that a catch-up request is past three (added apart: databases filled before it).
        EscalationRule.objects.get_or_create(
            commune=puente_alto,
            department=department,
            level=3,
            defaults={"threshold_business_days": 5, "recipients": [Recipient.DEPARTMENT_HEAD]},
        )
    # Staff accounts are reached only for the comunas they work for (zones.tenancy): the requests are Puente Alto's.
    for user in users.objects.filter(username__startswith="bench-"):
        CommuneMembership.objects.get_or_create(user=user, commune=puente_alto)
    head_b = DepartmentHead.objects.get(commune=puente_alto, department=departments[1]).user
    StaffAlertPreference.objects.update_or_create(user=head_b, defaults={"delivery": "digest"})
    missing = rows - Report.objects.count()
    if missing > 0:
        template = report_create(
            category="retiro-escombros",
            latitude=-33.61,
            longitude=-70.59,
            channel="web",
            description="Escombros en la vereda.",
        )
        columns = [f.column for f in Report._meta.concrete_fields if f.column not in ("id", "tracking_code")]
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO reports_report (tracking_code, {', '.join(columns)}) "
                f"SELECT 'BE-' || to_char(g, 'FM00000000'), {', '.join(f't.{c}' for c in columns)} "
                f"FROM reports_report t, generate_series(%s, %s) g WHERE t.id = %s",
                [rows - missing, rows - 1, template.pk],
            )
            cursor.execute("VACUUM ANALYZE reports_report")
        print(f"inserted {missing:,} requests in {time.perf_counter() - started:.0f} s")
    now = timezone.now()
    today = local_day(now)
    soon, later = (deadline(today, days, closed_days=closed_days()) for days in (1, 60))
    old = now - timedelta(days=10)
    crossing_rows = int(rows * crossing)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # Every tenth request of the first `crossing_rows` by id crosses; of those, the first `digest` are
        # department B's (its own crew), the others spread over department A's nine crews.
        cursor.execute(
            "WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM reports_report) "
            "UPDATE reports_report r SET status = 'acknowledged', created_at = %s, updated_at = %s, "
            "times_reopened = 0, expected_at = CASE WHEN numbered.n <= %s THEN %s WHEN numbered.n <= %s THEN %s "
            "ELSE %s END, "
            "crew_id = CASE WHEN numbered.n <= %s THEN %s ELSE (%s::int[])[1 + numbered.n %% 9] END, "
            "department_id = CASE WHEN numbered.n <= %s THEN %s ELSE %s END "
            "FROM numbered WHERE numbered.id = r.id",
            [
                old,
                old,
                crossing_rows,
                soon,
                crossing_rows + catch_up,
                now - timedelta(days=30),
                later,
                digest,
                crews[9].pk,
                [c.pk for c in crews[:9]],
                digest,
                departments[1].pk,
                departments[0].pk,
            ],
        )
        cursor.execute("TRUNCATE alerts_alert, alerts_staffalert, notifications_notification")
        cursor.execute("VACUUM ANALYZE reports_report")
    print(
        f"{rows:,} open requests, {crossing_rows:,} crossing, {digest:,} of them department B's, {catch_up:,} past "
        f"three levels "
        f"(prepared in {time.perf_counter() - started:.0f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--crossing", type=float, default=0.05)
    parser.add_argument("--digest", type=int, default=20_000)
    parser.add_argument("--catch-up", type=int, default=0, help="requests found past all three levels at once")
    args = parser.parse_args()
    prepare_database()

    import django

    django.setup()
    from django.urls import reverse

    from geo_siac.alerts.services import alerts_run, staff_digests_send
    from geo_siac.notifications.models import Notification

    fill(args.rows, args.crossing, args.digest, args.catch_up)
    started = time.perf_counter()
    reverse("crew:home")  # the URL configuration (maps, folium...) is imported once per process, before the run
    print(f"URL configuration imported in {time.perf_counter() - started:.1f} s")
    before = peak_rss_mb()
    started = time.perf_counter()
    summary = alerts_run()
    print(
        f"escalate: {time.perf_counter() - started:.1f} s, fired {dict(summary.fired)}, inbox {summary.delivered:,}"
        f", emails {summary.emails:,}, silent {getattr(summary, 'silent', '-')}, batches {summary.batches}; peak RSS {peak_rss_mb():.0f} MB "
        f"(before the run {before:.0f} MB)"
    )
    started = time.perf_counter()
    digests = staff_digests_send()
    digest = Notification.objects.filter(report__isnull=True).order_by("-pk").first()
    print(
        f"digest: {time.perf_counter() - started:.1f} s for {digests.digests} digest(s) carrying "
        f"{digests.alerts:,} alerts; the department head's message is {len(digest.body) if digest else 0:,} "
        f"characters"
    )
    started = time.perf_counter()
    again = alerts_run()
    print(
        f"escalate again at once: {time.perf_counter() - started:.1f} s, fired {sum(again.fired.values())}, "
        f"silent {getattr(again, 'silent', '-')}"
    )


if __name__ == "__main__":
    main()
