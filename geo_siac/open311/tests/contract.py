"""Reading GeoReport v2 responses in either format, and the field types the specification gives."""

import json
import xml.etree.ElementTree as ET
from datetime import datetime

REQUEST_FIELDS = {
    "service_request_id": str,
    "status": str,
    "status_notes": str,
    "service_name": str,
    "service_code": str,
    "description": str,
    "agency_responsible": str,
    "service_notice": str,
    "requested_datetime": datetime,
    "updated_datetime": datetime,
    "expected_datetime": datetime,
    "address": str,
    "address_id": str,
    "zipcode": str,
    "lat": float,
    "long": float,
    "media_url": str,
}
SERVICE_FIELDS = {
    "service_code": str,
    "service_name": str,
    "description": str,
    "metadata": bool,
    "type": str,
    "keywords": str,
    "group": str,
}
ATTRIBUTE_FIELDS = {
    "variable": bool,
    "code": str,
    "datatype": str,
    "required": bool,
    "datatype_description": str,
    "order": int,
    "description": str,
    "values": list,
}
LIST_ELEMENTS = {"endpoints", "formats", "attributes", "values", "notes"}


def get(client, path: str, fmt: str, **query):
    response = client.get(f"/open311/v2/{path}.{fmt}", query)
    return response, parse(response, fmt)


def post(client, fmt: str, data: dict):
    response = client.post(f"/open311/v2/requests.{fmt}", data)
    return response, parse(response, fmt)


def parse(response, fmt: str):
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content.decode("utf-8"))
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(response.content)
    return root.tag, from_xml(root)


def from_xml(element):
    """Elements with children become dicts, or lists when they are the spec's repeated items; text stays text."""
    children = list(element)
    if element.tag in LIST_ELEMENTS or (children and len({c.tag for c in children}) == 1 and len(children) > 1):
        return [from_xml(child) for child in children]
    if children:
        return {child.tag: from_xml(child) for child in children}
    return element.text or ""


def items(body, fmt: str, root: str, item: str) -> list[dict]:
    """The list of items, checking the XML root and item element names."""
    if fmt == "json":
        assert isinstance(body, list)
        return body
    tag, _ = body
    assert tag == root
    return body_items(body, item)


def body_items(body, item: str) -> list[dict]:
    _, parsed = body
    if isinstance(parsed, dict):
        assert set(parsed) <= {item}
        return list(parsed.values())
    return parsed if isinstance(parsed, list) else []


def typed(value, kind, fmt: str) -> bool:
    if fmt == "json":
        if kind is datetime:
            return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
        if kind is float:
            return isinstance(value, float)
        return isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is datetime:
        return datetime.fromisoformat(value).tzinfo is not None
    if kind is bool:
        return value in ("true", "false")
    if kind in (int, float):
        return kind(value) is not None
    if kind is list:
        return isinstance(value, (list, dict, str))
    return isinstance(value, str)


def assert_fields(item: dict, fields: dict, fmt: str) -> None:
    assert set(fields) <= set(item), set(fields) - set(item)
    for name, kind in fields.items():
        assert typed(item[name], kind, fmt), (name, item[name])
