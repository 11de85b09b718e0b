"""The monthly executive report for the authorities: the same indicators as the public pages, for one comuna
and month, as HTML (printable on A4) and as a PDF of two A4 pages drawn with matplotlib (no new dependency)."""

import base64
import io
import math
import textwrap
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.formats import date_format, number_format  # noqa: E402
from django.utils.translation import gettext as _  # noqa: E402
from django.utils.translation import ngettext  # noqa: E402
from matplotlib.backends.backend_pdf import PdfPages  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from geo_siac.attention.selectors import point_efficiency  # noqa: E402
from geo_siac.catalogue.kinds import RequestKind  # noqa: E402
from geo_siac.catalogue.models import Category  # noqa: E402
from geo_siac.geo import STORAGE_SRID  # noqa: E402
from geo_siac.geocoding.selectors import REVERSE  # noqa: E402
from geo_siac.rates import per_1000  # noqa: E402
from geo_siac.reports.deadlines import SANTIAGO  # noqa: E402
from geo_siac.reports.states import Channel  # noqa: E402
from geo_siac.transparency.periods import month_start  # noqa: E402
from geo_siac.transparency.selectors import (  # noqa: E402
    commune_population,
    indicators_by,
    information_figures,
    information_lines,
    kinds_as_published,
    public_indicators,
    received_between,
    suppressed,
    transparency_reports,
)
from geo_siac.zones.models import Commune, PopulationCell, ServicePoint  # noqa: E402
from geo_siac.zones.selectors import zone_containing  # noqa: E402

