"""Heat-map outputs built from the selectors: GeoJSON, CSV rows, the folium map (offline) and a PNG."""

from __future__ import annotations

import csv
import io
import json
import warnings
from datetime import datetime

import folium
import geopandas as gpd
import mapclassify
import numpy as np
from branca.colormap import StepColormap
from django.utils.translation import gettext as _
from h3.api import basic_int as h3i
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from shapely.geometry import Polygon

from geo_siac.geo import STORAGE_SRID
from geo_siac.maps.folium_offline import offline_map
from geo_siac.maps.selectors import CellFilters, CellRow, cell_counts_by_group, cell_counts_by_week, cell_table
from geo_siac.reports.models import CategoryGroup
from geo_siac.zones.models import Commune

COORDINATE_DECIMALS = 6
WEEK_LAYERS = 8
HOTSPOT_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
CSV_HEADER = ("hex_id", "count", "rate", "z", "q", "hotspot", "emerging")


def hex_id(cell: int) -> str:
    return h3i.int_to_str(cell)


def hexagon(cell: int) -> list[list[float]]:
    """The cell's closed GeoJSON ring, [lng, lat] rounded to 6 decimals (about 0.1 m)."""
    ring = [[round(lng, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS)]
            for lat, lng in h3i.cell_to_boundary(cell)]
    return ring + [ring[0]]


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
                    "hex_id": hex_id(row.cell), "count": row.count, "rate": row.rate, "z": round(row.z, 3),
                    "q": round(row.q, 4), "hotspot": row.hotspot, "emerging": row.emerging,
                },
            }
            for row in rows
        ],
    }


def write_csv(rows: list[CellRow], out) -> None:
    """kepler.gl reads a ``hex_id`` column of H3 strings as an H3 layer."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in rows:
        writer.writerow((hex_id(row.cell), row.count, "" if row.rate is None else row.rate, f"{row.z:.3f}",
                         f"{row.q:.4f}", row.hotspot, "" if row.emerging is None else int(row.emerging)))


def class_edges(counts: list[int], scheme: str, classes: int) -> list[float]:
    """Class boundaries from the minimum to the maximum count (quantiles or Jenks natural breaks)."""
    values = np.asarray(counts, dtype=float)
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


def _cells_geojson(counts: dict[int, int]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [hexagon(cell)]},
             "properties": {"hex_id": hex_id(cell), "count": n}}
            for cell, n in counts.items()
        ],
    }


def _choropleth(counts: dict[int, int], name: str, colormap: StepColormap, show: bool) -> folium.GeoJson:
    return folium.GeoJson(
        _cells_geojson(counts),
        name=name,
        show=show,
        style_function=lambda f: {"fillColor": colormap(f["properties"]["count"]), "fillOpacity": 0.7,
                                  "color": "#555555", "weight": 0.3},
        tooltip=folium.GeoJsonTooltip(fields=["hex_id", "count"], aliases=[_("Celda"), _("Solicitudes")]),
    )


def _communes_layer(cuts: tuple[str, ...]) -> folium.GeoJson:
    communes = Commune.objects.active()
    if cuts:
        communes = communes.filter(cut__in=cuts)
    features = [
        {"type": "Feature", "geometry": json.loads(c.geometry.simplify(0.0002, preserve_topology=True).geojson),
         "properties": {"name": c.name}}
        for c in communes
    ]
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=_("Comunas"),
        style_function=lambda f: {"fill": False, "color": "#222222", "weight": 2, "dashArray": "6 4"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=[_("Comuna")]),
    )


def _hotspot_layer(rows: list[CellRow]) -> folium.GeoJson:
    significant = [r for r in rows if r.hotspot != 0]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [hexagon(r.cell)]},
             "properties": {"hex_id": hex_id(r.cell), "count": r.count, "hotspot": r.hotspot,
                            "confianza": f"{[0, 90, 95, 99][abs(r.hotspot)]}%",
                            "tipo": _("caliente") if r.hotspot > 0 else _("frío")}}
            for r in significant
        ],
    }
    return folium.GeoJson(
        collection,
        name=_("Puntos calientes y fríos (Gi*, FDR)"),
        show=False,
        style_function=lambda f: {"fillColor": HOTSPOT_COLOURS[f["properties"]["hotspot"]], "fillOpacity": 0.75,
                                  "color": "#333333", "weight": 0.5},
        tooltip=folium.GeoJsonTooltip(fields=["hex_id", "count", "tipo", "confianza"],
                                      aliases=[_("Celda"), _("Solicitudes"), _("Tipo"), _("Confianza")]),
    )


def _emerging_layer(rows: list[CellRow]) -> folium.GeoJson:
    growing = {r.cell: r.count for r in rows if r.emerging}
    return folium.GeoJson(
        _cells_geojson(growing),
        name=_("Puntos emergentes (crecen vs. período anterior)"),
        show=False,
        style_function=lambda f: {"fill": False, "color": "#7b3294", "weight": 3},
    )


def _week_label(week: datetime) -> str:
    return _("Semana del %(date)s") % {"date": f"{week:%d-%m-%Y}"}


def build_map(res: int, filters: CellFilters = CellFilters(), *, scheme: str = "quantiles", classes: int = 5,
              static_url: str = "/static/") -> folium.Map:
    """The planners' heat map: all categories, one layer per category group, the last weeks, hotspots, emerging
    cells and comuna boundaries, with a layer control and a legend. Loads only GeoSIAC's static files."""
    rows = cell_table(res, filters)
    counts = {r.cell: r.count for r in rows if r.count > 0}
    fmap = offline_map(static_url, location=_centre(counts), zoom_start=12, control_scale=True)
    if counts:
        edges = class_edges(list(counts.values()), scheme, classes)
        colormap = StepColormap(_colours(len(edges) - 1), index=edges, vmin=edges[0], vmax=edges[-1],
                                caption=_("Solicitudes por celda H3"))
        _choropleth(counts, _("Todas las categorías"), colormap, show=True).add_to(fmap)
        names = {group.code: group.name for group in CategoryGroup.objects.all()}
        for group, group_counts in sorted(cell_counts_by_group(res, filters).items()):
            _choropleth(group_counts, _("Grupo: %(name)s") % {"name": names.get(group, group)}, colormap,
                        show=False).add_to(fmap)
        weeks = cell_counts_by_week(res, filters)
        for week in list(weeks)[-WEEK_LAYERS:]:
            _choropleth(weeks[week], _week_label(week), colormap, show=False).add_to(fmap)
        colormap.add_to(fmap)
    if any(r.hotspot for r in rows):
        _hotspot_layer(rows).add_to(fmap)
    if any(r.emerging for r in rows):
        _emerging_layer(rows).add_to(fmap)
    _communes_layer(filters.communes).add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


