"""Sign-in to "Mis solicitudes" through an OpenID Connect provider (ClaveÚnica or any other), configured by its
issuer: the discovery document, the Authorization Code flow with PKCE, `state` and `nonce`, the ID token's RS256
signature checked against the provider's JWKS and its claims against this client. The citizen is the VERIFIED email
the provider vouches for; nothing here writes (citizens.services.citizen_session_start starts the session)."""

import base64
import hashlib
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode

import jwt
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _

from geo_siac.citizens.services import clean_email
from geo_siac.reports.messages import absolute

logger = logging.getLogger(__name__)

# The session key of a sign-in under way: its state, nonce and PKCE verifier, until the provider sends the citizen
# back. A flow older than FLOW_SECONDS is refused: the provider's login page does not wait that long either.
FLOW = "oidc_flow"
FLOW_SECONDS = 600
# The discovery document changes rarely; an hour keeps a provider's new endpoints from waiting long.
DISCOVERY_SECONDS = 3600
# Clock difference tolerated between this server and the provider on `exp` and `iat`.
LEEWAY_SECONDS = 60


class OidcError(Exception):
    """A sign-in through the provider failed; `reason` picks the page's message (REASONS), `detail` goes to the
    log only."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


def reason_page(reason: str) -> tuple[int, str]:
    """The HTTP status and the message of the error page for an OidcError's reason."""
    return {
        "unreachable": (
            502,
            _(
                "No pudimos comunicarnos con el proveedor de identidad. Intente de nuevo en unos "
                "minutos, o entre con un enlace enviado a su correo."
            ),
        ),
        "state": (
            400,
            _(
                "Esta respuesta del proveedor de identidad no corresponde a un ingreso iniciado en este "
                "navegador, o llegó después de 10 minutos. Vuelva a empezar el ingreso."
            ),
        ),
        "denied": (400, _("El ingreso se canceló en el proveedor de identidad.")),
        "refused": (400, _("El proveedor de identidad no aceptó completar el ingreso. Vuelva a empezarlo.")),
        "signature": (400, _("La firma de la identidad que envió el proveedor no es válida, así que no la aceptamos.")),
        "claims": (
            400,
            _(
                "La identidad que envió el proveedor no es para este sitio, venció o no corresponde a "
                "este ingreso, así que no la aceptamos."
            ),
        ),
        "no_email": (
            403,
            _(
                "El proveedor de identidad no nos entregó un correo electrónico. Mis solicitudes se "
                "buscan por el correo que usted dejó: entre con un enlace enviado a ese correo."
            ),
        ),
        "unverified": (
            403,
            _(
                "El proveedor de identidad no confirma que su correo esté verificado, así que no "
                "podemos mostrar solicitudes con él. Entre con un enlace enviado a ese correo."
            ),
        ),
    }[reason]


def enabled() -> bool:
    return bool(settings.GEO_SIAC_OIDC_ISSUER and settings.GEO_SIAC_OIDC_CLIENT_ID)


def redirect_uri() -> str:
    """Where the provider sends the citizen back: registered with the provider, so built from SITE_URL, never from
    the request's Host."""
    return absolute(reverse("citizens:oidc_callback"))


def _fetch_json(request: urllib.request.Request, what: str) -> dict:
    try:
        with urllib.request.urlopen(request, timeout=settings.GEO_SIAC_OIDC_TIMEOUT_SECONDS) as response:
            answer = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        body = exc.read()[:500].decode("utf-8", "replace")
        # A 4xx is the provider saying no (a used code, a wrong secret); a 5xx is the provider failing.
        raise OidcError("refused" if exc.code < 500 else "unreachable", f"{what}: HTTP {exc.code} {body}") from exc
    except (OSError, ValueError) as exc:  # URLError and timeouts are OSErrors, bad JSON a ValueError
        raise OidcError("unreachable", f"{what}: {exc}") from exc
    if not isinstance(answer, dict):
        raise OidcError("unreachable", f"{what}: answered {type(answer).__name__}, not an object")
    return answer


def provider_configuration() -> dict:
    """The issuer's discovery document (`/.well-known/openid-configuration`), cached; its `issuer` must be the
    configured one (OpenID Connect Discovery, 4.3), and it must name the endpoints this flow uses."""
    issuer = settings.GEO_SIAC_OIDC_ISSUER
    key = "oidc-discovery:" + hashlib.sha256(issuer.encode()).hexdigest()
    config = cache.get(key)
    if config is None:
        config = _fetch_json(
            urllib.request.Request(
                issuer + "/.well-known/openid-configuration", headers={"Accept": "application/json"}
            ),
            "discovery",
        )
        missing = [name for name in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not config.get(name)]
        if config.get("issuer") != issuer or missing:
            raise OidcError("unreachable", f"discovery: issuer {config.get('issuer')!r}, missing {missing}")
        cache.set(key, config, DISCOVERY_SECONDS)
    return config


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def authorization_request() -> tuple[str, dict]:
    """The provider's authorization URL for a new sign-in, and the flow to keep in the session until the citizen
    comes back: a random state (against a response forged into this browser), a nonce (against a replayed ID token)
    and the PKCE verifier (against a stolen code), each used once."""
    config = provider_configuration()
    flow = {
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(48),
        "started": time.time(),
    }
    params = {
        "response_type": "code",
        "client_id": settings.GEO_SIAC_OIDC_CLIENT_ID,
        "redirect_uri": redirect_uri(),
        "scope": settings.GEO_SIAC_OIDC_SCOPES,
        "state": flow["state"],
        "nonce": flow["nonce"],
        "code_challenge": _b64url(hashlib.sha256(flow["verifier"].encode()).digest()),
        "code_challenge_method": "S256",
    }
    endpoint = config["authorization_endpoint"]
    return endpoint + ("&" if "?" in endpoint else "?") + urlencode(params), flow


