from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from geo_siac.geocoding.api import GeocodePlacesView, GeocodeReverseView, GeocodeSearchView
from geo_siac.reports.api import CategoryViewSet, ReportViewSet

router = DefaultRouter()
router.register("reports", ReportViewSet, basename="report")
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file, and api/swagger_ui.html its styles: no inline code to allow.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    path("geocode/", GeocodeSearchView.as_view(), name="geocode-search"),
    path("geocode/reverse/", GeocodeReverseView.as_view(), name="geocode-reverse"),
    path("geocode/places/", GeocodePlacesView.as_view(), name="geocode-places"),
    path("", include(router.urls)),
]
