"""Reads on reports."""

from django.contrib.gis.geos import Point
from django.db.models import Count, QuerySet
from django.db.models.expressions import RawSQL

from geo_siac.reports.models import Category, CategoryGroup, Report, ReportEvent
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


def open_duplicates(*, category: Category, point: Point, limit: int = 10) -> list[Report]:
    """Open public reports of the category within its duplicate radius, nearest first, with `distance_m`.

    Only public ones: answering "is there a report near here?" for private reports would let anyone locate
    them by probing points.
    """
    return list(
        Report.objects.filter(status__in=OPEN, category=category, public_visibility=True)
        .annotate(distance_m=RawSQL("ST_Distance(location::geography, ST_GeomFromEWKT(%s)::geography)", (point.ewkt,)))
        .filter(distance_m__lte=category.duplicate_radius_m)
        .select_related("category")
        .order_by("distance_m")[:limit]
    )


def public_timeline(report: Report) -> QuerySet[ReportEvent]:
    return report.events.filter(is_public=True).order_by("created_at", "id")


def categories_by_group() -> list[tuple[CategoryGroup, list[Category]]]:
    groups: dict[int, tuple[CategoryGroup, list[Category]]] = {}
    for category in public_categories():
        groups.setdefault(category.group_id, (category.group, []))[1].append(category)
    return list(groups.values())
