"""What the coverage page shows and exports: the offline folium map, CSV, GeoJSON and the figures table."""

import csv
import io
import json
import math
from dataclasses import dataclass

import h3.api.basic_int as h3i
import pandas as pd
from django.contrib.gis.geos import Point
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from geo_siac.geocoding.places import Place
from geo_siac.geocoding.selectors import gazetteer_reverse_many
from geo_siac.maps.folium_offline import offline_map
from geo_siac.maps.folium_text import circle, circle_marker, feature_group, fit_bounds, geojson_layer, layer_control
from geo_siac.maps.selectors import GROUPS, Coverage

CELL_COLUMNS = ["pob_total", "pob_under_15", "pob_65_plus", "distance_m", "access", "reports", "reports_per_1000"]
DISTANCE_COLOURS = ("#1a9850", "#fee08b", "#fc8d59", "#d73027")  # within each threshold, then beyond the last
ACCESS_COLOURS = ("#f7fcf5", "#bae4b3", "#74c476", "#238b45")
POINT_COLOUR, CATCHMENT_COLOUR, UNKNOWN_HOURS_COLOUR = "#08519c", "#3182bd", "#737373"
GREEDY_COLOUR, OPTIMAL_COLOUR = "#7a0177", "#e66101"
CELL_FILL_OPACITY = 0.6


@dataclass(frozen=True)
class Mark:
    """How the map draws one kind of thing; the legend's swatch is drawn from the same mark, so they look alike."""

    stroke: str | None
    fill: str
    fill_opacity: float = 1.0
    circle: bool = True

    def style(self) -> dict:
        return {"color": self.stroke, "fill": True, "fill_color": self.fill, "fill_opacity": self.fill_opacity}


POINT_MARK = Mark(POINT_COLOUR, POINT_COLOUR)
CATCHMENT_MARK = Mark(CATCHMENT_COLOUR, CATCHMENT_COLOUR, fill_opacity=0.05)
UNKNOWN_HOURS_MARK = Mark(UNKNOWN_HOURS_COLOUR, "#ffffff")
GREEDY_MARK, OPTIMAL_MARK = Mark(GREEDY_COLOUR, GREEDY_COLOUR), Mark(OPTIMAL_COLOUR, OPTIMAL_COLOUR)


def _cell_mark(colour: str) -> Mark:
    return Mark(None, colour, fill_opacity=CELL_FILL_OPACITY, circle=False)


def figures(result: Coverage) -> list[dict]:
    """One row per threshold: people covered and share, for everyone, under 15 and 65+; with `if_unknown_open`,
    the total if every point of unknown hours were open too (None when no point's hours are unknown)."""
    if_open = result.shares_if_unknown_open
    return [
        {
            "threshold_m": threshold,
            **{
                f"{group}_{key}": float(result.shares[group][threshold][key])
                for group in GROUPS
                for key in ("population", "share")
            },
            "if_unknown_open": if_open["total"][threshold] if if_open else None,
        }
        for threshold in result.options.thresholds
    ]


def named_rows(*frames: pd.DataFrame) -> list[list[tuple[pd.Series, Place | None]]]:
    """Each frame's rows (with lat, lng) beside the place that describes their point as it describes a citizen's pin
    (gazetteer_reverse_many: a corner, address or named place within reach), asked once for all."""
    rows = [[row for _cell, row in frame.iterrows()] for frame in frames]
    points = [Point(float(row.lng), float(row.lat), srid=4326) for frame_rows in rows for row in frame_rows]
    places = iter(gazetteer_reverse_many(points))
    return [[(row, next(places)) for row in frame_rows] for frame_rows in rows]


def coverage_legend(result: Coverage) -> list[tuple[str, list[tuple[Mark, str]]]]:
    """What the map's marks mean, (heading, [(mark, label)]) per layer, from the marks the map draws with; a layer's
    entries only when the map has that layer."""
    cell_layers = (
        [
            (_("Distancia al punto más cercano"), _distance_legend(sorted(result.options.thresholds))),
            (
                _("Accesibilidad (2SFCA)"),
                [
                    (_cell_mark(colour), label)
                    for colour, label in zip(
                        ACCESS_COLOURS, (_("ninguna"), _("baja"), _("media"), _("alta")), strict=True
                    )
                ],
            ),
        ]
        if _has_cells(result)
        else []
    )
    return [
        *cell_layers,
        (
            _("Puntos y sitios"),
            [
                (POINT_MARK, _("Punto de atención")),
                (CATCHMENT_MARK, _("Su área de influencia (%(m)s m)") % {"m": _metres(result.options.catchment_m)}),
                *([] if result.unknown_hours.empty else [(UNKNOWN_HOURS_MARK, _("Punto de horario desconocido"))]),
                (GREEDY_MARK, _("Sitio propuesto (voraz)")),
                (OPTIMAL_MARK, _("Sitio óptimo (programa entero)")),
            ],
        ),
    ]