def _centre(counts: dict[int, int]) -> tuple[float, float]:
    if not counts:
        return (-33.55, -70.56)
    lats, lngs = zip(*(h3i.cell_to_latlng(c) for c in counts))
    return (float(np.mean(lats)), float(np.mean(lngs)))


def map_html(res: int, filters: CellFilters = CellFilters(), **options) -> str:
    """A standalone HTML page of the map (it needs GeoSIAC's static files at ``static_url``)."""
    return build_map(res, filters, **options).get_root().render()


def map_png(res: int, filters: CellFilters = CellFilters(), *, scheme: str = "quantiles", classes: int = 5,
            title: str = "") -> bytes:
    """The same choropleth as a PNG for printed reports (geopandas + matplotlib, no browser)."""
    rows = [r for r in cell_table(res, filters) if r.count > 0]
    figure = Figure(figsize=(8, 8), dpi=120)
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.set_title(title or _("Solicitudes por celda H3 (resolución %(res)s)") % {"res": res})
    if rows:
        cells = gpd.GeoDataFrame(
            {"count": [r.count for r in rows], "hotspot": [r.hotspot for r in rows]},
            geometry=[Polygon([(lng, lat) for lat, lng in h3i.cell_to_boundary(r.cell)]) for r in rows],
            crs=STORAGE_SRID,
        )
        k = min(classes, cells["count"].nunique())
        cells.plot(ax=ax, column="count", cmap="YlOrRd", scheme=scheme if k > 1 else None, k=max(k, 1),
                   legend=True, edgecolor="#555555", linewidth=0.1,
                   legend_kwds={"title": _("Solicitudes"), "loc": "lower left"} if k > 1 else None)
        hot = cells[cells["hotspot"] >= 3]
        if not hot.empty:
            hot.boundary.plot(ax=ax, color="#b2182b", linewidth=1.2)
    communes = Commune.objects.active()
    if filters.communes:
        communes = communes.filter(cut__in=filters.communes)
    boundaries = gpd.GeoSeries.from_wkt([c.geometry.wkt for c in communes], crs=STORAGE_SRID)
    if not boundaries.empty:
        boundaries.boundary.plot(ax=ax, color="#222222", linewidth=1)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
