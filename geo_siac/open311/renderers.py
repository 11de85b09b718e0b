"""GeoReport v2 bodies in XML and JSON, and how a request picks one. Lists are wrapped in the element names the
specification uses."""

import re
from xml.etree.ElementTree import Element, SubElement, tostring

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer

ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "service_requests_updates": "request_update",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
    "notes": "note",
}


class Open311JSONRenderer(JSONRenderer):
    charset = "utf-8"


class Open311ContentNegotiation(DefaultContentNegotiation):
    """DRF's choice of renderer, answered at once when the client accepts anything (no Accept header, or `*/*`, as
    most clients send): then DRF picks the first renderer of the requested format (the `.json`/`.xml` suffix or
    `?format=`), or of all, with its own media type, and that is what this returns. Any other Accept header goes
    through DRF's parsing, which reads it from `request.headers`, a map of every header built for it: on a request
    by id that was most of the negotiation's cost, which was a tenth of the request's Python time."""

    def select_renderer(self, request, renderers, format_suffix=None):
        if request.META.get("HTTP_ACCEPT", "*/*").strip() != "*/*":
            return super().select_renderer(request, renderers, format_suffix)
        format = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if format:
            renderers = self.filter_renderers(renderers, format)
        return renderers[0], renderers[0].media_type


class Open311XMLRenderer(BaseRenderer):
    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response = context.get("response")
        root_name = "errors" if response is not None and response.status_code >= 400 else context["view"].xml_root
        root = Element(root_name)
        fill(root, data)
        return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="unicode").encode()


def fill(element: Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            fill(SubElement(element, key), child)
    elif isinstance(value, list):
        item_name = ITEM_NAMES.get(element.tag, "item")
        for child in value:
            fill(SubElement(element, item_name), child)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = NOT_XML.sub("", str(value))


# Characters XML 1.0 cannot hold at all, even escaped: C0 controls other than tab and line ends, surrogates and
# U+FFFE/U+FFFF. ElementTree writes them as they are, and one such character in one old report's description
# would make the whole list unreadable to every XML client.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
