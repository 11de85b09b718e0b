import re
import secrets
from datetime import datetime
from functools import wraps

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from geo_siac.catalogue.attributes import posted_answers, question_blocks
from geo_siac.catalogue.kinds import RequestKind, response_days, rule
from geo_siac.db_router import public_read
from geo_siac.geo import STORAGE_SRID
from geo_siac.geocoding.api import lookups_exceeded
from geo_siac.reports.closing import offers_survey
from geo_siac.reports.deadlines import countdown, information_clock, local_day
from geo_siac.reports.messages import letter_keyed, letter_url, tracking_code_from_survey_token
from geo_siac.reports.photos import DOCUMENT_CONTENT_TYPE
from geo_siac.reports.ratelimit import (
    TrackingLookupsExhausted,
    counts_submissions,
    give_back,
    submission_refusal,
    tracked_report,
)
from geo_siac.reports.requester import (
    LETTER_KEY,
    can_read_letters,
    filed_redirect,
    is_requester,
    letter_key_state,
)
from geo_siac.reports.responsibility import citizen_responsible
from geo_siac.reports.selectors import (
    answer_letters,
    archived_code_year,
    categories_by_group,
    category_by_code,
    letter_document,
    letter_documents,
    open_reports_near,
    public_point,
    public_report_features,
    public_timeline,
    report_by_tracking_code,
    reports_near,
    requester_additions,
    submitted_tracking_code,
)
from geo_siac.reports.services import (
    citizen_may_reopen,
    letter_link_send,
    report_create,
    report_follow,
    survey_submit,
)
from geo_siac.reports.states import CLOSED, OPEN, Channel, Status
from geo_siac.reports.tracking import normalize_tracking_code
from geo_siac.reports.validation import coordinate_errors, no_place_given
from geo_siac.text import decimal
from geo_siac.zones.middleware import commune_path, show_requests_commune, speak_for_points_commune
from geo_siac.zones.selectors import active_communes_geojson, category_terms, closed_days, communes_to_choose

CONTACT_FIELDS = ("reporter_name", "reporter_email", "reporter_phone")


@public_read
@require_http_methods(["GET", "HEAD", "POST"])
@counts_submissions
def home(request):
    if request.method != "POST":  # GET, or HEAD (the same page without its body)
        return render_report_form(request, values={"token": secrets.token_urlsafe(24)})
    # A form sent again (double click, reload) is shown its report before any limit, and spends nothing.
    if code := submitted_tracking_code(request.POST.get("token", "")):
        return filed_redirect(code)
    if refusal := submission_refusal(request):
        return render_report_form(request, values=request.POST, rate_limited=refusal, status=429)
    if contact_without_consent(request.POST):
        errors = {"consent": _("Para guardar sus datos de contacto, acepte su uso para avisarle del avance.")}
        return render_report_form(request, values=request.POST, errors=errors, status=400)
    try:
        report = report_create(**report_arguments(request))
    except ValidationError as exc:
        return render_report_form(request, values=request.POST, errors=page_errors(exc, request.POST), status=400)
    if report.resubmitted:  # the same form, sent twice at once: the first one spent the budget
        give_back(request)
    return filed_redirect(report.tracking_code)


def contact_without_consent(values) -> bool:
    return any(values.get(f, "").strip() for f in CONTACT_FIELDS) and not values.get("consent")


def report_arguments(request) -> dict:
    values = request.POST
    code = values.get("service_code", "")
    # The Category itself goes to report_create (which checks it is active), so it is read once per request.
    category = category_by_code(code)
    return {
        "category": category or code,
        "latitude": values.get("lat"),
        "longitude": values.get("long"),
        "channel": Channel.WEB,
        "description": values.get("description", ""),
        "address": values.get("address", ""),
        "attributes": posted_answers(values, category),
        **{field: values.get(field, "") for field in CONTACT_FIELDS},
        "public_visibility": values.get("public_visibility") == "on",
        "language": get_language() or "es",
        "created_by": request.user if request.user.is_authenticated else None,
        "photo": request.FILES.get("photo"),
        "submission_token": values.get("token", "")[:64],
    }


