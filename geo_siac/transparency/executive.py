"""The monthly executive report for the authorities: the same indicators as the public pages, for one comuna
and month, as HTML and as a PDF made with matplotlib's PdfPages."""

import base64
import io
import math
from dataclasses import dataclass
from datetime import date, datetime, time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from h3.api import basic_int as h3i  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

from geo_siac.reports.deadlines import SANTIAGO  # noqa: E402
from geo_siac.reports.models import Category  # noqa: E402
from geo_siac.transparency.periods import month_start  # noqa: E402
from geo_siac.transparency.selectors import (  # noqa: E402
    commune_population, indicators, indicators_by, per_thousand, received_between, transparency_reports,
)
from geo_siac.zones.models import Commune, ServicePoint  # noqa: E402

HEADLINES = ("volume", "digital_share", "deadline_met_share", "first_response_median_business_days",
             "closing_median_business_days", "unanswered_share", "backlog", "reopened_share",
             "satisfaction_average")
WORST_LIMIT = 5


@dataclass
class ExecutiveReport:
    commune: Commune
    month: date
    current: dict
    previous: dict
    worst_categories: list[tuple[str, dict]]
    worst_departments: list[tuple[str, dict]]
    population: float | None
    service_points: int
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
        service_points=ServicePoint.objects.filter(commune=commune).count(),
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
    lines += ["", coverage_headline(report)]
    figure.text(0.08, 0.40, "\n".join(lines), fontsize=10, va="top")
    return figure


def coverage_headline(report: ExecutiveReport) -> str:
    if report.population is None:
        return _("Sin datos de población cargados: no se calculan solicitudes por habitante.")
    return _("%(per)s solicitudes por 1.000 habitantes (%(pop)s habitantes); %(points)s puntos de atención.") % {
        "per": f"{report.per_1000:.1f}", "pop": f"{report.population:,.0f}", "points": report.service_points}
