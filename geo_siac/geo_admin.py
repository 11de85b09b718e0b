"""GeoDjango admin whose map widget loads OpenLayers from our static files, not a CDN."""

from django.conf import settings
from django.contrib.gis import admin
from django.contrib.gis.forms.widgets import OSMWidget

OL = "vendor/ol/7.2.2/"


class LocalOSMWidget(OSMWidget):
    template_name = "gis/geo_siac_openlayers.html"
    default_lon = -70.58  # Puente Alto / Peñalolén
    default_lat = -33.55
    default_zoom = 11

    class Media:
        extend = False  # replace, not add to, the parent's CDN references
        css = {"all": (OL + "ol.css", "gis/css/ol3.css")}
        js = (OL + "ol.js", "gis/js/OLMapWidget.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["tile_url"] = settings.GEO_SIAC_TILE_URL
        return context


class GeoAdmin(admin.GISModelAdmin):
    gis_widget = LocalOSMWidget
