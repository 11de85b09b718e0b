import json
from dataclasses import dataclass
from datetime import date

from django.contrib.gis.geos import Point
from django.db.models import Count, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from geo_siac.reports.states import OPEN
from geo_siac.zones.models import ClosedDay, Commune, Crew, Zone, ZoneResponsibility


@dataclass(frozen=True)
class NearestCommune:
    commune: Commune
    distance_m: float


def commune_containing(point: Point) -> Commune | None:
    """The active comuna covering the point; on a shared border the lowest CUT wins, so the answer is stable."""
    # The boundary is not loaded: callers need the comuna, and a comuna's polygon is tens of kilobytes.
    return Commune.objects.active().filter(geometry__intersects=point).defer("geometry").order_by("cut").first()


def commune_nearest(point: Point) -> NearestCommune | None:
    """The nearest active comuna and its geodesic distance in metres (on the WGS84 spheroid)."""
    commune = (
        Commune.objects.active()
        .annotate(
            distance_m=RawSQL(
                "ST_Distance(geometry::geography, ST_GeomFromEWKT(%s)::geography)", (point.ewkt,)
            )
        )
        .order_by("distance_m")
        .first()
    )
    if commune is None:
        return None
    return NearestCommune(commune=commune, distance_m=commune.distance_m)


def active_communes_with_geometry() -> list[Commune]:
    return list(Commune.objects.active().order_by("cut"))


def active_communes_geojson(tolerance_deg: float = 0.0001) -> dict:
    """The served comunas' boundaries, lightly simplified (about 10 m) to keep the page small."""
    features = [
        {
            "type": "Feature",
            "properties": {"cut": c.cut, "name": c.name},
            "geometry": json.loads(c.geometry.simplify(tolerance_deg, preserve_topology=True).geojson),
        }
        for c in active_communes_with_geometry()
    ]
    return {"type": "FeatureCollection", "features": features}


def zone_containing(point: Point, commune: Commune) -> Zone | None:
    """The current zone of the comuna covering the point; on a shared border the lowest key wins (stable)."""
    return (Zone.objects.current().filter(commune=commune, geometry__intersects=point).defer("geometry")
            .order_by("key").first())


def crew_responsible(zone: Zone, category) -> Crew | None:
    """The crew for this category in the zone: a row for the category beats one for its group beats the default."""
    rows = ZoneResponsibility.objects.filter(
        Q(category=category) | Q(category_group_id=category.group_id)
        | Q(category__isnull=True, category_group__isnull=True),
        zone=zone,
    ).select_related("crew__department").order_by("id")

    def specificity(row) -> int:
        return 0 if row.category_id == category.pk else 1 if row.category_group_id == category.group_id else 2

    best = min(rows, key=specificity, default=None)  # one query instead of one per level
    return best.crew if best is not None else None


def closed_days() -> frozenset[date]:
    return frozenset(ClosedDay.objects.values_list("day", flat=True))


def crews_of(user) -> QuerySet[Crew]:
    return Crew.objects.filter(members=user) if user.is_authenticated else Crew.objects.none()


def crew_workload() -> QuerySet[Crew]:
    """Each crew with its open and overdue reports, to set against its daily capacity."""
    now = timezone.now()
    open_filter = Q(reports__status__in=OPEN)
    return Crew.objects.select_related("department").annotate(
        open_count=Count("reports", filter=open_filter),
        overdue_count=Count("reports", filter=open_filter & Q(reports__expected_at__lt=now)),
    ).order_by("name")


def current_zones_of(crews) -> QuerySet[Zone]:
    return Zone.objects.current().filter(responsibilities__crew__in=crews).distinct()


def served_area_centre() -> list[float]:
    """[lat, lng] where an empty map opens: a point inside the first comuna served (Santiago if none)."""
    commune = Commune.objects.active().order_by("cut").first()
    if commune is None:
        return [-33.45, -70.65]
    centre = commune.geometry.point_on_surface
    return [centre.y, centre.x]
