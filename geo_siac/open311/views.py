"""GeoReport v2 endpoints. Thin: parameters in params.py, reads in selectors.py, the write in services.py."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from rest_framework.exceptions import APIException, Throttled
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from geo_siac.catalogue.models import Category
from geo_siac.db_router import public_read
from geo_siac.open311 import params, presenters, schema, selectors, services
from geo_siac.open311.keys import within_rate_limit
from geo_siac.open311.params import Open311Error
from geo_siac.open311.renderers import Open311ContentNegotiation, Open311JSONRenderer, Open311XMLRenderer
from geo_siac.reports.ratelimit import TrackingLookupsExhausted, tracked_report

# report_create's error keys (its parameters, and `location` for the point as a whole) as the specification's POST
# parameters a client sent; the others (description, attribute[code]) are the same in both.
ERROR_FIELDS = {
    "category": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "location": "lat/long",
    "address": "address_string",
    "reporter_email": "email",
    "reporter_phone": "phone",
    "reporter_name": "first_name/last_name",
    "photo": "media",
}


def errors_response(status: int, descriptions: list[str]) -> Response:
    return Response([presenters.error(status, text) for text in descriptions], status=status)


@public_read  # the GETs; a POST (a new request) always goes to the primary
class Open311View(APIView):
    renderer_classes = [Open311XMLRenderer, Open311JSONRenderer]
    content_negotiation_class = Open311ContentNegotiation
    parser_classes = [FormParser, MultiPartParser]
    authentication_classes: list = []
    permission_classes: list = []
    xml_root = "service_requests"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        params.reject_null_characters(request.query_params)
        params.reject_null_characters(request.data)

    def handle_exception(self, exc):
        if isinstance(exc, Open311Error):
            return errors_response(exc.status, [exc.description])
        if isinstance(exc, Http404):
            return errors_response(404, [str(exc)])
        if isinstance(exc, APIException):
            response = errors_response(exc.status_code, [str(exc.detail)])
            if isinstance(exc, Throttled) and exc.wait:
                response["Retry-After"] = str(int(exc.wait))
            return response
        return super().handle_exception(exc)

    def jurisdiction(self):
        jurisdiction_id = (
            self.request.query_params.get("jurisdiction_id") or self.request.data.get("jurisdiction_id") or ""
        ).strip()
        if not jurisdiction_id:
            return None
        found = selectors.jurisdiction(jurisdiction_id)
        if found is None:
            raise params.bad("jurisdiction_id", _("jurisdicción desconocida: %s") % jurisdiction_id)
        return found


class DiscoveryView(Open311View):
    xml_root = "discovery"

    @schema.discovery
    def get(self, request, format=None):
        return Response(presenters.discovery(request.build_absolute_uri(reverse("open311:root"))))


class ServiceListView(Open311View):
    xml_root = "services"

    @schema.service_list
    def get(self, request, format=None):
        jurisdiction = self.jurisdiction()
        return Response([presenters.service(category) for category in selectors.services(jurisdiction)])


class ServiceDefinitionView(Open311View):
    xml_root = "service_definition"

    @schema.service_definition
    def get(self, request, service_code, format=None):
        self.jurisdiction()
        category = selectors.service(service_code)
        if category is None:
            raise Http404(_("Servicio desconocido: %s") % service_code)
        return Response(presenters.service_definition(category))


class RequestListView(Open311View):
    @schema.request_list
    def get(self, request, format=None):
        query = request.query_params
        page_size = params.integer(query, "page_size", default=params.MAX_PAGE_SIZE, low=1, high=params.MAX_PAGE_SIZE)
        page = params.integer(query, "page", default=1, low=1, high=1_000_000)
        rows = selectors.request_page(
            page=page,
            page_size=page_size,
            jurisdiction=self.jurisdiction(),
            ids=params.request_ids(query),
            service_codes=params.comma_list(query.get("service_code")),
            window=params.requested_window(query),
            statuses=params.statuses(query),
            updated_after=params.moment(query, "updated_after"),
            updated_before=params.moment(query, "updated_before"),
            bbox=params.bbox(query),
            circle=params.circle(query),
        )
        return Response(request_bodies(rows, extended=params.is_true(query, "extensions")))

    @schema.request_create
    def post(self, request, format=None):
        data = request.data
        key = selectors.usable_api_key((data.get("api_key") or "").strip())
        if key is None:
            raise Open311Error(403, _("api_key: falta o no es válida."))
        if not within_rate_limit(key.pk, key.rate_limit_per_minute):
            raise Throttled(wait=60, detail=_("Se superó el límite de solicitudes por minuto de esta api_key."))
        jurisdiction = self.jurisdiction()
        problems, category = parameter_errors(data)
        media = request.FILES.get("media")
        if media is None and data.get("media"):
            problems.append(_("media: se esperaba un archivo de imagen enviado como multipart/form-data."))
        if problems:
            return errors_response(400, problems)
        try:
            report = services.service_request_create(
                api_key=key, jurisdiction=jurisdiction, media=media, **form_fields(data, category)
            )
        except ValidationError as exc:
            return errors_response(
                400,
                [
                    f"{ERROR_FIELDS.get(field, field)}: {' '.join(messages)}"
                    for field, messages in exc.message_dict.items()
                ],
            )
        return Response([{"service_request_id": str(report.pk), "service_notice": "", "account_id": None}], status=201)


def parameter_errors(data) -> tuple[list[str], Category | None]:
    """Descriptions of what a POST lacks, and the service asked for: service_code must be one GET services lists."""
    missing = []
    service_code = (data.get("service_code") or "").strip()
    category = selectors.service(service_code) if service_code else None
    if not service_code:
        missing.append(_("service_code: falta este parámetro obligatorio."))
    elif category is None:
        missing.append(_("service_code: servicio desconocido: %s") % service_code)
    if not (data.get("lat") or data.get("long")):
        if data.get("address_string") or data.get("address_id"):
            missing.append(
                _("lat/long: esta instalación no geocodifica address_string ni address_id; envíe lat y long.")
            )
        else:
            missing.append(_("lat/long: falta este parámetro obligatorio."))
    return missing, category


def form_fields(data, category: Category) -> dict:
    """The POST parameters service_request_create takes, but the uploaded media; device_id and account_id are not
    kept."""
    return {
        "service": category,
        "lat": data.get("lat"),
        "long": data.get("long"),
        "attributes": attributes_from(data),
        "description": data.get("description", ""),
        "address": data.get("address_string", ""),
        "email": data.get("email", ""),
        "first_name": data.get("first_name", ""),
        "last_name": data.get("last_name", ""),
        "phone": data.get("phone", ""),
        "media_url": data.get("media_url", ""),
    }


def attributes_from(data) -> dict:
    """attribute[code]=value and, for multivaluelist questions, attribute[code][]=a&attribute[code][]=b."""
    answers = {}
    for name in data:
        if not (name.startswith("attribute[") and name.endswith("]")):
            continue
        values = data.getlist(name)
        if name.endswith("[]"):
            answers[name[len("attribute[") : -len("][]")]] = values
        else:
            answers[name[len("attribute[") : -1]] = values if len(values) > 1 else values[0]
    return answers


class RequestUpdatesView(Open311View):
    """FixMyStreet's extension: what happened to requests in a window (status changes and public notes)."""

    xml_root = "service_requests_updates"

    @schema.request_updates
    def get(self, request, format=None):
        query = request.query_params
        page_size = params.integer(query, "page_size", default=params.MAX_PAGE_SIZE, low=1, high=params.MAX_PAGE_SIZE)
        page = params.integer(query, "page", default=1, low=1, high=1_000_000)
        updates = selectors.request_updates(jurisdiction=self.jurisdiction(), window=params.updates_window(query))
        return Response(
            [presenters.request_update(event) for event in updates[(page - 1) * page_size : page * page_size]]
        )


