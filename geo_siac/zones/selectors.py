import json

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.db.models.expressions import RawSQL

from geo_siac.zones.models import Commune


@dataclass(frozen=True)
class NearestCommune:
    commune: Commune
    distance_m: float


def commune_containing(point: Point) -> Commune | None:
    """The active comuna covering the point; on a shared border the lowest CUT wins, so the answer is stable."""
    return Commune.objects.active().filter(geometry__intersects=point).order_by("cut").first()


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
