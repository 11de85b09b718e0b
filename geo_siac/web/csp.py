"""Content-Security-Policy and the other response security headers (Django 5.2 has no built-in CSP)."""

from functools import wraps

from django.conf import settings


def csp_allow(**extra_sources: str):
    """Widen the policy for one view, e.g. ``@csp_allow(style_src="'unsafe-inline'")``; say why where used."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            response.csp_extra = extra_sources
            return response

        return wrapped

    return decorate


def policy(extra_sources: dict[str, str]) -> str:
    directives = dict(settings.GEO_SIAC_CSP)
    for key, sources in extra_sources.items():
        name = key.replace("_", "-")
        current = directives.get(name, "")
        # 'none' admits no other source: widening it means replacing it.
        directives[name] = sources if current == "'none'" else f"{current} {sources}".strip()
    return "; ".join(f"{name} {sources}".strip() for name, sources in directives.items())


def path_extra(path: str) -> dict[str, str]:
    """Widening for URL prefixes whose views are not ours to decorate (the admin), from GEO_SIAC_CSP_PATH_EXTRA."""
    for prefix, extra in settings.GEO_SIAC_CSP_PATH_EXTRA.items():
        if path.startswith(prefix):
            return extra
    return {}


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        header = "Content-Security-Policy"
        if settings.GEO_SIAC_CSP_REPORT_ONLY:
            header += "-Report-Only"
        # path_info: the path inside the application, also under a script prefix (zones.middleware's /comuna/<id>/).
        extra = getattr(response, "csp_extra", None) or path_extra(request.path_info)
        response.setdefault(header, policy(extra))
        response.setdefault("Permissions-Policy", settings.GEO_SIAC_PERMISSIONS_POLICY)
        return response
