"""Heat-map outputs built from the selectors: GeoJSON, CSV rows, the folium map (offline) and a PNG.

The map and the PNG colour one measure: the count per cell, or the reports per 1,000 inhabitants. Their layer
names, legends and tooltips go through gettext, so they follow the language of the request that builds them.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import json
import math
import textwrap
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import geopandas as gpd
import mapclassify
import numpy as np
from django.utils.formats import date_format, number_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from h3.api import basic_int as h3i
from matplotlib import colormaps
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from shapely.geometry import Polygon

from geo_siac.catalogue.models import Category, CategoryGroup
from geo_siac.geo import STORAGE_SRID
from geo_siac.maps.folium_offline import offline_map
from geo_siac.maps.folium_text import (
    CellIds,
    MapLegend,
    cell_ids,
    cell_layer,
    fit_bounds,
    geojson_layer,
    layer_control,
    map_page,
)
from geo_siac.maps.hotspots import CONFIDENCE_LEVELS
from geo_siac.maps.selectors import (
    CellFilters,
    CellRow,
    cell_counts,
    cell_counts_by_group,
    cell_counts_by_week,
    cell_table,
    cells_may_exceed,
    period_cell_counts,
    reads_period_once,
)
from geo_siac.rates import per_1000
from geo_siac.reports.states import Channel, Status
from geo_siac.zones.models import Commune, Zone
from geo_siac.zones.tenancy import in_communes

COORDINATE_DECIMALS = 6
RATE_DECIMALS = 3
POPULATION_DECIMALS = 1
WEEK_LAYERS = 8
# Each drawn cell costs the server its Gi* and population and the browser one SVG path per layer shown (2 s for
# 10,000 on this machine's Chromium); the whole region at res 9 is 12,000 cells at 1M reports (docs/performance.md).
MAX_MAP_CELLS = 10_000
HOTSPOT_COLOURS = {3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", -1: "#d1e5f0", -2: "#67a9cf", -3: "#2166ac"}
# The confidence, in %, each |hotspot| code stands for: 1 - the FDR level of hotspots.py's Gi*.
HOTSPOT_CONFIDENCE = {level: round(100 * (1 - fdr)) for level, fdr in CONFIDENCE_LEVELS}
EMERGING_COLOUR = "#7b3294"
# The legend keys of the cell layers: the choropleths share one, the hotspots and the emerging cells have their own.
CELLS_LEGEND, HOTSPOT_LEGEND, EMERGING_LEGEND = "cells", "hotspots", "emerging"
NO_DATA_COLOUR = "#bdbdbd"
ZONE_COLOUR = "#1b7837"
PNG_LINE_CHARACTERS = 95
CSV_HEADER = ("hex_id", "count", "population", "rate", "z", "q", "hotspot", "emerging")


def csv_columns() -> dict[str, str]:
    """Each CSV_HEADER column with its definition, as the heat-map page lists them beside the downloads."""
    hot = sorted(HOTSPOT_CONFIDENCE, reverse=True)
    definitions = {
        "hex_id": _("Código de la celda H3."),
        "count": _("Solicitudes en la celda con estos filtros."),
        "population": _(
            "Habitantes censados en la celda (0: sin población censada); vacío si no se conoce, porque la población "
            "de su comuna no está cargada."
        ),
        "rate": _(
            "Solicitudes por 1.000 habitantes; vacío si la celda no tiene población censada o no se conoce (no es una "
            "tasa de 0)."
        ),
        "z": _(
            "Puntaje Gi*: cuántas desviaciones estándar se apartan las solicitudes de la celda y sus vecinas de lo "
            "que daría el azar (positivo: más; negativo: menos)."
        ),
        "q": _(
            "Valor q: la menor tasa de falsos descubrimientos (FDR) con la que la celda resultaría significativa; "
            "≤ %(fdrs)s da %(confidences)s %% de confianza."
        )
        % {
            "fdrs": " / ".join(number_format(fdr, 2, use_l10n=True) for _level, fdr in sorted(CONFIDENCE_LEVELS)[::-1]),
            "confidences": " / ".join(str(HOTSPOT_CONFIDENCE[level]) for level in hot),
        },
        "hotspot": _(
            "Punto caliente o frío: %(hot)s son calientes con %(hot_confidence)s de confianza; %(cold)s, fríos con "
            "%(cold_confidence)s; 0, ninguno de los dos."
        )
        % {
            "hot": get_text_list([str(level) for level in hot], _("y")),
            "hot_confidence": get_text_list([f"{HOTSPOT_CONFIDENCE[level]} %" for level in hot], _("y")),
            "cold": get_text_list([str(-level) for level in reversed(hot)], _("y")),
            "cold_confidence": get_text_list([f"{HOTSPOT_CONFIDENCE[level]} %" for level in reversed(hot)], _("y")),
        },
        "emerging": _(
            "1 si la celda crece frente al período anterior del mismo largo, 0 si no; vacío sin período elegido."
        ),
    }
    return {column: definitions[column] for column in CSV_HEADER}


def hex_id(cell: int) -> str:
    return h3i.int_to_str(cell)


def hexagon(cell: int) -> list[list[float]]:
    """The cell's closed GeoJSON ring, [lng, lat] rounded to 6 decimals (about 0.1 m)."""
    ring = [
        [round(lng, COORDINATE_DECIMALS), round(lat, COORDINATE_DECIMALS)] for lat, lng in h3i.cell_to_boundary(cell)
    ]
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
                    "hex_id": hex_id(row.cell),
                    "count": row.count,
                    "population": _rounded(row.population, POPULATION_DECIMALS),
                    "rate": _rounded(row.rate, RATE_DECIMALS),
                    "z": round(row.z, 3),
                    "q": round(row.q, 4),
                    "hotspot": row.hotspot,
                    "emerging": row.emerging,
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
        writer.writerow(
            (
                hex_id(row.cell),
                row.count,
                _blank(_rounded(row.population, POPULATION_DECIMALS)),
                _blank(_rounded(row.rate, RATE_DECIMALS)),
                f"{row.z:.3f}",
                f"{row.q:.4f}",
                row.hotspot,
                _blank(None if row.emerging is None else int(row.emerging)),
            )
        )


