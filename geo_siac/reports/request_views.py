"""The citizen's "¿Qué quiere hacer?" chooser and the form of a request without a place (a reclamo, consulta,
sugerencia, felicitación or access-to-information request): no map step, through report_create like every
channel. A problem in public space goes to the report page (views.home)."""

import secrets

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from geo_siac.catalogue.kinds import PLACELESS_KINDS, RequestKind, rule
from geo_siac.reports.ratelimit import counts_submissions, give_back, submission_refusal
from geo_siac.reports.requester import filed_redirect
from geo_siac.reports.selectors import category_by_code, public_categories, submitted_tracking_code
from geo_siac.reports.services import report_create
from geo_siac.reports.services.photos import documents_offer
from geo_siac.reports.states import Channel
from geo_siac.reports.views import CONTACT_FIELDS, contact_without_consent, page_errors, photo_field
from geo_siac.zones.models import Commune
from geo_siac.zones.selectors import active_commune_by_cut

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
@counts_submissions
def request_form(request, slug: str):
    kind = KIND_SLUGS.get(slug)
    if kind is None:
        raise Http404(_("No existe ese tipo de solicitud."))
    if request.method != "POST":
        # Reached from a comuna's page (its path or host), the form is for that comuna.
        shown = request.identity.commune
        values = {"token": secrets.token_urlsafe(24), "commune": shown.cut if shown else ""}
        return render_request_form(request, kind, values=values)
    commune = active_commune_by_cut(request.POST.get("commune", ""))
    return placeless_submit(
        request,
        lambda values, errors, status=400, **extra: render_request_form(
            request, kind, values=values, errors=errors, status=status, **extra
        ),
        kind=kind,
        category=category_by_code(request.POST.get("service_code", "")) or request.POST.get("service_code", ""),
        commune=commune,
        channel=Channel.WEB,
        photo=request.FILES.get("photo"),
        documents=request.FILES.getlist("documents"),
    )


def placeless_submit(request, render_form, **fields):
    """The POST of a request without a place, one path for its form and for a service point's suggestion box: the
    rate limit, the consent to keep contact data, report_create with the citizen's text and contact plus the
    caller's `fields` (kind, topic, channel, comuna or point), then the confirmation page. `render_form(values,
    errors, status=400, rate_limited=None)` answers a refusal: a 400 naming the problem, or the limit's 429 (the
    caller's view is under counts_submissions)."""
    values = request.POST
    # A form sent again (double click, reload) is shown its report before any limit, and spends nothing.
    if code := submitted_tracking_code(values.get("token", "")):
        return filed_redirect(code)
    if refusal := submission_refusal(request):
        return render_form(values, {}, status=429, rate_limited=refusal)
    if contact_without_consent(values):
        return render_form(
            values, {"consent": _("Para guardar sus datos de contacto, acepte su uso para avisarle del avance.")}
        )
    try:
        report = report_create(
            description=values.get("description", ""),
            **{field: values.get(field, "") for field in CONTACT_FIELDS},
            language=get_language() or "es",
            created_by=request.user if request.user.is_authenticated else None,
            submission_token=values.get("token", "")[:64],
            **fields,
        )
    except ValidationError as exc:
        return render_form(values, page_errors(exc, values))
    if report.resubmitted:  # the same form, sent twice at once: the first one spent the budget
        give_back(request)
    return filed_redirect(report.tracking_code)


def render_request_form(request, kind: str, *, values, errors=None, rate_limited=None, status=200):
    communes = list(Commune.objects.active().defer("geometry").order_by("name"))
    return render(
        request,
        "reports/request_form.html",
        {
            "kind": kind,
            "kind_label": RequestKind(kind).label,
            "slug": SLUG_OF[kind],
            "rule": rule(kind),
            "documents_offer": documents_offer(kind),
            "topics": public_categories(kind),
            "communes": communes,
            "values": values,
            "errors": errors or {},
            "rate_limited": rate_limited,
            **photo_field(request, refused=bool(errors)),
        },
        status=status,
    )
