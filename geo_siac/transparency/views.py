import logging
import os
from functools import wraps

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.http import http_date, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_page
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_safe

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.db import refreshed_by_one
from geo_siac.db_router import public_read
from geo_siac.maps.cell_sizes import cell_edges
from geo_siac.reports.deadlines import SANTIAGO
from geo_siac.reports.states import Channel
from geo_siac.transparency import exports
from geo_siac.transparency.charts import indicator_chart
from geo_siac.transparency.executive import executive_report, render_html, render_pdf, whole_percent
from geo_siac.transparency.periods import month_covered_in_part, month_start, named_period, parse_month
from geo_siac.transparency.selectors import (
    DIMENSIONS,
    OPEN_DATA_FILES,
    cells_geojson,
    charter_compliance,
    commitment_charter,
    commune_commitments,
    communes_with_charter,
    information_figures,
    information_lines,
    information_years,
    kinds_as_published,
    named_periods,
    open_data_file,
    period_range,
    public_cells,
    public_indicators,
    public_information_figures,
    published_indicators,
    received_between,
    transparency_reports,
    zone_keys_in_force,
    zone_names,
)
from geo_siac.web.access import staff_required
from geo_siac.web.csp import csp_allow
from geo_siac.web.responses import text_error
from geo_siac.workspace.access import staff_pages
from geo_siac.zones.middleware import commune_path
from geo_siac.zones.selectors import commune_by_cut, staff_communes
from geo_siac.zones.tenancy import may_see_commune

PUBLIC_CACHE_SECONDS = 300
logger = logging.getLogger(__name__)
DEFAULT_PERIOD = "trailing_year"  # the last 365 days, refreshed by the timer


def with_period(view):
    """A view of one period: ?periodo=YYYY or YYYY-MM, a named period refresh_indicators stored, or none for the last
    365 days. A malformed value is a 400 and a period that was never stored a 404, each saying so in plain text."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        value = request.GET.get("periodo", "")
        if value:
            try:
                named_period(value)
            except ValueError as exc:
                return text_error(str(exc))
            if value not in dict(named_periods()):
                return text_error(_("No hay cifras publicadas del periodo %(period)s.") % {"period": value}, status=404)
        return view(request, *args, period=value or DEFAULT_PERIOD, **kwargs)

    return wrapper


def _period_reports(period: str):
    start, end = period_range(period, timezone.now())
    return received_between(transparency_reports(), start, end)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{whole_percent(value)} %"


def _on_time(result: dict) -> tuple[float | None, str]:
    """The bar and its text: for a group none of whose requests closed or passed its deadline yet, or with no
    request at all, that in words, rather than a bar of 0 % that would read as every deadline missed."""
    if result["volume"] == 0 and result.get("other_kinds", {}).get("volume", 0) != 0:
        return None, _("sin solicitudes de servicio en este periodo")  # but others, maybe reserved
    if result["volume"] == 0:
        return None, _("sin solicitudes en este periodo")
    if result["deadline_met_share"] is None:
        return None, _("aún ninguna cerrada ni con plazo vencido")
    return result["deadline_met_share"], _percent(result["deadline_met_share"])


def _on_time_chart(rows: list[dict]) -> dict:
    """The chart of a table's rows (_rows), in the table's order: a reader comparing them finds each group in the
    same place."""
    return indicator_chart(((row["label"], row) for row in rows), _on_time, maximum=1)


def _rows(results: dict, labels: dict, missing: str | None = None) -> list[dict]:
    missing = missing or _("Sin unidad asignada")
    return sorted(
        ({"label": labels.get(key, key) or missing, **r} for key, r in results.items()),
        key=lambda row: (row["volume"] is None, -(row["volume"] or 0)),  # a hidden count (None) last
    )


def _breakdown_rows(results: dict, labels: dict) -> list[dict]:
    """A kind's or channel's rows with requests, then the hidden ones, named with their figures reserved as in the
    department and zone tables: the stand-ins hide a group's values together, so a name tells no count."""
    return _rows({key: r for key, r in results.items() if r["volume"] is None or r["volume"]}, labels)


INDEX_DIMENSIONS = [None, "department", "category", "zone", "month", "kind", "channel"]


@public_read
@require_safe
@cache_page(PUBLIC_CACHE_SECONDS)
@with_period
def index(request, period):
    published = published_indicators(period, INDEX_DIMENSIONS)
    context = {
        "period": None if period == DEFAULT_PERIOD else period,
        "published": published,
        "period_start": period_range(period, timezone.now())[0],
        **_period_choices(),
        **_map_context(period),
        "embed_url": request.build_absolute_uri(reverse("transparency:embed_map")),
    }
    if published is not None:
        context |= _indicator_context(published)
    return _until_published(render(request, "transparency/index.html", context), published)