def _blank(value):
    return "" if value is None else value


@dataclass(frozen=True)
class MapClasses:
    """The classes a map colours by, shared by the folium map and the PNG: each class's inclusive upper bound, its
    label and colour, and a note that says why there are fewer classes than asked for ("" when there are not)."""

    uppers: tuple[float, ...]
    labels: tuple[str, ...]
    colours: tuple[str, ...]
    note: str = ""

    def colour(self, value: float | None) -> str:
        return self.palette[self.index(value)]

    @property
    def palette(self) -> tuple[str, ...]:
        """The classes' colours, then the grey of an unknown value."""
        return (*self.colours, NO_DATA_COLOUR)

    def index(self, value: float | None) -> int:
        """The position of `value`'s colour in `palette`."""
        if value is None:
            return len(self.colours)
        return min(bisect.bisect_left(self.uppers, value), len(self.uppers) - 1)

    def indices(self, values: list[float | None]) -> list[int]:
        """`index` of each value, in one numpy call: a map's layers ask it for ~20,000 cells (docs/performance.md)."""
        known = np.array([np.nan if value is None else value for value in values], dtype=float)
        at = np.minimum(np.searchsorted(np.array(self.uppers), known, side="left"), len(self.uppers) - 1)
        return np.where(np.isnan(known), len(self.colours), at).tolist()


def map_classes(values: list[float], scheme: str, classes: int, *, whole: bool) -> MapClasses:
    """`classes` classes of `values` by quantiles or Jenks natural breaks, fewer only when the values cannot
    make them (and then the note says why). `whole` values (counts) get whole-number bounds and labels such as
    "2–3"; others (rates) keep two decimals."""
    values = np.asarray(values, dtype=float)
    distinct = np.unique(values)
    if distinct.size <= classes:
        uppers = distinct
    else:
        with warnings.catch_warnings():
            # Quantiles lowers k itself (and warns) when many values tie; the legend's note says so instead.
            warnings.simplefilter("ignore", UserWarning)
            classifier = (
                mapclassify.NaturalBreaks(values, k=classes)
                if scheme == "natural_breaks"
                else (mapclassify.Quantiles(values, k=classes))
            )
        # A whole value is at most a bound exactly when it is at most the bound's floor: same classes, whole bounds.
        uppers = np.unique(np.floor(classifier.bins) if whole else classifier.bins)
    return MapClasses(
        uppers=tuple(float(u) for u in uppers),
        labels=tuple(_class_labels(float(distinct[0]), uppers, whole)),
        colours=tuple(_colours(len(uppers))),
        note=_fewer_classes_note(len(uppers), classes, distinct.size),
    )


