"""Thin views over the maps selectors and outputs. Everything here is for municipal staff."""

import io
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page

from geo_siac.maps.cell_sizes import cell_edges
from geo_siac.maps.coverage_outputs import (
    cells_csv,
    cells_geojson,
    coverage_legend,
    coverage_map,
    figures,
    named_rows,
)
from geo_siac.maps.forms import CoverageForm, HeatmapFilterForm
from geo_siac.maps.heatmap import csv_columns, feature_collection, map_html, map_png, write_csv
from geo_siac.maps.selectors import (
    cell_table,
    coverage,
    greedy_gap,
    population_sources,
    recommend_sites,
    underserved_cells,
    weekly_counts_by_category,
)
from geo_siac.web.access import staff_required
from geo_siac.web.csp import csp_allow


# folium writes the map as inline <script>/<style> in the iframe's srcdoc, which inherits this page's policy;
# the page is staff-only and the map HTML is built server-side from our own data.
@staff_required
@csp_allow(script_src="'unsafe-inline'", style_src="'unsafe-inline'")
def coverage_page(request):
    form = CoverageForm(request.GET, user=request.user)
    if not request.GET and form.fields["commune"].initial is None:
        # Nothing asked yet, and nothing to ask about: a notice, not a query's errors.
        return render(request, "maps/coverage.html", {"no_communes": True})
    if not form.is_valid():
        return render(request, "maps/coverage.html", {"form": form}, status=400)
    result = coverage(form.cleaned_data["commune"], form.options())
    sites = recommend_sites(result, k=form.cleaned_data["k"])
    optimal = recommend_sites(result, k=form.cleaned_data["k"], method="exact")
    export = request.GET.get("format")
    name = f"cobertura_{result.commune.cut}_res{result.options.res}"
    if export == "csv":
        return _attachment(HttpResponse(cells_csv(result), content_type="text/csv; charset=utf-8"), f"{name}.csv")
    if export == "geojson":
        response = JsonResponse(cells_geojson(result, sites, optimal), content_type="application/geo+json")
        return _attachment(response, f"{name}.geojson")
    site_rows, optimal_rows, underserved_rows = named_rows(sites, optimal, underserved_cells(result, limit=10))
    return render(
        request,
        "maps/coverage.html",
        {
            "form": form,
            "result": result,
            "figures": figures(result),
            "sites": site_rows,
            "optimal": optimal_rows,
            "greedy_total": sites["gain"].sum(),
            "optimal_total": optimal["gain"].sum(),
            "greedy_gap_percent": 100 * greedy_gap(sites, optimal),
            "underserved": underserved_rows,
            "map_html": coverage_map(result, sites, optimal, settings.STATIC_URL),
            "legend": coverage_legend(result),
            "query": _analysis_query(form),
            "population_sources": population_sources([result.commune.cut]),
        },
    )


def _analysis_query(form: CoverageForm) -> str:
    """The analysis shown as a query string, the default one included, for the export links to add a format to."""
    query = form.data.copy()
    query.pop("format", None)
    return query.urlencode()


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def staff_api(view):
    """Like staff_required, but an API answers 403 instead of redirecting to a login page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            return JsonResponse({"detail": _("Solo para funcionarios municipales.")}, status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _valid_form(request):
    form = HeatmapFilterForm(request.GET, user=request.user)
    if form.is_valid():
        return form, None
    return form, JsonResponse({"errors": form.errors}, status=400)


@staff_api
@gzip_page
def h3_geojson(request):
    form, error = _valid_form(request)
    if error:
        return error
    collection = feature_collection(cell_table(form.resolution, form.filters()), form.resolution)
    return JsonResponse(collection, content_type="application/geo+json")


@staff_api
def h3_csv(request):
    form, error = _valid_form(request)
    if error:
        return error
    out = io.StringIO()
    write_csv(cell_table(form.resolution, form.filters()), out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="solicitudes_h3_res{form.resolution}.csv"'
    return response


@staff_api
def weekly_by_category(request):
    form, error = _valid_form(request)
    if error:
        return error
    rows = [{**row, "week": row["week"].date().isoformat()} for row in weekly_counts_by_category(form.filters())]
    return JsonResponse({"weeks": rows})


@staff_required
def heatmap_page(request):
    form = HeatmapFilterForm(request.GET or None, user=request.user)
    valid = not form.is_bound or form.is_valid()
    query = request.GET.urlencode() if form.is_bound and valid else ""
    # The census cited is that of the comunas the map can show: the chosen ones, else all of the viewer's.
    chosen = form.cleaned_data.get("comuna") if form.is_bound and valid else None
    cuts = chosen or [cut for cut, _name in form.fields["comuna"].choices]
    context = {
        "form": form,
        "query": query,
        "cell_edges": cell_edges(),
        "csv_columns": csv_columns(),
        "population_sources": population_sources(cuts),
    }
    return render(request, "maps/heatmap.html", context, status=200 if valid else 400)


def _map_options(form) -> dict:
    return {"scheme": form.classification, "classes": form.class_count, "measure": form.map_measure}


# folium writes its map as inline scripts and styles; the page is staff-only and built from our own data.
@staff_required
@csp_allow(script_src="'unsafe-inline'", style_src="'unsafe-inline'", frame_ancestors="'self'")
def heatmap_html(request):
    form, error = _valid_form(request)
    if error:
        return error
    # Not static(""): the hashed manifest has no entry for the static root (folium names vendor/ files unhashed).
    html = map_html(form.resolution, form.filters(), static_url=settings.STATIC_URL, **_map_options(form))
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    if request.GET.get("descargar"):
        response["Content-Disposition"] = f'attachment; filename="mapa_calor_res{form.resolution}.html"'
    return response


@staff_required
def heatmap_png(request):
    form, error = _valid_form(request)
    if error:
        return error
    png = map_png(form.resolution, form.filters(), **_map_options(form))
    response = HttpResponse(png, content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="mapa_calor_res{form.resolution}.png"'
    return response
