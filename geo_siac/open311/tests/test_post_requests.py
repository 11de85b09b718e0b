from urllib.parse import urlencode

import pytest

from geo_siac.open311.models import ApiKey
from geo_siac.open311.services import api_key_create, api_key_revoke
from geo_siac.open311.tests.contract import items, post
from geo_siac.reports.models import Report, ReportEvent
from geo_siac.reports.services import report_create
from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE

FORMATS = ["xml", "json"]


@pytest.fixture
def api_key(communes):
    _key, raw = api_key_create(name="App Barrio", channel_label="App Barrio (Android)")
    return raw


def form(api_key: str, **overrides) -> dict:
    lat, lng = PUENTE_ALTO_CENTRE
    data = {
        "api_key": api_key,
        "service_code": "retiro-escombros",
        "lat": str(lat),
        "long": str(lng),
        "description": "Sillón abandonado en la vereda.",
    }
    data.update(overrides)
    return data


def errors(body, fmt: str) -> list[dict]:
    return items(body, fmt, "errors", "error")


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_creates_a_report_on_the_open311_channel_and_answers_its_id(client, api_key, fmt):
    response, body = post(
        client,
        fmt,
        form(api_key, email="vecina@example.cl", first_name="Ana", last_name="Rojas", phone="+56 9 1234 5678"),
    )
    assert response.status_code == 201
    (created,) = items(body, fmt, "service_requests", "request")
    assert {"service_request_id", "service_notice", "account_id"} <= set(created)
    report = Report.objects.get(pk=int(created["service_request_id"]))
    assert report.channel == "open311" and report.commune.cut == "13201"
    assert (report.reporter_name, report.reporter_email) == ("Ana Rojas", "vecina@example.cl")
    assert report.events.get(kind="created").actor_label == "API Open311: App Barrio (Android)"


def test_posted_report_is_routed_and_notified_like_a_web_report(client, api_key, crews):
    _response, body = post(client, "json", form(api_key, email="vecina@example.cl"))
    posted = Report.objects.get(pk=int(body[0]["service_request_id"]))
    lat, lng = PUENTE_ALTO_CENTRE
    web = report_create(
        category="retiro-escombros", latitude=lat, longitude=lng, channel="web", reporter_email="otra@example.cl"
    )
    assert (posted.commune, posted.expected_at, posted.h3_res10) == (web.commune, web.expected_at, web.h3_res10)
    assert (posted.zone, posted.crew, posted.department) == (web.zone, web.crew, web.department)
    assert posted.crew is not None
    assert [e.kind for e in posted.events.all()] == [e.kind for e in web.events.all()] == ["created", "routed"]
    assert posted.notifications.count() == web.notifications.count() == 1


def test_multivaluelist_answers_come_from_repeated_bracket_parameters(client, api_key, communes):
    from geo_siac.catalogue.models import Category

    category = Category.objects.get(service_code="retiro-escombros")
    category.attributes = [
        *category.attributes,
        {
            "code": "tipo",
            "datatype": "multivaluelist",
            "required": True,
            "order": 2,
            "description": "Tipo",
            "values": [{"key": "mueble", "name": "Mueble"}, {"key": "ramas", "name": "Ramas"}],
        },
    ]
    category.save()
    response, body = post(
        client, "json", form(api_key, **{"attribute[tipo][]": ["mueble", "ramas"], "attribute[volumen]": "1-3m3"})
    )
    assert response.status_code == 201, body
    report = Report.objects.get(pk=int(body[0]["service_request_id"]))
    assert report.attributes == {"tipo": ["mueble", "ramas"], "volumen": "1-3m3"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"service_code": ""}, "service_code"),
        ({"service_code": "no-existe"}, "service_code"),
        ({"lat": "", "long": ""}, "lat/long"),
        ({"lat": "norte"}, "lat"),
        ({"long": "999"}, "long"),
        ({"description": "x" * 4001}, "description"),
        ({"email": "no-es-correo"}, "email"),
        ({"phone": "abc"}, "phone"),
        ({"attribute[volumen]": "enorme"}, "attribute[volumen]"),
        ({"attribute[inventada]": "1"}, "attribute[inventada]"),
        ({"lat": "-33.0", "long": "-71.6"}, "lat/long"),
    ],
)
def test_bad_input_is_400_naming_the_parameter_and_writes_nothing(client, api_key, overrides, field, fmt):
    response, body = post(client, fmt, form(api_key, **overrides))
    assert response.status_code == 400
    descriptions = [error["description"] for error in errors(body, fmt)]
    assert all(str(error["code"]) == "400" for error in errors(body, fmt))
    assert any(text.startswith(f"{field}:") for text in descriptions), descriptions
    assert not Report.objects.exists()


def test_required_attribute_missing_is_400(client, api_key):
    response, body = post(client, "json", form(api_key, service_code="poda-arboles"))
    assert response.status_code == 400
    assert body[0]["description"].startswith("attribute[riesgo]:")


def test_address_string_alone_is_400_because_nothing_is_geocoded(client, api_key):
    response, body = post(client, "json", form(api_key, lat="", long="", address_string="Concha y Toro 1820"))
    assert response.status_code == 400
    assert "address_string" in body[0]["description"]


