"""A lost database connection answers 503 with Retry-After, never a stack trace."""

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _

logger = logging.getLogger("geo_siac.database")

RETRY_AFTER_SECONDS = 30


def installation_identity() -> dict:
    """What the error pages show in place of a comuna's identity, which is read from the database they may lack."""
    return {"name": settings.GEO_SIAC_INSTALLATION_NAME}


def unavailable_response(request):
    message = _("El servicio no está disponible por un momento.")
    # path_info: the path inside the application, also under zones.middleware's /comuna/<id>/ prefix.
    if request.path_info.startswith(("/open311/", "/api/")):
        # Open311 clients read errors as a list of code + description, in JSON.
        response = JsonResponse([{"code": 503, "description": message}], status=503, safe=False)
    else:
        response = render(request, "503.html", {"message": message, "identity": installation_identity()}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable: %s", exception.__class__.__name__)
        # A broken connection must not be reused by the next request on this worker.
        close_old_connections()
        return unavailable_response(request)


def server_error(request):
    """handler500: database loss raised outside a view (e.g. in the session middleware) is still a 503."""
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        return unavailable_response(request)
    return HttpResponseServerError(loader.get_template("500.html").render({"identity": installation_identity()}))
