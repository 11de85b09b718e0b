"""The URLconf's order: the busiest prefixes come first (geo_siac/urls.py), which is safe only while no pattern
shadows another one's paths."""

import re

from django.urls import get_resolver, resolve
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RoutePattern, URLResolver

SAMPLES = {
    IntConverter: "7",
    StringConverter: "ab-c",
    SlugConverter: "ab-c",
    PathConverter: "a/b.png",
    UUIDConverter: "12345678-1234-5678-1234-567812345678",
}


def routes(patterns, prefix=(), namespaces=()):
    """(pattern parts, name, view) of every route, through the includes."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            spaces = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from routes(pattern.url_patterns, (*prefix, pattern.pattern), spaces)
        else:
            yield (*prefix, pattern.pattern), ":".join((*namespaces, pattern.name or "")), pattern.callback


def sample_path(parts) -> str | None:
    """A path the route matches, each converter given a sample value; None for a regex or an unknown converter."""
    path = "/"
    for part in parts:
        if not isinstance(part, RoutePattern):
            return None
        converters = part.converters
        if any(type(converter) not in SAMPLES for converter in converters.values()):
            return None
        path += re.sub(r"<(?:\w+:)?(\w+)>", lambda m, found=converters: SAMPLES[type(found[m[1]])], str(part._route))
    return path


def test_every_route_resolves_to_its_own_view():
    checked = []
    for parts, name, view in routes(get_resolver().url_patterns):
        path = sample_path(parts)
        if path is None:
            continue
        assert resolve(path).func is view, f"{path} ({name}) resolves to another pattern's view"
        checked.append(name)
    assert len(checked) > 250  # every route of the project but the regex ones (DRF's router)


def test_the_busiest_paths_resolve_to_their_views():
    assert resolve("/").view_name == "reports:home"
    assert resolve("/seguimiento/PA-7K3M-Q9XD/").view_name == "reports:tracking"
    assert resolve("/solicitud/reclamo/").view_name == "reports:request_form"
    assert resolve("/transparencia/mapa/").view_name == "transparency:embed_map"
    assert resolve("/transparencia/celdas.geojson").view_name == "transparency:cells"
    assert resolve("/api/reports/").view_name == "report-list"
    assert resolve("/open311/v2/requests.json").view_name == "open311:requests"
