"""Heat-map outputs built from the selectors: GeoJSON, CSV rows, the folium map (offline) and a PNG.

The map and the PNG colour one measure: the count per cell, or the reports per 1,000 inhabitants. Their layer
names, legends and tooltips go through gettext, so they follow the language of the request that builds them.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import mapclassify
import numpy as np
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from h3.api import basic_int as h3i
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from shapely.geometry import Polygon

from geo_siac.catalogue.models import CategoryGroup
from geo_siac.geo import STORAGE_SRID
from geo_siac.maps.folium_offline import offline_map
from geo_siac.maps.folium_text import geojson_layer, layer_control, legend
from geo_siac.maps.selectors import (
    CellFilters,
    CellRow,
    cell_counts_by_group,
    cell_counts_by_week,
    cell_table,
)
from geo_siac.rates import per_1000
from geo_siac.zones.models import Commune, Zone

COORDINATE_DECIMALS = 6
RATE_DECIMALS = 3
POPULATION_DECIMALS = 1
WEEK_LAYERS = 8
HOTSPOT_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
NO_DATA_COLOUR = "#bdbdbd"
ZONE_COLOUR = "#1b7837"
CSV_HEADER = ("hex_id", "count", "population", "rate", "z", "q", "hotspot", "emerging")


def hex_id(cell: int) -> str:
    return h3i.int_to_str(cell)


def hexagon(cell: int) -> list[list[float]]:
    """The cell's closed GeoJSON ring, [lng, lat] rounded to 6 decimals (about 0.1 m)."""
    ring = [[round(lng, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS)]
            for lat, lng in h3i.cell_to_boundary(cell)]
    return ring + [ring[0]]


def _rounded(value: float | None, decimals: int) -> float | None:
    return None if value is None else round(value, decimals)


def feature_collection(rows: list[CellRow], res: int) -> dict:
    return {
        "type": "FeatureCollection",
        "resolution": res,
        "features": [
            {
                "type": "Feature",
                "id": hex_id(row.cell),
                "geometry": {"type": "Polygon", "coordinates": [hexagon(row.cell)]},
                "properties": {
                    "hex_id": hex_id(row.cell), "count": row.count,
                    "population": _rounded(row.population, POPULATION_DECIMALS),
                    "rate": _rounded(row.rate, RATE_DECIMALS), "z": round(row.z, 3), "q": round(row.q, 4),
                    "hotspot": row.hotspot, "emerging": row.emerging,
                },
            }
            for row in rows
        ],
    }