def _until_published(response, published):
    """A page saying its figures are being prepared is kept by no cache, cache_page's (which honours "private") nor a
    browser's: the next request after refresh_indicators stores them shows them."""
    if published is None:
        add_never_cache_headers(response)
    return response


def _period_choices() -> dict:
    stored = named_periods()
    return {
        "years": [row for row in stored if len(row[0]) == 4],
        "months": [row for row in stored if len(row[0]) != 4],
    }


def _with_zones_without_requests(by_zone: dict, published) -> dict:
    """The zones in force in the period that no request came from, added with a volume of 0 and no other figure, so
    the chart and the table (what a screen reader reads) both say so."""
    blank = dict.fromkeys(next(iter(by_zone.values()))) | {"volume": 0, "other_kinds": {"volume": 0}}
    return by_zone | {
        key: dict(blank) for key in sorted(zone_keys_in_force(published.start, published.end) - by_zone.keys())
    }


def _month_label(month, published) -> tuple[str, bool]:
    """A month in words in the page's language ("diciembre de 2026", "December 2026"), and whether the period
    covers only some of its days, which the label says too: the month in progress, or the first of the last 365
    days. Its bar would otherwise read as a collapse beside whole months."""
    day = month.astimezone(SANTIAGO).date()
    label = date_format(day, "YEAR_MONTH_FORMAT")
    today = published.as_of.astimezone(SANTIAGO).date()
    if not month_covered_in_part(day, published.start, published.end, today):
        return label, False
    if day <= today < month_start(day, -1):
        return _("%(month)s (en curso)") % {"month": label}, True
    return _("%(month)s (parcial)") % {"month": label}, True


def _indicator_context(published) -> dict:
    results = public_indicators(published.results)
    overall, by_department = results[None].get(None), results["department"]
    by_category, by_zone, by_month = results["category"], results["zone"], results["month"]
    category_names = {c.service_code: c.name for c in Category.objects.public()}
    labels = {month: _month_label(month, published) for month in by_month}
    months = [(labels[month][0], r) for month, r in sorted(by_month.items())]
    partial = frozenset(label for label, is_partial in labels.values() if is_partial)
    # Without crew zones every report is "without zone": the section would say nothing, so it is left out.
    has_zones = any(key is not None for key in by_zone)
    zone_labels, no_zone = zone_names() if has_zones else {}, _("Sin zona asignada")
    zones = _with_zones_without_requests(by_zone, published) if has_zones else {}
    departments, categories = _rows(by_department, {}), _rows(by_category, category_names)
    zone_rows = _rows(zones, zone_labels, no_zone)
    by_kind, by_channel = results["kind"], results["channel"]
    return {
        "kinds": _breakdown_rows(kinds_as_published(by_kind), dict(RequestKind.choices)),
        "channels": _breakdown_rows(by_channel, dict(Channel.choices)),
        "overall": overall,
        "departments": departments,
        "categories": categories,
        "department_chart": _on_time_chart(departments),
        "category_chart": _on_time_chart(categories),
        "zones": zone_rows,
        "zone_chart": _on_time_chart(zone_rows) if has_zones else None,
        "unzoned": has_zones and None in by_zone,
        "month_chart": indicator_chart(months, lambda r: (r["volume"], str(r["volume"])), partial=partial),
        "digital_chart": indicator_chart(
            months, lambda r: (r["digital_share"], _percent(r["digital_share"])), maximum=1, partial=partial
        ),
        "withheld": any(
            r["volume"] is None or r["other_kinds"]["volume"] is None
            for rows in (by_department, by_category, by_zone, by_month, by_kind, by_channel)
            for r in rows.values()
        ),
        "min_count": settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT,
    }


def _map_context(period: str = DEFAULT_PERIOD) -> dict:
    cells_url = reverse("transparency:cells") + ("" if period == DEFAULT_PERIOD else f"?periodo={period}")
    return {
        "map_config": {"tileUrl": settings.GEO_SIAC_TILE_URL, "cellsUrl": cells_url},
        "min_cell_count": settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT,
    }


@public_read
@csp_allow(frame_ancestors=settings.GEO_SIAC_EMBED_FRAME_ANCESTORS)
@require_safe
@xframe_options_exempt
@cache_page(PUBLIC_CACHE_SECONDS)
def embed_map(request):
    """The one page other sites may frame: the municipality's website embeds it."""
    return render(request, "transparency/embed_map.html", _map_context())


CELLS_CACHE_SECONDS = 60