def _has_cells(result: Coverage) -> bool:
    return not result.cells.empty


def _distance_legend(thresholds: list[int]) -> list[tuple[Mark, str]]:
    """A colour per threshold, the last one drawn for every cell beyond the threshold before it (_cell_layer)."""
    last = min(len(thresholds), len(DISTANCE_COLOURS) - 1)
    return [
        (
            _cell_mark(colour),
            _("más de %(m)s m") % {"m": _metres(thresholds[i - 1])}
            if i == last
            else _("hasta %(m)s m") % {"m": _metres(thresholds[i])},
        )
        for i, colour in enumerate(DISTANCE_COLOURS[: last + 1])
    ]


def _metres(value: float) -> str:
    return number_format(value, 0, use_l10n=True, force_grouping=True)


def cells_csv(result: Coverage) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["h3_cell", "lat", "lng", *CELL_COLUMNS])
    for cell, row in result.cells.iterrows():
        writer.writerow(
            [h3i.int_to_str(int(cell)), f"{row.lat:.6f}", f"{row.lng:.6f}", *(_number(row[c]) for c in CELL_COLUMNS)]
        )
    return out.getvalue()


def cells_geojson(result: Coverage, sites: pd.DataFrame, optimal: pd.DataFrame) -> dict:
    """Cells as polygons, plus as points the service points (open, or of unknown hours when the analysis has a
    time), the greedy proposed sites and the optimal ones."""
    features = _cells_collection(result)["features"]
    for role, points in (("service_point", result.points), ("service_point_unknown_hours", result.unknown_hours)):
        features += [
            _point_feature(row.lng, row.lat, {"role": role, "id": int(pid), "name": row["name"], "kind": row.kind})
            for pid, row in points.iterrows()
        ]
    for role, chosen in (("proposed_site", sites), ("optimal_site", optimal)):
        features += [
            _point_feature(
                row.lng,
                row.lat,
                {"role": role, "rank": int(row["rank"]), "gain": float(row.gain), "h3_cell": h3i.int_to_str(int(cell))},
            )
            for cell, row in chosen.iterrows()
        ]
    return {"type": "FeatureCollection", "features": features}


def coverage_map(result: Coverage, sites: pd.DataFrame, optimal: pd.DataFrame, static_url: str) -> str:
    commune = result.commune
    fmap = offline_map(
        static_url=static_url, location=[commune.geometry.centroid.y, commune.geometry.centroid.x], zoom_start=12
    )
    geojson_layer(
        json.loads(commune.geometry.geojson),
        name=commune.name,
        style_function=lambda _: {"fill": False, "color": "#333", "weight": 2},
    ).add_to(fmap)
    west, south, east, north = commune.geometry.extent
    # The comuna fills the frame, with room for the zoom and layer buttons at the top corners.
    fit_bounds(fmap, [[south, west], [north, east]], top_left=(50, 50), bottom_right=(50, 20), max_zoom=16)
    cells = _tooltip_cells(_cells_collection(result))
    thresholds = sorted(result.options.thresholds)
    access_breaks = _quantile_breaks(result.cells["access"])
    if _has_cells(result):
        _cell_layer(
            cells, _("Distancia al punto más cercano"), "distance_m", thresholds, DISTANCE_COLOURS, True
        ).add_to(fmap)
        _cell_layer(cells, _("Accesibilidad (2SFCA)"), "access", access_breaks, ACCESS_COLOURS, False).add_to(fmap)
    _points_layer(result).add_to(fmap)
    if not result.unknown_hours.empty:
        _unknown_hours_layer(result).add_to(fmap)
    _sites_layer(sites, _("Sitios propuestos (voraz)"), GREEDY_MARK).add_to(fmap)
    _sites_layer(optimal, _("Sitios óptimos (programa entero)"), OPTIMAL_MARK).add_to(fmap)
    # A button until opened: open, the list covered the east of the comuna; the legend below the map says the colours.
    layer_control(fmap, collapsed=True, title=_("Capas"))
    return fmap.get_root().render()


