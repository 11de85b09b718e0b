from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from geo_siac.maps.coverage_outputs import cells_csv, cells_geojson, coverage_map, figures
from geo_siac.maps.forms import CoverageForm
from geo_siac.web.csp import csp_allow
from geo_siac.maps.selectors import coverage, recommend_sites, underserved_cells
from geo_siac.zones.models import Commune


# folium writes the map as inline <script>/<style> in the iframe's srcdoc, which inherits this page's policy;
# the page is staff-only and the map HTML is built server-side from our own data.
@staff_member_required
@csp_allow(script_src="'unsafe-inline'", style_src="'unsafe-inline'")
def coverage_page(request):
    form = CoverageForm(request.GET or _defaults())
    if not form.is_valid():
        return render(request, "maps/coverage.html", {"form": form}, status=400 if request.GET else 200)
    result = coverage(form.cleaned_data["commune"], form.options())
    sites = recommend_sites(result, k=form.cleaned_data["k"])
    export = request.GET.get("format")
    name = f"cobertura_{result.commune.cut}_res{result.options.res}"
    if export == "csv":
        return _attachment(HttpResponse(cells_csv(result), content_type="text/csv; charset=utf-8"), f"{name}.csv")
    if export == "geojson":
        response = JsonResponse(cells_geojson(result, sites), content_type="application/geo+json")
        return _attachment(response, f"{name}.geojson")
    return render(request, "maps/coverage.html", {
        "form": form, "result": result, "figures": figures(result), "sites": sites,
        "underserved": underserved_cells(result, limit=10),
        "map_html": coverage_map(result, sites, settings.STATIC_URL),
        "query": request.GET.urlencode() if request.GET else "",
    })


def _defaults() -> dict | None:
    commune = Commune.objects.active().order_by("cut").first()
    initial = {name: field.initial for name, field in CoverageForm.base_fields.items() if field.initial is not None}
    return {**initial, "commune": commune.cut} if commune else None


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
