"""Reads on reports."""

from django.db.models import Count, QuerySet

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


def open_reports() -> QuerySet[Report]:
    return Report.objects.filter(status__in=OPEN).select_related("category", "crew", "zone", "commune")


def triage_queue() -> QuerySet[Report]:
    """Open reports no crew answers: routing found no zone or no crew, or a crew handed them back."""
    return open_reports().filter(crew__isnull=True).order_by("expected_at")