def _tooltip_cells(cells: dict) -> dict:
    """The cells as the map's tooltips show them: a cell where the census counted nobody says so instead of a rate."""
    unpeopled = _("sin población censada")
    for feature in cells["features"]:
        properties = feature["properties"]
        if not properties["pob_total"]:
            properties["reports_per_1000"] = unpeopled
    return cells


def _cell_layer(cells: dict, name: str, column: str, breaks, colours, show: bool):
    def style(feature):
        value = feature["properties"][column]
        index = next((i for i, b in enumerate(breaks) if value is not None and value <= b), len(breaks))
        return {"fillColor": colours[min(index, len(colours) - 1)], "fillOpacity": CELL_FILL_OPACITY, "weight": 0}

    return geojson_layer(
        cells,
        name=name,
        show=show,
        style_function=style,
        tooltip={
            "h3_cell": _("Celda"),
            "pob_total": _("Habitantes"),
            "distance_m": _("Distancia (m)"),
            "access": "2SFCA",
            "reports_per_1000": _("Reportes por 1.000"),
        },
    )


def _points_layer(result: Coverage):
    group = feature_group(name=_("Puntos de atención y su área de influencia"))
    points = result.points
    # Neighbouring comunas' points matter only where they are someone's nearest.
    shown = points[points["in_commune"] | points.index.isin(result.cells["nearest_point"])]
    for _index, row in shown.iterrows():
        circle(
            [row.lat, row.lng],
            radius=result.options.catchment_m,
            weight=1,
            **CATCHMENT_MARK.style(),
        ).add_to(group)
        circle_marker(
            [row.lat, row.lng],
            radius=5,
            **POINT_MARK.style(),
            tooltip=f"{row['name']} ({row.kind})",
        ).add_to(group)
    return group


def _unknown_hours_layer(result: Coverage):
    group = feature_group(name=_("Puntos de horario desconocido (ni abiertos ni cerrados)"))
    for _index, row in result.unknown_hours.iterrows():
        circle_marker(
            [row.lat, row.lng],
            radius=5,
            **UNKNOWN_HOURS_MARK.style(),
            tooltip=_("%(name)s (%(kind)s): horario desconocido") % {"name": row["name"], "kind": row.kind},
        ).add_to(group)
    return group


def _sites_layer(sites: pd.DataFrame, name: str, mark: Mark):
    group = feature_group(name=name)
    for _index, row in sites.iterrows():
        circle(
            [row.lat, row.lng], radius=float(row.radius_m), color=mark.stroke, weight=2, dash_array="6", fill=False
        ).add_to(group)
        circle_marker(
            [row.lat, row.lng],
            radius=8,
            **mark.style(),
            tooltip=_("Propuesta %(rank)s: +%(gain)s habitantes")
            % {"rank": int(row["rank"]), "gain": f"{row.gain:,.0f}"},
        ).add_to(group)
    return group


def _quantile_breaks(values: pd.Series) -> list[float]:
    positive = values[values > 0]
    if positive.empty:
        return [0.0]
    return [0.0, *positive.quantile([1 / 3, 2 / 3]).tolist()]


def _cells_collection(result: Coverage) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [_cell_feature(cell, row) for cell, row in result.cells.iterrows()],
    }


def _cell_feature(cell: int, row: pd.Series) -> dict:
    ring = [[round(lng, 6), round(lat, 6)] for lat, lng in h3i.cell_to_boundary(int(cell))]  # 6 decimals: ~0.1 m
    properties = {"role": "cell", "h3_cell": h3i.int_to_str(int(cell)), **{c: _number(row[c]) for c in CELL_COLUMNS}}
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring + ring[:1]]},
        "properties": properties,
    }


def _point_feature(lng: float, lat: float, properties: dict) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lng, lat]}, "properties": properties}


def _number(value) -> float | None:
    """Rounded for export; an infinite distance (no point at all) and an unknown rate (NaN) become null."""
    value = float(value)
    return round(value, 3) if math.isfinite(value) else None
