"""The one way GeoSIAC puts text on a folium map: layers, their names, tooltips and legends are built here.

folium writes text as it is: a layer's name into the layer control, which Leaflet sets as HTML; a tooltip string
into a JavaScript template literal (``bindTooltip(`<div>...</div>`)``); a ``GeoJsonTooltip`` field and its label
into the tooltip's HTML. folium pages allow inline scripts, and the coverage map runs in a ``srcdoc`` frame of the
site's own origin. Names shown there (comunas, zones, service points, category groups) come from imported files
and the admin: ``<img src=x onerror=...>``, or a backtick and ``${...}``, would run as script. So every text
passes through :func:`map_text` here, and no other module of the project imports folium
(``geo_siac/maps/tests/test_folium_text.py`` holds both).
"""

import html
import json
from collections.abc import Callable
from dataclasses import dataclass

import folium
import h3.api.basic_int as h3i
from branca.element import Element, JavascriptLink, MacroElement
from folium.features import GeoJsonStyleMapper
from folium.map import Layer
from folium.utilities import get_obj_in_upper_tree
from jinja2 import Template

# After HTML escaping, what still means something inside a template literal: its end, an interpolation and an
# escape (an invalid one, such as \u without hex digits, is a syntax error that would blank the whole map).
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def map_text(value) -> str:
    """`value` as text that reads the same on the map and cannot become markup or script."""
    return html.escape(str(value)).translate(_TEMPLATE_LITERAL)


def _shown(value):
    """A property a tooltip shows: numbers and missing values as they are, anything else as text."""
    return value if value is None or isinstance(value, (int, float)) else map_text(value)


class _Rendered(Element):
    """Text already rendered by its element's template, added to the page as it is."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class _RenderedOnce(MacroElement):
    """branca's MacroElement.render, except that what the macros wrote goes into the page as text: branca compiles
    it as a template again, which lexes every GeoJSON coordinate a second time (a second of a region map's render,
    docs/performance.md), and would read a "{{" or "{%" in a name as template syntax."""

    def render(self, **kwargs):
        figure = self.get_root()
        for part in ("header", "html", "script"):
            macro = self._template.module.__dict__.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Rendered(macro(self, kwargs)), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


class _GeoJson(folium.GeoJson, _RenderedOnce):
    """folium's GeoJson layer, with its style map built by :func:`_style_map` (GeoJson.render without it)."""

    def render(self, **kwargs):
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)
        if self.style and self.data["features"]:
            self.style_map = _style_map(self.data["features"], self.feature_identifier, self.style_function)
        super(folium.GeoJson, self).render(**kwargs)


def _style_map(features: list[dict], identifier: str, style_function: Callable) -> dict:
    """folium's GeoJsonStyleMapper.get_style_map, the same map, with each distinct style written as JSON once, not
    once per feature: that was half of the rendering of a region's map (docs/performance.md)."""
    path = identifier.split(".")[1:]
    keys: dict[tuple, str] = {}
    mapping: dict[str, list] = {}
    for feature in features:
        content = style_function(feature)
        # The types too: 1, 1.0 and True are equal keys of a dict but different JSON.
        shape = tuple(sorted((name, type(value), value) for name, value in content.items()))
        if shape not in keys:
            keys[shape] = GeoJsonStyleMapper._to_key(content)
        value = feature
        for step in path:
            value = value[step]
        mapping.setdefault(keys[shape], []).append(value)
    GeoJsonStyleMapper._set_default_key(mapping)
    return mapping


def geojson_layer(
    data: dict, *, name: str, style_function: Callable, tooltip: dict[str, str] | None = None, show: bool = True
) -> folium.GeoJson:
    """A GeoJSON layer named `name`; `tooltip` maps the properties it shows to their labels (a FeatureCollection)."""
    if tooltip is None:
        return _GeoJson(data, name=map_text(name), show=show, style_function=style_function)
    fields = list(tooltip)
    features = [
        {
            **feature,
            "properties": {
                **feature["properties"],
                **{field: _shown(feature["properties"][field]) for field in fields},
            },
        }
        for feature in data["features"]
    ]
    return _GeoJson(
        {**data, "features": features},
        name=map_text(name),
        show=show,
        style_function=style_function,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[map_text(label) for label in tooltip.values()]),
    )


