from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from geo_siac.geocoding.api import GeocodePlacesView, GeocodeReverseView, GeocodeSearchView
from geo_siac.reports.api import CategoryViewSet, ReportViewSet
from geo_siac.web.csp import csp_allow

router = DefaultRouter()
router.register("reports", ReportViewSet, basename="report")
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # drf-spectacular's Swagger template carries an inline <style> block; the split view serves its script as a file.
    path(
        "docs/",
        csp_allow(style_src="'unsafe-inline'")(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="docs",
    ),
    path("geocode/", GeocodeSearchView.as_view(), name="geocode-search"),
    path("geocode/reverse/", GeocodeReverseView.as_view(), name="geocode-reverse"),
    path("geocode/places/", GeocodePlacesView.as_view(), name="geocode-places"),
    path("", include(router.urls)),
]
