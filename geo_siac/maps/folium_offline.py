"""folium maps whose HTML loads every script, stylesheet, font and image from GeoSIAC's own static files.

folium (and branca) put CDN ``<script src>`` / ``<link href>`` tags in the page header; the machines that run
GeoSIAC have no internet, so those pages would render blank. The libraries are vendored under
``geo_siac/static/vendor/`` by ``scripts/vendor_static.sh`` (see the README there) and this module rewrites
every CDN reference to ``{static_url}vendor/...``.

How: folium elements add their links to ``figure.header`` while the figure renders (``JSCSSMixin`` reads
``default_js``/``default_css``, branca's colormap legend adds d3 by hand). :func:`localize` therefore

* replaces ``default_js``/``default_css`` on the map instance (an instance attribute: folium's class lists,
  shared by every other map, are never mutated), and
* adds an invisible element as the *last* child of the figure. Figure children render in insertion order, so
  it runs after the map and all its layers and plugins have added their header links, whenever they were
  added, and rewrites each ``JavascriptLink``/``CssLink`` to its local copy. A remote URL with no local copy
  raises :class:`OfflineAssetError` (strict) rather than silently producing a page that needs a CDN.

Supported: the folium Map defaults (Leaflet, jQuery, Bootstrap 5 css+js, glyphicons, Font Awesome,
Leaflet.awesome-markers and its rotate css), ``folium.plugins.MarkerCluster``, ``folium.plugins.HeatMap`` and
branca colormap legends (d3 v3, e.g. ``folium.Choropleth`` or ``LinearColormap.add_to(map)``).
"""

from __future__ import annotations

import html as html_lib
import json
import re
from collections.abc import Iterable

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from folium.elements import JSCSSMixin

__all__ = [
    "CDN_TO_VENDOR",
    "OfflineAssetError",
    "assert_offline",
    "local_url",
    "localize",
    "offline_map",
    "remote_references",
    "vendor_paths",
]


class OfflineAssetError(ValueError):
    """A folium/branca element references a remote script or stylesheet that is not vendored."""


# Remote URL (exactly as folium 0.20.0 / branca reference it) -> path under the static "vendor/" folder.
CDN_TO_VENDOR: dict[str, str] = {
    # folium.folium._default_js
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/1.9.3/leaflet.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/3.7.1/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/5.2.2/bootstrap.bundle.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "leaflet-awesome-markers/2.0.2/leaflet.awesome-markers.js"
    ),
    # folium.folium._default_css
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/1.9.3/leaflet.css",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap/5.2.2/bootstrap.min.css",
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "bootstrap-glyphicons/3.4.1/bootstrap-glyphicons.css"
    ),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome-free/6.2.0/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "leaflet-awesome-markers/2.0.2/leaflet.awesome-markers.css"
    ),
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": (
        "leaflet-awesome-rotate/folium-0.20.0/leaflet.awesome.rotate.min.css"
    ),
    # folium.plugins.MarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster/1.1.0/leaflet.markercluster.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster/1.1.0/MarkerCluster.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster/1.1.0/MarkerCluster.Default.css"
    ),
    # folium.plugins.HeatMap (folium's patched Leaflet.heat 0.2.0)
    "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js": (
        "leaflet-heat/0.2.0-folium-0.20.0/leaflet-heat.min.js"
    ),
    # branca.colormap.ColorMap legends (folium.Choropleth, LinearColormap/StepColormap.add_to(map))
    "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js": "d3/3.5.5/d3.min.js",
}

# The Map's own defaults, by folium's link names (kept in folium's order).
_MAP_JS = [
    ("leaflet", "leaflet/1.9.3/leaflet.js"),
    ("jquery", "jquery/3.7.1/jquery.min.js"),
    ("bootstrap", "bootstrap/5.2.2/bootstrap.bundle.min.js"),
    ("awesome_markers", "leaflet-awesome-markers/2.0.2/leaflet.awesome-markers.js"),
]
_MAP_CSS = [
    ("leaflet_css", "leaflet/1.9.3/leaflet.css"),
    ("bootstrap_css", "bootstrap/5.2.2/bootstrap.min.css"),
    ("glyphicons_css", "bootstrap-glyphicons/3.4.1/bootstrap-glyphicons.css"),
    ("awesome_markers_font_css", "fontawesome-free/6.2.0/css/all.min.css"),
    ("awesome_markers_css", "leaflet-awesome-markers/2.0.2/leaflet.awesome-markers.css"),
    ("awesome_rotate_css", "leaflet-awesome-rotate/folium-0.20.0/leaflet.awesome.rotate.min.css"),
]


