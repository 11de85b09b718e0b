"""The webhook deliveries of a year being archived (reports.archive): an event is never left pending unsent without
a word, nor sent twice. A delivery still pending to an active endpoint holds the archive back (the worker sends it
or gives it up within GEO_SIAC_WEBHOOK_MAX_ATTEMPTS); one pending to an inactive endpoint, which may wait for good,
is marked ARCHIVED in the archive's transaction, logged and counted, and moves into the archive with that state."""

from django.utils.translation import gettext as _

from geo_siac.reports.archive import ArchiveParticipant, ArchiveRefused, year_bounds
from geo_siac.webhooks.models import DeliveryState, WebhookDelivery, WebhookEndpoint


def year_pending_deliveries(year: int):
    low, high = year_bounds(year)
    return WebhookDelivery.objects.filter(report_id__gte=low, report_id__lt=high, state=DeliveryState.PENDING)


def year_deliveries_refusal(year: int) -> str | None:
    active = year_pending_deliveries(year).filter(endpoint__is_active=True)
    count = active.count()
    if not count:
        return None
    endpoints = ", ".join(sorted(set(active.values_list("endpoint__description", flat=True))))
    return _(
        "%(year)s tiene %(count)s envíos de webhooks pendientes a destinos activos (%(endpoints)s): espere a que "
        "manage.py deliver_webhooks los entregue o los dé por fallidos, o desactive el destino para archivarlos "
        "sin enviar."
    ) % {"year": year, "count": count, "endpoints": endpoints}


def year_deliveries_settle(year: int) -> str | None:
    """Mark the year's deliveries still pending as ARCHIVED, their endpoints locked first (FOR UPDATE: none is
    re-activated until the archive commits) and checked inactive: one re-activated since year_deliveries_refusal
    refuses the archive (ArchiveRefused); the line says how many, per endpoint."""
    pending = year_pending_deliveries(year)
    endpoints = list(
        WebhookEndpoint.objects.filter(pk__in=pending.values("endpoint_id")).select_for_update().order_by("pk")
    )
    active = sorted(endpoint.description for endpoint in endpoints if endpoint.is_active)
    if active:
        raise ArchiveRefused(
            _(
                "%(year)s tiene envíos de webhooks pendientes a destinos reactivados durante el archivo "
                "(%(endpoints)s): no se archivó nada; reintente cuando se entreguen o desactive el destino."
            )
            % {"year": year, "endpoints": ", ".join(active)}
        )
    inactive = pending.filter(endpoint__is_active=False).select_for_update(of=("self",))
    per_endpoint: dict[str, int] = {}
    for description in inactive.values_list("endpoint__description", flat=True):
        per_endpoint[description] = per_endpoint.get(description, 0) + 1
    if not per_endpoint:
        return None
    year_pending_deliveries(year).filter(endpoint__is_active=False).update(state=DeliveryState.ARCHIVED)
    endpoints_line = ", ".join(f"{name}: {count}" for name, count in sorted(per_endpoint.items()))
    return _("webhooks: %(count)s envíos pendientes a destinos inactivos se archivan sin enviar (%(endpoints)s)") % {
        "count": sum(per_endpoint.values()),
        "endpoints": endpoints_line,
    }


PARTICIPANT = ArchiveParticipant(name="webhooks", refusal=year_deliveries_refusal, settle=year_deliveries_settle)