@public_read
@require_safe
@cache_page(CELLS_CACHE_SECONDS)
@gzip_page  # inside the cache, so the compressed body is what is cached (per Accept-Encoding)
@with_period
def cells(request, period):
    """The public map's cells of a period. Their counts are recomputed by one worker at a time
    (db.refreshed_by_one), the others answering with the previous ones meanwhile; the page around them (JSON and
    gzip) is cached for a minute, so the cells shown are at most PUBLIC_CACHE_SECONDS old, plus a minute,
    plus one refresh."""
    return JsonResponse(
        refreshed_by_one(
            f"transparency:cells:{period}",
            lambda: cells_geojson(public_cells(_period_reports(period))),
            PUBLIC_CACHE_SECONDS - CELLS_CACHE_SECONDS,
        )
    )


def _start(published, period: str):
    """The first day the figures cover: the snapshot's own (a stale one's may be an earlier month), else today's."""
    return published.start if published else period_range(period, timezone.now())[0]


@public_read
@require_safe
@cache_page(PUBLIC_CACHE_SECONDS)
def commitments(request):
    month = published_indicators("last_month", ["commune_category"])
    year = published_indicators("last_twelve_months", ["commune_category"])
    # Keyed "<CUT>/<service code>" (selectors.CHARTER_DIMENSIONS): each comuna's table shows its own requests only.
    by_category = {
        period: charter_compliance(published.results["commune_category"]) if published else {}
        for period, published in (("month", month), ("year", year))
    }
    commune = request.identity.commune
    tables = [
        {
            "commune": table_commune,
            "rows": [
                {
                    "commitment": commitment,
                    "month": by_category["month"].get(f"{table_commune.cut}/{commitment.category.service_code}"),
                    "year": by_category["year"].get(f"{table_commune.cut}/{commitment.category.service_code}"),
                }
                for commitment in rows
            ],
        }
        # The chosen comuna's table; on the shared host with none chosen, every served comuna's.
        for table_commune, rows in commune_commitments([commune] if commune else None)
    ]
    published = min(month, year, key=lambda published: published.as_of) if month and year else None
    response = render(
        request,
        "transparency/commitments.html",
        {
            "charter": commitment_charter(commune) if commune else None,
            # The shared host with no comuna chosen links each comuna's own charter (zones.middleware).
            "charters": []
            if commune
            else [(c.name, commune_path(c, "transparency:commitments")) for c in communes_with_charter()],
            "tables": tables,
            "last_month": _start(month, "last_month"),
            "year_start": _start(year, "last_twelve_months"),
            # Stored together by refresh_indicators: the older of the two, should one lag (None: either missing).
            "published": published,
            "reserved": any(
                row[period] and row[period]["reserved"]
                for table in tables
                for row in table["rows"]
                for period in ("month", "year")
            ),
            "min_count": settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT,
        },
    )
    return _until_published(response, published)


@public_read
@require_safe
def open_data(request):
    written_at = {name: published.written_at for name in OPEN_DATA_FILES if (published := open_data_file(name))}
    response = render(
        request,
        "transparency/open_data.html",
        {
            "report_columns": exports.REPORT_COLUMNS,
            "channels": Channel.values,
            "indicator_columns": exports.INDICATOR_COLUMNS,
            "min_cell_count": settings.GEO_SIAC_PUBLIC_MIN_CELL_COUNT,
            "cell_edges": cell_edges(),
            "csv_written_at": written_at.get("solicitudes.csv"),
            "geojson_written_at": written_at.get("solicitudes.geojson"),
        },
    )
    if len(written_at) < len(
        OPEN_DATA_FILES
    ):  # "being prepared": the next visit after the first publish shows the links
        add_never_cache_headers(response)
    return response


