"""Reads on reports."""

from django.contrib.gis.measure import D
from django.db.models import Case, CharField, Count, QuerySet, Value, When
from django.utils import timezone

from geo_siac.reports.deadlines import DUE_SOON, DeadlineState

from geo_siac.reports.models import Category, Report
from geo_siac.reports.states import OPEN
from geo_siac.reports.tracking import normalize_tracking_code


def report_by_tracking_code(code: str) -> Report | None:
    return (
        Report.objects.select_related("category", "commune")
        .filter(tracking_code=normalize_tracking_code(code))
        .first()
    )


def public_categories() -> QuerySet[Category]:
    return Category.objects.public().select_related("group").order_by("group__order", "name_es")


def report_counts_by_commune() -> list[dict]:
    return list(Report.objects.values("commune__name").annotate(total=Count("id")).order_by("commune__name"))


def open_reports(now=None) -> QuerySet[Report]:
    """Open reports with `deadline_state` (on time / due soon / overdue), soonest deadline first."""
    now = now or timezone.now()
    return (
        Report.objects.filter(status__in=OPEN)
        .select_related("category", "crew", "zone", "commune")
        .annotate(deadline_state=Case(
            When(expected_at__lt=now, then=Value(DeadlineState.OVERDUE)),
            When(expected_at__lt=now + DUE_SOON, then=Value(DeadlineState.DUE_SOON)),
            default=Value(DeadlineState.ON_TIME),
            output_field=CharField(),
        ))
        .order_by("expected_at")
    )


def overdue_reports(now=None) -> QuerySet[Report]:
    return open_reports(now).filter(deadline_state=DeadlineState.OVERDUE)


def triage_queue() -> QuerySet[Report]:
    """Open reports no crew answers: routing found no zone or no crew, or a crew handed them back."""
    return open_reports().filter(crew__isnull=True)


def reports_of_crews(crews) -> QuerySet[Report]:
    return open_reports().filter(crew__in=crews)


def nearby_open_reports(point, category, radius_m: float | None = None) -> QuerySet[Report]:
    """Open reports of the category within its duplicate radius: likely the same problem."""
    radius = radius_m if radius_m is not None else category.duplicate_radius_m
    return open_reports().filter(category=category, location__distance_lte=(point, D(m=radius)))