def script_json(value) -> str:
    """`value` as JSON that can sit inside an inline <script>: no "</script>", "<!--" or entity can appear."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class CellIds(_RenderedOnce):
    """The H3 cells a map draws, each id written once in the page; the cell layers refer to them by position, and
    draw them with h3-js and geo_siac/heatmap_cells.js from ``static_url``."""

    _template = Template("{% macro script(this, kwargs) %}var {{ this.get_name() }} = {{ this.ids }};{% endmacro %}")

    def __init__(self, static_url: str):
        super().__init__()
        self._name = "CellIds"
        self.positions: dict[int, int] = {}
        self.scripts = [
            ("h3_js", f"{static_url}vendor/h3-js/4.5.0/h3-js.umd.js"),
            ("geo_siac_heatmap_cells", f"{static_url}geo_siac/heatmap_cells.js"),
        ]

    @property
    def ids(self) -> str:
        return script_json([h3i.int_to_str(cell) for cell in self.positions])

    def position(self, cell: int) -> int:
        return self.positions.setdefault(cell, len(self.positions))

    def positions_of(self, cells: list[int]) -> list[int]:
        """Each cell's position, the new ones added in order: a map's layers look up ~10,000 cells each."""
        positions = self.positions
        for cell in cells:
            if cell not in positions:
                positions[cell] = len(positions)
        return list(map(positions.__getitem__, cells))


def cell_ids(fmap: folium.Map, static_url: str) -> CellIds:
    """The map's table of cell ids; made before the layers that use it (the page's scripts run in that order)."""
    ids = CellIds(static_url)
    fmap.add_child(ids)
    return ids


class _CellLayer(Layer, _RenderedOnce):
    """A layer of H3 hexagons drawn in the browser from their ids: the page carries per cell its position in the id
    table and its columns, not its polygon (docs/performance.md)."""

    _template = Template(
        "{% macro script(this, kwargs) %}var {{ this.get_name() }} = GeoSiacCells.layer({{ this.ids.get_name() }}, "
        "{{ this.spec }});{% endmacro %}"
    )

    def __init__(self, ids: CellIds, spec: dict, *, name: str, show: bool):
        super().__init__(name=name, overlay=True, show=show)
        self._name = "CellLayer"
        self.ids = ids
        self.spec = script_json(spec)

    def render(self, **kwargs):
        header = self.get_root().header
        for name, url in self.ids.scripts:
            header.add_child(JavascriptLink(url), name=name)
        super().render(**kwargs)


def cell_layer(
    ids: CellIds,
    cells: list[int],
    *,
    name: str,
    style: dict,
    tooltip: dict[str, str],
    columns: dict[str, list],
    fill: tuple[list[str], list[int]] | None = None,
    show: bool = True,
    legend: str = "",
) -> Layer:
    """A layer of the H3 `cells` (64-bit ints) drawn with `style`, each filled with `palette[index]` when `fill` is
    (palette, one index per cell). `tooltip` maps the columns it shows to their labels: "hex_id" is the cell's id,
    any other a list in `columns`, in the order of `cells`. Labels and values are set as text in the browser. The
    map's legend with the key `legend` is shown while the layer is (heatmap_cells.js)."""
    spec = {
        "legend": legend,
        "cells": ids.positions_of(cells),
        "style": style,
        "tooltip": [[column, str(label)] for column, label in tooltip.items()],
        "columns": {column: columns[column] for column in tooltip if column != "hex_id"},
    }
    if fill is not None:
        spec["palette"], spec["fill"] = fill
    return _CellLayer(ids, spec, name=map_text(name), show=show)