def test_point_outside_the_requested_jurisdiction_is_400_and_nothing_is_written(client, api_key, communes):
    lat, lng = PENALOLEN_CENTRE
    response, body = post(
        client, "json", form(api_key, lat=str(lat), long=str(lng), jurisdiction_id=communes["13201"].jurisdiction_id)
    )
    assert response.status_code == 400 and body[0]["description"].startswith("lat/long:")
    assert "fuera de la comuna Puente Alto" in body[0]["description"]
    assert not Report.objects.exists() and not ReportEvent.objects.exists()


def test_point_in_the_requested_jurisdiction_is_accepted(client, api_key, communes):
    lat, lng = PENALOLEN_CENTRE
    response, _body = post(
        client, "json", form(api_key, lat=str(lat), long=str(lng), jurisdiction_id=communes["13122"].jurisdiction_id)
    )
    assert response.status_code == 201
    assert Report.objects.get().commune.cut == "13122"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("key", ["", "not-a-key"])
def test_missing_or_wrong_api_key_is_403(client, communes, key, fmt):
    response, body = post(client, fmt, form(key))
    assert response.status_code == 403
    assert str(errors(body, fmt)[0]["code"]) == "403"
    assert not Report.objects.exists()


def test_revoked_api_key_is_403(client, communes):
    key, raw = api_key_create(name="Vieja")
    api_key_revoke(key=key)
    assert post(client, "json", form(raw))[0].status_code == 403


def test_api_keys_are_stored_only_as_hashes(communes):
    key, raw = api_key_create(name="App")
    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert raw not in {str(value) for value in stored.values()}
    assert len(stored["key_hash"]) == 64 and stored["prefix"] == raw[:8]


def test_each_key_has_its_own_rate_limit_answered_with_429(client, communes):
    _key, raw = api_key_create(name="Apurada", rate_limit_per_minute=2)
    _other, other_raw = api_key_create(name="Tranquila", rate_limit_per_minute=2)
    statuses = [post(client, "json", form(raw))[0].status_code for _ in range(3)]
    assert statuses == [201, 201, 429]
    response, body = post(client, "xml", form(raw))
    assert response.status_code == 429 and errors(body, "xml")[0]["code"] == "429"
    assert response["Retry-After"]
    assert post(client, "json", form(other_raw))[0].status_code == 201


@pytest.mark.parametrize("field", ["service_code", "description", "api_key"])
def test_null_characters_are_400_not_a_server_error(client, api_key, field):
    data = form(api_key)
    data[field] += "\x00"
    response, body = post(client, "json", data)
    assert response.status_code == 400 and body[0]["description"].startswith(f"{field}:")


def test_categories_not_listed_in_services_cannot_be_posted_to(client, api_key):
    from geo_siac.catalogue.models import Category

    Category.objects.filter(service_code="retiro-escombros").update(is_public=False)
    response, body = post(client, "json", form(api_key))
    assert response.status_code == 400 and body[0]["description"].startswith("service_code:")
    assert not Report.objects.exists()


# A latitude out of range, an over-long address and a bad email, under the specification's parameter names.
REFUSED = {
    "json": '[{"code":400,"description":"lat: La latitud debe estar entre -90 y 90."},'
    '{"code":400,"description":"address_string: La dirección es demasiado larga (máximo 300 caracteres)."},'
    '{"code":400,"description":"email: El correo electrónico no es válido."}]',
    "xml": '<?xml version="1.0" encoding="utf-8"?>\n<errors>'
    "<error><code>400</code><description>lat: La latitud debe estar entre -90 y 90.</description></error>"
    "<error><code>400</code><description>address_string: La dirección es demasiado larga "
    "(máximo 300 caracteres).</description></error>"
    "<error><code>400</code><description>email: El correo electrónico no es válido.</description></error>"
    "</errors>",
}


@pytest.mark.parametrize("fmt", FORMATS)
def test_refused_post_names_the_specs_parameters_byte_for_byte(client, api_key, fmt):
    response = client.post(
        f"/open311/v2/requests.{fmt}", form(api_key, lat="-95", address_string="x" * 301, email="no-es-correo")
    )
    assert response.status_code == 400
    assert response.content.decode() == REFUSED[fmt]
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    "content_type, encoding",
    [
        ("application/x-www-form-urlencoded", "utf-8"),
        ("application/x-www-form-urlencoded; charset=utf-8", "utf-8"),
        ("Application/X-WWW-Form-Urlencoded ; charset=UTF-8", "utf-8"),
        ("application/x-www-form-urlencoded; charset=latin-1", "latin-1"),
    ],
)
def test_a_form_body_is_read_in_the_charset_its_content_type_names(client, api_key, content_type, encoding):
    body = urlencode(form(api_key, description="Ñandú en la plaza, señora."), encoding=encoding)
    response = client.post("/open311/v2/requests.json", body, content_type=content_type)
    assert response.status_code == 201, response.content
    report = Report.objects.get(pk=int(response.json()[0]["service_request_id"]))
    assert report.description == "Ñandú en la plaza, señora."


@pytest.mark.parametrize("content_type", ["application/json", "text/plain; charset=utf-8"])
def test_a_body_of_another_media_type_is_415_naming_it_and_writes_nothing(client, api_key, content_type):
    response = client.post("/open311/v2/requests.json", urlencode(form(api_key)), content_type=content_type)
    assert response.status_code == 415
    assert content_type in response.json()[0]["description"]
    assert not Report.objects.exists()