def flat_errors(exc: ValidationError) -> dict[str, str]:
    return {field: messages[0] for field, messages in exc.message_dict.items()}


def page_errors(exc: ValidationError, values) -> dict[str, str]:
    """The service's errors in the words of a form page, where a person picks from a list and marks the map: "La
    categoría '' no existe" or "Falta la latitud" would not tell them what to do."""
    errors = flat_errors(exc)
    if "category" in errors and not values.get("service_code", "").strip():
        errors["category"] = _("Categoría: elija una de la lista.")
    if no_place_given(errors, coordinates_given=bool((values.get("lat", "") + values.get("long", "")).strip())):
        errors.setdefault(
            "location", _("Falta el lugar: busque la calle y elija una opción de la lista, o toque el mapa.")
        )
    return errors


def photo_field(request, *, refused: bool) -> dict:
    """What a form's photo field shows: the server's size limit, which the browser checks before sending, and, when
    the form comes back refused after a photo was sent, that it must be chosen again (no browser keeps the file)."""
    limit = settings.GEO_SIAC_PHOTO_MAX_BYTES
    return {
        "photo_limit": {"bytes": limit, "mb": decimal(limit / (1024 * 1024))},
        "photo_lost": refused and bool(request.FILES.get("photo")),
    }


def render_report_form(request, *, values, errors=None, rate_limited=None, status=200):
    groups = categories_by_group()
    return render(
        request,
        "reports/report_form.html",
        {
            "values": values,
            "errors": errors or {},
            "rate_limited": rate_limited,
            "groups": groups,
            "question_blocks": question_blocks(
                [c for _group, categories in groups for c in categories],
                values,
                errors or {},
                values.get("service_code", ""),
            ),
            "communes_geojson": active_communes_geojson(),
            # On the shared host with no comuna chosen, each served comuna's own pages (zones.middleware).
            "commune_choices": []
            if request.identity.commune
            else [(c.name, commune_path(c)) for c in communes_to_choose()],
            # A comuna's own page opens on that comuna; the others stay drawn, as a pin near a border may be theirs.
            "map_config": {**map_config(), "commune": request.identity.commune.cut if request.identity.commune else ""},
            **photo_field(request, refused=bool(errors)),
        },
        status=status,
    )


def map_config() -> dict:
    return {
        "tileUrl": settings.GEO_SIAC_TILE_URL,
        "duplicatesUrl": reverse("reports:duplicates"),
        "nearbyUrl": reverse("reports:nearby"),
        "followLabel": _("Seguir esta solicitud"),
        "alreadyReported": _("Ya reportado"),
        "reportedHere": _("solicitudes ya reportadas aquí; acerque el mapa para verlas"),
        "followThisOne": _("Seguir este reporte"),
        "approximate": _("Ubicación aproximada: el vecino no pidió mostrarla en el mapa."),
        "nearbyOne": _(
            "Ya hay 1 solicitud abierta cerca del marcador: tóquela en el mapa (en rojo) para verla o seguirla."
        ),
        "nearbyMany": _(
            "Ya hay %(n)s solicitudes abiertas cerca del marcador: tóquelas en el mapa (en rojo) para "
            "verlas o seguirlas."
        ),
        "outsideMessage": _(
            "Ese punto está fuera de las comunas atendidas. Elija un lugar dentro del límite dibujado."
        ),
        "locationError": _("No pudimos obtener su ubicación; marque el lugar en el mapa."),
        "distanceLabel": _("a %(m)s m"),
    }