def _class_labels(lowest: float, uppers, whole: bool) -> list[str]:
    if not whole:
        return _rate_class_labels(lowest, [float(u) for u in uppers])
    labels, low = [], lowest
    for high in uppers:
        labels.append(f"{low:.0f}" if low == high else f"{low:.0f}–{high:.0f}")
        low = high + 1
    return labels


def _rate_class_labels(lowest: float, uppers: list[float]) -> list[str]:
    """Rates to two significant figures, whole numbers from 10 up ("0,51–8,0", "8,0–376"): the classes' exact bounds
    are artefacts of the data, and a reader compares magnitudes. Only bounds that would read the same get more digits."""
    bounds = [lowest, *uppers]
    extras = [0] * len(bounds)
    for _attempt in range(6):
        shown = [_rounded_rate(bound, extra) for bound, extra in zip(bounds, extras, strict=True)]
        colliding = [
            i for i, text in enumerate(shown) if {b for b, t in zip(bounds, shown) if t == text} != {bounds[i]}
        ]
        if not colliding:
            break
        # A bound shown exactly ("10") reads apart once its neighbours gain the digit that tells them from it.
        inexact = [i for i in colliding if not _is_exact(bounds[i], extras[i])] or colliding
        for i in inexact:
            extras[i] += 1
    return [shown[i + 1] if bounds[i] == bounds[i + 1] else f"{shown[i]}–{shown[i + 1]}" for i in range(len(uppers))]


def _rounded_rate(value: float, extra: int) -> str:
    decimals, rounded = _rounding(value, extra)
    return "0" if value == 0 else number_format(rounded, decimals, use_l10n=True)


def _is_exact(value: float, extra: int) -> bool:
    return _rounding(value, extra)[1] == Decimal(repr(value))


def _rounding(value: float, extra: int) -> tuple[int, Decimal]:
    """Two significant figures (plus ``extra`` digits), none after the comma from 10 up; the magnitude is the
    rounded value's, so 9,96 reads "10", not "10,0"."""
    exact = Decimal(repr(value))
    if value == 0:
        return 0, exact
    first = math.floor(math.log10(abs(value)))
    for magnitude in (first, first + 1):
        decimals = max(1 - magnitude, 0) + extra
        rounded = exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        if abs(rounded) < Decimal(10) ** (magnitude + 1):
            break
    return decimals, rounded


def _colours(n: int) -> list[str]:
    ramp = colormaps["YlOrRd"]
    return [to_hex(ramp(0.15 + 0.85 * i / max(n - 1, 1))) for i in range(n)]


def _fewer_classes_note(made: int, asked: int, distinct: int) -> str:
    if made == asked:
        return ""
    if made == distinct:
        return ngettext(
            "%(asked)s clases pedidas: hay un solo valor distinto.",
            "%(asked)s clases pedidas: solo hay %(made)s valores distintos.",
            made,
        ) % {"asked": asked, "made": made}
    return _("%(asked)s clases pedidas, %(made)s hechas: muchas celdas tienen el mismo valor.") % {
        "asked": asked,
        "made": made,
    }


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

    def values(self, counts: dict[int, int]) -> list[float | None]:
        """`value` of each cell's count, in the order of `counts`."""
        if not self.is_rate:
            return list(counts.values())  # whole numbers compare with the classes' bounds as their floats do
        return [per_1000(count, self.population.get(cell)) for cell, count in counts.items()]

    def caption(self) -> str:
        return _("Solicitudes por 1.000 habitantes por celda H3") if self.is_rate else _("Solicitudes por celda H3")


def _display(value: float | None, decimals: int) -> str:
    return _("sin dato") if value is None else number_format(value, decimals, use_l10n=True)


def _rate_display(count: int, population: float | None) -> str:
    """A cell where the census counted nobody has no rate, and says why; an unknown population is "sin dato"."""
    if population == 0:
        return _("sin población censada")
    return _display(per_1000(count, population), 2)


def _cell_tooltip(measure: Measure) -> dict[str, str]:
    if measure.is_rate:
        return {
            "hex_id": _("Celda"),
            "count": _("Solicitudes"),
            "population": _("Habitantes"),
            "rate": _("Por 1.000 hab."),
        }
    return {"hex_id": _("Celda"), "count": _("Solicitudes")}


