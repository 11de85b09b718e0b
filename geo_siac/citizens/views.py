"""The "Mis solicitudes" pages: thin views over citizens.services and the report services. A citizen session holds
only the citizen's email (services.CITIZEN_EMAIL), never a Django user."""

import logging
from functools import wraps

from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from geo_siac.citizens import messages, oidc, selectors
from geo_siac.citizens.models import ALERT_RADII_M
from geo_siac.citizens.ratelimit import link_request_allowed_for_email
from geo_siac.citizens.services import (
    CITIZEN_EMAIL,
    area_alert_subscribe,
    citizen_data_erase,
    citizen_session_start,
    clean_email,
    sign_in_link_redeem,
    sign_in_link_request,
)
from geo_siac.citizens.services import (
    area_alert_confirm as confirm_alert,
)
from geo_siac.citizens.services import (
    area_alert_unsubscribe as unsubscribe_alert,
)
from geo_siac.reports.archived import ArchiveColumnsMissing, PendingErasuresBlocked
from geo_siac.reports.deadlines import information_clock
from geo_siac.reports.messages import reopen_from_token
from geo_siac.reports.ratelimit import counts_submissions, submission_refusal
from geo_siac.reports.requester import is_requester
from geo_siac.reports.responsibility import citizen_responsible
from geo_siac.reports.selectors import public_timeline, report_by_tracking_code, requester_additions
from geo_siac.reports.services import (
    answers_correction,
    citizen_reopen_refusal,
    report_add_citizen_info,
    report_reopen_by_citizen,
    report_unfollow,
    reporter_language_update,
)
from geo_siac.reports.services.photos import documents_offer
from geo_siac.reports.states import CLOSED, status_names
from geo_siac.reports.tracking import find_tracking_codes
from geo_siac.reports.views import flat_errors, map_config, photo_field
from geo_siac.zones.middleware import show_requests_commune
from geo_siac.zones.selectors import active_communes_geojson

logger = logging.getLogger(__name__)


# The request a citizen came to act on (the tracking page's "Mis solicitudes: …" link), carried through the sign-in
# (the emailed link's query, the identity provider's round trip in the session) so they land on it, not on the list.
ASKED = "solicitud"
ASKED_IN_SESSION = "citizens_asked_report"


def asked_code(query) -> str:
    """The tracking code of `query`'s ASKED, normalized; empty when it holds none or several."""
    codes = find_tracking_codes(query.get(ASKED, ""))
    return codes[0] if len(codes) == 1 else ""


def with_asked(url: str, code: str) -> str:
    return f"{url}?{urlencode({ASKED: code})}" if code else url


def landing(code: str):
    """Where a citizen goes once signed in: the request they asked for (a page that says so when it is not one of
    theirs), else their list."""
    return redirect("citizens:report", code=code) if code else redirect("citizens:reports")


def citizen_required(view):
    """A page of a signed-in citizen, called with their email; anyone else goes to the sign-in form, which brings
    them back to the request they opened."""

    @wraps(view)
    def signed_in(request, *args, **kwargs):
        email = request.session.get(CITIZEN_EMAIL)
        if not email:
            return redirect(with_asked(reverse("citizens:sign_in_request"), kwargs.get("code", "")))
        return view(request, email, *args, **kwargs)

    return signed_in


