"""Reports and categories as GeoReport v2 fields. Reporter data never leaves through here."""

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from geo_siac.catalogue.models import Category
from geo_siac.reports.models import Report, ReportEvent
from geo_siac.reports.selectors import public_point
from geo_siac.reports.states import Status, open311_status, open311_update_status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The date this API's behaviour last changed; clients compare it to notice changes.
CHANGESET = "2026-12-02T00:00:00-03:00"
FORMATS = ["text/xml", "application/json"]


def iso(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else None


def discovery(base_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": settings.GEO_SIAC_OPEN311_CONTACT,
        "key_service": settings.GEO_SIAC_OPEN311_KEY_SERVICE,
        "endpoints": [
            {"specification": SPECIFICATION, "url": base_url, "changeset": CHANGESET, "type": "production",
             "formats": FORMATS},
        ],
    }


def service(category: Category) -> dict:
    return {
        "service_code": category.service_code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.group.name,
    }


def service_definition(category: Category) -> dict:
    return {
        "service_code": category.service_code,
        "attributes": [attribute(item) for item in sorted(category.attributes, key=lambda a: a.get("order", 0))],
    }


def attribute(item: dict) -> dict:
    return {
        "variable": True,
        "code": item["code"],
        "datatype": item["datatype"],
        "required": bool(item.get("required")),
        "datatype_description": item.get("datatype_description", ""),
        "order": item.get("order", 0),
        "description": item.get("description", ""),
        "values": [{"key": str(v["key"]), "name": v["name"]} for v in item.get("values", [])],
    }


def service_request(report: Report, *, extended: bool = False) -> dict:
    """Non-public reports show their published cell's centre, or no lat/long when they have no place, and no
    address or description (see docs/open311.md)."""
    body = {
        "service_request_id": str(report.pk),
        "status": open311_status(report.status),
        "status_notes": last_note(report),
        "service_name": report.category.name,
        "service_code": report.category.service_code,
        "description": report.description if report.public_visibility else "",
        "agency_responsible": report.category.department_name,
        "service_notice": "",
        "requested_datetime": iso(report.created_at),
        "updated_datetime": iso(report.updated_at),
        "expected_datetime": iso(report.expected_at),
        "address": report.address if report.public_visibility else "",
        "address_id": "",
        "zipcode": "",
    }
    point = public_point(report)
    if point is not None:  # the specification lets a request have no location
        body["lat"], body["long"] = round(point[0], 6), round(point[1], 6)
    body["media_url"] = report.media_url if report.public_visibility else ""
    if extended:
        body["extended_attributes"] = {
            "detailed_status": report.status,
            "detailed_status_name": str(Status(report.status).label),
            "jurisdiction_id": report.commune.jurisdiction_id,
            "zone": report.commune.name,
            "notes": [
                {"datetime": iso(event.created_at), "status": event.to_status, "description": event.note}
                for event in report.public_events
            ],
        }
    return body


def request_update(event: ReportEvent) -> dict:
    """One public event (reports.selectors.public_updates) as FixMyStreet's request_update. No one's name: who made a
    change is staff data. Photos of a change are not public, so media_url is empty."""
    return {
        "update_id": str(event.pk),
        "service_request_id": str(event.report_id),
        "status": open311_update_status(event.status_after),
        "external_status_code": event.status_after,
        "updated_datetime": iso(event.created_at),
        "description": event.note,
        "media_url": "",
    }


def last_note(report: Report) -> str:
    notes = [event.note for event in report.public_events if event.note]
    return notes[-1] if notes else ""


def error(code: int, description: str) -> dict:
    return {"code": code, "description": description}