class RequestDetailView(Open311View):
    @schema.request_detail
    def get(self, request, service_request_id, format=None):
        self.jurisdiction()
        row = selectors.service_request(service_request_id)
        if row is None:
            raise Http404(_("Solicitud desconocida: %s") % service_request_id)
        return Response(request_bodies([row], extended=params.is_true(request.query_params, "extensions")))


def request_bodies(rows: list[dict], *, extended: bool) -> list[dict]:
    """GET requests and GET requests/{id}; with extensions=true each with its public history (one more query)."""
    if not extended:
        return presenters.service_requests(rows)
    return presenters.service_requests(rows, selectors.public_notes([row["id"] for row in rows]))


class TokenView(Open311View):
    @schema.token
    def get(self, request, token, format=None):
        try:
            report = tracked_report(request, token, selectors.service_request_by_token)
        except TrackingLookupsExhausted:
            raise Throttled(
                wait=settings.GEO_SIAC_TRACKING_FAILURES_WINDOW_SECONDS,
                detail=_("Demasiados tokens desconocidos desde esta conexión; espere antes de volver a intentarlo."),
            ) from None
        if report is None:
            raise Http404(_("Token desconocido: %s") % token)
        return Response([{"service_request_id": str(report.pk), "token": token}])


class UnknownEndpointView(Open311View):
    """Any other path under /open311/v2/ answers the spec's error list, not an HTML page."""

    schema = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise Http404(_("No existe este recurso Open311: %s") % request.path)


@require_safe
def index(request):
    """/open311/, where a developer lands from the service's name: a page pointing to the discovery and the API
    docs, rather than the site's 404."""
    return render(
        request,
        "open311/index.html",
        {
            "discovery_url": reverse("open311:discovery", kwargs={"format": "json"}),
            "services_url": reverse("open311:services", kwargs={"format": "json"}),
            "key_service": presenters.key_service(),
        },
    )