def render_sign_in_request(request, status: int = 200, **extra):
    return render(
        request,
        "citizens/sign_in_request.html",
        {
            "oidc_enabled": oidc.enabled(),
            "oidc_name": settings.GEO_SIAC_OIDC_NAME,
            "asked": asked_code(request.GET),
            **extra,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@counts_submissions
def sign_in_request(request):
    if request.method != "POST":
        if request.session.get(CITIZEN_EMAIL) and (code := asked_code(request.GET)):
            return landing(code)  # already signed in: straight to the request
        return render_sign_in_request(request)
    if refusal := submission_refusal(request, purpose="sign-in"):
        return render_sign_in_request(request, status=429, rate_limited=refusal, email=request.POST.get("email", ""))
    try:
        email = clean_email(request.POST.get("email", ""))
    except ValidationError as exc:
        return render_sign_in_request(request, status=400, errors=flat_errors(exc), email=request.POST.get("email", ""))
    # Past the per-email limit nothing is sent, and the page says what it always says.
    if link_request_allowed_for_email(email):
        sign_in_link_request(email=email, language=get_language() or "es", asked=asked_code(request.GET))
    return render_sign_in_request(request, sent=True)


def oidc_failure(request, error: oidc.OidcError):
    oidc.log_failure(error)
    status, message = oidc.reason_page(error.reason)
    return render(request, "citizens/oidc_error.html", {"message": message, "reason": error.reason}, status=status)


@require_safe
def oidc_start(request):
    """A link, not a form: the Content-Security-Policy's form-action would stop a form redirected to the provider."""
    if not oidc.enabled():
        raise Http404(_("El ingreso con un proveedor de identidad no está habilitado."))
    try:
        url, flow = oidc.authorization_request()
    except oidc.OidcError as exc:
        return oidc_failure(request, exc)
    request.session[oidc.FLOW] = flow
    request.session[ASKED_IN_SESSION] = asked_code(request.GET)
    return redirect(url)


@require_safe
def oidc_callback(request):
    """The provider sends the citizen back here. The flow is taken out of the session first, so a state is used
    once whatever happens; the citizen's session starts only once every check has passed."""
    if not oidc.enabled():
        raise Http404(_("El ingreso con un proveedor de identidad no está habilitado."))
    flow = request.session.pop(oidc.FLOW, None)
    asked = request.session.pop(ASKED_IN_SESSION, "")
    try:
        email = oidc.sign_in_email(flow, request.GET)
    except oidc.OidcError as exc:
        return oidc_failure(request, exc)
    citizen_session_start(email=email, session=request.session)
    return landing(asked)


@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request, token: str):
    """The emailed link shows a button rather than signing in on GET: mail scanners that open links would
    otherwise use it up before the citizen does."""
    if request.method != "POST":
        usable = selectors.usable_sign_in_links(token).exists()
        return render(request, "citizens/sign_in.html", {"invalid": not usable}, status=200 if usable else 404)
    try:
        sign_in_link_redeem(token=token, session=request.session)
    except ValidationError:
        return render(request, "citizens/sign_in.html", {"invalid": True}, status=404)
    return landing(asked_code(request.GET))


@require_POST
def sign_out(request):
    request.session.flush()
    return redirect("reports:home")


def render_reports(request, email: str, status: int = 200, **extra):
    filed, followed = list(selectors.filed_reports(email)), list(selectors.followed_reports(email))
    names = status_names()
    for report in filed + followed:
        report.status_label = names[report.status]
    for report in filed:  # a subsanación is the requester's to answer, not a follower's
        report.clock = information_clock(report)
    return render(
        request,
        "citizens/reports.html",
        {
            "email": email,
            "filed": filed,
            "followed": followed,
            "errors": {},
            "message_language": selectors.message_language(email),
            **extra,
        },
        status=status,
    )


@require_safe
@citizen_required
def reports(request, email: str):
    return render_reports(request, email, saved="guardado" in request.GET)


def citizen_report_or_404(email: str, code: str):
    report = selectors.citizen_report(email, code)
    if report is None:
        raise Http404(_("No encontramos esa solicitud entre las suyas."))
    return report


def render_report(request, email: str, report, status: int = 200, **extra):
    return render(
        request,
        "citizens/report.html",
        {
            "report": report,
            "status_label": status_names()[report.status],
            "responsible": citizen_responsible(report),
            "clock": information_clock(report),
            "answers_correction": answers_correction(report, email),
            # Their own answers to a subsanación: to the requester, not to a follower of the request.
            "corrections": requester_additions(report) if is_requester(request, report) else [],
            "documents_offer": documents_offer(report.kind),
            "is_closed": report.status in CLOSED,
            "reopen_refusal": citizen_reopen_refusal(report) if report.status in CLOSED else None,
            "timeline": public_timeline(report),
            "follows": not selectors.filed_reports(email).filter(pk=report.pk).exists(),
            "errors": {},
            "values": {},
            **photo_field(request, refused=status >= 400),
            **extra,
        },
        status=status,
    )


@require_safe
@citizen_required
def report_detail(request, email: str, code: str):
    return render_report(request, email, citizen_report_or_404(email, code), added="agregada" in request.GET)


def reopened(request, report):
    """To the tracking page, which says once that the request was reopened (a one-time message: a URL flag would say
    it to anyone who opened the URL, reopened or not)."""
    flash.success(
        request,
        _("Listo: reabrimos su solicitud. La unidad responsable la revisará de nuevo y le avisaremos de cada cambio."),
        extra_tags="reopened",
    )
    return redirect("reports:tracking", code=report.tracking_code)


@require_POST
@citizen_required
@counts_submissions
def reopen(request, email: str, code: str):
    report = citizen_report_or_404(email, code)
    if refusal := submission_refusal(request, report=report):
        return render_report(request, email, report, status=429, rate_limited=refusal, values=request.POST)
    try:
        report_reopen_by_citizen(report=report, reason=request.POST.get("reason", ""), by_email=email)
    except ValidationError as exc:
        return render_report(request, email, report, status=400, errors=flat_errors(exc), values=request.POST)
    return reopened(request, report)


@require_POST
@citizen_required
@counts_submissions
def add_info(request, email: str, code: str):
    report = citizen_report_or_404(email, code)
    if refusal := submission_refusal(request, report=report):
        return render_report(request, email, report, status=429, rate_limited=refusal, values=request.POST)
    try:
        report_add_citizen_info(
            report=report,
            note=request.POST.get("note", ""),
            photo=request.FILES.get("photo"),
            documents=request.FILES.getlist("documents"),
            by_email=email,
        )
    except ValidationError as exc:
        return render_report(request, email, report, status=400, errors=flat_errors(exc), values=request.POST)
    return redirect(reverse("citizens:report", args=[report.tracking_code]) + "?agregada")


@require_POST
@citizen_required
def unfollow(request, email: str, code: str):
    report = citizen_report_or_404(email, code)
    try:
        report_unfollow(report=report, email=email)
    except ValidationError as exc:
        return render_report(request, email, report, status=400, errors=flat_errors(exc))
    return redirect("citizens:reports")


@require_POST
@citizen_required
def preferences(request, email: str):
    try:
        reporter_language_update(email=email, language=request.POST.get("language", ""))
    except ValidationError as exc:
        return render_reports(request, email, status=400, errors=flat_errors(exc))
    return redirect(reverse("citizens:reports") + "?guardado")


@require_safe
@citizen_required
def export(request, email: str):
    try:
        data = selectors.citizen_data(email)
    except (ArchiveColumnsMissing, PendingErasuresBlocked):
        return archive_unavailable(request)
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = 'attachment; filename="mis-datos-geosiac.json"'
    return response


# How long the erasure from "Mis solicitudes" waits for a lock (an archived year's row held while its pending erasures
# are applied or its schema dumped) before it gives up whole, with the 503 page: a web request must not hang.
ERASE_LOCK_SECONDS = 10
LOCK_NOT_AVAILABLE = "55P03"


@require_http_methods(["GET", "HEAD", "POST"])
@citizen_required
def erase(request, email: str):
    if request.method != "POST":
        return render(request, "citizens/erase.html", {"email": email})
    if request.POST.get("confirm") != "on":
        return render(
            request,
            "citizens/erase.html",
            {"email": email, "error": _("Marque la casilla para confirmar que quiere borrar sus datos.")},
            status=400,
        )
    try:
        summary = citizen_data_erase(email=email, commit=True, lock_wait=ERASE_LOCK_SECONDS)
    except (ArchiveColumnsMissing, PendingErasuresBlocked):
        return archive_unavailable(request)
    except OperationalError as exc:  # lock_timeout: an archived year held (pending erasures applied, a dump)
        if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
            raise
        return archive_unavailable(request)
    request.session.flush()
    return render(request, "citizens/erase.html", {"erased": True, "pending_years": summary.archived_years_pending})


def archive_unavailable(request):
    """An archive schema lacking a live column that could not be added now (its table locked by a backup,
    reports.archived), or pending erasures that cannot be recorded now (their key lost): the export or erasure
    refused whole, nothing changed; try again later. The cause and the fix are in the log (the logger.exception), not
    on the citizen's page."""
    logger.exception("export or erasure refused by the archive (reports.archived)")
    return render(request, "citizens/archive_unavailable.html", status=503)


@require_http_methods(["GET", "HEAD", "POST"])
@counts_submissions
def reopen_link(request, token: str):
    """ "No fue resuelto" from the closing message: the signed link names the report and the recipient, so no
    sign-in is needed."""
    found = reopen_from_token(token)
    report = report_by_tracking_code(found[0]) if found else None
    if report is None:
        return render(request, "citizens/reopen_link.html", {"invalid": True}, status=404)
    show_requests_commune(request, report.commune)
    refusal = citizen_reopen_refusal(report)
    context = {
        "report": report,
        "status_label": status_names()[report.status],
        "refusal": refusal,
        "errors": {},
        "values": {},
    }
    if request.method != "POST" or refusal:  # a request that cannot be reopened is said so, with no form to fill
        return render(request, "citizens/reopen_link.html", context, status=400 if request.method == "POST" else 200)
    if refusal := submission_refusal(request, report=report):
        context.update(rate_limited=refusal, values=request.POST)
        return render(request, "citizens/reopen_link.html", context, status=429)
    try:
        report_reopen_by_citizen(report=report, reason=request.POST.get("reason", ""), by_email=found[1])
    except ValidationError as exc:
        context.update(errors=flat_errors(exc), values=request.POST)
        return render(request, "citizens/reopen_link.html", context, status=400)
    return reopened(request, report)


ALERT_FIELDS = ("email", "latitude", "longitude", "radius_m", "zone_id")


def render_area_alert(request, status: int = 200, **extra):
    return render(
        request,
        "citizens/area_alert.html",
        {
            "zones": selectors.area_alert_zones(),
            "radii": ALERT_RADII_M,
            "errors": {},
            "values": {},
            "communes_geojson": active_communes_geojson(),
            "map_config": map_config(),
            **extra,
        },
        status=status,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@counts_submissions
def area_alert(request):
    """Subscribe to the weekly summary of an area: the form, and its POST, which emails the confirmation link."""
    if request.method != "POST":
        return render_area_alert(request, values={"radius_m": "500"})
    values = {field: request.POST.get(field, "") for field in ALERT_FIELDS}
    if request.POST.get("kind") != "zone":
        values["zone_id"] = ""
    if refusal := submission_refusal(request, purpose="area-alert"):
        return render_area_alert(request, status=429, rate_limited=refusal, values=values)
    try:
        email = clean_email(values["email"])
        # Past the per-email limit nothing is sent, and the page says what it always says.
        if link_request_allowed_for_email(email, "area-alert"):
            area_alert_subscribe(
                email=email,
                language=get_language() or "es",
                latitude=values["latitude"],
                longitude=values["longitude"],
                radius_m=values["radius_m"],
                zone_id=values["zone_id"],
            )
    except ValidationError as exc:
        return render_area_alert(request, status=400, errors=flat_errors(exc), values=values)
    return render_area_alert(request, sent=True)


@require_http_methods(["GET", "HEAD", "POST"])
def area_alert_confirm(request, token: str):
    """The emailed link shows a button and the POST confirms, so a mail scanner opening links confirms nothing."""
    if request.method != "POST":
        valid = messages.alert_id_from_confirm_token(token) is not None
        return render(
            request,
            "citizens/area_alert_link.html",
            {"action": "confirm", "invalid": not valid},
            status=200 if valid else 404,
        )
    try:
        alert = confirm_alert(token=token)
    except ValidationError:
        return render(request, "citizens/area_alert_link.html", {"action": "confirm", "invalid": True}, status=404)
    return render(
        request, "citizens/area_alert_link.html", {"action": "confirm", "done": True, "area": messages.area_text(alert)}
    )


# RFC 8058: a mail client's one-click unsubscribe is a POST with no page, so no CSRF token; the signed link is the
# proof, and all it can do is delete its own subscription.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def area_alert_unsubscribe(request, token: str):
    valid = messages.alert_id_from_unsubscribe_token(token) is not None
    if request.method != "POST" or not valid:
        return render(
            request,
            "citizens/area_alert_link.html",
            {"action": "unsubscribe", "invalid": not valid},
            status=200 if valid else 404,
        )
    unsubscribe_alert(token=token)
    return render(request, "citizens/area_alert_link.html", {"action": "unsubscribe", "done": True})