def _cell_columns(counts: dict[int, int], measure: Measure) -> dict[str, list]:
    columns = {"count": list(counts.values())}
    if measure.is_rate:  # only then: the tooltips show them, and a count map stays smaller
        population = [measure.population.get(cell) for cell in counts]
        columns["population"] = [_display(p, 0) for p in population]
        columns["rate"] = [_rate_display(n, p) for n, p in zip(counts.values(), population)]
    return columns


def _choropleth(ids: CellIds, counts: dict[int, int], name: str, classes: MapClasses, measure: Measure, show: bool):
    return cell_layer(
        ids,
        list(counts),
        name=name,
        show=show,
        style={"fillOpacity": 0.7, "color": "#555555", "weight": 0.3},
        fill=(list(classes.palette), classes.indices(measure.values(counts))),
        tooltip=_cell_tooltip(measure),
        columns=_cell_columns(counts, measure),
        legend=CELLS_LEGEND,
    )


def map_communes(filters: CellFilters) -> list[Commune]:
    """The comunas a map outlines: the filtered ones, else those of the filtered zones, else every served one (of
    the viewer's comunas, `filters.within`)."""
    communes = Commune.objects.active()
    if filters.within is not None:
        communes = in_communes(communes, "pk", filters.within)
    if filters.communes:
        communes = communes.filter(cut__in=filters.communes)
    elif filters.zones:
        communes = communes.filter(zones__in=filters.zones).distinct()
    return list(communes.order_by("cut"))


def _communes_layer(communes: list[Commune]):
    features = [{"type": "Feature", "geometry": _outline(c), "properties": {"name": c.name}} for c in communes]
    return geojson_layer(
        {"type": "FeatureCollection", "features": features},
        name=_("Comunas"),
        style_function=lambda f: {"fill": False, "color": "#222222", "weight": 2, "dashArray": "6 4"},
        tooltip={"name": _("Comuna")},
    )


def _outline(commune: Commune) -> dict:
    """The comuna's simplified boundary as GeoJSON, kept per process for the boundary it was made from: simplifying
    the region's 52 comunas on every map was 45 ms of a map's CPU (docs/performance.md)."""
    key = (commune.pk, hashlib.blake2b(bytes(commune.geometry.wkb)).digest())
    text = _OUTLINES.get(key)
    if text is None:
        if len(_OUTLINES) > MAX_OUTLINES:
            _OUTLINES.clear()
        text = _OUTLINES[key] = commune.geometry.simplify(0.0002, preserve_topology=True).geojson
    return json.loads(text)


_OUTLINES: dict[tuple[int, bytes], str] = {}
# The region's comunas a few times over: boundaries redrawn since the process started.
MAX_OUTLINES = 500


def map_zones(filters: CellFilters) -> list[Zone]:
    """The crew zones a map draws: the current zones of the comunas it outlines, and the filtered zones."""
    zones = Zone.objects.current().filter(commune__in=map_communes(filters))
    zones |= Zone.objects.filter(pk__in=filters.zones)
    return list(zones.distinct().select_related("commune").order_by("commune__cut", "key"))


def _zones_layer(zones: list[Zone], selected: tuple[int, ...]):
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(z.geometry.simplify(0.0001, preserve_topology=True).geojson),
            "properties": {"name": z.name, "commune": z.commune.name, "selected": z.pk in selected},
        }
        for z in zones
    ]
    return geojson_layer(
        {"type": "FeatureCollection", "features": features},
        name=_("Zonas de cuadrillas"),
        style_function=lambda f: {
            "fill": False,
            "color": ZONE_COLOUR,
            "weight": 4 if f["properties"]["selected"] else 1.5,
        },
        tooltip={"name": _("Zona"), "commune": _("Comuna")},
    )


def _hotspot_layer(ids: CellIds, rows: list[CellRow]):
    significant = [r for r in rows if r.hotspot != 0]
    levels = sorted(HOTSPOT_COLOURS)
    hot, cold = _("caliente"), _("frío")
    return cell_layer(
        ids,
        [r.cell for r in significant],
        name=_("Puntos calientes y fríos (Gi*, FDR)"),
        show=False,
        style={"fillOpacity": 0.75, "color": "#333333", "weight": 0.5},
        fill=([HOTSPOT_COLOURS[level] for level in levels], [levels.index(r.hotspot) for r in significant]),
        tooltip={"hex_id": _("Celda"), "count": _("Solicitudes"), "kind": _("Tipo"), "confidence": _("Confianza")},
        columns={
            "count": [r.count for r in significant],
            "kind": [hot if r.hotspot > 0 else cold for r in significant],
            "confidence": [f"{HOTSPOT_CONFIDENCE[abs(r.hotspot)]}%" for r in significant],
        },
        legend=HOTSPOT_LEGEND,
    )


