"""Reads on reports."""

from django.db.models import Count, QuerySet

from geo_siac.reports.models import Category, Report
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