HEADLINES = (
    "volume",
    "deadline_met_share",
    "first_response_median_business_days",
    "closing_median_business_days",
    "backlog",
    "satisfaction_average",
)
OTHER_FIGURES = ("digital_share", "unanswered_share", "reopened_share")
WHOLE_NUMBERS = {"volume", "backlog"}
WORST_LIMIT = 5
BUSIEST_LIMIT = 8
DEPARTMENT_LIMIT = 10  # rows that fit page 2 beside its chart; the rest are counted in a sentence
POINT_LIMIT = 6  # service points on page 2, busiest first; the rest are counted in a sentence
DEADLINE_CHART_INCHES = (2.2, 4.2)  # page 2's chart shrinks to its minimum to make room for the service points
COVERAGE_THRESHOLDS_M = (500, 1000)
A4_INCHES = (8.27, 11.69)
# Greyscale-safe: this month dark, the previous month light grey with a hatch, so a black-and-white print tells them
# apart.
THIS_MONTH, PREVIOUS_MONTH = "#1f2d3a", "#b8c2cc"


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
    current: dict  # {None: {None: overall}, "category": {...}, "department": {...}}
    previous: dict  # the same for the month before
    category_names: dict[str, str]
    population: float | None
    coverage: CoverageSummary
    information: dict  # the Ley 20.285 figures of the comuna's requests received in the month's year

    @property
    def overall(self) -> dict:
        return self.current[None].get(None, {})

    @property
    def previous_overall(self) -> dict:
        return self.previous[None].get(None, {})

    @property
    def month_name(self) -> str:
        return date_format(self.month, "YEAR_MONTH_FORMAT")

    @property
    def previous_month_name(self) -> str:
        return date_format(month_start(self.month, 1), "YEAR_MONTH_FORMAT")

    @property
    def headlines(self) -> list[dict]:
        return [self._figure(key) for key in HEADLINES]

    @property
    def other_figures(self) -> list[dict]:
        return [self._figure(key) for key in OTHER_FIGURES]

    def _figure(self, key: str) -> dict:
        none = 0 if key in WHOLE_NUMBERS else None  # a month without reports received none and has none open
        value, previous = self.overall.get(key, none), self.previous_overall.get(key, none)
        texts = {
            "label": figure_labels()[key],
            "value": figure_text(key, value),
            "previous": figure_text(key, previous),
            "change": change_text(key, value, previous),
        }
        return {
            "key": key,
            "label": texts["label"],
            "text": texts["value"],
            "comparison": _("Mes anterior: %(previous)s · cambio: %(change)s") % texts,
            "sentence": _("%(label)s: %(value)s (mes anterior: %(previous)s; cambio: %(change)s)") % texts,
        }

    @property
    def per_1000(self) -> float | None:
        return per_1000(self.overall.get("volume", 0), self.population)

    @property
    def busiest_categories(self) -> list[dict]:
        """The categories with the most reports this month, with their count the month before."""
        rows = sorted(self.current["category"].items(), key=lambda item: (-item[1]["volume"], item[0]))
        return [
            {
                "label": self.category_names.get(code, code),
                "value": r["volume"],
                "previous": self.previous["category"].get(code, {}).get("volume", 0),
            }
            for code, r in rows[:BUSIEST_LIMIT]
        ]

    @property
    def worst_categories(self) -> list[dict]:
        """The categories with the lowest share of deadlines met this month, with their share the month before."""
        judged = [(code, r) for code, r in self.current["category"].items() if r["deadline_met_share"] is not None]
        rows = sorted(judged, key=lambda item: (item[1]["deadline_met_share"], -item[1]["volume"], item[0]))
        return [
            {
                "label": self.category_names.get(code, code),
                "value": r["deadline_met_share"],
                "previous": self.previous["category"].get(code, {}).get("deadline_met_share"),
                "volume": r["volume"],
            }
            for code, r in rows[:WORST_LIMIT]
        ]

    @property
    def departments(self) -> list[dict]:
        """Every municipal department with reports this month or the month before, busiest first."""
        keys = set(self.current["department"]) | set(self.previous["department"])
        rows = []
        for key in keys:
            now, before = self.current["department"].get(key, {}), self.previous["department"].get(key, {})
            rows.append(
                {
                    "label": key or _("Sin unidad asignada"),
                    "volume": now.get("volume", 0),
                    "previous_volume": before.get("volume", 0),
                    "met": figure_text("deadline_met_share", now.get("deadline_met_share")),
                    "previous_met": figure_text("deadline_met_share", before.get("deadline_met_share")),
                    "closing": figure_text("closing_median_business_days", now.get("closing_median_business_days")),
                    "backlog": now.get("backlog", 0),
                }
            )
        return sorted(rows, key=lambda row: (-row["volume"], -row["previous_volume"], row["label"]))

    def breakdown(self, dimension: str) -> list[dict]:
        """The month's figures by kind or channel beside the month before, each month's small counts hidden as on
        /transparencia/ (`public_indicators`: the report goes beyond the staff), busiest first, the hidden ones
        last, named with «cifras reservadas» as on the page."""
        labels = dict(RequestKind.choices if dimension == "kind" else Channel.choices)
        now = public_indicators({dimension: self.current[dimension]})[dimension] if self.current[dimension] else {}
        before = public_indicators({dimension: self.previous[dimension]})[dimension] if self.previous[dimension] else {}
        if dimension == "kind":
            now, before = kinds_as_published(now), kinds_as_published(before)
        reserved = {"volume": _("cifras reservadas"), "previous_volume": _("cifras reservadas"), "met": "—", "sort": 0}
        rows, reserved_rows = [], []
        for key in set(now) | set(before):
            current, previous = now.get(key, {}), before.get(key, {})
            if current.get("volume", 0) is None or previous.get("volume", 0) is None:
                reserved_rows.append({**reserved, "label": str(labels.get(key, key))})  # as /transparencia/ names it
                continue
            if current.get("volume", 0) == 0 and previous.get("volume", 0) == 0:
                continue
            rows.append(
                {
                    "label": str(labels.get(key, key)),
                    "volume": _breakdown_count(current, "volume"),
                    "previous_volume": _breakdown_count(previous, "volume"),
                    "met": figure_text("deadline_met_share", current.get("deadline_met_share")),
                    "sort": current.get("volume") or 0,
                }
            )
        rows.sort(key=lambda row: (-row["sort"], row["label"]))
        return rows + sorted(reserved_rows, key=lambda row: row["label"])

    @property
    def by_kind(self) -> list[dict]:
        return self.breakdown("kind")

    @property
    def by_channel(self) -> list[dict]:
        return self.breakdown("channel")

    @property
    def missing(self) -> list[str]:
        """The reports the month and its comparison lack, in words (the coverage section names its own gaps)."""
        sentences = []
        if not self.overall:
            sentences.append(
                _("No se recibieron solicitudes en %(month)s en las categorías públicas.") % {"month": self.month_name}
            )
        if not self.previous_overall:
            sentences.append(
                _("No se recibieron solicitudes en %(month)s: no hay mes anterior con el que comparar.")
                % {"month": self.previous_month_name}
            )
        return sentences


def _breakdown_count(row: dict, key: str) -> str:
    """A count of a breakdown's row: 0 when the month has no such row, "cifras reservadas" when hidden."""
    if not row:
        return "0"
    return _("cifras reservadas") if row[key] is None else number_format(row[key], 0, force_grouping=True)


def figure_labels() -> dict[str, str]:
    return {
        "volume": _("Solicitudes recibidas"),
        "digital_share": _("Ingresadas por canales digitales"),
        "deadline_met_share": _("Respondidas dentro del plazo"),
        "first_response_median_business_days": _("Días hábiles hasta la primera respuesta (mediana)"),
        "closing_median_business_days": _("Días hábiles hasta el cierre (mediana)"),
        "unanswered_share": _("Sin respuesta aún"),
        "backlog": _("Solicitudes en curso"),
        "reopened_share": _("Reabiertas"),
        "satisfaction_average": _("Satisfacción promedio (1 a 5)"),
    }


def _decimals(value: float) -> int:
    return 0 if float(value).is_integer() else 1