def hotspot_legend() -> MapLegend:
    """The hotspot layer's key: hot, then cold, each by confidence, in the layer's colours."""
    hot = [
        (HOTSPOT_COLOURS[level], _("Caliente, %(p)s %% de confianza") % {"p": HOTSPOT_CONFIDENCE[level]})
        for level in (3, 2, 1)
    ]
    cold = [
        (HOTSPOT_COLOURS[-level], _("Frío, %(p)s %% de confianza") % {"p": HOTSPOT_CONFIDENCE[level]})
        for level in (1, 2, 3)
    ]
    return MapLegend(
        caption=_("Puntos calientes y fríos (Gi*, FDR)"),
        items=tuple(hot + cold),
        note=_(
            "Celdas que, junto a sus vecinas, tienen más (calientes) o menos (fríos) solicitudes de lo que daría el "
            "azar; FDR: la confianza está corregida por probar muchas celdas a la vez."
        ),
        layer=HOTSPOT_LEGEND,
        shown=False,
    )


def emerging_legend() -> MapLegend:
    return MapLegend(
        caption=_("Puntos emergentes (crecen vs. período anterior)"),
        items=((EMERGING_COLOUR, _("Celda con más solicitudes que en el período anterior")),),
        layer=EMERGING_LEGEND,
        outline=True,
        shown=False,
    )


def _emerging_layer(ids: CellIds, rows: list[CellRow], measure: Measure):
    growing = {r.cell: r.count for r in rows if r.emerging}
    return cell_layer(
        ids,
        list(growing),
        name=_("Puntos emergentes (crecen vs. período anterior)"),
        show=False,
        style={"fill": False, "color": EMERGING_COLOUR, "weight": 3},
        tooltip=_cell_tooltip(measure),
        columns=_cell_columns(growing, measure),
        legend=EMERGING_LEGEND,
    )


def _week_label(week: datetime) -> str:
    return _("Semana del %(date)s") % {"date": f"{week:%d-%m-%Y}"}


@dataclass(frozen=True)
class MapTitle:
    """What a map export says it shows, in the active language: a title and one line per filter."""

    title: str
    lines: tuple[str, ...]


def map_title(
    res: int, filters: CellFilters, *, measure: str = "count", scheme: str = "quantiles", classes: int = 5
) -> MapTitle:
    """The title of the map and the PNG: the categories, comunas, period, measure and resolution, and any other
    filter that was chosen."""
    everything = _("todas")
    chosen = [
        (_("Categorías"), _names(Category.objects.filter(service_code__in=filters.categories)), True),
        (_("Grupos de categorías"), _names(CategoryGroup.objects.filter(code__in=filters.groups)), False),
        (
            _("Comunas"),
            ", ".join(Commune.objects.filter(cut__in=filters.communes).order_by("name").values_list("name", flat=True)),
            True,
        ),
        (_("Zonas"), ", ".join(z.name for z in Zone.objects.filter(pk__in=filters.zones).order_by("name")), False),
        (_("Estados"), ", ".join(str(Status(s).label) for s in filters.statuses), False),
        (_("Canales"), ", ".join(str(Channel(c).label) for c in filters.channels), False),
    ]
    lines = [f"{label}: {names or everything}" for label, names, always in chosen if names or always]
    scheme_name = _("cuantiles") if scheme == "quantiles" else _("cortes naturales (Jenks)")
    lines += [
        _("Período: %(period)s") % {"period": _period(filters)},
        _("Medida: %(measure)s") % {"measure": Measure(measure, {}).caption()},
        _("Resolución H3: %(res)s · %(classes)s clases por %(scheme)s")
        % {"res": res, "classes": classes, "scheme": scheme_name},
    ]
    return MapTitle(_("Mapa de calor de solicitudes"), tuple(lines))


def _names(objects) -> str:
    return ", ".join(sorted(o.name for o in objects))


