"""GET /api/geocode/?q= and GET /api/geocode/reverse/?lat=&lon=: GeoJSON answers of geocode_search and
geocode_reverse, limited per client (geo_siac.web.ratelimit)."""

import math

from django.conf import settings
from django.contrib.gis.geos import Point
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from geo_siac.geo import STORAGE_SRID
from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.places import Place, Precision
from geo_siac.geocoding.selectors import MAX_LIMIT, MAX_QUERY_LENGTH, gazetteer_in_box, geocode_reverse, geocode_search
from geo_siac.web.ratelimit import client_key, count_attempt


class SearchParams(serializers.Serializer):
    q = serializers.CharField(
        max_length=MAX_QUERY_LENGTH,
        trim_whitespace=True,
        help_text="Lo que se busca: una dirección, «calle con calle», un lugar.",
    )
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=10)
    comuna = serializers.RegexField(r"^\d{5}$", required=False, help_text="Código CUT de una comuna atendida.")


class ReverseParams(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lon = serializers.FloatField(min_value=-180, max_value=180)

    def validate(self, attrs):
        if not all(math.isfinite(value) for value in attrs.values()):
            raise serializers.ValidationError("lat y lon deben ser números finitos.")
        return attrs


# A map asks for names only once zoomed in to a few streets (Leaflet's zoom 15 is 0.017 degrees across a phone,
# 0.056 across a 1280-pixel screen): a wider box names too many places to read, and a whole comuna per request.
MAX_BOX_DEGREES = 0.08
MAX_PLACES = 200


class BoxParams(serializers.Serializer):
    bbox = serializers.CharField(help_text="oeste,sur,este,norte en grados, a lo más 0,08° por lado.")

    def validate_bbox(self, value):
        try:
            west, south, east, north = (float(part) for part in value.split(","))
        except ValueError:
            raise serializers.ValidationError("Se esperaban cuatro números: oeste,sur,este,norte.") from None
        if not all(math.isfinite(v) for v in (west, south, east, north)):
            raise serializers.ValidationError("Los cuatro números deben ser finitos.")
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise serializers.ValidationError("Caja fuera de rango o invertida.")
        if east - west > MAX_BOX_DEGREES or north - south > MAX_BOX_DEGREES:
            raise serializers.ValidationError(f"La caja mide más de {MAX_BOX_DEGREES}° por lado; acerque el mapa.")
        return {"west": west, "south": south, "east": east, "north": north}


FEATURE = {
    "type": "object",
    "required": ["type", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["Point"]},
                "coordinates": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
            },
        },
        "properties": {
            "type": "object",
            "required": ["label", "kind", "comuna", "cut"],
            "properties": {
                "label": {"type": "string"},
                "kind": {"type": "string", "enum": list(EntryKind.values)},
                "comuna": {"type": "string"},
                "cut": {"type": "string"},
                "description": {"type": "string", "description": "Solo en reverse: «cerca de …»."},
                "distance_m": {"type": "number", "description": "Solo en reverse: distancia al punto pedido."},
                "precision": {
                    "type": "string",
                    "enum": list(Precision.values),
                    "description": "Solo para un número de casa que no está en el nomenclátor: number_approximate, "
                    "una dirección ubicada por los números conocidos de la calle; number_unknown, la calle misma "
                    "(kind street) en su punto, sin el número escrito en label, cuando ningún número conocido está "
                    "cerca.",
                },
            },
        },
    },
}
FEATURE_COLLECTION = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": FEATURE},
    },
}
ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Parámetros inválidos, con el motivo por parámetro."),
    429: OpenApiResponse(OpenApiTypes.OBJECT, description="Demasiadas consultas de este cliente; ver Retry-After."),
}


def feature(place: Place, *, reverse: bool = False) -> dict:
    properties = {"label": place.label, "kind": place.kind, "comuna": place.commune_name, "cut": place.commune_cut}
    if place.precision:
        properties["precision"] = place.precision
    if reverse:
        properties["description"] = place.description
        if place.distance_m is not None:
            properties["distance_m"] = round(place.distance_m, 1)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [place.longitude, place.latitude]},
        "properties": properties,
    }


def collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def lookups_exceeded(request) -> bool:
    """Counts this client's lookup of a place (search, reverse, names on the map, reports near the pin: one budget
    for the place step) and says whether it went past the limit."""
    window = settings.GEO_SIAC_GEOCODE_WINDOW_SECONDS
    return count_attempt(f"geocode:{client_key(request)}", window) > settings.GEO_SIAC_GEOCODE_REQUESTS_PER_WINDOW


class GeocodeView(APIView):
    authentication_classes = []
    permission_classes = []

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if lookups_exceeded(request):
            raise Throttled(
                wait=settings.GEO_SIAC_GEOCODE_WINDOW_SECONDS,
                detail="Demasiadas búsquedas desde esta dirección; espere un momento.",
            )

    def params(self, serializer_class, request) -> dict:
        params = serializer_class(data=request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data


class GeocodeSearchView(GeocodeView):
    @extend_schema(
        operation_id="geocode_search",
        summary="Buscar una dirección, una esquina o un lugar",
        description="Direcciones, calles, esquinas («Concha y Toro con Eyzaguirre») y lugares de las comunas "
        "atendidas, el mejor primero. Limitado por cliente.",
        parameters=[SearchParams],
        responses={200: OpenApiResponse(FEATURE_COLLECTION, description="GeoJSON FeatureCollection"), **ERRORS},
        tags=["geocode"],
    )
    def get(self, request):
        params = self.params(SearchParams, request)
        communes = [params["comuna"]] if "comuna" in params else None
        places = geocode_search(params["q"], communes=communes, limit=params["limit"])
        return Response(collection([feature(place) for place in places]))


class GeocodeReverseView(GeocodeView):
    @extend_schema(
        operation_id="geocode_reverse",
        summary="Describir un punto («cerca de …»)",
        description="La esquina, dirección o lugar más cercano al punto dentro de las comunas atendidas, como "
        "FeatureCollection de cero o un elemento. Limitado por cliente.",
        parameters=[ReverseParams],
        responses={200: OpenApiResponse(FEATURE_COLLECTION, description="GeoJSON FeatureCollection"), **ERRORS},
        tags=["geocode"],
    )
    def get(self, request):
        params = self.params(ReverseParams, request)
        place = geocode_reverse(Point(params["lon"], params["lat"], srid=STORAGE_SRID))
        features = [] if place is None else [feature(place, reverse=True)]
        return Response(collection(features), status=status.HTTP_200_OK)


class GeocodePlacesView(GeocodeView):
    @extend_schema(
        operation_id="geocode_places",
        summary="Lugares con nombre y calles en una caja (un mapa sin teselas)",
        description="Los lugares con nombre y las calles (cada una en un punto) de las comunas atendidas dentro de "
        f"la caja, los lugares primero, a lo más {MAX_PLACES}. Lo que el mapa muestra cuando no llegan "
        "las teselas. Limitado por cliente, con las búsquedas.",
        parameters=[BoxParams],
        responses={200: OpenApiResponse(FEATURE_COLLECTION, description="GeoJSON FeatureCollection"), **ERRORS},
        tags=["geocode"],
    )
    def get(self, request):
        box = self.params(BoxParams, request)["bbox"]
        return Response(collection([feature(place) for place in gazetteer_in_box(**box, limit=MAX_PLACES)]))
