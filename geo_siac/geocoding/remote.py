"""The optional remote geocoder: a Nominatim server (its /search and /reverse JSON), behind the same answers as the
local gazetteer. Used only when GEO_SIAC_GEOCODER_URL is set; the selectors fall back to the gazetteer when it
fails or is slower than GEO_SIAC_GEOCODER_TIMEOUT_SECONDS. Photon serves the same API through its Nominatim
compatibility layer."""

import json
import urllib.request
from collections.abc import Iterable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.gis.geos import Point

from geo_siac.geo import STORAGE_SRID
from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.places import Place
from geo_siac.zones.models import Commune


class RemoteGeocoderError(Exception):
    """The remote geocoder did not answer in time, or answered something that is not Nominatim's JSON."""


class NominatimGeocoder:
    def __init__(self, base_url: str, timeout_seconds: float):
        self.base_url = base_url.rstrip("/")
        self.timeout_seconds = timeout_seconds

    def search(self, q: str, *, communes: Iterable[str] | None = None, limit: int = 10) -> list[Place]:
        found = self.get(
            "search", {"q": q, "format": "jsonv2", "addressdetails": 1, "limit": limit, "countrycodes": "cl"}
        )
        if not isinstance(found, list):
            raise RemoteGeocoderError(f"/search answered {type(found).__name__}, not a list")
        places = [self.place(item, communes) for item in found]
        return [place for place in places if place is not None]

    def reverse(self, point: Point) -> Place | None:
        found = self.get("reverse", {"lat": point.y, "lon": point.x, "format": "jsonv2", "addressdetails": 1})
        if not isinstance(found, dict):
            raise RemoteGeocoderError(f"/reverse answered {type(found).__name__}, not an object")
        return None if "error" in found else self.place(found, None)

    def get(self, endpoint: str, params: dict):
        headers = {"User-Agent": f"GeoSIAC ({settings.SITE_URL})", "Accept": "application/json"}
        request = urllib.request.Request(f"{self.base_url}/{endpoint}?{urlencode(params)}", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                return json.loads(response.read())
        except (OSError, ValueError) as exc:  # URLError, HTTPError and timeouts are OSErrors; bad JSON a ValueError
            raise RemoteGeocoderError(f"{self.base_url}/{endpoint}: {exc}") from exc

    def place(self, item: dict, communes: Iterable[str] | None) -> Place | None:
        """The answer as a Place in a served comuna (of `communes` when given), or None when it lies outside."""
        try:
            point = Point(float(item["lon"]), float(item["lat"]), srid=STORAGE_SRID)
        except (KeyError, TypeError, ValueError) as exc:
            raise RemoteGeocoderError(f"an answer without coordinates: {exc}") from exc
        served = Commune.objects.active().covering(point)
        if communes is not None:
            served = served.filter(cut__in=list(communes))
        commune = served.defer("geometry").order_by("cut").first()
        if commune is None:
            return None
        address = item.get("address") or {}
        road, number = address.get("road"), address.get("house_number")
        if road and number:
            label, kind = f"{road} {number}", EntryKind.ADDRESS
        else:
            label = item.get("name") or str(item.get("display_name", "")).split(",")[0]
            kind = EntryKind.STREET if item.get("category") == "highway" else EntryKind.PLACE
        return Place(
            label, str(kind), point.x, point.y, commune.cut, commune.name, score=float(item.get("importance") or 0)
        )


def remote_geocoder() -> NominatimGeocoder | None:
    url = settings.GEO_SIAC_GEOCODER_URL
    return NominatimGeocoder(url, settings.GEO_SIAC_GEOCODER_TIMEOUT_SECONDS) if url else None