def _period(filters: CellFilters) -> str:
    since = date_format(filters.since.date()) if filters.since else ""
    # `until` is the midnight after the last day counted.
    until = date_format((filters.until - timedelta(days=1)).date()) if filters.until else ""
    if since and until:
        return _("del %(since)s al %(until)s") % {"since": since, "until": until}
    if since:
        return _("desde el %(since)s") % {"since": since}
    if until:
        return _("hasta el %(until)s") % {"until": until}
    return _("todas las fechas")


def no_data_label() -> str:
    """The grey key's one label, on every map: a cell without a value has nobody censused or an unknown population."""
    return _("sin población censada o sin dato")


def _legend_items(classes: MapClasses, values: list[float | None]) -> list[tuple[str, str]]:
    items = list(zip(classes.colours, classes.labels))
    return items + [(NO_DATA_COLOUR, no_data_label())] if None in values else items


def map_html(
    res: int,
    filters: CellFilters = CellFilters(),
    *,
    scheme: str = "quantiles",
    classes: int = 5,
    measure: str = "count",
    static_url: str = "/static/",
) -> str:
    """The planners' heat map as a standalone HTML page: all categories, one layer per category group, the last
    weeks, hotspots, emerging cells, comuna and crew-zone boundaries, with a collapsed layer control, the title
    (the filters) above the map and the legend below it. It loads only GeoSIAC's static files, from ``static_url``.

    ``measure`` is "count" or "rate"; with "rate", cells whose population is unknown or zero are grey. Every
    choropleth shares the classes computed on the "all categories" values.
    """
    # A period's counts, the previous period's, the groups' and the weeks' in one read (docs/maps.md, "Reads by date"),
    # when the layers will be drawn: a period that may have too many cells is counted first, alone.
    period, counted = None, None
    once = reads_period_once(res, filters)
    if not once or cells_may_exceed(res, filters, MAX_MAP_CELLS):
        counted = cell_counts(res, filters)
    if once and (counted is None or len(counted) <= MAX_MAP_CELLS):
        period = period_cell_counts(res, filters, last=WEEK_LAYERS)
        counted = period.counts
    if len(counted) > MAX_MAP_CELLS:
        rows, empty_note = [], too_many_cells_note(len(counted))
    else:
        previous = period.previous if period is not None else None
        rows = cell_table(res, filters, counts=counted, previous_counts=previous)
        empty_note = _("Ninguna solicitud con estos filtros.")
    counts = {r.cell: r.count for r in rows if r.count > 0}
    shown = Measure(measure, {r.cell: r.population for r in rows})
    centres = _centres(counts)
    fmap = offline_map(static_url, location=_centre(centres), zoom_start=12, control_scale=True)
    communes = map_communes(filters)
    bounds = _map_bounds(filters, communes, counts, centres)
    if bounds:
        # Room at the corners for the zoom buttons and the layer button, so that they cover no cell.
        fit_bounds(fmap, bounds, top_left=(60, 60), bottom_right=(60, 50), max_zoom=15)
    all_values = [shown.value(cell, n) for cell, n in counts.items()]
    values = [v for v in all_values if v is not None]
    legend_items, note = [], ""
    ids = cell_ids(fmap, static_url)
    if values:
        scale = map_classes(values, scheme, classes, whole=not shown.is_rate)
        legend_items, note = _legend_items(scale, all_values), scale.note
        _choropleth(ids, counts, _("Todas las categorías"), scale, shown, show=True).add_to(fmap)
        names = {group.code: group.name for group in CategoryGroup.objects.all()}
        by_group = period.by_group if period is not None else cell_counts_by_group(res, filters)
        for group, group_counts in sorted(by_group.items()):
            name = _("Grupo: %(name)s") % {"name": names.get(group, group)}
            _choropleth(ids, group_counts, name, scale, shown, show=False).add_to(fmap)
        by_week = period.by_week if period is not None else cell_counts_by_week(res, filters, last=WEEK_LAYERS)
        for week, week_counts in by_week.items():
            _choropleth(ids, week_counts, _week_label(week), scale, shown, show=False).add_to(fmap)
    elif counts:  # a rate map where no cell has a known population: the cells, all grey
        no_data = MapClasses(uppers=(0.0,), labels=(no_data_label(),), colours=(NO_DATA_COLOUR,))
        legend_items = [(NO_DATA_COLOUR, no_data_label())]
        _choropleth(ids, counts, _("Todas las categorías"), no_data, shown, show=True).add_to(fmap)
    legends = [
        MapLegend(
            caption=shown.caption(), items=tuple(legend_items), note=note if counts else empty_note, layer=CELLS_LEGEND
        )
    ]
    if any(r.hotspot for r in rows):
        _hotspot_layer(ids, rows).add_to(fmap)
        legends.append(hotspot_legend())
    if any(r.emerging for r in rows):
        _emerging_layer(ids, rows, shown).add_to(fmap)
        legends.append(emerging_legend())
    if communes:  # none for an account without comunas; folium refuses a tooltip over no features
        _communes_layer(communes).add_to(fmap)
    zones = map_zones(filters)
    if zones:
        _zones_layer(zones, filters.zones).add_to(fmap)
    layer_control(fmap, collapsed=True, title=_("Capas"))
    title = map_title(res, filters, measure=measure, scheme=scheme, classes=classes)
    map_page(
        fmap,
        title=title.title,
        lines=list(title.lines),
        legends=legends,
        legend_name=_("Leyenda"),
    )
    return fmap.get_root().render()