def lookups_limited(view):
    """A view that looks tracking codes up answers 429 once its client has failed too many lookups."""

    @wraps(view)
    def limited(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except TrackingLookupsExhausted:
            response = render(request, "reports/lookups_limited.html", status=429)
            response["Retry-After"] = str(settings.GEO_SIAC_TRACKING_FAILURES_WINDOW_SECONDS)
            return response

    return limited


def public_report_or_404(request, code: str):
    report = tracked_report(request, code, report_by_tracking_code)
    if report is None:
        raise Http404(_("No encontramos una solicitud con ese código."))
    show_requests_commune(request, report.commune)
    return report


@public_read
@require_safe
@lookups_limited
def submitted(request, code: str):
    report = public_report_or_404(request, code)
    if report.received_at is not None:  # filed at a point's box: its confirmation is the point's municipality's
        speak_for_points_commune(request, report.received_at)
    return render(
        request,
        "reports/submitted.html",
        {
            "report": report,
            "kind_label": RequestKind(report.kind).label,
            "is_service_request": report.kind == RequestKind.SERVICE_REQUEST,
            "response_days": response_days(report.kind, category_terms(report.commune, report.category).response_days),
            "rule": rule(report.kind),
            "responsible": citizen_responsible(report),
            "another_url": another_url(report),
            "notified_by": notified_by(request, report),
        },
    )


def another_url(report) -> str:
    """Where "Ingresar otra solicitud" leads: back to the box a request was dropped in, else the web form's choice."""
    if report.channel == Channel.SUGGESTION_BOX and report.received_at_id is not None:
        return reverse("attention:box", args=[report.received_at_id])
    return reverse("reports:choose")


def notified_by(request, report) -> str | None:
    """How the reporter hears of each change, as the confirmation tells the requester (reports.requester): "email",
    "phone" or "" (not at all); None to anyone else holding the code, whom the page does not tell."""
    if not is_requester(request, report):
        return None
    if report.reporter_email:
        return "email"
    return "phone" if report.reporter_phone else ""


@public_read
@require_safe
@lookups_limited
def tracking_lookup(request):
    code = request.GET.get("codigo", "").strip()
    error = ""
    if code:
        report = tracked_report(request, code, report_by_tracking_code)
        if report is not None:
            return redirect("reports:tracking", code=report.tracking_code)
        year = archived_code_year(code)
        if year is not None:
            # Answered here: the typed code may not fit the tracking page's URL, and a redirect would count it twice.
            context = {"code": normalize_tracking_code(code), "year": year}
            return render(request, "reports/tracking_archived.html", context, status=410)
        error = _("No encontramos una solicitud con el código «%(code)s». Revise que esté bien escrito.") % {
            "code": code
        }
    return render(request, "reports/tracking_lookup.html", {"code": code, "error": error}, status=404 if error else 200)


@public_read
@require_safe
@lookups_limited
def tracking(request, code: str):
    try:
        report = public_report_or_404(request, code)
    except Http404:
        year = archived_code_year(code)
        if year is None:
            raise
        return render(request, "reports/tracking_archived.html", {"code": code, "year": year}, status=410)
    if code != report.tracking_code:  # the filing cookie's path is the canonical code's, and paths are case-sensitive
        return redirect("reports:tracking", code=report.tracking_code)
    return render_tracking(request, report)


def render_tracking(request, report, status: int = 200, **extra):
    requester = is_requester(request, report)
    context = tracking_context(
        report,
        requester=requester,
        letters_readable=can_read_letters(request, report),
        documents_readable=answer_documents_readable(request, report),
        notified_by=notified_by(request, report),
        **extra,
    )
    response = render(request, "reports/tracking.html", context, status=status)
    patch_vary_headers(response, ["Cookie"])  # the same URL is the requester's page or a stranger's
    if requester:  # the requester's own text and place: never kept by a cache another browser reads
        patch_cache_control(response, private=True, no_store=True)
    return response


def tracking_context(
    report,
    *,
    now: datetime | None = None,
    requester: bool = False,
    letters_readable: bool = False,
    documents_readable: bool = False,
    **extra,
) -> dict:
    """`requester` (reports.requester.is_requester) adds what only the requester sees: the place they typed and their
    own text, shown to anyone else only when the request is public; `letters_readable`
    (reports.requester.can_read_letters) links the answer letters, which name the requester;
    `documents_readable` (answer_documents_readable) lists the documents they delivered."""
    is_closed = report.status in CLOSED
    clock = information_clock(report)
    letters = answer_letters(report)
    attached = letter_documents(report) if letters and documents_readable else {}
    # No count while a subsanación is pending: the legal clock's section says what the requester must do by when.
    counting = not is_closed and not (clock and clock["correction_due_at"])
    return {
        "report": report,
        "letters": letters,
        "letter_rows": [(answer, attached.get(answer.number, [])) for answer in letters],
        "kind_label": RequestKind(report.kind).label,
        "responsible": citizen_responsible(report),
        "clock": clock,
        "status_label": Status(report.status).label,
        "is_closed": is_closed,
        "reopenable": citizen_may_reopen(report),
        "timeline": public_timeline(report),
        "countdown": (
            countdown(report.expected_at, now or timezone.now(), closed_days=closed_days()) if counting else None
        ),
        "photos": report.photos.all() if report.public_visibility else [],
        "requester": requester,
        "letters_readable": letters_readable,
        "own_place": report.address if requester else "",
        "corrections": requester_additions(report) if requester else [],
        "description": report.description if requester or report.public_visibility else "",
        **extra,
    }


def locked_letter_page(request, report, number: int, status: int = 403, **extra):
    """What someone not allowed to read a letter (reports.requester.can_read_letters) gets on its page or PDF: that
    it exists, why their link does not open it, and «Enviar un enlace nuevo a quien hizo la solicitud»."""
    answer = get_object_or_404(report.letters.only("number", "issued_at", "report"), number=number)
    context = {
        "report": report,
        "letter": answer,
        "expired": letter_key_state(report, request.GET.get(LETTER_KEY, "")) == "expired",
        "link_days": settings.GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS,
        **extra,
    }
    return render(request, "reports/letter_locked.html", context, status=status)


@public_read
@require_safe
@lookups_limited
@cache_control(private=True, no_store=True)
def letter(request, code: str, number: int):
    """An answer letter's page: it names the requester, so only reports.requester.can_read_letters opens it (staff
    open it from their report page, workspace)."""
    report = public_report_or_404(request, code)
    if not can_read_letters(request, report):
        return locked_letter_page(request, report, number)
    return letter_page(request, report, number)


def letter_page(request, report, number: int, *, pdf_url: str = "", back_url: str = "", document_url=None):
    """The letter's page, its PDF link `pdf_url`, its back link `back_url` and its documents' links
    `document_url(document)` (the citizen's pages by default)."""
    answer = get_object_or_404(report.letters.defer("pdf"), number=number)
    key = request.GET.get(LETTER_KEY, "")  # carried on, never a fresh one: it would outlive the link it came from
    readable = document_url or answer_documents_readable(request, report)
    rows = {document.pk: document for document in letter_documents(report).get(number, [])} if readable else {}
    document_url = document_url or (lambda document: letter_document_url(report, number, document, key=key))
    context = {
        "report": report,
        "letter": answer,
        "content": answer.content,
        # As the letter lists them, each linked where this reader may open it.
        "attachments": [
            {**listed, "url": document_url(rows[listed["document_id"]]) if listed.get("document_id") in rows else ""}
            for listed in answer.content.get("attachments", [])
        ],
        # Listed but not linked for this reader (a request left without contact): where to ask for them instead.
        "documents_at_desk": not readable and bool(answer.content.get("attachments")),
        "pdf_url": pdf_url or letter_url(answer, pdf=True, key=key),
        "back_url": back_url or reverse("reports:tracking", args=[report.tracking_code]),
    }
    return render(request, "reports/letter.html", context)


def answer_documents_readable(request, report) -> bool:
    """Whether this browser may open the documents the request's answers delivered on the citizen's pages: where the
    letter opens (reports.requester.can_read_letters), while the request keeps an email or a phone. They may name the
    requester and, unlike the letter, are not redacted by an erasure; an erased request keeps neither (which a Ley
    20.285 request otherwise has, art. 12), and can_read_letters would then open it to anyone holding the code: its
    documents are then staff's only (their own links, workspace)."""
    return can_read_letters(request, report) and bool(report.reporter_email or report.reporter_phone)


def letter_document_url(report, number: int, document, *, key: str = "") -> str:
    """A document of an answer letter, for whoever reads the letter: with the `key` the letter was opened with."""
    return letter_keyed(reverse("reports:letter_document", args=[report.tracking_code, number, document.pk]), key)


@public_read
@require_safe
@lookups_limited
@cache_control(private=True, no_store=True)
def letter_document_download(request, code: str, number: int, document_id: int):
    """A document an answer letter delivered, to whoever may read the letter (its requester, the letter's key);
    never a document the requester sent."""
    report = public_report_or_404(request, code)
    found = letter_document(report, number, document_id) if answer_documents_readable(request, report) else None
    if found is None:
        raise Http404
    return document_response(found)


def document_response(document) -> FileResponse:
    """A stored PDF document, always as a download of type application/pdf that the browser may not sniff as
    anything else (SECURE_CONTENT_TYPE_NOSNIFF, set here too so no middleware order can drop it). Never cached by a
    shared cache. The caller has checked who asks."""
    try:
        stored = default_storage.open(document.file.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(stored, content_type=DOCUMENT_CONTENT_TYPE, as_attachment=True, filename=document.name)
    response["X-Content-Type-Options"] = "nosniff"
    # Opened in a tab anyway (a download manager, a PDF viewer in the browser), it runs no script and loads nothing.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    patch_cache_control(response, private=True, no_store=True)
    return response


@public_read
@require_safe
@lookups_limited
@cache_control(private=True, no_store=True)
def letter_pdf(request, code: str, number: int):
    report = public_report_or_404(request, code)
    if not can_read_letters(request, report):
        return locked_letter_page(request, report, number)
    return letter_download(report, number)


@require_POST
@lookups_limited
@counts_submissions
def letter_link(request, code: str):
    """«Enviar un enlace nuevo a quien hizo la solicitud»: a fresh keyed link to the contact on file, never shown.
    Answered on the letter's page when asked there (`carta`), else on the tracking page."""
    report = public_report_or_404(request, code)
    number = request.POST.get("carta", "")
    letters = report.letters.defer("pdf", "content").select_related("report")
    if number and not re.fullmatch(r"[0-9]{1,9}", number):  # str.isdigit() takes "²", which the lookup cannot
        raise Http404(_("Esta solicitud no tiene una carta de respuesta."))
    answer = get_object_or_404(letters, number=number) if number else letters.order_by("-number").first()
    if answer is None:
        raise Http404(_("Esta solicitud no tiene una carta de respuesta."))
    sent = letter_link_send(
        report=report,
        letter=answer,
        refusal=lambda: submission_refusal(request, purpose="letter-link", report=report),
    )
    status = 429 if sent.refused else 200  # counts_submissions gives a refusal's counts back, with Retry-After
    if number:
        return locked_letter_page(request, report, answer.number, status=status, letter_link=sent)
    return render_tracking(request, report, status=status, letter_link=sent)


def letter_download(report, number: int) -> HttpResponse:
    answer = get_object_or_404(report.letters.only("pdf", "number"), number=number)
    response = HttpResponse(bytes(answer.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="carta-{report.tracking_code}-{number}.pdf"'
    return response


@require_POST
@lookups_limited
@counts_submissions
def follow(request, code: str):
    report = public_report_or_404(request, code)
    if refusal := submission_refusal(request, purpose="follow", report=report):
        return render_tracking(
            request, report, status=429, rate_limited=refusal, follow_email=request.POST.get("email", "")
        )
    try:
        report_follow(report=report, email=request.POST.get("email", ""), language=get_language() or "es")
    except ValidationError as exc:
        return render_tracking(
            request, report, status=400, follow_errors=flat_errors(exc), follow_email=request.POST.get("email", "")
        )
    return render_tracking(request, report, followed=True)


@public_read
@require_safe
def duplicates(request):
    """Open public reports of a category near a point, for the form's "follow this one instead". No personal data, no
    coordinates: only what the tracking page shows, plus a rounded distance."""
    category = category_by_code(request.GET.get("category"), "public")
    lat, lng, errors = coordinate_errors(request.GET.get("latitude"), request.GET.get("longitude"))
    if category is None:
        errors["category"] = _("Categoría desconocida.")
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    nearby = open_reports_near(category=category, point=Point(lng, lat, srid=STORAGE_SRID), public_only=True)[:10]
    return JsonResponse(
        {
            "radius_m": category.duplicate_radius_m,
            "results": [
                {
                    "tracking_code": r.tracking_code,
                    "category": r.category.name,
                    "status": Status(r.status).label,
                    "created_at": local_day(r.created_at).isoformat(),
                    "distance_m": round(r.distance_m / 5) * 5,
                    "url": reverse("reports:tracking", args=[r.tracking_code]),
                }
                for r in nearby
            ],
        }
    )


# Around the pin while the citizen chooses: a few blocks, what they can see from where they stand.
NEARBY_RADIUS_M = 300
NEARBY_LIMIT = 100


@public_read
@require_safe
def nearby(request):
    """The open public reports around a point, for the report page's map: GeoJSON placed as the public API places
    them (a non-public report at its published cell's centre, or not at all), newest first. A report the citizen
    made public links to its tracking page to follow it; a non-public one's tracking code is never published."""
    if lookups_exceeded(request):
        window = settings.GEO_SIAC_GEOCODE_WINDOW_SECONDS
        message = _("Demasiadas búsquedas desde esta dirección; espere un momento.")
        return JsonResponse({"errors": {"__all__": message}}, status=429, headers={"Retry-After": str(window)})
    lat, lng, errors = coordinate_errors(request.GET.get("lat"), request.GET.get("lon"))
    if errors:
        return JsonResponse({"errors": errors}, status=400)
    reports = reports_near(
        public_report_features().filter(status__in=OPEN), lat=lat, lng=lng, radius_m=NEARBY_RADIUS_M
    ).select_related("category")[:NEARBY_LIMIT]
    features = []
    for report in reports:
        shown = public_point(report)
        if shown is None:
            continue
        properties = {
            "category": report.category.name,
            "status": Status(report.status).label,
            "created_at": local_day(report.created_at).isoformat(),
            "exact": report.public_visibility,
        }
        if report.public_visibility:
            properties["url"] = reverse("reports:tracking", args=[report.tracking_code]) + "#seguir"
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": {"type": "Point", "coordinates": [round(shown[1], 6), round(shown[0], 6)]},
            }
        )
    return JsonResponse({"type": "FeatureCollection", "radius_m": NEARBY_RADIUS_M, "features": features})


@require_http_methods(["GET", "HEAD", "POST"])
def survey(request, token: str):
    code = tracking_code_from_survey_token(token)
    report = report_by_tracking_code(code) if code else None
    if report is None:
        return render(request, "reports/survey.html", {"invalid": True}, status=404)
    show_requests_commune(request, report.commune)
    context = {"report": report, "ratings": range(1, 6), "values": request.POST, "errors": {}}
    if report.status in CLOSED and not offers_survey(report):  # a link sent before the survey had its own rule
        context["not_offered"] = True
        return render(request, "reports/survey.html", context, status=400 if request.method == "POST" else 200)
    if request.method == "POST":
        try:
            survey_submit(
                report=report,
                resolution_rating=request.POST.get("resolution_rating"),
                service_rating=request.POST.get("service_rating"),
                comment=request.POST.get("comment", ""),
            )
        except ValidationError as exc:
            context["errors"] = flat_errors(exc)
            return render(request, "reports/survey.html", context, status=400)
        context["thanks"] = True
    elif hasattr(report, "survey"):
        context["errors"] = {"__all__": _("Esta solicitud ya tiene una encuesta respondida. ¡Gracias!")}
    return render(request, "reports/survey.html", context)
