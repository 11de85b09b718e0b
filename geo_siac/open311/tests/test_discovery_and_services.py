import os
import subprocess
import sys

import pytest

from geo_siac.open311.tests.contract import ATTRIBUTE_FIELDS, SERVICE_FIELDS, assert_fields, get, items

FORMATS = ["xml", "json"]
KEY_SERVICE_EN = "Ask the OIRS of Puente Alto for an api_key: oirs@example.cl"


def test_the_english_key_service_is_empty_unless_set_so_english_clients_never_read_a_placeholder():
    script = "from geo_siac import settings; print(repr(settings.GEO_SIAC_OPEN311_KEY_SERVICE_EN))"
    environment = {name: value for name, value in os.environ.items() if name != "GEO_SIAC_OPEN311_KEY_SERVICE_EN"}
    result = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "''"


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_lists_the_endpoint_with_specification_url_type_and_formats(client, communes, fmt):
    response, body = get(client, "discovery", fmt)
    assert response.status_code == 200
    if fmt == "xml":
        tag, body = body
        assert tag == "discovery"
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(body)
    (endpoint,) = body["endpoints"] if isinstance(body["endpoints"], list) else [body["endpoints"]["endpoint"]]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("accept_language", "setting"),
    [
        (None, "GEO_SIAC_OPEN311_KEY_SERVICE"),
        ("es-CL,es;q=0.9", "GEO_SIAC_OPEN311_KEY_SERVICE"),
        ("en-US,en;q=0.9", "GEO_SIAC_OPEN311_KEY_SERVICE_EN"),
        ("fr-FR", "GEO_SIAC_OPEN311_KEY_SERVICE"),
    ],
)
def test_discovery_says_how_to_get_a_key_in_the_clients_language_spanish_by_default(
    client, communes, settings, fmt, accept_language, setting
):
    settings.GEO_SIAC_OPEN311_KEY_SERVICE_EN = KEY_SERVICE_EN
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}
    response = client.get(f"/open311/v2/discovery.{fmt}", **headers)
    body = get(client, "discovery", fmt)[1] if not accept_language else None
    text = response.content.decode()
    assert response.status_code == 200 and getattr(settings, setting) in text
    assert "Accept-Language" in response["Vary"]
    if body is not None:
        assert (body[1] if fmt == "xml" else body)["key_service"] == settings.GEO_SIAC_OPEN311_KEY_SERVICE


