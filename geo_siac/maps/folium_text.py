"""Text for folium tooltips, which folium does not escape.

folium writes a tooltip string into a JavaScript template literal (``bindTooltip(`<div>...</div>`)``) and a
``GeoJsonTooltip`` field into the tooltip's HTML, both as they are; and folium pages run with inline scripts
allowed. Names shown there (service points, zones, comunas) come from imported files: a backtick and ``${...}``
in a name would run as script, and ``<img onerror=...>`` would too. Every such name goes through
:func:`tooltip_text`.
"""

import html

# After HTML escaping, what still means something inside a template literal: its end, an interpolation and an
# escape (an invalid one, such as \u without hex digits, is a syntax error that would blank the whole map).
_TEMPLATE_LITERAL = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def tooltip_text(value) -> str:
    """`value` as text that reads the same in the tooltip and cannot become markup or script."""
    return html.escape(str(value)).translate(_TEMPLATE_LITERAL)
