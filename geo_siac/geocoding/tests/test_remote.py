"""The optional remote geocoder, against a real Nominatim-like HTTP server on loopback started by the test."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.gis.geos import Point
from django.utils import translation

from geo_siac.geocoding.models import EntryKind
from geo_siac.geocoding.selectors import geocode_reverse, geocode_search
from geo_siac.geocoding.services import Entry, gazetteer_load

IN_PUENTE_ALTO = {"lat": "-33.6117", "lon": "-70.5758"}
IN_SANTIAGO_CENTRE = {"lat": "-33.4372", "lon": "-70.6506"}


class Nominatim(BaseHTTPRequestHandler):
    """Answers /search and /reverse as Nominatim's jsonv2 does; `delay` makes it slow, `status` makes it fail."""

    delay = 0.0
    status = 200
    requests: list[dict] = []

    def do_GET(self):
        url = urlparse(self.path)
        Nominatim.requests.append({"path": url.path, **{k: v[0] for k, v in parse_qs(url.query).items()}})
        time.sleep(self.delay)
        if url.path == "/search":
            body = [
                {**IN_SANTIAGO_CENTRE, "name": "Plaza de Armas", "category": "place", "importance": 0.9},
                {
                    **IN_PUENTE_ALTO,
                    "category": "building",
                    "importance": 0.5,
                    "display_name": "x",
                    "address": {"road": "Avenida Concha y Toro", "house_number": "1820"},
                },
                {**IN_PUENTE_ALTO, "name": "Avenida Concha y Toro", "category": "highway", "importance": 0.4},
            ]
        else:
            body = {
                **IN_PUENTE_ALTO,
                "display_name": "Plaza de Puente Alto, Puente Alto, Chile",
                "address": {"road": "José Luis Coo", "house_number": "1"},
            }
        payload = json.dumps(body).encode()
        try:
            self.send_response(self.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)

    def log_message(self, *args):
        pass


@pytest.fixture
def nominatim(settings, communes):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Nominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Nominatim.delay, Nominatim.status, Nominatim.requests = 0.0, 200, []
    settings.GEO_SIAC_GEOCODER_URL = f"http://127.0.0.1:{server.server_port}/"
    settings.GEO_SIAC_GEOCODER_TIMEOUT_SECONDS = 0.5
    gazetteer_load(
        source="prueba",
        commit=True,
        entries=[Entry(EntryKind.ADDRESS, "Av. Concha y Toro 1820", -70.58450, -33.59830, "a1", number=1820)],
    )
    yield Nominatim
    server.shutdown()
    server.server_close()


def test_a_configured_remote_geocoder_answers_with_its_places_in_the_served_comunas(nominatim):
    places = geocode_search("concha y toro 1820", limit=5)
    assert [(p.label, p.kind, p.commune_name) for p in places] == [
        ("Avenida Concha y Toro 1820", "address", "Puente Alto"),
        ("Avenida Concha y Toro", "street", "Puente Alto"),
    ]
    assert nominatim.requests[0] == {
        "path": "/search",
        "q": "concha y toro 1820",
        "format": "jsonv2",
        "addressdetails": "1",
        "limit": "5",
        "countrycodes": "cl",
    }


def test_a_remote_geocoder_slower_than_the_timeout_is_answered_by_the_gazetteer(nominatim):
    nominatim.delay = 2.0
    started = time.monotonic()
    places = geocode_search("concha y toro 1820")
    assert time.monotonic() - started < 1.5
    assert [p.label for p in places] == ["Av. Concha y Toro 1820"]
    assert nominatim.requests  # it was asked


def test_a_failing_remote_geocoder_is_answered_by_the_gazetteer(nominatim):
    nominatim.status = 500
    assert [p.label for p in geocode_search("concha y toro 1820")] == ["Av. Concha y Toro 1820"]
    assert geocode_reverse(Point(-70.58452, -33.59832, srid=4326)).label == "Av. Concha y Toro 1820"


def test_a_remote_reverse_describes_the_pin(nominatim):
    place = geocode_reverse(Point(-70.5758, -33.6117, srid=4326))
    with translation.override("es-cl"):
        assert place.description == "cerca de José Luis Coo 1"
    assert nominatim.requests[0]["path"] == "/reverse"


def test_without_a_configured_url_the_remote_is_never_asked(nominatim, settings):
    settings.GEO_SIAC_GEOCODER_URL = ""
    assert [p.label for p in geocode_search("concha y toro 1820")] == ["Av. Concha y Toro 1820"]
    assert nominatim.requests == []


def test_filing_a_report_never_sends_its_point_to_the_remote_geocoder(nominatim, make_report):
    """The address a report filed without one gets ("cerca de ...") comes from the local gazetteer: a remote
    geocoder would receive every report's exact point, a non-public one's too, and make filing wait for it."""
    report = make_report(point=(-33.59830, -70.58450), address="")
    assert report.address == "cerca de Av. Concha y Toro 1820"
    assert nominatim.requests == []