def too_many_cells_note(cells: int) -> str:
    return _(
        "Demasiadas celdas (%(cells)s) para dibujarlas en el mapa: filtre por comuna, categoría o período, o elija "
        "una resolución menor. El CSV y el GeoJSON traen todas las celdas."
    ) % {"cells": number_format(cells, 0, use_l10n=True, force_grouping=True)}


def _map_bounds(
    filters: CellFilters, communes: list[Commune], counts: dict[int, int], centres: np.ndarray
) -> list[list[float]] | None:
    """What the map opens on: the chosen comunas (or those of the chosen zones) whole; with no choice, the cells,
    or the outlined comunas when there are no cells."""
    if communes and (filters.communes or filters.zones or not counts):
        west, south, east, north = zip(*(c.geometry.extent for c in communes), strict=True)
        return [[min(south), min(west)], [max(north), max(east)]]
    return _bounds(counts, centres) if counts else None


def _bounds(counts: dict[int, int], centres: np.ndarray) -> list[list[float]]:
    """The south-west and north-east corners of the cells' hexagons. Only the cells whose centre lies within
    `_reach` of the centres' extremes can hold an extreme vertex: their boundaries are computed, not every cell's
    (a 10,000-cell map's boundaries were a tenth of its CPU, docs/performance.md)."""
    cells = np.fromiter(counts, dtype=np.uint64, count=len(counts))
    lat, lng = centres[:, 0], centres[:, 1]
    reach = _reach(h3i.get_resolution(int(cells[0])), float(np.abs(lat).max()))
    if reach is None:
        near = np.ones(len(cells), dtype=bool)
    else:
        near = (
            (lat <= lat.min() + reach[0])
            | (lat >= lat.max() - reach[0])
            | (lng <= lng.min() + reach[1])
            | (lng >= lng.max() - reach[1])
        )
    points = np.array([point for cell in cells[near].tolist() for point in h3i.cell_to_boundary(cell)])
    (south, west), (north, east) = points.min(axis=0), points.max(axis=0)
    return [[float(south), float(west)], [float(north), float(east)]]


def _reach(res: int, furthest_latitude: float) -> tuple[float, float] | None:
    """(degrees of latitude, degrees of longitude) beyond which no vertex of a cell lies from the cell's centre, with
    room to spare: three average edges (a vertex is one edge, at most about 2 on the distorted cells, from its
    centre), or None near a pole (cells within about 11.5° of it, where the reach in longitude grows without bound):
    there all cells are read. Only the latitude decides it."""
    degrees = 3 * h3i.average_hexagon_edge_length(res, unit="km") / 111.0
    cosine = math.cos(math.radians(min(furthest_latitude + degrees, 90.0)))
    if cosine < 0.2:
        return None
    return degrees, degrees / cosine


def _centres(counts: dict[int, int]) -> np.ndarray:
    """Each cell's centre, (lat, lng) rows in the order of `counts`."""
    return np.array([h3i.cell_to_latlng(cell) for cell in counts], dtype=float).reshape(-1, 2)


def _centre(centres: np.ndarray) -> tuple[float, float]:
    if not len(centres):
        return (-33.55, -70.56)
    # Contiguous columns, summed as the tuples of the centres were.
    return (float(np.mean(np.ascontiguousarray(centres[:, 0]))), float(np.mean(np.ascontiguousarray(centres[:, 1]))))


