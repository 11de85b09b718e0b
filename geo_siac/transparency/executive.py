"""The monthly executive report for the authorities: the same indicators as the public pages, for one comuna
and month, as HTML and as a PDF made with matplotlib's PdfPages."""

import base64
import io
import math
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime, time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.formats import number_format  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from django.utils.translation import ngettext  # noqa: E402
from h3.api import basic_int as h3i  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from geo_siac.geo import STORAGE_SRID  # noqa: E402
from geo_siac.reports.deadlines import SANTIAGO  # noqa: E402
from geo_siac.catalogue.models import Category  # noqa: E402
from geo_siac.transparency.periods import month_start  # noqa: E402
from geo_siac.transparency.selectors import (  # noqa: E402
    commune_population, indicators, indicators_by, per_thousand, received_between, transparency_reports,
)
from geo_siac.zones.models import Commune, PopulationCell, ServicePoint  # noqa: E402
from geo_siac.zones.selectors import zone_containing  # noqa: E402

HEADLINES = ("volume", "digital_share", "deadline_met_share", "first_response_median_business_days",
             "closing_median_business_days", "unanswered_share", "backlog", "reopened_share",
             "satisfaction_average")
WORST_LIMIT = 5
COVERAGE_THRESHOLDS_M = (500, 1000)


@dataclass
class CoverageSummary:
    """Who lives near a service point (any kind, whatever its hours), from `maps.selectors.coverage`."""

    points_in_commune: int
    points_nearby: int = 0  # in neighbouring comunas within NEIGHBOUR_MARGIN_M: they count in the distances
    population: float | None = None  # None: no population cells loaded for the comuna
    res: int | None = None
    within: dict[int, dict[str, float]] = field(default_factory=dict)  # metres -> {"population", "share"}
    least_covered: dict | None = None  # the most underserved cell beyond 1 km: population, distance_m, lat, lng, zone


@dataclass
class ExecutiveReport:
    commune: Commune
    month: date
    current: dict
    previous: dict
    worst_categories: list[tuple[str, dict]]
    worst_departments: list[tuple[str, dict]]
    population: float | None
    coverage: CoverageSummary
    cell_counts: dict[int, int]

    @property
    def headlines(self) -> list[dict]:
        labels = headline_labels()
        return [{"key": key, "label": labels[key], "value": self.current.get(key),
                 "previous": self.previous.get(key), "change": _change(self.current.get(key), self.previous.get(key)),
                 "is_share": key.endswith("_share")} for key in HEADLINES]

    @property
    def per_1000(self) -> float | None:
        return per_thousand(self.current.get("volume", 0), self.population)


def headline_labels() -> dict[str, str]:
    return {
        "volume": _("Solicitudes recibidas"), "digital_share": _("Ingresadas por canales digitales"),
        "deadline_met_share": _("Respondidas dentro del plazo"),
        "first_response_median_business_days": _("Días hábiles hasta la primera respuesta (mediana)"),
        "closing_median_business_days": _("Días hábiles hasta el cierre (mediana)"),
        "unanswered_share": _("Sin respuesta aún"), "backlog": _("Solicitudes en curso"),
        "reopened_share": _("Reabiertas"), "satisfaction_average": _("Satisfacción promedio (1 a 5)"),
    }


def _change(current, previous):
    if current is None or previous is None:
        return None
    return current - previous


def _worst(results: dict, labels: dict) -> list[tuple[str, dict]]:
    ranked = [(labels.get(key, key) or _("Sin unidad asignada"), r) for key, r in results.items()
              if r["deadline_met_share"] is not None]
    return sorted(ranked, key=lambda item: (item[1]["deadline_met_share"], -item[1]["volume"]))[:WORST_LIMIT]


def _judged_at(month_end: date) -> datetime:
    """A month is judged at its end (or now, for the running month), so a later month cannot change it."""
    return min(timezone.now(), datetime.combine(month_end, time.min, tzinfo=SANTIAGO))


