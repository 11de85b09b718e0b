"""GeoDjango admin whose map widget loads OpenLayers from our static files, not a CDN, and whose geometry fields
refuse what cannot be stored: coordinates outside their reference system, unknown SRIDs, Z, empty or invalid
shapes.

GDAL 3.6 aborts the whole process (stack smashing) when it reprojects coordinates of 1e20 or more, and it wraps
metres beyond the edge of the world into plausible longitudes, so coordinates are checked against the reference
system's area of use before Django reprojects them (in the field, and again when the widget redraws a refused
value)."""

from functools import lru_cache

import numpy as np
import pyproj
import shapely
from django.conf import settings
from django.contrib.gis import admin, forms
from django.contrib.gis.db import models
from django.contrib.gis.forms.widgets import OSMWidget
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from geo_siac.web.admin_site import NeutralMessagesAdmin

OL = "vendor/ol/7.2.2/"


@lru_cache(maxsize=64)
def srid_bounds(srid: int) -> tuple[float, float, float, float] | None:
    """West, south, east, north of an SRID's area of use in its own units; None for an SRID PROJ does not know."""
    try:
        crs = pyproj.CRS.from_epsg(srid)
    except pyproj.exceptions.CRSError:
        return None
    if crs.is_geographic:
        return (-180.0, -90.0, 180.0, 90.0)
    area = crs.area_of_use
    if area is None:
        return None
    to_crs = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    return to_crs.transform_bounds(*area.bounds, densify_pts=21)


def coordinates_problem(geometry) -> str | None:
    """Why a geometry must not reach GDAL's reprojection, or None."""
    bounds = srid_bounds(geometry.srid)
    if bounds is None:
        return _("Sistema de referencia desconocido (SRID %(srid)s).") % {"srid": geometry.srid}
    try:
        wkb = bytes(geometry.wkb)
    except ValueError:  # GEOS writes no WKB for a point it holds as empty, such as one with a NaN coordinate
        return _("Hay coordenadas no numéricas o infinitas.")
    xy = shapely.get_coordinates(shapely.from_wkb(wkb))
    if not np.isfinite(xy).all():
        return _("Hay coordenadas no numéricas o infinitas.")
    west, south, east, north = bounds
    if ((xy[:, 0] < west) | (xy[:, 0] > east) | (xy[:, 1] < south) | (xy[:, 1] > north)).any():
        return _("Hay coordenadas fuera del área de uso de su sistema de referencia (SRID %(srid)s).") % {
            "srid": geometry.srid
        }
    return None


class LocalOSMWidget(OSMWidget):
    template_name = "gis/geo_siac_openlayers.html"
    default_lon = -70.58  # Puente Alto / Peñalolén
    default_lat = -33.55
    default_zoom = 11

    class Media:
        extend = False  # replace, not add to, the parent's CDN references
        css = {"all": (OL + "ol.css", "gis/css/ol3.css")}
        js = (OL + "ol.js", "gis/js/OLMapWidget.js")

    def deserialize(self, value):
        """Django's parsing, but a geometry GDAL cannot reproject safely comes back as None (an empty map)."""
        geometry = super().deserialize(value)
        if geometry is not None:
            geometry.srid = geometry.srid or self.map_srid
            if coordinates_problem(geometry):
                return None
        return geometry

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["tile_url"] = settings.GEO_SIAC_TILE_URL
        return context


class CommunePointWidget(LocalOSMWidget):
    """A point's map with comuna outlines (`outlines()`, GeoJSON in EPSG:4326, each feature's `id` a Commune pk) over
    the base layer, which an intranet without a tile server leaves blank, and the pin tied to the form's `latitude`
    and `longitude` fields (static/geo_siac/admin_point_map.js)."""

    template_name = "gis/geo_siac_point_map.html"

    @staticmethod
    def outlines() -> dict:
        return {"type": "FeatureCollection", "features": []}

    class Media:
        extend = False
        css = {"all": (OL + "ol.css", "gis/css/ol3.css")}
        js = (OL + "ol.js", "gis/js/OLMapWidget.js", "geo_siac/admin_point_map.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["outlines"] = self.outlines()  # read when drawn only, not on every POST
        context["outlines_id"] = f"{context['id']}_outlines"
        return context


class CheckedGeometryField(forms.GeometryField):
    default_error_messages = {
        "invalid_geom": _(
            "Geometría ilegible, o con coordenadas no numéricas, infinitas o fuera del área de uso de "
            "su sistema de referencia (o un SRID desconocido)."
        ),
    }

    def clean(self, value):
        geometry = super().clean(value)
        if geometry is None:
            return None
        if geometry.empty:
            raise ValidationError(_("La geometría está vacía."), code="empty_geom")
        if geometry.hasz:
            raise ValidationError(_("La geometría tiene coordenada Z; use solo longitud y latitud."), code="z_geom")
        if not geometry.valid:
            raise ValidationError(
                _("Geometría inválida: %(reason)s. Corríjala, o cárguela con su comando de importación, que la repara.")
                % {"reason": geometry.valid_reason},
                code="invalid_geom",
            )
        return geometry


class GeoAdmin(NeutralMessagesAdmin, admin.GISModelAdmin):
    gis_widget = LocalOSMWidget

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.GeometryField):
            kwargs["form_class"] = CheckedGeometryField
        return super().formfield_for_dbfield(db_field, request, **kwargs)
