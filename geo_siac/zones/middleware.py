"""Which municipality a public page shows, decided in one place (docs/deployment.md, "Una instalación, muchas
comunas"), as FixMyStreet's cobrands are: by the host name a comuna's identity claims (reclamos.puentealto.cl), or on
the installation's shared host by a comuna chosen in the path, /comuna/<jurisdiction_id>/... . The chosen comuna
stays in every link Django builds (reverse, {% url %}, redirects), because the path's prefix becomes the request's
script prefix, as it would for an application mounted under it."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpResponsePermanentRedirect
from django.http.request import split_domain_port
from django.urls import get_script_prefix, reverse, set_script_prefix
from django.utils.functional import SimpleLazyObject

from geo_siac.zones.selectors import PublicIdentity, commune_identity, commune_public_host, public_identity

CHOSEN = re.compile(r"^/comuna/(?P<slug>[-a-z0-9_]+)(?P<rest>/.*)?$")


def commune_path(commune, view_name: str = "reports:home") -> str:
    """A page of one comuna on the shared host (its home by default), under the installation's own script prefix."""
    outer = get_script_prefix()
    return f"{outer}comuna/{commune.jurisdiction_id}/{reverse(view_name).removeprefix(outer)}"


def request_host(request) -> str:
    return split_domain_port(request.get_host())[0]


class PublicIdentityMiddleware:
    """Sets `request.identity` (a zones.selectors.PublicIdentity). After CommonMiddleware, which has refused a host
    outside ALLOWED_HOSTS before this reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = CHOSEN.match(request.path_info)
        if chosen is None:
            request.identity = SimpleLazyObject(lambda: public_identity(host=request_host(request)))
            return self.get_response(request)
        if chosen["rest"] is not None:
            # Before the lookup, so that a database lost there is answered as the page inside (Open311's in JSON).
            request.path_info = chosen["rest"]
        identity = public_identity(host=request_host(request), slug=chosen["slug"])
        if identity is None:
            raise Http404("No hay una comuna atendida con ese nombre en esta dirección.")
        if chosen["rest"] is None:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        request.identity = identity
        outer = get_script_prefix()
        set_script_prefix(f"{outer}comuna/{chosen['slug']}/")
        try:
            return self.get_response(request)
        finally:
            # Thread-local, and the test client does not set it per request: the next request must not inherit it.
            set_script_prefix(outer)


def show_requests_commune(request, commune) -> None:
    """A page about one request speaks for the request's comuna: on another comuna's host or path, that comuna's
    name and logo would tell the citizen the wrong municipality answers. The shared host's own identity names none,
    so it stays."""
    shown = request.identity.commune
    if shown is None or shown.pk == commune.pk:
        return
    shared = settings.SITE_URL.rstrip("/")
    if not commune.is_active:  # no page of its own to lead to: the installation speaks for it
        request.identity = PublicIdentity(name=settings.GEO_SIAC_INSTALLATION_NAME, home_url=f"{shared}/")
        return
    # Its name leads to its own home, absolute: this page's prefix or host is the other comuna's.
    host = commune_public_host(commune.pk)
    home = f"{urlsplit(shared).scheme}://{host}/" if host else f"{shared}/comuna/{commune.jurisdiction_id}/"
    request.identity = commune_identity(commune, home_url=home)


def speak_for_points_commune(request, point) -> None:
    """A service point's box, and the request filed there, speak for the point's municipality: on the shared host,
    whose identity names no comuna, too, since the sheet on the wall is the municipality's."""
    if request.identity.commune is None and point.commune.is_active:
        request.identity = commune_identity(point.commune, home_url=commune_path(point.commune))
    else:
        show_requests_commune(request, point.commune)


def identity(request) -> dict:
    """The template context's `identity`: the middleware's answer, or for a request that did not pass it (a page
    rendered by hand) the same selector's."""
    found = getattr(request, "identity", None)
    if found is None:
        found = SimpleLazyObject(lambda: public_identity(host=request_host(request)))
    return {"identity": found}
