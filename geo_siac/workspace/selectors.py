"""Reads for the staff pages' forms."""

from collections.abc import Iterable

from django.db.models import QuerySet

from geo_siac.zones.models import Crew


def reroute_choices(report, crews: QuerySet[Crew] | Iterable[Crew], *, holder: bool = False):
    """The crews a report may be rerouted to, wherever a reroute is drawn or posted: those of `crews` in its comuna,
    by name, without the one holding it (choosing it could only be refused) unless `holder`. A queryset stays one
    (a form checks a post against it); crews already loaded are filtered here (the board draws a hundred rows)."""
    if isinstance(crews, QuerySet):
        crews = crews.filter(commune_id=report.commune_id).order_by("name")
        return crews if holder else crews.exclude(pk=report.crew_id)
    return [c for c in crews if c.commune_id == report.commune_id and (holder or c.pk != report.crew_id)]