def _normalise_static_url(static_url: str) -> str:
    if not static_url:
        raise ValueError("static_url must not be empty (e.g. '/static/').")
    return static_url if static_url.endswith("/") else static_url + "/"


def local_url(vendor_path: str, static_url: str = "/static/") -> str:
    """``{static_url}vendor/{vendor_path}``."""
    return f"{_normalise_static_url(static_url)}vendor/{vendor_path}"


def vendor_paths() -> list[str]:
    """Every vendored path (relative to the static ``vendor/`` folder) this module can reference."""
    return sorted(set(CDN_TO_VENDOR.values()))


def _is_remote(url: str) -> bool:
    return url.startswith(("http://", "https://", "//"))


def _rewrite(url: str, static_url: str, *, strict: bool, where: str) -> str:
    if not isinstance(url, str) or not _is_remote(url) or url.startswith(static_url):
        return url  # relative/local, or already under an absolute STATIC_URL
    vendor_path = CDN_TO_VENDOR.get(url)
    if vendor_path is None:
        if strict:
            raise OfflineAssetError(
                f"{where} references {url}, which is not vendored. Add it to scripts/vendor_static.sh and "
                "geo_siac.maps.folium_offline.CDN_TO_VENDOR, or do not use that plugin."
            )
        return url
    return local_url(vendor_path, static_url)


def _walk(element: Element) -> Iterable[Element]:
    yield element
    for child in list(element._children.values()):
        yield from _walk(child)


def _localize_defaults(element: JSCSSMixin, static_url: str, *, strict: bool) -> None:
    """Give ``element`` its own default_js/default_css lists pointing at the vendored files."""
    where = type(element).__name__
    element.default_js = [
        (name, _rewrite(url, static_url, strict=strict, where=where)) for name, url in element.default_js
    ]
    element.default_css = [
        (name, _rewrite(url, static_url, strict=strict, where=where)) for name, url in element.default_css
    ]


class _OfflineHeaderRewriter(Element):
    """Renders nothing; rewrites the figure's header links once everything before it has rendered."""

    _template = None

    def __init__(self, static_url: str, strict: bool = True):
        super().__init__()
        self._name = "OfflineHeaderRewriter"
        self.static_url = static_url
        self.strict = strict

    def render(self, **kwargs) -> str:
        figure = self.get_root()
        assert isinstance(figure, Figure), "localize() needs an element attached to a Figure."
        for element in _walk(figure):
            if isinstance(element, JSCSSMixin):
                _localize_defaults(element, self.static_url, strict=self.strict)
        for name, child in figure.header._children.items():
            if isinstance(child, (JavascriptLink, CssLink)):
                child.url = _rewrite(child.url, self.static_url, strict=self.strict, where=f"header link {name!r}")
        return ""


def localize(figure_or_map: Element, static_url: str = "/static/", *, strict: bool = True) -> Element:
    """Make ``figure_or_map`` (a folium Map, any element of a figure, or the Figure) render offline.

    Idempotent. Works for layers/plugins added before or after the call. With ``strict`` (default) rendering
    raises :class:`OfflineAssetError` if some element references a remote script/stylesheet that is not
    vendored; with ``strict=False`` such links are left as they are (and :func:`assert_offline` will flag them).
    Returns its argument.
    """
    static_url = _normalise_static_url(static_url)
    if isinstance(figure_or_map, JSCSSMixin):
        _localize_defaults(figure_or_map, static_url, strict=strict)
    figure = figure_or_map.get_root()
    if not isinstance(figure, Figure):
        # A detached element: give it a Figure, as folium.Map does for itself.
        figure = Figure()
        figure.add_child(figure_or_map)
    for key in [k for k, child in figure._children.items() if isinstance(child, _OfflineHeaderRewriter)]:
        del figure._children[key]
    # Always the last child, so it renders after every element that adds header links.
    figure.add_child(_OfflineHeaderRewriter(static_url, strict), name="offline_header_rewriter")
    return figure_or_map


class _PageFigure(Figure):
    """folium's page with the request's language on <html> and a title, which screen readers announce (branca's
    page template has neither)."""

    def __init__(self):
        super().__init__(title=_("Mapa de GeoSIAC"))
        self.lang = get_language()

    def render(self, **kwargs) -> str:
        return super().render(**kwargs).replace("<html>", f'<html lang="{self.lang}">', 1)