def figure_text(key: str, value) -> str:
    """A figure as the report prints it, in the active language's number format."""
    if value is None:
        return "—"
    if key.endswith("_share"):
        return f"{number_format(whole_percent(value), 0)} %"
    if key in WHOLE_NUMBERS:
        return number_format(value, 0, force_grouping=True)
    return number_format(round(value, 1), _decimals(round(value, 1)))


def whole_percent(share: float) -> int:
    """A share as the report and /transparencia/ print it, rounded half up once (number_format alone truncates 8.9
    to 8), from the share's shortest repr: 0.145 * 100 is 14.499999999999998 in binary, 0.145 is 14.5 %."""
    return int((Decimal(repr(share)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def change_text(key: str, value, previous) -> str:
    """The change from the month before, between the figures as printed (so 8 % after 0 % reads +8 pp): signed, in
    percentage points for shares; a count that was 0 reads as new, since no change from nothing is a rate."""
    if value is None or previous is None:
        return "—"
    if key in WHOLE_NUMBERS and previous == 0 and value:
        return _("nuevo")
    if key.endswith("_share"):
        points = whole_percent(value) - whole_percent(previous)
        return f"{'+' if points > 0 else '−' if points < 0 else '±'}{number_format(abs(points), 0)} pp"
    change = round(round(value, 1) - round(previous, 1), 1)
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    return sign + number_format(abs(change), _decimals(abs(change)), force_grouping=True)


def _judged_at(month_end: date) -> datetime:
    """A month is judged at its end (or now, for the running month), so a later month cannot change it."""
    return min(timezone.now(), datetime.combine(month_end, time.min, tzinfo=SANTIAGO))


def executive_report(*, commune: Commune, month: date) -> ExecutiveReport:
    start, end, before = month_start(month), month_start(month, -1), month_start(month, 1)
    shown = transparency_reports().filter(commune=commune)
    dimensions = [None, "category", "department", "kind", "channel"]
    return ExecutiveReport(
        commune=commune,
        month=start,
        current=indicators_by(received_between(shown, start, end), dimensions, as_of=_judged_at(end)),
        previous=indicators_by(received_between(shown, before, start), dimensions, as_of=_judged_at(start)),
        category_names={c.service_code: c.name for c in Category.objects.all()},
        population=commune_population(commune.cut),
        coverage=coverage_summary(commune),
        information=information_figures(start.year, commune),
    )


def _wrapped(label: str, width: int = 26) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _paired_bars(axis, rows: list[dict], *, share: bool, report: ExecutiveReport) -> None:
    """Horizontal bars, this month over the previous month, each with its value written at its end."""
    scale = 100 if share else 1
    positions = range(len(rows))
    height = 0.38
    current = [row["value"] * scale for row in rows]
    previous = [(row["previous"] or 0) * scale for row in rows]
    axis.barh([p - height / 2 for p in positions], current, height, color=THIS_MONTH, label=report.month_name)
    axis.barh(
        [p + height / 2 for p in positions],
        previous,
        height,
        color=PREVIOUS_MONTH,
        hatch="///",
        edgecolor="#5b6670",
        linewidth=0.4,
        label=report.previous_month_name,
    )
    top = 100 if share else max(current + previous + [1])
    for p, row, a, b in zip(positions, rows, current, previous, strict=True):
        axis.text(a + top * 0.01, p - height / 2, _bar_value(row["value"], share), va="center", fontsize=8)
        axis.text(
            b + top * 0.01, p + height / 2, _bar_value(row["previous"], share), va="center", fontsize=8, color="#333"
        )
    axis.set_yticks(list(positions), [_wrapped(row["label"]) for row in rows], fontsize=8.5)
    axis.invert_yaxis()
    axis.set_xlim(0, top * 1.15)
    axis.tick_params(axis="x", labelsize=8)
    axis.spines[["top", "right"]].set_visible(False)
    if not share:
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0, 1), ncol=2, frameon=False, borderaxespad=0.2)


def _bar_value(value, share: bool) -> str:
    if value is None:
        return "—"
    return f"{number_format(whole_percent(value), 0)} %" if share else number_format(value, 0, force_grouping=True)


@dataclass
class Chart:
    name: str
    title: str
    rows: list[dict]
    share: bool
    axis_label: str
    empty: str  # said instead of the chart when it has no rows

    @property
    def description(self) -> str:
        """The chart's figures as text, for screen readers."""
        return "; ".join(
            _("%(label)s: %(value)s (mes anterior: %(previous)s)")
            % {
                "label": row["label"],
                "value": _bar_value(row["value"], self.share),
                "previous": _bar_value(row["previous"], self.share),
            }
            for row in self.rows
        )


def charts(report: ExecutiveReport) -> list[Chart]:
    return [
        Chart(
            "busiest",
            _("Solicitudes por tipo de problema: los %(count)s más frecuentes del mes") % {"count": BUSIEST_LIMIT},
            report.busiest_categories,
            False,
            _("Solicitudes recibidas"),
            _("No se recibieron solicitudes en %(month)s en las categorías públicas.") % {"month": report.month_name},
        ),
        Chart(
            "worst",
            _("Tipos de problema con menor cumplimiento de plazo"),
            report.worst_categories,
            True,
            _("Respondidas dentro del plazo, en porcentaje"),
            _("Aún no hay solicitudes del mes cuyo plazo se pueda evaluar."),
        ),
    ]


def draw_chart(axis, chart: Chart, report: ExecutiveReport) -> None:
    _paired_bars(axis, chart.rows, share=chart.share, report=report)
    axis.set_xlabel(chart.axis_label, fontsize=8.5)


def _png(chart: Chart, report: ExecutiveReport) -> str:
    figure = plt.figure(figsize=(7.2, 3.6))
    figure.text(0.01, 0.98, chart.title, fontsize=10.5, weight="bold", va="top")
    draw_chart(figure.add_axes([0.36, 0.13, 0.6, 0.7]), chart, report)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def render_html(report: ExecutiveReport, *, controls: dict | None = None) -> str:
    """The report as one HTML document; `controls` (the web page's navigation, comuna and month form, PDF link)
    are left out of a saved copy and of the print."""
    return render_to_string(
        "transparency/executive_report.html",
        {
            "report": report,
            "controls": controls,
            "breakdowns": [
                (_("Por tipo de solicitud"), report.by_kind, "by-kind"),
                (_("Por canal de ingreso"), report.by_channel, "by-channel"),
            ],
            "charts": [(chart, _png(chart, report) if chart.rows else None) for chart in charts(report)],
            "coverage": coverage_headline(report),
            "departments": report.departments[:DEPARTMENT_LIMIT],
            "more_departments": max(len(report.departments) - DEPARTMENT_LIMIT, 0),
            "department_columns": department_columns(),
            "notes": notes(),
            "service_points": service_points(report),
            "min_count": settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT,
            "figures": report.information,
            "information_lines": information_lines(report.information),
        },
    )


def service_points(report: ExecutiveReport) -> list[dict]:
    """The comuna's service points and their month (attention.selectors.point_efficiency), with the requests a
    point received and its channels counted as the public breakdowns are (the report goes beyond the staff): a
    point's count from 1 to k-1 is hidden with its channels and share in time, and its channels by `suppressed`
    (the point's count is their shown total)."""
    k = settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT
    rows = []
    for row in point_efficiency(month=report.month, commune=report.commune):
        if 0 < row["received"] < k:
            rows.append({**row, "received": None, "channels": [], "on_time_share": None})
            continue
        labels = {channel["code"]: channel["label"] for channel in row["channels"]}
        counts = suppressed({code: 0 for code in Channel.values} | {c["code"]: c["count"] for c in row["channels"]}, k)
        channels = [
            {"code": code, "label": labels.get(code, Channel(code).label), "count": count}
            for code, count in counts.items()
            if count != 0
        ]
        rows.append({**row, "channels": sorted(channels, key=lambda c: (c["count"] is None, -(c["count"] or 0)))})
    return rows


def busiest_points(report: ExecutiveReport) -> list[dict]:
    """The comuna's service points with requests received or appointments in the month, busiest first."""
    rows = [
        row
        for row in service_points(report)
        if row["received"] is None or row["received"] or row["booked"] or row["cancelled"]
    ]
    return sorted(rows, key=lambda row: (-(row["received"] or 0), -row["booked"], row["point"].name))


def render_pdf(report: ExecutiveReport) -> bytes:
    """Two A4 pages: the figures, coverage and reports per category; then the departments, deadlines and notes.
    A comuna with access-to-information requests in the month's year has a third, their Ley 20.285 figures."""
    buffer = io.BytesIO()
    # A month without reports has neither departments nor deadlines to show: one page, with the notes.
    pages = (_first_page, _second_page) if report.overall else (_single_page,)
    if report.information["received"]:
        pages += (_information_page,)
    with PdfPages(buffer, metadata={"Title": f"GeoSIAC {report.commune.name} {report.month:%Y-%m}"}) as pdf:
        for draw_page in pages:
            page = _Page()
            draw_page(page, report)
            pdf.savefig(page.figure)
            plt.close(page.figure)
    return buffer.getvalue()


class _Page:
    """An A4 figure written from the top down, like a document: `y` is the distance in inches from the top."""

    MARGIN = 0.7
    CHARS_PER_INCH_AT_10PT = 13.2  # DejaVu Sans, measured on the rendered page

    def __init__(self):
        self.figure = plt.figure(figsize=A4_INCHES)
        self.y = self.MARGIN

    @property
    def width(self) -> float:
        return A4_INCHES[0] - 2 * self.MARGIN

    def text(self, x: float, y: float, text: str, **kwargs):
        return self.figure.text(x / A4_INCHES[0], 1 - y / A4_INCHES[1], text, va="top", **kwargs)

    @property
    def bottom(self) -> float:
        return A4_INCHES[1] - self.MARGIN

    def _lines(self, text: str, size: float, indent: float, bold: bool) -> list[str]:
        chars = int((self.width - indent) * self.CHARS_PER_INCH_AT_10PT * 10 / size * (0.9 if bold else 1))
        return textwrap.wrap(text, chars) or [""]

    def paragraph_height(
        self, text: str, size: float = 10, *, indent: float = 0, gap: float = 0.06, bold: bool = False
    ) -> float:
        return len(self._lines(text, size, indent, bold)) * size * 1.3 / 72 + gap

    def paragraph(self, text: str, size: float = 10, *, indent: float = 0, gap: float = 0.06, **kwargs) -> None:
        bold = kwargs.get("weight") == "bold"
        lines = self._lines(text, size, indent, bold)
        self.text(self.MARGIN + indent, self.y, "\n".join(lines), fontsize=size, linespacing=1.3, **kwargs)
        self.y += self.paragraph_height(text, size, indent=indent, gap=gap, bold=bold)

    def heading_height(self, text: str) -> float:
        return 0.12 + self.paragraph_height(text, 12.5, gap=0.1, bold=True)

    def heading(self, text: str) -> None:
        self.y += 0.12
        self.paragraph(text, 12.5, weight="bold", gap=0.1)

    def axes(self, height: float, left: float = 2.45):
        """An axes box `height` inches tall under a legend row; `left` inches are kept for the category labels."""
        box = [
            (self.MARGIN + left) / A4_INCHES[0],
            1 - (self.y + height - 0.45) / A4_INCHES[1],
            (self.width - left - 0.1) / A4_INCHES[0],
            (height - 0.75) / A4_INCHES[1],
        ]
        self.y += height
        return self.figure.add_axes(box)


def _title(page: _Page, report: ExecutiveReport, size: float) -> None:
    page.paragraph(_("Informe ejecutivo de solicitudes vecinales"), size, weight="bold", gap=0.04)
    page.paragraph(f"{report.commune.name} · {report.month_name}", size * 0.75, gap=0.08)


def _first_page(page: _Page, report: ExecutiveReport) -> None:
    _title(page, report, 19)
    page.paragraph(
        _("Solicitudes recibidas en %(month)s en las categorías públicas, comparadas con %(previous)s.")
        % {"month": report.month_name, "previous": report.previous_month_name},
        9.5,
        color="#333",
    )
    for sentence in report.missing:
        page.paragraph(f"• {sentence}", 9.5, weight="bold")
    _figure_cards(page, report)
    for figure in report.other_figures:
        page.paragraph(figure["sentence"], 9.5, gap=0.02)
    page.heading(_("Cobertura de los puntos de atención"))
    for line in coverage_headline(report):
        page.paragraph(line, 9.5, gap=0.03)
    _chart(page, charts(report)[0], report, A4_INCHES[1] - page.MARGIN - page.y)


def _figure_cards(page: _Page, report: ExecutiveReport) -> None:
    """The headline figures, three to a row: label, this month in large type, the previous month and the change."""
    width, height, top = page.width / 3, 1.18, page.y + 0.12
    for i, figure in enumerate(report.headlines):
        x, y = page.MARGIN + (i % 3) * width, top + (i // 3) * height
        page.figure.add_artist(
            plt.Rectangle(
                ((x + 0.04) / A4_INCHES[0], 1 - (y + height - 0.08) / A4_INCHES[1]),
                (width - 0.08) / A4_INCHES[0],
                (height - 0.1) / A4_INCHES[1],
                transform=page.figure.transFigure,
                facecolor="#f2f4f6",
                edgecolor="#8a96a3",
                linewidth=0.6,
            )
        )
        page.text(x + 0.14, y + 0.08, textwrap.fill(figure["label"], 30), fontsize=8.5, linespacing=1.2)
        page.text(x + 0.14, y + 0.42, figure["text"], fontsize=20, weight="bold")
        page.text(x + 0.14, y + 0.8, figure["comparison"], fontsize=8, color="#333")
    page.y = top + 2 * height + 0.08


def _second_page(page: _Page, report: ExecutiveReport) -> None:
    """Departments, the deadline chart, the service points and the notes. Long names wrap, so the tables take the
    rows that fit (at most their limits, the rest counted in a sentence) and the chart takes what is left."""
    _title(page, report, 13)
    page.heading(_("Unidades municipales"))
    departments, points, deadlines = report.departments, busiest_points(report), charts(report)[1]
    below = page.heading_height(deadlines.title) + DEADLINE_CHART_INCHES[0] + _notes_height(page)
    if departments:
        kept_for_points = _points_height(page, points, min(len(points), 3))
        shown = _fitting(
            lambda n: _departments_height(page, departments, n),
            DEPARTMENT_LIMIT,
            page.bottom - page.y - below - kept_for_points,
        )
        _department_table(page, departments[:shown])
        if len(departments) > shown:
            page.paragraph(_more_departments(len(departments) - shown), 9)
    else:
        page.paragraph(_("Ninguna unidad municipal recibió solicitudes en estos dos meses."), 10)
    shown_points = _fitting(lambda n: _points_height(page, points, n), POINT_LIMIT, page.bottom - page.y - below)
    room = (
        page.bottom
        - page.y
        - page.heading_height(deadlines.title)
        - _points_height(page, points, shown_points)
        - _notes_height(page)
    )
    _chart(page, deadlines, report, max(DEADLINE_CHART_INCHES[0], min(DEADLINE_CHART_INCHES[1], room)))
    _points(page, points, shown_points)
    _notes(page)


def _information_page(page: _Page, report: ExecutiveReport) -> None:
    """The year's Ley 20.285 figures: the HTML's table, line by line (`information_lines`), on a page of its own,
    since the two pages before it are fitted row by row."""
    figures = report.information
    _title(page, report, 13)
    page.heading(_("Acceso a información pública (Ley 20.285)"))
    page.paragraph(_("Las de la comuna recibidas en %(year)s, como están hoy.") % {"year": figures["year"]}, 9.5)
    page.paragraph(
        _("Solicitudes de acceso a información pública recibidas en %(year)s (Ley 20.285)") % {"year": figures["year"]},
        9.5,
        weight="bold",
    )
    cells = [
        [("    " if line.indent else "") + _wrapped(line.label, 80), line.text] for line in information_lines(figures)
    ]
    _table(page, None, cells, [0.8, 0.2])


def _fitting(height_of, limit: int, room: float) -> int:
    """The most rows, at least one and at most `limit`, whose block `height_of(rows)` fits in `room` inches."""
    return max([1] + [n for n in range(1, limit + 1) if height_of(n) <= room])


def _more_departments(count: int) -> str:
    return ngettext("Y %(count)s unidad más.", "Y %(count)s unidades más.", count) % {"count": count}


def _departments_height(page: _Page, departments: list[dict], shown: int) -> float:
    height = sum(_table_heights(department_columns(), _department_cells(departments[:shown]))) + 0.08
    return height + (
        page.paragraph_height(_more_departments(len(departments) - shown), 9) if len(departments) > shown else 0
    )


def _single_page(page: _Page, report: ExecutiveReport) -> None:
    _first_page(page, report)
    points = busiest_points(report)
    _points(
        page,
        points,
        _fitting(lambda n: _points_height(page, points, n), POINT_LIMIT, page.bottom - page.y - _notes_height(page)),
    )
    _notes(page)


def _chart(page: _Page, chart: Chart, report: ExecutiveReport, height: float) -> None:
    page.heading(chart.title)
    if chart.rows:
        draw_chart(page.axes(height), chart, report)
    else:
        page.paragraph(chart.empty, 10)


def _notes(page: _Page) -> None:
    page.heading(_("Cómo leer este informe"))
    for sentence in notes():
        page.paragraph(f"• {sentence}", 9, gap=0.04)


def _notes_height(page: _Page) -> float:
    return page.heading_height(_("Cómo leer este informe")) + sum(
        page.paragraph_height(f"• {sentence}", 9, gap=0.04) for sentence in notes()
    )


def points_heading() -> str:
    return _("Puntos de atención: solicitudes recibidas y citas")


def point_columns() -> list[str]:
    return [
        _("Punto de atención"),
        _("Solicitudes recibidas"),
        _("Por canal"),
        _("Dentro del plazo"),
        _("Citas reservadas"),
        _("Atendidas"),
        _("No se presentaron"),
        _("Espera mediana (min)"),
    ]


POINT_WIDTHS = [0.22, 0.1, 0.19, 0.09, 0.1, 0.1, 0.11, 0.09]


def _point_cells(rows: list[dict]) -> list[list[str]]:
    return [
        [
            _wrapped(row["point"].name, 28),
            _count_text(row["received"]),
            _wrapped(" · ".join(f"{c['label']}: {_count_text(c['count'])}" for c in row["channels"]) or "—", 24),
            figure_text("deadline_met_share", row["on_time_share"]),
            number_format(row["booked"], 0, force_grouping=True),
            number_format(row["served"], 0),
            number_format(row["no_shows"], 0),
            "—" if row["median_wait_minutes"] is None else number_format(round(row["median_wait_minutes"]), 0),
        ]
        for row in rows
    ]


def _count_text(count: int | None) -> str:
    if count is None:
        return _("menos de %(k)s") % {"k": settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT}
    return number_format(count, 0, force_grouping=True)


def _more_points(count: int) -> str:
    return ngettext("Y %(count)s punto más.", "Y %(count)s puntos más.", count) % {"count": count}


def _points_height(page: _Page, rows: list[dict], shown: int) -> float:
    if not rows:
        return 0
    height = (
        page.heading_height(points_heading()) + 0.08 + sum(_table_heights(point_columns(), _point_cells(rows[:shown])))
    )
    return height + (page.paragraph_height(_more_points(len(rows) - shown), 9) if len(rows) > shown else 0)


def _points(page: _Page, rows: list[dict], shown: int) -> None:
    """Requests received and appointments at the first `shown` service points (nothing when the comuna's points
    had neither), the rest counted in a sentence."""
    if not rows:
        return
    page.heading(points_heading())
    _table(page, point_columns(), _point_cells(rows[:shown]), POINT_WIDTHS)
    if len(rows) > shown:
        page.paragraph(_more_points(len(rows) - shown), 9)


def department_columns() -> list[str]:
    return [
        _("Unidad municipal"),
        _("Solicitudes del mes"),
        _("Mes anterior"),
        _("Dentro del plazo"),
        _("Mes anterior"),
        _("Días hábiles al cierre (mediana)"),
        _("En curso"),
    ]


def _department_cells(rows: list[dict]) -> list[list[str]]:
    return [
        [
            _wrapped(row["label"], 34),
            number_format(row["volume"], 0, force_grouping=True),
            number_format(row["previous_volume"], 0, force_grouping=True),
            row["met"],
            row["previous_met"],
            row["closing"],
            number_format(row["backlog"], 0, force_grouping=True),
        ]
        for row in rows
    ]


def _department_table(page: _Page, rows: list[dict]) -> None:
    _table(page, department_columns(), _department_cells(rows), [0.32, 0.11, 0.1, 0.11, 0.1, 0.15, 0.11])


def _headers(columns: list[str]) -> list[str]:
    return [textwrap.fill(header, 11, break_long_words=False) for header in columns]


def _table_heights(columns: list[str] | None, cells: list[list[str]]) -> list[float]:
    """The header's (if any) and each row's height in inches: a row as tall as its most wrapped cell."""
    heights = [0.12 + 0.13 * max(1 + header.count("\n") for header in _headers(columns))] if columns else []
    return heights + [0.2 + 0.15 * max(cell.count("\n") for cell in row) for row in cells]


def _table(page: _Page, columns: list[str] | None, cells: list[list[str]], widths: list[float]) -> None:
    """A table the page's width, first column left-aligned, the header (if any) shaded."""
    headers = _headers(columns) if columns else None
    heights = _table_heights(columns, cells)
    height = sum(heights)
    axis = page.figure.add_axes(
        [
            page.MARGIN / A4_INCHES[0],
            1 - (page.y + height) / A4_INCHES[1],
            page.width / A4_INCHES[0],
            height / A4_INCHES[1],
        ]
    )
    axis.axis("off")
    table = axis.table(
        cellText=cells, colLabels=headers, loc="upper left", cellLoc="right", colWidths=widths, bbox=[0, 0, 1, 1]
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8.5)
    for (row, column), cell in table.get_celld().items():
        cell.set_edgecolor("#8a96a3")
        cell.set_linewidth(0.4)
        if column == 0:
            cell.set_text_props(ha="left")
            cell.PAD = 0.02
        if row == 0 and headers:
            cell.set_facecolor("#e3e8ed")
            cell.set_text_props(weight="bold", fontsize=8)
    # matplotlib numbers the rows from 0 either way (the header, when there is one, is row 0), as `heights` does.
    for (row, _column), cell in table.get_celld().items():
        cell.set_height(heights[row] / height)
    page.y += height + 0.08


def notes() -> list[str]:
    return [
        _(
            "Cada mes cuenta las solicitudes recibidas en él, en las categorías que se publican, y se juzga al "
            "cierre del mes: un mes ya informado no cambia."
        ),
        _(
            "Respondidas dentro del plazo: de las solicitudes cerradas o con el plazo vencido, las que se cerraron "
            "dentro del plazo de su categoría, en días hábiles."
        ),
        _("Los cambios se dan frente al mes anterior; en los porcentajes, en puntos porcentuales (pp)."),
        _(
            "La cobertura cuenta a quienes viven a menos de 500 m o 1 km en línea recta de un punto de atención, con "
            "la población del Censo 2017."
        ),
    ]


def coverage_summary(commune: Commune) -> CoverageSummary:
    """The shares of the comuna's population within 500 m and 1 km of a service point and the most underserved
    cell, at res 9 (the coverage page's default) or, when res 9 is not loaded, the finest loaded resolution."""
    # maps.selectors loads pandas, geopandas and scipy (about 140 MB more RSS, measured): imported only when a
    # report is made, so the public views module, which imports this one, and its streamed exports stay small.
    from geo_siac.maps.selectors import COVERAGE_RESOLUTIONS, CoverageOptions, coverage, underserved_cells

    in_commune = ServicePoint.objects.filter(commune=commune).count()
    loaded = set(
        PopulationCell.objects.filter(cut=commune.cut, res__in=COVERAGE_RESOLUTIONS)
        .values_list("res", flat=True)
        .distinct()
    )
    if not loaded:
        return CoverageSummary(points_in_commune=in_commune)
    res = CoverageOptions.res if CoverageOptions.res in loaded else max(loaded)
    result = coverage(commune, CoverageOptions(res=res, thresholds=COVERAGE_THRESHOLDS_M))
    worst = underserved_cells(result, beyond_m=max(COVERAGE_THRESHOLDS_M), limit=1)
    return CoverageSummary(
        points_in_commune=in_commune,
        points_nearby=int((~result.points["in_commune"]).sum()),
        population=float(result.cells["pob_total"].sum()),
        res=res,
        within=result.shares["total"],
        least_covered=None if worst.empty else _least_covered(worst.iloc[0], commune),
    )


def _least_covered(cell, commune: Commune) -> dict:
    point = Point(cell["lng"], cell["lat"], srid=STORAGE_SRID)
    zone = zone_containing(point, commune)
    return {
        "place": _nearest_place(point),
        "population": float(cell["pob_total"]),
        "distance_m": float(cell["distance_m"]),
        "lat": float(cell["lat"]),
        "lng": float(cell["lng"]),
        "zone": zone.name if zone else None,
    }


def _nearest_place(point: Point) -> dict | None:
    """The gazetteer's nearest street, corner, address or named place of a served comuna, however far: the least
    covered area is often beyond the reach (GEO_SIAC_REVERSE_MAX_METRES) within which a report's place is named,
    so the sentence gives the distance with the name."""
    candidates = REVERSE.rows(None, {"x": point.x, "y": point.y})
    if not candidates:
        return None
    nearest = min(candidates, key=lambda row: row["distance_m"])
    return {"label": nearest["label"], "distance_m": nearest["distance_m"]}


def _number(value: float, decimals: int = 0) -> str:
    return number_format(value, decimals, force_grouping=True)


def _percent_of(share: float) -> str:
    return f"{share * 100:.0f} %"


def coverage_headline(report: ExecutiveReport) -> list[str]:
    """The coverage headline as sentences: population and reports per 1,000, the shares within 500 m and 1 km,
    the service points and the least-covered area; or why there is no coverage figure."""
    summary = report.coverage
    points = (
        _("Puntos de atención en la comuna: %(count)s.") % {"count": summary.points_in_commune}
        if summary.points_in_commune
        else _("No hay puntos de atención cargados para esta comuna.")
    )
    if summary.population is None:
        return [
            _(
                "No hay población censal cargada para esta comuna: no se calculan la cobertura de los puntos de "
                "atención ni las solicitudes por cada 1.000 habitantes."
            ),
            points,
        ]
    if summary.points_nearby:
        points += " " + ngettext(
            "También cuenta, para las distancias, %(count)s punto de una comuna vecina a menos de 5 km.",
            "También cuentan, para las distancias, %(count)s puntos de comunas vecinas a menos de 5 km.",
            summary.points_nearby,
        ) % {"count": summary.points_nearby}
    near, far = summary.within[500], summary.within[1000]
    lines = [
        _("Población: %(people)s habitantes; %(per)s solicitudes del mes por 1.000 habitantes.")
        % {"people": _number(summary.population), "per": _number(report.per_1000 or 0, 1)},
        _(
            "Vive a menos de 500 m de un punto de atención el %(near)s de la población, y a menos de 1 km el "
            "%(far)s (%(far_people)s personas)."
        )
        % {
            "near": _percent_of(near["share"]),
            "far": _percent_of(far["share"]),
            "far_people": _number(far["population"]),
        },
        points,
    ]
    return lines + [_least_covered_sentence(summary)]


def _least_covered_sentence(summary: CoverageSummary) -> str:
    worst = summary.least_covered
    if worst is None:
        return _("Toda la población vive a menos de 1 km de un punto de atención.")
    if math.isinf(worst["distance_m"]):
        return _("No hay ningún punto de atención en la comuna ni a menos de 5 km de ella.")
    values = {
        "people": _number(worst["population"]),
        "km": _number(worst["distance_m"] / 1000, 1),
        "lat": f"{worst['lat']:.4f}",
        "lng": f"{worst['lng']:.4f}",
        "res": summary.res,
    }
    place = worst.get("place")
    # A place a reader knows (the gazetteer's nearest street corner, address or named place) before coordinates.
    if place:
        sentence = _(
            "Área menos cubierta: %(people)s habitantes a %(km)s km del punto de atención más cercano, a "
            "%(metres)s m de %(place)s (%(lat)s, %(lng)s; celda H3 de resolución %(res)s)."
        ) % {**values, "place": place["label"], "metres": _number(round(place["distance_m"], -1))}
    else:
        sentence = (
            _(
                "Área menos cubierta: %(people)s habitantes a %(km)s km del punto de atención más cercano, en "
                "torno a %(lat)s, %(lng)s (celda H3 de resolución %(res)s)."
            )
            % values
        )
    if worst["zone"]:
        sentence += " " + _("Está en la zona %(zone)s.") % {"zone": worst["zone"]}
    return sentence