def map_png(
    res: int,
    filters: CellFilters = CellFilters(),
    *,
    scheme: str = "quantiles",
    classes: int = 5,
    measure: str = "count",
) -> bytes:
    """The same choropleth as a PNG for printed reports (geopandas + matplotlib, no browser), with the title and
    the filters above the map (also in the PNG's Title and Description text chunks) and beside it a key per layer drawn."""
    rows = [r for r in cell_table(res, filters) if r.count > 0]
    shown = Measure(measure, {r.cell: r.population for r in rows})
    title = map_title(res, filters, measure=measure, scheme=scheme, classes=classes)
    lines = "\n".join(textwrap.fill(line, PNG_LINE_CHARACTERS) for line in title.lines)
    header_inches = 0.45 + 0.19 * (lines.count("\n") + 1)
    figure = Figure(figsize=(8, 8 + header_inches), dpi=120)
    header, ax = figure.subplots(2, 1, gridspec_kw={"height_ratios": [header_inches, 8], "hspace": 0})
    header.set_axis_off()
    header.text(0, 1, title.title, fontsize=13, fontweight="bold", va="top", transform=header.transAxes)
    header.text(0, 1 - 0.4 / header_inches, lines, fontsize=9, va="top", linespacing=1.5, transform=header.transAxes)
    ax.set_axis_off()
    if rows:
        values = [shown.value(r.cell, r.count) for r in rows]
        known = [v for v in values if v is not None]
        scale = map_classes(known, scheme, classes, whole=not shown.is_rate) if known else None
        cells = gpd.GeoDataFrame(
            {
                "colour": [scale.colour(v) if scale else NO_DATA_COLOUR for v in values],
                "hotspot": [r.hotspot for r in rows],
            },
            geometry=[Polygon([(lng, lat) for lat, lng in h3i.cell_to_boundary(r.cell)]) for r in rows],
            crs=STORAGE_SRID,
        )
        cells.plot(ax=ax, color=cells["colour"], edgecolor="#555555", linewidth=0.1)
        items = _legend_items(scale, values) if scale else [(NO_DATA_COLOUR, no_data_label())]
        legend_title = _("Por 1.000 hab.") if shown.is_rate else _("Solicitudes")
        if scale and scale.note:
            legend_title += "\n" + textwrap.fill(scale.note, 28)
        keys = ax.legend(
            handles=[Patch(facecolor=colour, edgecolor="#555555", label=label) for colour, label in items],
            title=legend_title,
            loc="upper left",
            bbox_to_anchor=(1, 1),
            fontsize=9,
            title_fontsize=9,
            alignment="left",
        )
        hot = cells[cells["hotspot"] >= 3]
        if not hot.empty:
            hot.boundary.plot(ax=ax, color=HOTSPOT_COLOURS[3], linewidth=1.2)
            # Every layer drawn has its key: a second legend replaces the first unless the first is kept as an artist.
            ax.add_artist(keys)
            label = _("Caliente, %(p)s %% de confianza") % {"p": HOTSPOT_CONFIDENCE[3]}
            ax.legend(
                handles=[Patch(facecolor="none", edgecolor=HOTSPOT_COLOURS[3], linewidth=1.2, label=label)],
                title=_("Puntos calientes y fríos (Gi*, FDR)"),
                loc="lower left",
                bbox_to_anchor=(1, 0),
                fontsize=9,
                title_fontsize=9,
                alignment="left",
            )
    drawn = map_zones(filters)
    for selected in (False, True):
        zones = [z.geometry.wkt for z in drawn if (z.pk in filters.zones) == selected]
        if zones:
            gpd.GeoSeries.from_wkt(zones, crs=STORAGE_SRID).boundary.plot(
                ax=ax, color=ZONE_COLOUR, linewidth=2 if selected else 0.6
            )
    boundaries = gpd.GeoSeries.from_wkt([c.geometry.wkt for c in map_communes(filters)], crs=STORAGE_SRID)
    if not boundaries.empty:
        boundaries.boundary.plot(ax=ax, color="#222222", linewidth=1)
    buffer = io.BytesIO()
    figure.savefig(
        buffer,
        format="png",
        bbox_inches="tight",
        metadata={"Title": title.title, "Description": "\n".join(title.lines)},
    )
    return buffer.getvalue()
