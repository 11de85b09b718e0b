"""What a webhook says about an event. A public endpoint sees the request as Open311 shows it (the one public view:
published place, no address or description of a non-public report) and only public events of public categories;
an internal one also sees internal events and the request's exact fields, each note worded in the installation's
language as the staff's history words it (a public rerouting's stored note is its department alone). No endpoint
sees the citizen's contact data: a back office that must reach the citizen does so from GeoSIAC."""

import hashlib
import hmac
import json

from django.conf import settings

from geo_siac.db import unique_row
from geo_siac.open311.presenters import iso, service_request
from geo_siac.open311.selectors import public_notes, request_rows
from geo_siac.reports.events import event_text
from geo_siac.reports.models import Report, ReportEvent
from geo_siac.reports.selectors import public_reports, published_events, reports_with_public_fields


def event_body(event: ReportEvent, *, internal: bool) -> dict | None:
    """The event and its request as this endpoint may see them, or None when it may not see the event at all."""
    if not internal:
        event = unique_row(published_events().filter(pk=event.pk))
        if event is None:  # internal, or of a request whose notes are for its requester only
            return None
    reports = reports_with_public_fields() if internal else public_reports()
    rows = request_rows(reports.filter(pk=event.report_id))
    if not rows:
        return None
    request = service_request(rows[0], history=public_notes([event.report_id])[event.report_id])
    happened = {
        "id": str(event.pk),
        "kind": event.kind,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "note": event_text(event, settings.LANGUAGE_CODE) if internal else event.published_note,
        "created_at": iso(event.created_at),
    }
    if internal:
        request.update(internal_fields(reports.select_related("department", "crew").get(pk=event.report_id)))
        happened.update({"is_public": event.is_public, "actor": event.actor_label})
    return {"event": happened, "request": request}


def internal_fields(report: Report) -> dict:
    return {
        "tracking_code": report.tracking_code,
        "lat": round(report.location.y, 6) if report.location is not None else None,  # a request without a place
        "long": round(report.location.x, 6) if report.location is not None else None,
        "address": report.address,
        "description": report.description,
        "media_url": report.media_url,
        "channel": report.channel,
        "public_visibility": report.public_visibility,
        "department": report.department.name if report.department_id else "",
        "crew": report.crew.name if report.crew_id else "",
    }


def encoded(body: dict, *, timestamp: int) -> bytes:
    """The bytes sent and signed: the timestamp sits inside them, so a replayed body carries its old time."""
    return json.dumps({**body, "timestamp": timestamp}, ensure_ascii=False, separators=(",", ":")).encode()


def signature(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
