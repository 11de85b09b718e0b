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
from collections.abc import Callable

import folium
from branca.colormap import StepColormap

# After HTML escaping, what still means something inside a template literal: its end, an interpolation and an
# escape (an invalid one, such as \u without hex digits, is a syntax error that would blank the whole map).
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def map_text(value) -> str:
    """`value` as text that reads the same on the map and cannot become markup or script."""
    return html.escape(str(value)).translate(_TEMPLATE_LITERAL)


def _shown(value):
    """A property a tooltip shows: numbers and missing values as they are, anything else as text."""
    return value if value is None or isinstance(value, (int, float)) else map_text(value)


def geojson_layer(data: dict, *, name: str, style_function: Callable, tooltip: dict[str, str] | None = None,
                  show: bool = True) -> folium.GeoJson:
    """A GeoJSON layer named `name`; `tooltip` maps the properties it shows to their labels (a FeatureCollection)."""
    if tooltip is None:
        return folium.GeoJson(data, name=map_text(name), show=show, style_function=style_function)
    fields = list(tooltip)
    features = [{**feature, "properties": {**feature["properties"],
                                           **{field: _shown(feature["properties"][field]) for field in fields}}}
                for feature in data["features"]]
    return folium.GeoJson(
        {**data, "features": features}, name=map_text(name), show=show, style_function=style_function,
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[map_text(label) for label in tooltip.values()]),
    )


def feature_group(*, name: str) -> folium.FeatureGroup:
    return folium.FeatureGroup(name=map_text(name))


def circle(location, **style) -> folium.Circle:
    return folium.Circle(location, **style)


def circle_marker(location, *, tooltip: str, **style) -> folium.CircleMarker:
    return folium.CircleMarker(location, tooltip=map_text(tooltip), **style)


def legend(colours: list[str], *, index: list[float] | None = None, vmin: float, vmax: float,
           caption: str = "") -> StepColormap:
    """A colour scale; branca draws its caption with d3's ``.text()``, so it stays plain text."""
    return StepColormap(colours, index=index, vmin=vmin, vmax=vmax, caption=caption)


def layer_control(fmap: folium.Map) -> None:
    folium.LayerControl(collapsed=False).add_to(fmap)