def offline_map(static_url: str = "/static/", **folium_map_kwargs) -> folium.Map:
    """A ``folium.Map`` whose rendered HTML references only ``{static_url}vendor/...`` files.

    ``tiles`` defaults to ``None`` (no base layer: the planners' maps draw comuna polygons from our own
    data). A tile URL template such as ``"/tiles/{z}/{x}/{y}.png"`` (or a remote tile server, which is the
    caller's choice) is accepted; folium requires an attribution for custom tiles, so when a template is given
    without ``attr`` it defaults to the OpenStreetMap credit for openstreetmap.org URLs and to ``"GeoSIAC"``
    otherwise. Any other keyword goes to ``folium.Map``.
    """
    static_url = _normalise_static_url(static_url)
    tiles = folium_map_kwargs.pop("tiles", None)
    if isinstance(tiles, str) and "{" in tiles and not folium_map_kwargs.get("attr"):
        folium_map_kwargs["attr"] = (
            '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
            if "openstreetmap" in tiles.lower()
            else "GeoSIAC"
        )
    fmap = folium.Map(tiles=tiles, **folium_map_kwargs)
    _PageFigure().add_child(fmap)
    fmap.default_js = [(name, local_url(path, static_url)) for name, path in _MAP_JS]
    fmap.default_css = [(name, local_url(path, static_url)) for name, path in _MAP_CSS]
    localize(fmap, static_url)
    # Leaflet's zoom buttons are titled in English only; the figure's script runs after leaflet.js, before the map.
    zoom_text = {"zoomInTitle": _("Acercar"), "zoomOutTitle": _("Alejar")}
    fmap.get_root().script.add_child(
        Element(f"Object.assign(L.Control.Zoom.prototype.options, {json.dumps(zoom_text)});"), name="zoom_text"
    )
    # Leaflet's scale adds miles under the kilometres; Chile measures in metres only.
    fmap.get_root().script.add_child(
        Element("Object.assign(L.Control.Scale.prototype.options, {imperial: false});"), name="metric_scale"
    )
    return fmap


# --- offline check ----------------------------------------------------------------------------------------

# src=/href= with an optional backslash before the quote (attribute HTML embedded in JS strings).
_ATTR_RE = re.compile(r"""\b(src|href)\s*=\s*\\?(["']?)\s*((?:https?:)?//[^\s"'\\<>)]+)""", re.IGNORECASE)
_CSS_URL_RE = re.compile(r"""url\(\s*\\?["']?\s*((?:https?:)?//[^\s"'\\)]+)""", re.IGNORECASE)
_IMPORT_RE = re.compile(r"""@import\s+\\?["']((?:https?:)?//[^"'\\]+)""", re.IGNORECASE)
_SRCDOC_RE = re.compile(r"""\bsrcdoc\s*=\s*"([^"]*)\"""", re.IGNORECASE)
# Leaflet tile URL templates: {z}/{x}/{y}, {s}, {r}, or WMS-style bbox placeholders.
_TILE_RE = re.compile(r"\{(?:z|x|y|s|r|-y)\}", re.IGNORECASE)
# Tag that owns an attribute: the last "<name" (or its JSON-escaped "\u003cname") before the attribute.
_TAG_RE = re.compile(r"(?:<|\\u003c|&lt;)\s*([a-zA-Z][\w-]*)[^<>]*$", re.IGNORECASE)


def _owning_tag(text: str, pos: int) -> str | None:
    window = text[max(0, pos - 400) : pos]
    match = _TAG_RE.search(window)
    return match.group(1).lower() if match else None


def remote_references(html: str) -> list[str]:
    """Remote (http://, https://, protocol-relative) resources the page would *load*.

    Counted: ``src=``/``href=`` attributes, CSS ``url(...)`` and ``@import``. Not counted: Leaflet tile URL
    templates (``{z}/{x}/{y}``...) and ``<a href>`` links (navigation, e.g. tile attributions, load nothing).
    HTML inside an ``<iframe srcdoc>`` (notebook ``_repr_html_``) is checked too.
    """
    found: list[str] = []
    for match in _ATTR_RE.finditer(html):
        url = match.group(3)
        if _TILE_RE.search(url):
            continue
        if match.group(1).lower() == "href" and _owning_tag(html, match.start()) == "a":
            continue
        found.append(f"{match.group(1).lower()}={url}")
    for match in _CSS_URL_RE.finditer(html):
        if not _TILE_RE.search(match.group(1)):
            found.append(f"url({match.group(1)})")
    for match in _IMPORT_RE.finditer(html):
        found.append(f"@import {match.group(1)}")
    for match in _SRCDOC_RE.finditer(html):
        found.extend(remote_references(html_lib.unescape(match.group(1))))
    return list(dict.fromkeys(found))


def assert_offline(html: str) -> None:
    """Raise AssertionError listing every remote ``src=``/``href=`` (or CSS url/@import) the HTML would load.

    Tile URL templates and ``<a href>`` links are allowed (see :func:`remote_references`).
    """
    found = remote_references(html)
    if found:
        raise AssertionError(
            "The page references remote resources (machines have no internet at run time):\n  " + "\n  ".join(found)
        )