def executive_report(*, commune: Commune, month: date) -> ExecutiveReport:
    start, end = month_start(month), month_start(month, -1)
    shown = transparency_reports().filter(commune=commune)
    reports, previous = received_between(shown, start, end), received_between(shown, month_start(month, 1), start)
    as_of, previous_as_of = _judged_at(end), _judged_at(start)
    current = indicators_by(reports, [None, "category", "department"], as_of=as_of)
    names = {c.service_code: c.name for c in Category.objects.all()}
    return ExecutiveReport(
        commune=commune, month=start,
        current=current[None].get(None, {}),
        previous=indicators(previous, as_of=previous_as_of).get(None, {}),
        worst_categories=_worst(current["category"], names),
        worst_departments=_worst(current["department"], {}),
        population=commune_population(commune.cut),
        coverage=coverage_summary(commune),
        cell_counts=dict(reports.order_by().values_list("h3_res8").annotate(n=Count("id"))),
    )


def _deadline_figure(report: ExecutiveReport):
    figure, axis = plt.subplots(figsize=(7, 3.2))
    rows = list(reversed(report.worst_categories))
    axis.barh([label[:40] for label, _r in rows], [r["deadline_met_share"] * 100 for _l, r in rows],
              color="#0b4f6c")
    axis.set_xlim(0, 100)
    axis.set_xlabel(_("Respondidas dentro del plazo, en porcentaje"))
    figure.suptitle(_("Tipos de problema con menor cumplimiento de plazo"), fontsize=12)
    figure.tight_layout()
    return figure


def _density_figure(report: ExecutiveReport):
    figure, axis = plt.subplots(figsize=(7, 6))
    geometry = report.commune.geometry
    for polygon in geometry:
        ring = polygon.exterior_ring.coords
        axis.plot([x for x, _y in ring], [y for _x, y in ring], color="#333", linewidth=1)
    if report.cell_counts:
        cells = list(report.cell_counts.items())
        polygons = [[(lng, lat) for lat, lng in h3i.cell_to_boundary(cell)] for cell, _n in cells]
        collection = PolyCollection(polygons, array=[n for _c, n in cells], cmap="RdPu", edgecolor="none")
        axis.add_collection(collection)
        figure.colorbar(collection, ax=axis, label=_("Solicitudes por celda H3 (res. 8)"))
    axis.set_aspect(1 / math.cos(math.radians(geometry.centroid.y)))
    axis.set_title(_("Densidad de solicitudes del mes"))
    axis.set_xticks([])
    axis.set_yticks([])
    return figure


def figures(report: ExecutiveReport) -> list:
    return [_deadline_figure(report), _density_figure(report)]


def _png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def render_html(report: ExecutiveReport) -> str:
    return render_to_string("transparency/executive_report.html", {
        "report": report, "images": [_png(figure) for figure in figures(report)],
        "coverage": coverage_headline(report),
    })


def render_pdf(report: ExecutiveReport) -> bytes:
    buffer = io.BytesIO()
    with PdfPages(buffer, metadata={"Title": f"GeoSIAC {report.commune.name} {report.month:%Y-%m}"}) as pdf:
        pdf.savefig(_summary_page(report))
        for figure in figures(report):
            pdf.savefig(figure)
            plt.close(figure)
    return buffer.getvalue()


def _format(value, is_share: bool) -> str:
    if value is None:
        return "—"
    if is_share:
        return f"{value * 100:.0f} %"
    return f"{value:,.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"


def _summary_page(report: ExecutiveReport):
    figure = plt.figure(figsize=(8.27, 11.69))
    figure.text(0.08, 0.95, _("Informe ejecutivo de solicitudes vecinales"), fontsize=16, weight="bold")
    figure.text(0.08, 0.92, f"{report.commune.name} · {report.month:%Y-%m}", fontsize=12)
    rows = [[h["label"], _format(h["value"], h["is_share"]), _format(h["previous"], h["is_share"])]
            for h in report.headlines]
    table = figure.add_axes([0.08, 0.45, 0.84, 0.42])
    table.axis("off")
    table.table(cellText=rows, colLabels=[_("Indicador"), _("Este mes"), _("Mes anterior")], loc="upper left",
                colWidths=[0.64, 0.18, 0.18])
    lines = [_("Peores unidades frente al plazo:")]
    lines += [f"  {label}: {_format(r['deadline_met_share'], True)} ({r['volume']})"
              for label, r in report.worst_departments]
    lines += ["", *(textwrap.fill(line, 95) for line in coverage_headline(report))]
    figure.text(0.08, 0.40, "\n".join(lines), fontsize=10, va="top")
    return figure