def feature_group(*, name: str) -> folium.FeatureGroup:
    return folium.FeatureGroup(name=map_text(name))


def circle(location, **style) -> folium.Circle:
    return folium.Circle(location, **style)


def circle_marker(location, *, tooltip: str, **style) -> folium.CircleMarker:
    return folium.CircleMarker(location, tooltip=map_text(tooltip), **style)


class _ButtonTitle(MacroElement):
    """Renders after its parent, the layer control, whose button Leaflet titles "Layers" in English only."""

    _template = Template(
        "{% macro script(this, kwargs) %}{{ this._parent.get_name() }}._layersLink.title = {{ this.title }};"
        "{% endmacro %}"
    )

    def __init__(self, title: str):
        super().__init__()
        self._name = "ButtonTitle"
        self.title = json.dumps(title)


def layer_control(fmap: folium.Map, *, collapsed: bool = False, title: str = "") -> None:
    """The layer list; `collapsed`, it is a button in the corner until opened, and `title` names that button."""
    control = folium.LayerControl(collapsed=collapsed).add_to(fmap)
    if title:
        control.add_child(_ButtonTitle(title))


class _FitBounds(MacroElement):
    """folium's FitBounds without Leaflet's zoom animation, which would still be scaling the cells when the page
    is read (or printed, or screenshot) right after it loads; in quarter zoom steps, as whole ones left a comuna
    at half the frame's width, and again when the frame changes size (a printed page) until the reader moves or
    zooms the map by any means (the +/- buttons too): the map's own events, those of its own fit aside."""

    _template = Template(
        "{% macro script(this, kwargs) %}(function (map) {"
        "map.options.zoomSnap = 0.25; var moved = false, fitting = false;"
        "var fit = function () { fitting = true;"
        "try { map.fitBounds({{ this.bounds }}, {{ this.options }}); } finally { fitting = false; } }; fit();"
        "map.on('zoomstart movestart', function () { moved = moved || !fitting; });"
        "map.on('resize', function () { if (!moved) fit(); });"
        "})({{ this._parent.get_name() }});{% endmacro %}"
    )

    def __init__(self, bounds: list[list[float]], options: dict):
        super().__init__()
        self._name = "FitBounds"
        self.bounds = json.dumps(bounds)
        self.options = json.dumps({**options, "animate": False})


def fit_bounds(
    fmap: folium.Map,
    bounds: list[list[float]],
    *,
    top_left: tuple[int, int],
    bottom_right: tuple[int, int],
    max_zoom: int,
) -> None:
    """Open `fmap` on `bounds` ([[south, west], [north, east]]) with the given room, in pixels, at the corners."""
    fmap.add_child(
        _FitBounds(bounds, {"paddingTopLeft": top_left, "paddingBottomRight": bottom_right, "maxZoom": max_zoom})
    )