def _download(lines, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


OPEN_DATA_RETRY_SECONDS = 3600  # publish_open_data's timer interval (docs/deployment.md)


def _open_data_preparing():
    response = text_error(_("Los datos abiertos se están preparando. Vuelva a intentarlo en una hora."), status=503)
    response["Retry-After"] = str(OPEN_DATA_RETRY_SECONDS)
    add_never_cache_headers(response)
    return response


def _report_file(name: str, content_type: str):
    """The file publish_open_data wrote, served as it is: a million reports take a minute to write, which a download
    must never cost the server (before the first run, a 503 the client may retry, as the indicator exports)."""
    published = open_data_file(name)
    try:
        # Opened, then dated by its open handle: a file removed or replaced after the look is never a 500.
        handle = published.path.open("rb") if published else None
    except FileNotFoundError:
        handle = None
    if handle is None:
        logger.warning("No open-data file %s: answering 503 until publish_open_data writes it (is it scheduled?)", name)
        return _open_data_preparing()
    if published.is_stale:
        logger.warning(
            "The open-data file %s was written at %s: is publish_open_data scheduled?",
            name,
            published.written_at.isoformat(),
        )
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response["Last-Modified"] = http_date(os.fstat(handle.fileno()).st_mtime)
    return response


@public_read
@require_safe
def reports_csv(request):
    return _report_file("solicitudes.csv", "text/csv; charset=utf-8")


@public_read
@require_safe
def reports_geojson(request):
    return _report_file("solicitudes.geojson", "application/geo+json")


def _indicators_file(period: str) -> str:
    return "indicadores.csv" if period == DEFAULT_PERIOD else f"indicadores-{period}.csv"


PREPARING_RETRY_SECONDS = 600  # refresh_indicators' timer interval (docs/deployment.md)


def _preparing() -> HttpResponse:
    """What an export answers before refresh_indicators has stored its period: a 503 the client may retry (not
    cached: cache_page keeps only successful answers)."""
    response = text_error(
        _("Los indicadores aún no están calculados. Se calculan periódicamente: vuelva a intentarlo más tarde."),
        status=503,
    )
    response["Retry-After"] = str(PREPARING_RETRY_SECONDS)
    return response


def _dated(response, published):
    response["Last-Modified"] = http_date(published.as_of.timestamp())
    return response


@public_read
@require_safe
@cache_page(PUBLIC_CACHE_SECONDS)
@with_period
def indicators_csv(request, period):
    published = published_indicators(period, DIMENSIONS)
    if published is None:
        return _preparing()
    response = _download(
        exports.indicators_csv(public_indicators(published.results)),
        "text/csv; charset=utf-8",
        _indicators_file(period),
    )
    return _dated(response, published)


@public_read
@require_safe
@cache_page(PUBLIC_CACHE_SECONDS)
@with_period
def indicators_json(request, period):
    published = published_indicators(period, DIMENSIONS)
    if published is None:
        return _preparing()
    response = JsonResponse(
        {
            "period": period,
            "start": published.start,
            "end": published.end,
            "as_of": published.as_of,
            "stale": published.is_stale,
            "indicators": list(exports.indicator_records(public_indicators(published.results))),
        }
    )
    return _dated(response, published)


@public_read
@require_safe
@cache_page(PUBLIC_CACHE_SECONDS)
def information(request):
    """The Ley 20.285 figures of a year (?anio=YYYY; the latest year with requests, else this one)."""
    years = information_years()
    this_year = timezone.localdate().year
    value = request.GET.get("anio", "")
    if not value:
        year = years[0] if years else this_year
    elif not (len(value) == 4 and value.isdigit()):
        return text_error(
            _("El año debe tener cuatro cifras, por ejemplo 2026, y no «%(value)s».") % {"value": value[:20]}
        )
    elif int(value) not in years and int(value) != this_year:
        return text_error(
            _("No hay solicitudes de acceso a información del año %(year)s.") % {"year": value}, status=404
        )
    else:
        year = int(value)
    figures = public_information_figures(information_figures(year))
    return render(
        request,
        "transparency/information.html",
        {
            "figures": figures,
            "information_lines": information_lines(figures),
            "years": sorted({*years, this_year}, reverse=True),
            "as_of": timezone.now(),
        },
    )


# The executive report is one self-contained HTML document (also saved to files), so its CSS is inline.
@staff_required
@csp_allow(style_src="'unsafe-inline'")
@require_safe
def executive(request):
    """The executive report for staff: ?commune=CUT&month=YYYY-MM, as HTML (with a form to pick both, the staff's
    pages and a PDF link) or with &format=pdf. Without them: the person's first comuna and the last complete month."""
    communes = list(staff_communes(request.user).active().only("pk", "cut", "name").order_by("name"))
    cut = request.GET.get("commune") or (communes[0].cut if communes else None)
    commune = commune_by_cut(cut)
    if commune is None or not may_see_commune(request.user, commune.pk):
        raise Http404
    try:
        month = parse_month(request.GET.get("month") or f"{month_start(timezone.localdate(), 1):%Y-%m}")
    except ValueError as exc:
        return text_error(str(exc))
    report = executive_report(commune=commune, month=month)
    if request.GET.get("format") == "pdf":
        response = HttpResponse(render_pdf(report), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="informe-{commune.cut}-{month:%Y-%m}.pdf"'
        return response
    selected = {"commune": commune.cut, "month": f"{month:%Y-%m}"}
    controls = {
        "communes": communes,
        "selected": selected,
        "pdf_url": f"{reverse('transparency:executive')}?{urlencode({**selected, 'format': 'pdf'})}",
        "pages": [{"url": reverse(name), "label": label} for name, label in staff_pages(request.user)],
    }
    return HttpResponse(render_html(report, controls=controls))