def _check_response(flow: dict | None, params) -> str:
    """The code of the provider's answer, once its state matches the flow this browser started (RFC 6749 10.12)
    in time and its `iss`, when sent, is our issuer (RFC 9207)."""
    state = params.get("state", "")
    if not flow or not secrets.compare_digest(state.encode(), flow["state"].encode()):
        raise OidcError("state", "no flow in this session" if not flow else "state mismatch")
    if time.time() - flow["started"] > FLOW_SECONDS:
        raise OidcError("state", "flow expired")
    if "iss" in params and params["iss"] != settings.GEO_SIAC_OIDC_ISSUER:
        raise OidcError("claims", f"iss {params['iss']!r} in the authorization response")
    if params.get("error"):
        raise OidcError("denied", f"{params['error']}: {params.get('error_description', '')}")
    if not params.get("code"):
        raise OidcError("refused", "no code in the authorization response")
    return params["code"]


def _token_request(config: dict, code: str, verifier: str) -> dict:
    """Exchange the code at the token endpoint, authenticated by the client secret: HTTP Basic unless the provider
    only takes it in the body (as ClaveÚnica's examples do)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(), "code_verifier": verifier}
    headers = {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    methods = config.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    client_id, secret = settings.GEO_SIAC_OIDC_CLIENT_ID, settings.GEO_SIAC_OIDC_CLIENT_SECRET
    if "client_secret_basic" in methods:
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"  # RFC 6749 2.3.1: each part form-encoded
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    else:
        form.update(client_id=client_id, client_secret=secret)
    request = urllib.request.Request(config["token_endpoint"], data=urlencode(form).encode(), headers=headers)
    answer = _fetch_json(request, "token")
    if not answer.get("id_token"):
        raise OidcError("refused", "the token response has no id_token")
    return answer


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _signing_key(config: dict, id_token: str):
    """The provider's key that signed `id_token`, from its JWKS (kept five minutes by PyJWKClient, fetched again
    for a key id it does not know, so a rotated key is found)."""
    uri = config["jwks_uri"]
    if uri not in _jwks_clients:
        _jwks_clients[uri] = jwt.PyJWKClient(uri, timeout=settings.GEO_SIAC_OIDC_TIMEOUT_SECONDS)
    try:
        return _jwks_clients[uri].get_signing_key_from_jwt(id_token).key
    except jwt.PyJWKClientConnectionError as exc:
        raise OidcError("unreachable", f"jwks: {exc}") from exc
    except jwt.PyJWTError as exc:  # no key of that id, or a header that is not a JWS
        raise OidcError("signature", f"jwks: {exc}") from exc


def id_token_claims(config: dict, id_token: str, *, nonce: str) -> dict:
    """The claims of an ID token signed (RS256) by one of the provider's keys, issued by our issuer to our client,
    not expired, and carrying the nonce of this sign-in (OpenID Connect Core 3.1.3.7)."""
    client_id = settings.GEO_SIAC_OIDC_CLIENT_ID
    try:
        claims = jwt.decode(
            id_token,
            _signing_key(config, id_token),
            algorithms=["RS256"],
            audience=client_id,
            issuer=settings.GEO_SIAC_OIDC_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"require": ["iss", "sub", "aud", "exp", "iat"]},
        )
    except jwt.InvalidSignatureError as exc:
        raise OidcError("signature", str(exc)) from exc
    except jwt.PyJWTError as exc:  # audience, issuer, expiry, a missing claim, another algorithm
        raise OidcError("claims", f"{type(exc).__name__}: {exc}") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise OidcError("claims", f"azp {claims.get('azp')!r} with audiences {audiences}")
    if not secrets.compare_digest(str(claims.get("nonce", "")).encode(), nonce.encode()):
        raise OidcError("claims", "nonce mismatch")
    return claims


def _userinfo(config: dict, access_token: str, sub: str) -> dict:
    """The UserInfo answer, for the email an ID token does not carry; its `sub` must be the ID token's (OpenID
    Connect Core 5.3.2)."""
    if not config.get("userinfo_endpoint") or not access_token:
        return {}
    request = urllib.request.Request(
        config["userinfo_endpoint"], headers={"Accept": "application/json", "Authorization": f"Bearer {access_token}"}
    )
    info = _fetch_json(request, "userinfo")
    if info.get("sub") != sub:
        raise OidcError("claims", f"userinfo sub {info.get('sub')!r} is not the ID token's {sub!r}")
    return info


def sign_in_email(flow: dict | None, params) -> str:
    """The citizen the provider sent back with `params` (the callback's query) for the `flow` this browser started:
    the code exchanged, the ID token verified, and the email the provider vouches for as verified. OidcError
    otherwise, before anything is written."""
    code = _check_response(flow, params)
    config = provider_configuration()
    tokens = _token_request(config, code, flow["verifier"])
    claims = id_token_claims(config, tokens["id_token"], nonce=flow["nonce"])
    if "email" not in claims:
        claims = {**claims, **_userinfo(config, tokens.get("access_token", ""), claims["sub"])}
    if not claims.get("email"):
        raise OidcError("no_email", f"sub {claims['sub']!r}")
    # Some providers send the boolean as a string.
    if claims.get("email_verified") not in (True, "true"):
        raise OidcError("unverified", f"sub {claims['sub']!r}, email_verified {claims.get('email_verified')!r}")
    try:
        email = clean_email(str(claims["email"]))
    except ValidationError as exc:
        raise OidcError("no_email", f"sub {claims['sub']!r}: not an email address") from exc
    return email


def log_failure(error: OidcError) -> None:
    logger.warning("OpenID Connect sign-in refused (%s): %s", error.reason, error.detail)
