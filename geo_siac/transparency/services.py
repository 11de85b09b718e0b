"""Writes of the transparency app: the stored snapshots of the published indicators."""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from geo_siac.db import parallel_query
from geo_siac.transparency.models import IndicatorSnapshot
from geo_siac.transparency.selectors import PUBLISHED, compute_published, encode_results


@transaction.atomic
def indicator_snapshots_refresh(*, periods: Iterable[str] | None = None,
                                as_of: datetime | None = None) -> list[IndicatorSnapshot]:
    """Compute the published periods (all by default) at one instant and replace their snapshots together, so
    readers see either the old set or the new one."""
    as_of = as_of or timezone.now()
    periods = list(periods or PUBLISHED)
    unknown = sorted(set(periods) - set(PUBLISHED))
    if unknown:
        raise ValueError(f"unknown period(s) {', '.join(unknown)}; known: {', '.join(PUBLISHED)}")
    snapshots = []
    for period in periods:
        with parallel_query():
            published = compute_published(period, as_of=as_of)
        snapshot, _created = IndicatorSnapshot.objects.update_or_create(period=period, defaults={
            "start": published.start, "end": published.end, "as_of": as_of,
            "results": encode_results(published.results)})
        snapshots.append(snapshot)
    return snapshots
