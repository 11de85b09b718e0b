"""The public files of a comuna's identity: its colours as CSS custom properties (the policy allows no inline
style, so a page links this file) and its logo, read through Django's storage like photos."""

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from geo_siac.zones.selectors import identity_by_jurisdiction, logo_exists

# A page links the stylesheet with ?v=<its last change>, and logo names are random and never reused: either file
# may be kept as long as a browser likes. A stylesheet asked without the current stamp is kept for minutes only.
FOREVER_SECONDS = 365 * 24 * 3600
UNSTAMPED_SECONDS = 300


@require_safe
def identity_css(request, slug: str):
    identity = identity_by_jurisdiction(slug)
    if identity is None:
        raise Http404
    body = f":root {{ --brand-primary: {identity.primary_colour}; --brand-accent: {identity.accent_colour}; }}\n"
    response = HttpResponse(body, content_type="text/css; charset=utf-8")
    current = request.GET.get("v") == identity.stylesheet_stamp
    patch_cache_control(response, public=True, max_age=FOREVER_SECONDS if current else UNSTAMPED_SECONDS)
    return response


@require_safe
def logo(request, name: str):
    if not logo_exists(name):
        raise Http404
    try:
        stored = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(stored, content_type="image/png")  # branding.processed_logo stores PNG only
    patch_cache_control(response, public=True, max_age=FOREVER_SECONDS, immutable=True)
    return response
