"""Writes on crew zones. A zone is never edited in place: a redraw retires the current version and adds the next,
which inherits the crews responsible, so reports keep the version they were routed by."""

from django.contrib.gis.geos import MultiPolygon
from django.db import transaction
from django.utils import timezone

from geo_siac.zones.models import Commune, Crew, Zone, ZoneResponsibility


@transaction.atomic
def zone_save_version(*, commune: Commune, key: str, name: str, geometry: MultiPolygon, source: str = "") -> Zone:
    now = timezone.now()
    current = Zone.objects.select_for_update().current().filter(commune=commune, key=key).first()
    version = 1
    if current is not None:
        current.retired_at = now
        current.save(update_fields=["retired_at"])
        version = current.version + 1
    zone = Zone.objects.create(
        commune=commune, key=key, name=name, version=version, geometry=geometry, created_at=now, source=source
    )
    if current is not None:
        ZoneResponsibility.objects.bulk_create(
            ZoneResponsibility(
                zone=zone, crew_id=r.crew_id, category_id=r.category_id, category_group_id=r.category_group_id
            )
            for r in current.responsibilities.all()
        )
    return zone


@transaction.atomic
def zone_assign_crew(*, zone: Zone, crew: Crew, category=None, category_group=None) -> ZoneResponsibility:
    """Make `crew` answer the zone's reports of one category, of one group, or (neither given) all the rest."""
    if category is not None and category_group is not None:
        raise ValueError("give a category or a category group, not both")
    ZoneResponsibility(zone=zone, crew=crew).clean()
    row, _created = ZoneResponsibility.objects.update_or_create(
        zone=zone, category=category, category_group=category_group, defaults={"crew": crew}
    )
    return row
