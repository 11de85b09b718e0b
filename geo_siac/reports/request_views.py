"""The citizen's "¿Qué quiere hacer?" chooser and the form of a request without a place (a reclamo, consulta,
sugerencia, felicitación or access-to-information request): no map step, through report_create like every
channel. A problem in public space goes to the report page (views.home)."""

import secrets

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from geo_siac.catalogue.kinds import PLACELESS_KINDS, RequestKind, rule
from geo_siac.reports.ratelimit import submission_allowed
from geo_siac.reports.selectors import category_by_code, public_categories
from geo_siac.reports.services import report_create
from geo_siac.reports.states import Channel
from geo_siac.reports.views import CONTACT_FIELDS, contact_without_consent, flat_errors
from geo_siac.zones.models import Commune

# The address of each kind's form, in the citizen's words.
KIND_SLUGS = {
    "reclamo": RequestKind.COMPLAINT,
    "consulta": RequestKind.QUERY,
    "sugerencia": RequestKind.SUGGESTION,
    "felicitacion": RequestKind.COMPLIMENT,
    "acceso-informacion": RequestKind.INFORMATION,
}
SLUG_OF = {kind: slug for slug, kind in KIND_SLUGS.items()}


@require_safe
def choose(request):
    return render(
        request,
        "reports/request_choose.html",
        {"kinds": [(SLUG_OF[kind], RequestKind(kind).label) for kind in PLACELESS_KINDS]},
    )


@require_http_methods(["GET", "HEAD", "POST"])
def request_form(request, slug: str):
    kind = KIND_SLUGS.get(slug)
    if kind is None:
        raise Http404(_("No existe ese tipo de solicitud."))
    if request.method != "POST":
        return render_request_form(request, kind, values={"token": secrets.token_urlsafe(24)})
    if not submission_allowed(request):
        return render(request, "reports/rate_limited.html", status=429)
    if contact_without_consent(request.POST):
        errors = {"consent": _("Para guardar sus datos de contacto, acepte su uso para avisarle del avance.")}
        return render_request_form(request, kind, values=request.POST, errors=errors, status=400)
    values = request.POST
    commune = Commune.objects.active().defer("geometry").filter(cut=values.get("commune", "")[:5]).first()
    try:
        report = report_create(
            kind=kind,
            category=category_by_code(values.get("service_code", "")) or values.get("service_code", ""),
            commune=commune,
            channel=Channel.WEB,
            description=values.get("description", ""),
            **{field: values.get(field, "") for field in CONTACT_FIELDS},
            language=get_language() or "es",
            photo=request.FILES.get("photo"),
            created_by=request.user if request.user.is_authenticated else None,
            submission_token=values.get("token", "")[:64],
        )
    except ValidationError as exc:
        return render_request_form(request, kind, values=values, errors=flat_errors(exc), status=400)
    return redirect("reports:submitted", code=report.tracking_code)


def render_request_form(request, kind: str, *, values, errors=None, status=200):
    communes = list(Commune.objects.active().defer("geometry").order_by("name"))
    return render(
        request,
        "reports/request_form.html",
        {
            "kind": kind,
            "kind_label": RequestKind(kind).label,
            "slug": SLUG_OF[kind],
            "rule": rule(kind),
            "topics": public_categories(kind),
            "communes": communes,
            "values": values,
            "errors": errors or {},
        },
        status=status,
    )