def test_discovery_in_english_falls_back_to_spanish_without_an_english_text(client, communes, settings):
    settings.GEO_SIAC_OPEN311_KEY_SERVICE_EN = ""
    body = client.get("/open311/v2/discovery.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["key_service"] == settings.GEO_SIAC_OPEN311_KEY_SERVICE


def test_xml_is_the_default_format_without_a_suffix(client, communes):
    response = client.get("/open311/v2/services")
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_lists_public_categories_with_every_field(client, communes, fmt):
    response, body = get(client, "services", fmt)
    services = items(body, fmt, "services", "service")
    assert response.status_code == 200
    codes = {service["service_code"] for service in services}
    assert {"retiro-escombros", "poda-arboles"} <= codes
    for service in services:
        assert_fields(service, SERVICE_FIELDS, fmt)
    poda = next(s for s in services if s["service_code"] == "poda-arboles")
    assert poda["metadata"] in (True, "true") and poda["type"] == "realtime"
    assert poda["service_name"] == "Poda de árboles"


def test_services_hide_non_public_categories(client, communes):
    from geo_siac.catalogue.models import Category

    Category.objects.filter(service_code="grafiti").update(is_public=False)
    _response, body = get(client, "services", "json")
    assert "grafiti" not in {service["service_code"] for service in body}


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_lists_attributes_with_values(client, communes, fmt):
    response, body = get(client, "services/poda-arboles", fmt)
    assert response.status_code == 200
    if fmt == "xml":
        tag, body = body
        assert tag == "service_definition"
    assert body["service_code"] == "poda-arboles"
    (attribute,) = body["attributes"]
    assert_fields(attribute, ATTRIBUTE_FIELDS, fmt)
    assert attribute["code"] == "riesgo" and attribute["datatype"] == "singlevaluelist"
    assert attribute["required"] in (True, "true")
    assert attribute["values"] == [{"key": "si", "name": "Sí"}, {"key": "no", "name": "No"}]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_is_404_with_the_error_list(client, communes, fmt):
    response, body = get(client, "services/no-existe", fmt)
    assert response.status_code == 404
    (error,) = items(body, fmt, "errors", "error")
    assert str(error["code"]) == "404" and "no-existe" in error["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_jurisdiction_is_400(client, communes, fmt):
    response, body = get(client, "services", fmt, jurisdiction_id="atlantida")
    assert response.status_code == 400
    (error,) = items(body, fmt, "errors", "error")
    assert str(error["code"]) == "400" and error["description"].startswith("jurisdiction_id")


def test_services_accept_a_served_jurisdiction(client, communes):
    response, _body = get(client, "services", "json", jurisdiction_id=communes["13201"].jurisdiction_id)
    assert response.status_code == 200


def test_service_names_follow_accept_language_spanish_first(client, communes):
    spanish = client.get("/open311/v2/services.json").json()
    english = client.get("/open311/v2/services.json", HTTP_ACCEPT_LANGUAGE="en").json()
    assert "Retiro de escombros" in {s["service_name"] for s in spanish}
    assert "Debris removal" in {s["service_name"] for s in english}
    error = client.get("/open311/v2/services/no-existe.json").json()[0]
    assert error["description"].startswith("Servicio desconocido")


ACCEPT_HEADERS = [
    None,
    "*/*",
    " */* ",
    "",
    "application/json",
    "text/xml",
    "text/html",
    "application/json; indent=4",
    "text/xml;q=0.5, application/json",
    "*/*;q=0.8",
    "application/*",
]
ACCEPT_PATHS = [
    "/open311/v2/services",
    "/open311/v2/services.json",
    "/open311/v2/services.xml",
    "/open311/v2/services?format=json",
    "/open311/v2/services.yaml",
    "/open311/v2/requests/abc",
]


def test_every_accept_header_gets_the_answer_drf_negotiation_gives(client, communes, monkeypatch):
    """Open311ContentNegotiation answers */* (or no Accept header) at once: the status, type and body must be what
    DRF's own negotiation gives, for every Accept header and format."""
    from rest_framework.negotiation import DefaultContentNegotiation

    from geo_siac.open311.views import Open311View

    def answers():
        found = {}
        for accept in ACCEPT_HEADERS:
            for path in ACCEPT_PATHS:
                headers = {} if accept is None else {"HTTP_ACCEPT": accept}
                response = client.get(path, **headers)
                found[accept, path] = (response.status_code, response.get("Content-Type"), response.content)
        return found

    ours = answers()
    monkeypatch.setattr(Open311View, "content_negotiation_class", DefaultContentNegotiation)
    assert answers() == ours
    assert ours[None, "/open311/v2/services"][1] == "text/xml; charset=utf-8"
    assert ours["*/*", "/open311/v2/services.json"][1] == "application/json; charset=utf-8"
    assert ours["application/json; indent=4", "/open311/v2/services.json"][2].startswith(b"[\n    {")


@pytest.mark.parametrize(
    ("language", "heading", "docs", "key_lang", "key_setting"),
    [
        ("es-cl", "interfaz para aplicaciones", "Documentación de la API", "es", "GEO_SIAC_OPEN311_KEY_SERVICE"),
        ("en", "the interface for applications", "API documentation", "en", "GEO_SIAC_OPEN311_KEY_SERVICE_EN"),
    ],
)
def test_the_open311_root_points_developers_to_the_discovery_and_the_api_docs(
    client, communes, settings, language, heading, docs, key_lang, key_setting
):
    settings.GEO_SIAC_OPEN311_KEY_SERVICE_EN = KEY_SERVICE_EN
    for url in ("/open311/", "/open311"):
        response = client.get(url, follow=True, HTTP_ACCEPT_LANGUAGE=language)
        page = response.content.decode()
        assert response.status_code == 200 and heading in page
        assert '<a href="/open311/v2/discovery.json">' in page and f'<a href="/api/docs/">{docs}</a>' in page
        # The key service's text is the municipality's, in the page's language and marked so; no target, no rel.
        key_service = getattr(settings, key_setting)
        assert f'<span lang="{key_lang}">{key_service}</span>' in page and "noopener" not in page
    assert client.get("/open311/v2/discovery.json").status_code == 200
