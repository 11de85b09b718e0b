"""Reports and categories as GeoReport v2 fields. Reporter data never leaves through here."""

from datetime import datetime, tzinfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language

from geo_siac.catalogue.models import Category, english_active, localized_value
from geo_siac.reports.models import ReportEvent
from geo_siac.reports.privacy import shown_point
from geo_siac.reports.states import Status, open311_status, open311_update_status

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The date this API's behaviour last changed; clients compare it to notice changes.
CHANGESET = "2026-12-06T00:00:00-03:00"
FORMATS = ["text/xml", "application/json"]


def iso(moment: datetime | None, zone: tzinfo | None = None) -> str | None:
    """The moment in the current time zone (`zone`, when the caller has already asked for it: reading it is a
    thread-local lookup, three per request of a list of 100 were a fifth of the list's Python CPU)."""
    return moment.astimezone(zone or timezone.get_current_timezone()).isoformat(timespec="seconds") if moment else None


def key_service() -> tuple[str, str]:
    """How a client gets an api_key, and the language it is in: the request's language (LocaleMiddleware reads
    Accept-Language), Spanish unless the client asks for English and the installation wrote it in English."""
    if (get_language() or "").startswith("en") and settings.GEO_SIAC_OPEN311_KEY_SERVICE_EN:
        return settings.GEO_SIAC_OPEN311_KEY_SERVICE_EN, "en"
    return settings.GEO_SIAC_OPEN311_KEY_SERVICE, "es"


def discovery(base_url: str) -> dict:
    return {
        "changeset": CHANGESET,
        "contact": settings.GEO_SIAC_OPEN311_CONTACT,
        "key_service": key_service()[0],
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": FORMATS,
            },
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


def service_requests(rows: list[dict], histories: dict[int, list[dict]] | None = None) -> list[dict]:
    """service_request for each row, with its public history (by report id) when given. The time zone and the
    language are read once per list: each is a thread-local lookup, and per row they were a fifth of its CPU."""
    zone, in_english = timezone.get_current_timezone(), english_active()
    if histories is None:
        return [service_request(row, zone=zone, in_english=in_english) for row in rows]
    return [service_request(row, history=histories[row["id"]], zone=zone, in_english=in_english) for row in rows]


def service_request(
    row: dict, *, history: list[dict] | None = None, zone: tzinfo | None = None, in_english: bool | None = None
) -> dict:
    """A request from its row (selectors.request_rows), with extended_attributes when its public history is given.
    Non-public reports show their published cell's centre, or no lat/long when they have no place, and no address
    or description (see docs/open311.md)."""
    public = row["public_visibility"]
    body = {
        "service_request_id": str(row["id"]),
        "status": open311_status(row["status"]),
        "status_notes": row["status_notes"],
        "service_name": localized_value(row["category__name_es"], row["category__name_en"], in_english),
        "service_code": row["category__service_code"],
        "description": row["description"] if public else "",
        "agency_responsible": row["agency_responsible"] or "",
        "service_notice": "",
        "requested_datetime": iso(row["created_at"], zone),
        "updated_datetime": iso(row["updated_at"], zone),
        "expected_datetime": iso(row["expected_at"], zone),
        "address": row["address"] if public else "",
        "address_id": "",
        "zipcode": "",
    }
    point = shown_point(public, row["lat"], row["lng"], row["public_cell"])
    if point is not None:  # the specification lets a request have no location
        body["lat"], body["long"] = round(point[0], 6), round(point[1], 6)
    body["media_url"] = row["media_url"] if public else ""
    if history is not None:
        body["extended_attributes"] = {
            "detailed_status": row["status"],
            "detailed_status_name": str(Status(row["status"]).label),
            "jurisdiction_id": row["commune__jurisdiction_id"],
            "zone": row["commune__name"],
            "notes": [{**note, "datetime": iso(note["datetime"], zone)} for note in history],
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
        "description": event.published_note,
        "media_url": "",
    }


def error(code: int, description: str) -> dict:
    return {"code": code, "description": description}