def write_csv(rows: list[CellRow], out) -> None:
    """kepler.gl reads a ``hex_id`` column of H3 strings as an H3 layer. Unknown values are left empty."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow((
            hex_id(row.cell), row.count, _blank(_rounded(row.population, POPULATION_DECIMALS)),
            _blank(_rounded(row.rate, RATE_DECIMALS)), f"{row.z:.3f}", f"{row.q:.4f}", row.hotspot,
            _blank(None if row.emerging is None else int(row.emerging)),
        ))


def _blank(value):
    return "" if value is None else value


def class_edges(values: list[float], scheme: str, classes: int) -> list[float]:
    """Class boundaries from the minimum to the maximum value (quantiles or Jenks natural breaks)."""
    values = np.asarray(values, dtype=float)
    k = max(1, min(classes, np.unique(values).size))
    if k == 1:
        return [float(values.min()), float(values.max()) + 1]
    with warnings.catch_warnings():
        # Quantiles lowers k itself (and says so) when many counts tie; the legend shows the classes it kept.
        warnings.simplefilter("ignore", UserWarning)
        classifier = mapclassify.NaturalBreaks(values, k=k) if scheme == "natural_breaks" else (
            mapclassify.Quantiles(values, k=k)
        )
    edges = np.unique(np.concatenate([[values.min()], classifier.bins]))
    return [float(e) for e in edges]


def _colours(n: int) -> list[str]:
    ramp = colormaps["YlOrRd"]
    return [to_hex(ramp(0.15 + 0.85 * i / max(n - 1, 1))) for i in range(n)]


@dataclass(frozen=True)
class Measure:
    """What the choropleths colour: each cell's count, or (``rate``) its reports per 1,000 inhabitants, with
    the population of the cells in the "all categories" table (per group and per week share it)."""

    name: str
    population: dict[int, float | None]

    @property
    def is_rate(self) -> bool:
        return self.name == "rate"

    def value(self, cell: int, count: int) -> float | None:
        return per_1000(count, self.population.get(cell)) if self.is_rate else float(count)

    def caption(self) -> str:
        return _("Solicitudes por 1.000 habitantes por celda H3") if self.is_rate else _("Solicitudes por celda H3")


def _display(value: float | None, decimals: int) -> str:
    return _("sin dato") if value is None else number_format(value, decimals, use_l10n=True)


def _cells_geojson(counts: dict[int, int], measure: Measure) -> dict:
    features = []
    for cell, n in counts.items():
        properties = {"hex_id": hex_id(cell), "count": n, "value": measure.value(cell, n)}
        if measure.is_rate:  # only then: the tooltips show them, and a count map stays smaller
            population = measure.population.get(cell)
            properties |= {"population": _display(population, 0), "rate": _display(per_1000(n, population), 2)}
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [hexagon(cell)]},
                         "properties": properties})
    return {"type": "FeatureCollection", "features": features}


def _cell_tooltip(measure: Measure) -> dict[str, str]:
    if measure.is_rate:
        return {"hex_id": _("Celda"), "count": _("Solicitudes"), "population": _("Habitantes"),
                "rate": _("Por 1.000 hab.")}
    return {"hex_id": _("Celda"), "count": _("Solicitudes")}


def _choropleth(counts: dict[int, int], name: str, colormap, measure: Measure, show: bool):
    def style(feature):
        value = feature["properties"]["value"]
        return {"fillColor": NO_DATA_COLOUR if value is None else colormap(value), "fillOpacity": 0.7,
                "color": "#555555", "weight": 0.3}

    return geojson_layer(_cells_geojson(counts, measure), name=name, show=show, style_function=style,
                         tooltip=_cell_tooltip(measure))


def map_communes(filters: CellFilters) -> list[Commune]:
    """The comunas a map outlines: the filtered ones, else those of the filtered zones, else every served one."""
    communes = Commune.objects.active()
    if filters.communes:
        communes = communes.filter(cut__in=filters.communes)
    elif filters.zones:
        communes = communes.filter(zones__in=filters.zones).distinct()
    return list(communes.order_by("cut"))


def _communes_layer(communes: list[Commune]):
    features = [
        {"type": "Feature", "geometry": json.loads(c.geometry.simplify(0.0002, preserve_topology=True).geojson),
         "properties": {"name": c.name}}
        for c in communes
    ]
    return geojson_layer(
        {"type": "FeatureCollection", "features": features},
        name=_("Comunas"),
        style_function=lambda f: {"fill": False, "color": "#222222", "weight": 2, "dashArray": "6 4"},
        tooltip={"name": _("Comuna")},
    )


def map_zones(filters: CellFilters) -> list[Zone]:
    """The crew zones a map draws: the current zones of the comunas it outlines, and the filtered zones."""
    zones = Zone.objects.current().filter(commune__in=map_communes(filters))
    zones |= Zone.objects.filter(pk__in=filters.zones)
    return list(zones.distinct().select_related("commune").order_by("commune__cut", "key"))


def _zones_layer(zones: list[Zone], selected: tuple[int, ...]):
    features = [
        {"type": "Feature", "geometry": json.loads(z.geometry.simplify(0.0001, preserve_topology=True).geojson),
         "properties": {"name": z.name, "commune": z.commune.name, "selected": z.pk in selected}}
        for z in zones
    ]
    return geojson_layer(
        {"type": "FeatureCollection", "features": features},
        name=_("Zonas de cuadrillas"),
        style_function=lambda f: {"fill": False, "color": ZONE_COLOUR,
                                  "weight": 4 if f["properties"]["selected"] else 1.5},
        tooltip={"name": _("Zona"), "commune": _("Comuna")},
    )


def _hotspot_layer(rows: list[CellRow]):
    significant = [r for r in rows if r.hotspot != 0]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [hexagon(r.cell)]},
             "properties": {"hex_id": hex_id(r.cell), "count": r.count, "hotspot": r.hotspot,
                            "confidence": f"{[0, 90, 95, 99][abs(r.hotspot)]}%",
                            "kind": _("caliente") if r.hotspot > 0 else _("frío")}}
            for r in significant
        ],
    }
    return geojson_layer(
        collection,
        name=_("Puntos calientes y fríos (Gi*, FDR)"),
        show=False,
        style_function=lambda f: {"fillColor": HOTSPOT_COLOURS[f["properties"]["hotspot"]], "fillOpacity": 0.75,
                                  "color": "#333333", "weight": 0.5},
        tooltip={"hex_id": _("Celda"), "count": _("Solicitudes"), "kind": _("Tipo"), "confidence": _("Confianza")},
    )


def _emerging_layer(rows: list[CellRow], measure: Measure):
    growing = {r.cell: r.count for r in rows if r.emerging}
    return geojson_layer(
        _cells_geojson(growing, measure),
        name=_("Puntos emergentes (crecen vs. período anterior)"),
        show=False,
        style_function=lambda f: {"fill": False, "color": "#7b3294", "weight": 3},
        tooltip=_cell_tooltip(measure),
    )


def _week_label(week: datetime) -> str:
    return _("Semana del %(date)s") % {"date": f"{week:%d-%m-%Y}"}


def map_html(res: int, filters: CellFilters = CellFilters(), *, scheme: str = "quantiles", classes: int = 5,
             measure: str = "count", static_url: str = "/static/") -> str:
    """The planners' heat map as a standalone HTML page: all categories, one layer per category group, the last
    weeks, hotspots, emerging cells, comuna and crew-zone boundaries, with a layer control and a legend. It loads
    only GeoSIAC's static files, from ``static_url``.

    ``measure`` is "count" or "rate"; with "rate", cells whose population is unknown or zero are grey. Every
    choropleth shares the classes computed on the "all categories" values.
    """
    rows = cell_table(res, filters)
    counts = {r.cell: r.count for r in rows if r.count > 0}
    shown = Measure(measure, {r.cell: r.population for r in rows})
    fmap = offline_map(static_url, location=_centre(counts), zoom_start=12, control_scale=True)
    values = [v for v in (shown.value(cell, n) for cell, n in counts.items()) if v is not None]
    if values:
        edges = class_edges(values, scheme, classes)
        colormap = legend(_colours(len(edges) - 1), index=edges, vmin=edges[0], vmax=edges[-1],
                          caption=shown.caption())
        _choropleth(counts, _("Todas las categorías"), colormap, shown, show=True).add_to(fmap)
        names = {group.code: group.name for group in CategoryGroup.objects.all()}
        for group, group_counts in sorted(cell_counts_by_group(res, filters).items()):
            name = _("Grupo: %(name)s") % {"name": names.get(group, group)}
            _choropleth(group_counts, name, colormap, shown, show=False).add_to(fmap)
        weeks = cell_counts_by_week(res, filters)
        for week in list(weeks)[-WEEK_LAYERS:]:
            _choropleth(weeks[week], _week_label(week), colormap, shown, show=False).add_to(fmap)
        colormap.add_to(fmap)
    elif counts:  # a rate map where no cell has a known population: the cells, all grey
        no_data = legend([NO_DATA_COLOUR], vmin=0, vmax=1)
        _choropleth(counts, _("Todas las categorías"), no_data, shown, show=True).add_to(fmap)
    if any(r.hotspot for r in rows):
        _hotspot_layer(rows).add_to(fmap)
    if any(r.emerging for r in rows):
        _emerging_layer(rows, shown).add_to(fmap)
    _communes_layer(map_communes(filters)).add_to(fmap)
    zones = map_zones(filters)
    if zones:
        _zones_layer(zones, filters.zones).add_to(fmap)
    layer_control(fmap)
    return fmap.get_root().render()


def _centre(counts: dict[int, int]) -> tuple[float, float]:
    if not counts:
        return (-33.55, -70.56)
    lats, lngs = zip(*(h3i.cell_to_latlng(c) for c in counts))
    return (float(np.mean(lats)), float(np.mean(lngs)))


def map_png(res: int, filters: CellFilters = CellFilters(), *, scheme: str = "quantiles", classes: int = 5,
            measure: str = "count", title: str = "") -> bytes:
    """The same choropleth as a PNG for printed reports (geopandas + matplotlib, no browser)."""
    rows = [r for r in cell_table(res, filters) if r.count > 0]
    shown = Measure(measure, {r.cell: r.population for r in rows})
    figure = Figure(figsize=(8, 8), dpi=120)
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.set_title(title or _("%(caption)s (resolución %(res)s)") % {"caption": shown.caption(), "res": res})
    if rows:
        cells = gpd.GeoDataFrame(
            {"value": [shown.value(r.cell, r.count) for r in rows], "hotspot": [r.hotspot for r in rows]},
            geometry=[Polygon([(lng, lat) for lat, lng in h3i.cell_to_boundary(r.cell)]) for r in rows],
            crs=STORAGE_SRID,
        )
        cells["value"] = cells["value"].astype(float)
        k = min(classes, cells["value"].nunique())
        legend_title = _("Por 1.000 hab.") if shown.is_rate else _("Solicitudes")
        cells.plot(ax=ax, column="value", cmap="YlOrRd", scheme=scheme if k > 1 else None, k=max(k, 1),
                   legend=True, edgecolor="#555555", linewidth=0.1,
                   missing_kwds={"color": NO_DATA_COLOUR, "label": _("sin dato")},
                   legend_kwds={"title": legend_title, "loc": "lower left", "bbox_to_anchor": (1, 0)}
                   if k > 1 else None)
        hot = cells[cells["hotspot"] >= 3]
        if not hot.empty:
            hot.boundary.plot(ax=ax, color="#b2182b", linewidth=1.2)
    drawn = map_zones(filters)
    for selected in (False, True):
        zones = [z.geometry.wkt for z in drawn if (z.pk in filters.zones) == selected]
        if zones:
            gpd.GeoSeries.from_wkt(zones, crs=STORAGE_SRID).boundary.plot(ax=ax, color=ZONE_COLOUR,
                                                                          linewidth=2 if selected else 0.6)
    boundaries = gpd.GeoSeries.from_wkt([c.geometry.wkt for c in map_communes(filters)], crs=STORAGE_SRID)
    if not boundaries.empty:
        boundaries.boundary.plot(ax=ax, color="#222222", linewidth=1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