def coverage_summary(commune: Commune) -> CoverageSummary:
    """The shares of the comuna's population within 500 m and 1 km of a service point and the most underserved
    cell, at res 9 (the coverage page's default) or, when res 9 is not loaded, the finest loaded resolution."""
    # maps.selectors loads pandas, geopandas and scipy (about 140 MB more RSS, measured): imported only when a
    # report is made, so the public views module, which imports this one, and its streamed exports stay small.
    from geo_siac.maps.selectors import COVERAGE_RESOLUTIONS, CoverageOptions, coverage, underserved_cells

    in_commune = ServicePoint.objects.filter(commune=commune).count()
    loaded = set(PopulationCell.objects.filter(cut=commune.cut, res__in=COVERAGE_RESOLUTIONS)
                 .values_list("res", flat=True).distinct())
    if not loaded:
        return CoverageSummary(points_in_commune=in_commune)
    res = CoverageOptions.res if CoverageOptions.res in loaded else max(loaded)
    result = coverage(commune, CoverageOptions(res=res, thresholds=COVERAGE_THRESHOLDS_M))
    worst = underserved_cells(result, beyond_m=max(COVERAGE_THRESHOLDS_M), limit=1)
    return CoverageSummary(
        points_in_commune=in_commune, points_nearby=int((~result.points["in_commune"]).sum()),
        population=float(result.cells["pob_total"].sum()), res=res, within=result.shares["total"],
        least_covered=None if worst.empty else _least_covered(worst.iloc[0], commune),
    )


def _least_covered(cell, commune: Commune) -> dict:
    zone = zone_containing(Point(cell["lng"], cell["lat"], srid=STORAGE_SRID), commune)
    return {"population": float(cell["pob_total"]), "distance_m": float(cell["distance_m"]),
            "lat": float(cell["lat"]), "lng": float(cell["lng"]), "zone": zone.name if zone else None}


def _number(value: float, decimals: int = 0) -> str:
    return number_format(value, decimals, force_grouping=True)


def _percent_of(share: float) -> str:
    return f"{share * 100:.0f} %"


def coverage_headline(report: ExecutiveReport) -> list[str]:
    """The coverage headline as sentences: population and reports per 1,000, the shares within 500 m and 1 km,
    the service points and the least-covered area; or why there is no coverage figure."""
    summary = report.coverage
    points = _("Puntos de atención en la comuna: %(count)s.") % {"count": summary.points_in_commune}
    if summary.population is None:
        return [_("Sin datos de población: no se calculan la cobertura de los puntos de atención ni las solicitudes "
                  "por habitante (se cargan con manage.py load_population)."), points]
    if summary.points_nearby:
        points += " " + ngettext(
            "También cuenta, para las distancias, %(count)s punto de una comuna vecina a menos de 5 km.",
            "También cuentan, para las distancias, %(count)s puntos de comunas vecinas a menos de 5 km.",
            summary.points_nearby) % {"count": summary.points_nearby}
    near, far = summary.within[500], summary.within[1000]
    lines = [
        _("Población: %(people)s habitantes; %(per)s solicitudes del mes por 1.000 habitantes.") % {
            "people": _number(summary.population), "per": _number(report.per_1000 or 0, 1)},
        _("Vive a menos de 500 m de un punto de atención el %(near)s de la población, y a menos de 1 km el "
          "%(far)s (%(far_people)s personas).") % {
            "near": _percent_of(near["share"]), "far": _percent_of(far["share"]),
            "far_people": _number(far["population"])},
        points,
    ]
    return lines + [_least_covered_sentence(summary)]


def _least_covered_sentence(summary: CoverageSummary) -> str:
    worst = summary.least_covered
    if worst is None:
        return _("Toda la población vive a menos de 1 km de un punto de atención.")
    if math.isinf(worst["distance_m"]):
        return _("No hay ningún punto de atención en la comuna ni a menos de 5 km de ella.")
    sentence = _("Área menos cubierta: %(people)s habitantes a %(km)s km del punto de atención más cercano, en "
                 "torno a %(lat)s, %(lng)s (celda H3 de resolución %(res)s).") % {
        "people": _number(worst["population"]), "km": _number(worst["distance_m"] / 1000, 1),
        "lat": f"{worst['lat']:.4f}", "lng": f"{worst['lng']:.4f}", "res": summary.res}
    if worst["zone"]:
        sentence += " " + _("Está en la zona %(zone)s.") % {"zone": worst["zone"]}
    return sentence