# The page around a map: a title above it and a legend below it, so neither covers the map's data. The map's own
# rule sets its height to 100% by id, which only !important overrides; the flex column gives it what is left.
_PAGE_STYLE = """<style>
body { display: flex; flex-direction: column; font-family: system-ui, sans-serif; color: #1d2733; }
body > .folium-map { flex: 1 1 auto; height: auto !important; min-height: 14rem; }
.map-title { padding: .4rem .8rem; border-bottom: 1px solid #c5ced6; }
.map-title h1 { font-size: 1.05rem; margin: 0; }
.map-title ul, .map-legend ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; }
.map-title ul { gap: 0 1.2rem; font-size: .85rem; }
.map-legends { flex: 0 0 auto; overflow-y: auto; display: flex; flex-wrap: wrap; align-items: flex-start;
  border-top: 1px solid #c5ced6; }
.map-legend { flex: 1 1 16rem; padding: .3rem .8rem; font-size: .8rem; }
.map-legend h2 { font-size: .85rem; margin: 0 0 .15rem; }
.map-legend h2 button { font: inherit; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; text-align: left; }
.map-legend h2 button::before { content: "▾ "; }
.map-legend h2 button[aria-expanded=false]::before { content: "▸ "; }
.map-legend ul { gap: .1rem 1rem; }
.map-legend li { display: flex; align-items: center; gap: .35rem; }
.map-legend[data-legend=hotspots] { flex-grow: 2; }
.map-legend[data-legend=hotspots] ul { display: grid; grid-template-rows: repeat(3, auto); grid-auto-flow: column;
  justify-content: start; column-gap: 1.5rem; }
.map-legend .swatch { display: inline-block; flex: none; width: 1.6rem; height: .9rem; border: 1px solid #555; }
.map-legend p { margin: .15rem 0 0; color: #44525f; }
.map-legend.outline .swatch { border: 3px solid; background: none; }
.map-legend[hidden] { display: none; }
@media screen { .map-legend.folded > :not(h2) { display: none; } }
/* paper cannot scroll, nor fold a key */
@media print { .map-legends { height: auto !important; overflow: visible; } .map-legend h2 button[aria-expanded]::before { content: none; } }
.cell-tooltip th { text-align: left; padding: 0 .5rem 0 0; }
</style>"""


class _BelowMap(MacroElement):
    """HTML placed in the page after the map's own element (figure children render in the order they are added)."""

    _template = Template("{% macro html(this, kwargs) %}{{ this.markup }}{% endmacro %}")

    def __init__(self, markup: str):
        super().__init__()
        self._name = "BelowMap"
        self.markup = markup


@dataclass(frozen=True)
class MapLegend:
    """One key below the map: a `caption`, (colour, label) `items` drawn as swatches (or as outlines, `outline`)
    and a `note`. With a `layer`, it is shown only while a cell layer of that legend key is on the map, and `shown`
    says whether one is when the page opens."""

    caption: str
    items: tuple[tuple[str, str], ...] = ()
    note: str = ""
    layer: str = ""
    outline: bool = False
    shown: bool = True


def _legend_section(legend: MapLegend, name: str) -> str:
    swatch = '<span class="swatch" style="{prop}:{colour}"></span>'
    prop = "border-color" if legend.outline else "background"
    swatches = "".join(
        f"<li>{swatch.format(prop=prop, colour=colour)}{map_text(label)}</li>" for colour, label in legend.items
    )
    explained = f"<p>{map_text(legend.note)}</p>" if legend.note else ""
    key = f' data-legend="{map_text(legend.layer)}"' if legend.layer else ""
    key += "" if legend.shown else " hidden"
    outline = " outline" if legend.outline else ""
    label = f"{name}: {legend.caption}" if name else legend.caption
    return (
        f'<section class="map-legend{outline}" aria-label="{map_text(label)}"{key}>'
        f"<h2>{map_text(legend.caption)}</h2><ul>{swatches}</ul>{explained}</section>"
    )


def map_page(
    fmap: folium.Map, *, title: str, lines: list[str], legends: list[MapLegend], legend_name: str = ""
) -> None:
    """Frame `fmap` as a page: `title` and `lines` (what the map shows) above it, and below it the `legends` that
    have something to say. Call it before the map is rendered."""
    figure = fmap.get_root()
    figure.title = map_text(title)
    figure.header.add_child(Element(_PAGE_STYLE), name="map_page_style")
    shown = "".join(f"<li>{map_text(line)}</li>" for line in lines)
    figure.html.add_child(
        Element(f'<header class="map-title"><h1>{map_text(title)}</h1><ul>{shown}</ul></header>'), name="map_title"
    )
    sections = [_legend_section(legend, legend_name) for legend in legends if legend.items or legend.note]
    if sections:
        # One box for them all, side by side where the frame is wide: heatmap_cells.js keeps its height fixed, so the map
        # keeps its size.
        figure.add_child(_BelowMap(f'<div class="map-legends">{"".join(sections)}</div>'), name="map_legend")
