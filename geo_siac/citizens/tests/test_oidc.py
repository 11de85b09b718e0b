""" "Mis solicitudes" through an OpenID Connect provider, against a real one run on loopback (node-oidc-provider,
geo_siac.testing.OidcProvider): the Authorization Code flow with PKCE, state and nonce, the ID token's signature and
claims, a verified email only, and a clear page for each failure with no session started."""

import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from django.test import Client

from geo_siac.citizens import oidc
from geo_siac.citizens.services import CITIZEN_EMAIL
from geo_siac.reports.services import report_follow
from geo_siac.testing import OidcProvider, free_port

ROSA = "rosa@example.cl"
CLIENT_ID, CLIENT_SECRET = "geo-siac", "secreto-de-prueba-geo-siac"
OTHER_ID, OTHER_SECRET = "otra-app", "secreto-de-prueba-otra-app"
ACCOUNTS = {
    "rosa": {"email": "Rosa@Example.cl", "email_verified": True},
    "pedro": {"email": "pedro@example.cl", "email_verified": False},
    "sin-correo": {},
}


def redirect_uri() -> str:
    return django_settings.SITE_URL.rstrip("/") + "/mis-solicitudes/oidc/vuelta/"


def start_provider(root) -> OidcProvider:
    client = {"redirect_uris": [redirect_uri()], "grant_types": ["authorization_code"], "response_types": ["code"]}
    provider = OidcProvider(
        root,
        accounts=ACCOUNTS,
        clients=[
            {**client, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET},
            {**client, "client_id": OTHER_ID, "client_secret": OTHER_SECRET},
        ],
    )
    provider.start()
    return provider


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    provider = start_provider(tmp_path_factory.mktemp("oidc"))
    yield provider
    provider.stop()


def configure(settings, issuer: str) -> None:
    settings.GEO_SIAC_OIDC_ISSUER = issuer
    settings.GEO_SIAC_OIDC_CLIENT_ID = CLIENT_ID
    settings.GEO_SIAC_OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.GEO_SIAC_OIDC_NAME = "ClaveÚnica de prueba"


@pytest.fixture
def configured(settings, provider):
    configure(settings, provider.issuer)
    return provider


@pytest.fixture
def rosa_reports(make_report):
    mine = make_report(reporter_email=ROSA, description="Mi solicitud.")
    followed = make_report()
    report_follow(report=followed, email=ROSA)
    others = make_report(reporter_email="otra@example.cl")
    return mine, followed, others


def come_back(client, provider: OidcProvider, login: str) -> str:
    """Start the sign-in on GeoSIAC, sign in at the provider as `login`: the path and query GeoSIAC is sent back to."""
    start = client.get("/mis-solicitudes/oidc/")
    assert start.status_code == 302 and start["Location"].startswith(provider.issuer + "/auth?")
    back = urlsplit(provider.sign_in(start["Location"], login, redirect_uri=redirect_uri()))
    return f"{back.path}?{back.query}"


def assert_refused(response, status: int, message: str, client) -> None:
    assert response.status_code == status
    assert message in response.content.decode()
    assert "No se guardó nada." in response.content.decode()
    assert CITIZEN_EMAIL not in client.session
    assert client.get("/mis-solicitudes/").status_code == 302  # still sent to the sign-in form


def test_without_an_issuer_there_is_no_button_and_no_route(client, db):
    assert 'id="oidc-sign-in"' not in client.get("/mis-solicitudes/ingresar/").content.decode()
    assert client.get("/mis-solicitudes/oidc/").status_code == 404
    assert client.get("/mis-solicitudes/oidc/vuelta/?code=x&state=y").status_code == 404


def test_signing_in_through_the_provider_lands_on_mis_solicitudes_with_that_emails_requests(
    client, configured, rosa_reports
):
    mine, followed, others = rosa_reports
    page = client.get("/mis-solicitudes/ingresar/").content.decode()
    assert 'id="oidc-sign-in" href="/mis-solicitudes/oidc/"' in page and "Entrar con ClaveÚnica de prueba" in page
    start = client.get("/mis-solicitudes/oidc/")
    asked = parse_qs(urlsplit(start["Location"]).query)
    assert asked["code_challenge_method"] == ["S256"] and asked["scope"] == ["openid email"]
    assert asked["redirect_uri"] == [redirect_uri()] and asked["state"] and asked["nonce"]

    back = urlsplit(configured.sign_in(start["Location"], "rosa", redirect_uri=redirect_uri()))
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 302 and response["Location"] == "/mis-solicitudes/"
    assert client.session[CITIZEN_EMAIL] == ROSA  # the provider's "Rosa@Example.cl", as the reports keep it
    listing = client.get("/mis-solicitudes/").content.decode()
    assert mine.tracking_code in listing and followed.tracking_code in listing
    assert others.tracking_code not in listing


def test_a_returning_answer_can_be_used_once(client, configured, rosa_reports):
    back = come_back(client, configured, "rosa")
    assert client.get(back).status_code == 302
    client.post("/mis-solicitudes/salir/")
    assert_refused(client.get(back), 400, "no corresponde a un ingreso iniciado en este navegador", client)


def test_a_forged_state_is_refused_and_the_real_one_is_then_used_up(client, configured, rosa_reports):
    back = come_back(client, configured, "rosa")
    forged = back.replace("state=", "state=x", 1)
    assert_refused(client.get(forged), 400, "no corresponde a un ingreso iniciado en este navegador", client)
    assert_refused(client.get(back), 400, "no corresponde a un ingreso iniciado en este navegador", client)


