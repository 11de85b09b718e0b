"""The OpenAPI document, its docs page, and a bounded fuzz run against every operation it describes."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from geo_siac.open311.services import api_key_create
from geo_siac.testing import PUENTE_ALTO_CENTRE

CDN = re.compile(r"""(?:src|href)=["']https?://""")
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WORDS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "\x00",
            "a\x00b",
            "true",
            "open,closed",
            "retiro-escombros",
            "1",
            "-1",
            "0",
            "1001",
            "nan",
            "1e400",
            "-70.6,-33.7,-70.5,-33.5",
            "2026-01-01",
            "2026-01-01T00:00:00-03:00",
            "9999-12-31",
        ]
    ),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@pytest.fixture
def schema(client, communes):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(document: dict, method: str) -> list[tuple[str, dict]]:
    return [(path, item[method]) for path, item in sorted(document["paths"].items()) if method in item]


def response_schema(document: dict, operation: dict, status: int) -> dict | None:
    content = operation["responses"].get(str(status), {}).get("content", {})
    body = content.get("application/json", {}).get("schema")
    return None if body is None else as_json_schema({**body, "components": document["components"]})


def as_json_schema(node):
    """OpenAPI 3.0's `nullable: true` is JSON Schema's `type: [..., "null"]`."""
    if isinstance(node, list):
        return [as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: as_json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and "type" in node:
        converted["type"] = [node["type"], "null"]
    return converted


def assert_matches_its_schema(document: dict, operation: dict, response) -> None:
    """JSON bodies against their schema; XML (the Open311 default, e.g. for ?format=xml) must at least parse."""
    assert response.status_code < 500, response.content
    if response["Content-Type"].startswith("text/xml"):
        ET.fromstring(response.content)
        return
    expected = response_schema(document, operation, response.status_code)
    if expected is not None:
        Draft202012Validator(expected).validate(response.json())


def test_schema_describes_the_geojson_api_and_every_open311_endpoint(schema):
    assert schema["openapi"].startswith("3.0")
    assert {
        "/api/reports/",
        "/api/categories/",
        "/open311/v2/discovery",
        "/open311/v2/services",
        "/open311/v2/services/{service_code}",
        "/open311/v2/requests",
        "/open311/v2/requests/{service_request_id}",
        "/open311/v2/tokens/{token}",
    } <= set(schema["paths"])


def test_open311_post_offers_media_as_a_file_upload_and_media_url_as_a_link(schema):
    content = schema["paths"]["/open311/v2/requests"]["post"]["requestBody"]["content"]

    def form(media_type):
        name = content[media_type]["schema"]["$ref"].rsplit("/", 1)[1]
        return schema["components"]["schemas"][name]["properties"]

    multipart, urlencoded = form("multipart/form-data"), form("application/x-www-form-urlencoded")
    assert (multipart["media"]["type"], multipart["media"]["format"]) == ("string", "binary")
    assert "media" not in urlencoded  # a file cannot travel form-encoded
    for fields in (multipart, urlencoded):
        assert fields["media_url"]["format"] == "uri"
        assert all(fields[name].get("description") for name in ("api_key", "jurisdiction_id", "lat", "long"))


def test_docs_page_loads_swagger_ui_from_local_static_files(client, communes):
    body = client.get("/api/docs/").content.decode()
    assert "/static/vendor/swagger-ui-dist/5.35.0/swagger-ui-bundle.js" in body
    assert "/static/vendor/swagger-ui-dist/5.35.0/favicon-32x32.png" in body
    assert not CDN.search(body) and "cdn.jsdelivr" not in body


def test_docs_page_needs_no_inline_style(client, communes):
    response = client.get("/api/docs/")
    body = response.content.decode()
    assert "<style" not in body and "/static/geo_siac/api_docs.css" in body
    # The template overrides drf-spectacular's block head: Swagger UI's own stylesheet must still be linked.
    assert '<link rel="stylesheet" href="/static/vendor/swagger-ui-dist/5.35.0/swagger-ui.css">' in body
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


@pytest.mark.django_db(transaction=False)
def test_fuzzed_get_requests_never_fail_and_match_their_schema(client, schema, make_report):
    make_report(public_visibility=True)
    make_report()
    gets = operations(schema, "get")

    @FUZZ
    @given(data=st.data())
    def run(data):
        path, operation = data.draw(st.sampled_from(gets))
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        query = data.draw(st.dictionaries(st.sampled_from(names), WORDS, max_size=4)) if names else {}
        url = re.sub(r"\{[^}]+\}", lambda _m: data.draw(st.sampled_from(["1", "poda-arboles", "x", "%20", "é"])), path)
        assert_matches_its_schema(schema, operation, client.get(url, query, HTTP_ACCEPT="application/json"))

    run()


def test_fuzzed_open311_posts_never_fail_and_match_their_schema(client, schema, communes):
    _key, raw = api_key_create(name="Fuzz", rate_limit_per_minute=10_000)
    operation = schema["paths"]["/open311/v2/requests"]["post"]
    fields = [
        "service_code",
        "lat",
        "long",
        "description",
        "email",
        "phone",
        "first_name",
        "jurisdiction_id",
        "attribute[volumen]",
        "attribute[tipo][]",
        "address_string",
    ]
    lat, lng = PUENTE_ALTO_CENTRE

    @FUZZ
    @given(st.dictionaries(st.sampled_from(fields), WORDS, max_size=5))
    def run(form):
        data = {"api_key": raw, "service_code": "retiro-escombros", "lat": lat, "long": lng, **form}
        assert_matches_its_schema(schema, operation, client.post("/open311/v2/requests.json", data))

    run()


def test_schema_generates_without_warnings_and_validates(tmp_path, db):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