def test_an_answer_in_a_browser_that_did_not_start_the_sign_in_is_refused(client, configured, rosa_reports):
    back = come_back(client, configured, "rosa")
    other_browser = Client()
    assert_refused(
        other_browser.get(back), 400, "no corresponde a un ingreso iniciado en este navegador", other_browser
    )


def test_a_sign_in_older_than_ten_minutes_is_refused(client, configured, rosa_reports):
    back = come_back(client, configured, "rosa")
    session = client.session
    session[oidc.FLOW] = {**session[oidc.FLOW], "started": time.time() - oidc.FLOW_SECONDS - 1}
    session.save()
    assert_refused(client.get(back), 400, "llegó después de 10 minutos", client)


def test_an_email_the_provider_does_not_call_verified_is_refused(client, configured, rosa_reports):
    assert_refused(
        client.get(come_back(client, configured, "pedro")), 403, "no confirma que su correo esté verificado", client
    )


def test_an_identity_without_an_email_is_refused(client, configured, rosa_reports):
    assert_refused(
        client.get(come_back(client, configured, "sin-correo")),
        403,
        "El proveedor de identidad no nos entregó un correo electrónico",
        client,
    )


def test_a_citizen_who_cancels_at_the_provider_gets_a_clear_page(client, configured, db):
    start = client.get("/mis-solicitudes/oidc/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    response = client.get(
        "/mis-solicitudes/oidc/vuelta/?"
        + urlencode({"error": "access_denied", "state": state, "iss": configured.issuer})
    )
    assert_refused(response, 400, "El ingreso se canceló en el proveedor de identidad", client)


def test_an_unreachable_provider_gives_a_clear_error(client, settings, db):
    configure(settings, f"http://127.0.0.1:{free_port()}")
    assert 'id="oidc-sign-in"' in client.get("/mis-solicitudes/ingresar/").content.decode()
    assert_refused(client.get("/mis-solicitudes/oidc/"), 502, "No pudimos comunicarnos con el proveedor", client)


def test_a_provider_that_goes_down_before_the_citizen_returns_gives_a_clear_error(
    client, settings, rosa_reports, tmp_path
):
    provider = start_provider(tmp_path)
    try:
        configure(settings, provider.issuer)
        back = come_back(client, provider, "rosa")
    finally:
        provider.stop()
    assert_refused(client.get(back), 502, "No pudimos comunicarnos con el proveedor", client)


def tokens_for(provider: OidcProvider, client_id: str, secret: str, login: str, nonce: str) -> dict:
    """The tokens another application gets from the same provider for the same citizen: the code flow with PKCE."""
    verifier = secrets.token_urlsafe(48)
    challenge = oidc._b64url(hashlib.sha256(verifier.encode()).digest())
    authorize = (
        provider.issuer
        + "/auth?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri(),
                "scope": "openid email",
                "state": "s",
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
    )
    code = parse_qs(urlsplit(provider.sign_in(authorize, login, redirect_uri=redirect_uri())).query)["code"][0]
    answer = requests.post(
        provider.issuer + "/token",
        auth=(client_id, secret),
        timeout=30,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri(),
            "code_verifier": verifier,
        },
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def refusal(id_token: str, nonce: str) -> oidc.OidcError:
    with pytest.raises(oidc.OidcError) as refused:
        oidc.id_token_claims(oidc.provider_configuration(), id_token, nonce=nonce)
    return refused.value


def test_an_id_token_the_provider_issued_to_another_application_is_refused(configured, db):
    nonce = secrets.token_urlsafe(16)
    ours = tokens_for(configured, CLIENT_ID, CLIENT_SECRET, "rosa", nonce)["id_token"]
    assert oidc.id_token_claims(oidc.provider_configuration(), ours, nonce=nonce)["sub"] == "rosa"
    theirs = tokens_for(configured, OTHER_ID, OTHER_SECRET, "rosa", nonce)["id_token"]
    error = refusal(theirs, nonce)
    assert error.reason == "claims" and "InvalidAudienceError" in error.detail
    assert oidc.reason_page(error.reason)[1].startswith("La identidad que envió el proveedor no es para este sitio")


def test_an_id_token_of_another_sign_in_is_refused_by_its_nonce(configured, db):
    token = tokens_for(configured, CLIENT_ID, CLIENT_SECRET, "rosa", "nonce-de-otro-ingreso")["id_token"]
    error = refusal(token, "nonce-de-este-ingreso")
    assert (error.reason, error.detail) == ("claims", "nonce mismatch")


def test_an_id_token_not_signed_by_the_provider_is_refused(configured, db):
    nonce = secrets.token_urlsafe(16)
    genuine = tokens_for(configured, CLIENT_ID, CLIENT_SECRET, "rosa", nonce)["id_token"]
    claims = jwt.decode(genuine, options={"verify_signature": False})
    # The same claims and key id, signed by a key the provider never published.
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {**claims, "sub": "pedro"},
        forger,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(genuine)["kid"]},
    )
    error = refusal(forged, nonce)
    assert error.reason == "signature"
    head, body, signature = genuine.split(".")
    tampered = ".".join([head, body, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")])
    assert refusal(tampered, nonce).reason == "signature"
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert refusal(unsigned, nonce).reason == "signature"
