"""The field-crew workspace (/cuadrilla/): phone-first pages over the report services."""

import json
from functools import cache

from django.conf import settings
from django.contrib import messages
from django.contrib.gis.geos import Point
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from geo_siac.catalogue.attributes import answers_shown
from geo_siac.catalogue.kinds import offers_crew_work, rule, takes_documents, takes_legal_outcome
from geo_siac.geo import STORAGE_SRID
from geo_siac.geocoding.selectors import gazetteer_reverse_many
from geo_siac.reports.deadlines import DeadlineState, shown_day
from geo_siac.reports.letters import letter_content, signer_missing
from geo_siac.reports.models import Report
from geo_siac.reports.selectors import (
    LATITUDE,
    LONGITUDE,
    answer_letters,
    crew_workload,
    deadline_state_counts,
    open_reports,
    report_documents,
    report_history,
    reports_of_crews,
    supervision_reports,
    triage_queue,
    with_deadline_state,
)
from geo_siac.reports.services import (
    answer_documents_process,
    answer_refusal,
    answer_validate,
    correction_refusal,
    crew_action_apply,
    department_refusal,
    extend_refusal,
    information_correction_request,
    information_extend,
    information_extend_refusal,
    reclassify_refusal,
    refer_refusal,
    report_answer,
    report_assign_department,
    report_bulk_update,
    report_change_status,
    report_extend_deadline,
    report_merge_duplicate,
    report_reclassify,
    report_refer,
    report_reroute,
    report_return,
    reroute_refusal,
    return_refusal,
)
from geo_siac.reports.services.photos import documents_offer
from geo_siac.reports.states import is_open, status_names
from geo_siac.reports.tracking import normalize_tracking_code
from geo_siac.reports.views import letter_download, letter_page
from geo_siac.reports.work_location import work_location
from geo_siac.web.csp import csp_allow
from geo_siac.workspace.access import crew_required, seen_report, seen_token, supervisor_required, visible_reports
from geo_siac.workspace.forms import (
    BulkForm,
    CorrectionForm,
    DepartmentForm,
    ExtendForm,
    LegalAnswerForm,
    LegalExtendForm,
    MergeForm,
    ReasonForm,
    ReclassifyForm,
    ReferForm,
    RerouteForm,
    StatusForm,
    SupervisionFilterForm,
)
from geo_siac.zones.models import Crew
from geo_siac.zones.roles import is_supervisor
from geo_siac.zones.selectors import crews_of, current_zones_of, served_area_centre


def map_data(crews, reports) -> dict:
    """The crews' zones and the page's reports with a place (rows of `queue_rows`) for crew_map.js."""
    zones = [{"name": str(z), "geometry": json.loads(z.geometry.geojson)} for z in current_zones_of(crews)]
    points = [
        {
            "code": r.tracking_code,
            "lat": r.lat,
            "lng": r.lng,
            "state": r.deadline_state,
            "label": f"{r.tracking_code} · {r.category.name} · {r.status_name}",
            "url": r.url,
        }
        for r in reports
        if r.lat is not None  # a request without a place is in the list, never on the map
    ]
    return {"zones": zones, "reports": points, "centre": served_area_centre()}


def queue_rows(keys) -> list[Report]:
    """A queue page's reports, in deadline order, with what the list and the map show of each: its category and no
    other relation, its point as two numbers, and its link and status name worked out once (`url`,
    `status_name`) for both: loading full reports with their crews, zones and comunas cost more than the query."""
    reports = list(
        open_reports()
        .filter(pk__in=keys)
        .select_related(None)
        .select_related("category")
        .only("tracking_code", "status", "expected_at", "address", "category__name_es", "category__name_en")
        .annotate(lng=LONGITUDE, lat=LATITUDE)
    )
    points = [Point(r.lng, r.lat, srid=STORAGE_SRID) if r.lat is not None else None for r in reports]
    return with_nearby_place(labelled(reports), points)


def with_nearby_place(reports: list[Report], points: list[Point | None]) -> list[Report]:
    """These reports, each given `nearby`: for one with a point (`points`, in the same order) and no address, the
    street corner or place the crew looks for ("cerca de Av. X / Esq. Y, a 40 m"), else "". All read in one
    statement, for the queue (kept in the page, it guides the crew offline too) as for one report's page."""
    unaddressed = [
        (report, point)
        for report, point in zip(reports, points, strict=True)
        if point is not None and not report.address
    ]
    places = gazetteer_reverse_many([point for _report, point in unaddressed])
    for report in reports:
        report.nearby = ""
    for (report, _point), place in zip(unaddressed, places, strict=True):
        report.nearby = place.description_with_distance if place else ""
    return reports


def labelled(reports) -> list[Report]:
    """These reports with their link and status name (`url`, `status_name`), worked out once for list and map."""
    reports = list(reports)
    names = status_names()
    for report in reports:
        report.url = reverse("crew:report", args=[report.tracking_code])
        report.status_name = names[report.status]
    return reports


@crew_required
def home(request):
    """The crew's open reports, soonest deadline first, one page at a time: a crew with a backlog of thousands
    still gets a page a phone can load. The map shows the page's reports; the counts cover the whole queue."""
    crews = Crew.objects.for_staff(request.user) if is_supervisor(request.user) else crews_of(request.user)
    queue = reports_of_crews(crews)
    state_counts = deadline_state_counts(queue)
    # The page's keys first, then its rows: sorting the whole queue joined to its relations to keep 50 cost far
    # more than finding the keys by index (docs/performance.md).
    paginator = Paginator(queue.values_list("pk", flat=True), settings.GEO_SIAC_CREW_QUEUE_PAGE_SIZE)
    paginator.count = sum(state_counts.values())  # the rows the GROUP BY just counted: no second COUNT(*)
    page = paginator.get_page(request.GET.get("pagina"))
    reports = queue_rows(list(page.object_list))
    return render(
        request,
        "workspace/crew_home.html",
        {
            "crews": crews,
            "reports": reports,
            "page": page,
            "state_counts": state_counts,
            "map_data": map_data(crews, reports),
            "states": DeadlineState,
            "is_supervisor": is_supervisor(request.user),
            "tile_url": settings.GEO_SIAC_TILE_URL,
        },
    )


def detail_context(request, report: Report, **forms) -> dict:
    """The report page: its facts and history, and a form for each step its service would take now (`offered`),
    plus the form just posted, drawn again with the service's refusal."""
    seen = {"seen": report.updated_at.isoformat()}
    supervisor = is_supervisor(request.user)
    steps = {"return": (ReasonForm, return_refusal)}
    if supervisor:
        steps |= SUPERVISOR_STEPS | {name: (form, refusal) for name, (form, _run, refusal) in KIND_STEPS.items()}
    offered = {name for name, (_form, refusal) in steps.items() if f"{name}_form" in forms or not refusal(report)}
    context = {
        "report": report,
        "deadline_state": report.deadline_state,
        "events": report_history(report),
        "citizen_photos": report.photos.all(),
        "documents": report_documents(report),
        "crew_work": offers_crew_work(report.kind),
        "takes_documents": takes_documents(report.kind),
        "answers": answers_shown(report.category.attributes, report.attributes),
        "geo_label": f"{report.tracking_code} {report.category.name}",
        "nearby": with_nearby_place([report], [report.location])[0].nearby,
        "tile_url": settings.GEO_SIAC_TILE_URL,
        "is_open": is_open(report.status),
        "offered": offered,
        "status_form": forms.get("status_form") or StatusForm(current=report.status, report=report, initial=seen),
        "seen_token": seen_token(request.user, report),
        "is_supervisor": supervisor,
    }
    for name in offered:
        context[f"{name}_form"] = forms.get(f"{name}_form") or new_form(steps[name][0], report, initial=seen)
    if supervisor:
        if "legal_answer" in rule(report.kind).actions:
            context["letters"] = answer_letters(report)
        if "legal_answer" in offered:
            context["signer_missing"] = signer_missing(request.user)
        context["takes_legal_outcome"] = takes_legal_outcome(report.kind)
        context["documents_offer"] = documents_offer(report.kind) if takes_legal_outcome(report.kind) else None
    return context


def new_form(form_class, report: Report, **kwargs):
    """An empty form of the page's: the reroute form lists the report's comuna's crews, reclassify its topics."""
    if form_class is RerouteForm:
        return RerouteForm(crews=Crew.objects.all(), report=report, **kwargs)
    if form_class is ReclassifyForm:
        return ReclassifyForm(report=report, **kwargs)
    return form_class(**kwargs)


def find_report(request, code: str) -> Report:
    """The report, with its `deadline_state` (None once closed), if this person may see it; else 404."""
    reports = (
        with_deadline_state(visible_reports(request.user))
        .select_related("category", "crew", "zone", "commune", "department")
        .defer("commune__geometry", "zone__geometry")
    )  # the page draws neither polygon; it names the department, which a query of its own read per page
    return get_object_or_404(reports, tracking_code=normalize_tracking_code(code))


@crew_required
def report_page(request, code):
    report = find_report(request, code)
    return render(request, "workspace/crew_report.html", detail_context(request, report))


@supervisor_required  # as the report page, which lists the sent letters to supervisors only
@cache_control(private=True, no_store=True)
def letter(request, code: str, number: int):
    """A sent answer letter, to the staff who see its request (the citizen's copy opens only to its requester)."""
    report = find_report(request, code)
    pdf_url = reverse("crew:letter_pdf", args=[report.tracking_code, number])
    back_url = reverse("crew:report", args=[report.tracking_code])
    return letter_page(
        request,
        report,
        number,
        pdf_url=pdf_url,
        back_url=back_url,
        document_url=lambda document: reverse("document", args=[document.file.name]),
    )


@supervisor_required
@cache_control(private=True, no_store=True)
def letter_pdf(request, code: str, number: int):
    return letter_download(find_report(request, code), number)


def apply(request, report, form_name, form, action, done=None):
    """Run `action(form.cleaned_data)`; on bad input re-draw the page with the errors and HTTP 400. `done` words what
    happened from the report the action returns (else "Cambio guardado.")."""
    if form.is_valid():
        try:
            changed = action(form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, done(changed) if done else _("Cambio guardado."))
            # A form lower down posts to its own #anchor, which the browser would keep across this redirect.
            return redirect(reverse("crew:report", args=[report.tracking_code]) + "#messages")
    return render(
        request, "workspace/crew_report.html", detail_context(request, report, **{form_name: form}), status=400
    )


@crew_required
@require_POST
def change_status(request, code):
    report = find_report(request, code)
    form = StatusForm(request.POST, request.FILES, current=report.status, report=report)
    return apply(
        request,
        report,
        "status_form",
        form,
        lambda data: report_change_status(
            report=report,
            status=data["status"],
            note=data["note"],
            public_note=data["public_note"],
            photos=data.get("photos") or [],  # the crew's fields, absent where the kind has no crew work
            actor=request.user,
            actor_label=request.user.get_username(),
            seen_updated_at=data["seen"],
            work_location=work_location(data.get("latitude"), data.get("longitude"), data.get("accuracy")),
        ),
    )


@crew_required
@require_POST
def hand_back(request, code):
    report = find_report(request, code)
    return apply(
        request,
        report,
        "return_form",
        ReasonForm(request.POST),
        lambda data: report_return(
            report=report, reason=data["reason"], actor=request.user, seen_updated_at=data["seen"]
        ),
    )


@supervisor_required
@require_POST
def reroute(request, code):
    report = find_report(request, code)
    return apply(
        request,
        report,
        "reroute_form",
        RerouteForm(request.POST, crews=Crew.objects.all(), report=report),
        lambda data: report_reroute(
            report=report, crew=data["crew"], reason=data["reason"], actor=request.user, seen_updated_at=data["seen"]
        ),
    )


@supervisor_required
@require_POST
def extend(request, code):
    report = find_report(request, code)
    return apply(
        request,
        report,
        "extend_form",
        ExtendForm(request.POST),
        lambda data: report_extend_deadline(
            report=report,
            business_days=data["business_days"],
            reason=data["reason"],
            actor=request.user,
            seen_updated_at=data["seen"],
        ),
    )


@supervisor_required
@require_POST
def reclassify(request, code):
    report = find_report(request, code)
    return apply(
        request,
        report,
        "reclassify_form",
        ReclassifyForm(request.POST, report=report),
        lambda data: report_reclassify(
            report=report,
            category=data["category"],
            reason=data["reason"],
            actor=request.user,
            seen_updated_at=data["seen"],
        ),
    )


@supervisor_required
@require_POST
def assign_department(request, code):
    report = find_report(request, code)
    return apply(
        request,
        report,
        "department_form",
        DepartmentForm(request.POST),
        lambda data: report_assign_department(
            report=report,
            department=data["department"],
            reason=data["reason"],
            actor=request.user,
            seen_updated_at=data["seen"],
        ),
    )


# A supervisor's steps of a request's kind (catalogue.kinds): the form, the service each one runs and the refusal
# the service would give now.
KIND_STEPS = {
    "legal_extend": (
        LegalExtendForm,
        lambda report, data, user: information_extend(
            report=report, reason=data["reason"], actor=user, seen_updated_at=data["seen"]
        ),
        information_extend_refusal,
    ),
    "correction": (
        CorrectionForm,
        lambda report, data, user: information_correction_request(
            report=report, note=data["note"], actor=user, seen_updated_at=data["seen"]
        ),
        correction_refusal,
    ),
    "legal_answer": (
        LegalAnswerForm,
        lambda report, data, user: report_answer(
            report=report,
            outcome=data["outcome"],
            ground=data["ground"],
            note=data["note"],
            documents=data["documents"],
            actor=user,
            seen_updated_at=data["seen"],
        ),
        answer_refusal,
    ),
    "referral": (
        ReferForm,
        lambda report, data, user: report_refer(
            report=report, institution=data["institution"], note=data["note"], actor=user, seen_updated_at=data["seen"]
        ),
        refer_refusal,
    ),
}

# What the officer is told after each step: what happened and what the requester sees, not just "saved".
KIND_STEP_DONE = {
    "legal_extend": lambda report: (
        _("Plazo prorrogado hasta el %(day)s; el solicitante lo verá en su seguimiento.")
        % {"day": shown_day(report.expected_at)}
    ),
    "correction": lambda report: (
        _("Subsanación pedida: el plazo legal queda suspendido; el solicitante tiene hasta el %(day)s para responder.")
        % {"day": shown_day(report.expected_at)}
    ),
    "legal_answer": lambda report: (
        _("Respuesta enviada con su carta; la solicitud quedó «%(status)s».")
        % {"status": status_names()[report.status]}
    ),
    "referral": lambda report: (
        _("Derivada a %(institution)s; el solicitante verá en su seguimiento cómo contactarlo.")
        % {"institution": report.referred_to.name}
    ),
}

# A supervisor's other steps on the report page: the form and the refusal its service would give now.
SUPERVISOR_STEPS = {
    "reroute": (RerouteForm, reroute_refusal),
    "extend": (ExtendForm, extend_refusal),
    "reclassify": (ReclassifyForm, reclassify_refusal),
    "department": (DepartmentForm, department_refusal),
}


@supervisor_required
@require_POST
def kind_step(request, code, step):
    if step not in KIND_STEPS:
        raise Http404(_("Paso desconocido."))
    report = find_report(request, code)
    form_class, run, _refusal = KIND_STEPS[step]
    # The PDFs an answer delivers go to the service as sent: it checks them by the requester's documents' rule.
    documents = request.FILES.getlist("documents")
    if step == "legal_answer" and "preview" in request.POST:
        return answer_preview(request, report, form_class(request.POST), documents)

    def signed(data):
        previewed_documents_check(data.get("documents_expected"), documents)
        return run(report, {**data, "documents": documents}, request.user)

    return apply(request, report, f"{step}_form", form_class(request.POST), signed, done=KIND_STEP_DONE[step])


def previewed_documents_check(expected: int | None, documents) -> None:
    """Refuses to sign a letter whose PDFs are not those its preview listed: the browser empties the file field after
    a preview, and a delivering letter would otherwise go out without the information it delivers."""
    sent = len([document for document in documents if document])
    if expected is not None and sent != expected:
        raise ValidationError(
            {
                "documents_expected": ngettext(
                    "La vista previa listaba %(expected)d documento y se eligieron %(sent)d: elija otra vez los "
                    "documentos que entrega antes de firmar.",
                    "La vista previa listaba %(expected)d documentos y se eligieron %(sent)d: elija otra vez los "
                    "documentos que entrega antes de firmar.",
                    expected,
                )
                % {"expected": expected, "sent": sent}
            }
        )


def answer_preview(request, report, form, documents=()):
    """The letter as it would be sent, drawn under the answering form (nothing is written), or the form's errors:
    the same checks as report_answer, its documents' too."""
    preview = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            note = answer_validate(kind=report.kind, outcome=data["outcome"], note=data["note"], ground=data["ground"])
            preview = letter_content(
                report=report,
                officer=request.user,
                note=note,
                outcome=data["outcome"],
                ground=data["ground"],
                now=timezone.now(),
                documents=answer_documents_process(kind=report.kind, outcome=data["outcome"], documents=documents),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
    if preview is not None:
        # The file field comes back empty: the form remembers how many the letter listed (previewed_documents_check).
        data = request.POST.copy()
        data["documents_expected"] = len(preview["attachments"]) or ""
        form = type(form)(data)
    context = detail_context(request, report, legal_answer_form=form)
    context["letter_preview"] = preview
    return render(request, "workspace/crew_report.html", context, status=200 if preview else 400)


@crew_required
@require_POST
def action(request):
    """The offline app's outbox, one change per request (multipart, for the photos, with `complete` as its last
    field): 200 with the result, 409 when the change was held because someone else re-routed, merged or closed the
    report, 400 naming what is wrong. A replayed key answers what it answered the first time."""
    data = request.POST
    if data.get("complete") != "1":
        # Django parses a multipart body cut short by a dropped connection as if it had ended there, keeping the
        # fields before the cut: the phone sends `complete` last, so a body without it is refused whole.
        return JsonResponse(
            {
                "outcome": "error",
                "errors": {
                    "complete": [
                        _(
                            "El envío llegó incompleto (se cortó la conexión); no se guardó nada y el dispositivo lo "
                            "reintentará."
                        )
                    ]
                },
            },
            status=400,
        )
    try:
        report, seen = seen_report(request.user, data.get("seen", ""))
        outcome = crew_action_apply(
            key=data.get("key", ""),
            kind=data.get("kind", ""),
            report=report,
            actor=request.user,
            seen_updated_at=seen,
            status=data.get("status", ""),
            note=data.get("note", ""),
            note_is_public=data.get("note_is_public") == "1",
            public_note=data.get("public_note"),  # missing from a change queued before the reply box existed
            photos=request.FILES.getlist("photos"),
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            accuracy_m=data.get("accuracy"),
        )
    except ValidationError as exc:
        return JsonResponse({"outcome": "error", "errors": exc.message_dict}, status=400)
    return JsonResponse({**outcome.result, "replayed": outcome.replayed}, status=409 if outcome.conflict else 200)


@require_GET
@cache_control(max_age=3600)
def manifest(request):
    """The crew app's web app manifest (installable to the home screen), Spanish first; public, as browsers fetch it
    without the session cookie."""
    icons = [
        {
            "src": static(f"geo_siac/icons/crew-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any maskable",
        }
        for size in (192, 512)
    ]
    body = {
        "name": _("GeoSIAC · Cuadrilla"),
        "short_name": _("Cuadrilla"),
        "lang": "es-CL",
        "description": _("La cola de la cuadrilla, también sin conexión."),
        "start_url": reverse("crew:home"),
        "scope": reverse("crew:home"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1b5e20",
        "icons": icons,
    }
    return JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@cache
def service_worker_source() -> str:
    with open(finders.find("geo_siac/crew_sw.js"), encoding="utf-8") as source:
        return source.read().replace("OUTBOX_SCRIPT_URL", static("geo_siac/crew_outbox.js"))


@require_GET
@cache_control(no_cache=True)  # browsers check for a new worker on each visit rather than keep a stale one
@csp_allow(connect_src=settings.GEO_SIAC_TILE_ORIGIN)  # the worker fetches the base-layer tiles it caches
def service_worker(request):
    """The service worker, served from /cuadrilla/ so that its scope covers the crew pages (a worker controls only
    pages at or below its own path); its outbox script under its hashed static name."""
    return HttpResponse(service_worker_source(), content_type="text/javascript; charset=utf-8")


# A bulk change's result per report, as a message of its level (the page lists them after the POST).
RESULT_LEVELS = {"changed": messages.SUCCESS, "unchanged": messages.INFO, "error": messages.ERROR}


@supervisor_required
def supervision(request):
    """Triage, workload, and the open reports under the filters (a map and a page of the list), with the bulk change.
    A bulk change answers per report; when any report was refused the page is drawn again (400) with the same
    reports ticked, otherwise it redirects to the same filtered page with the results."""
    form = BulkForm(request.POST or None, user=request.user)
    selected = set()
    if request.method == "POST":
        # Normalised as on every page that takes a code (a NUL would reach PostgreSQL, which refuses it).
        selected = {normalize_tracking_code(code) for code in request.POST.getlist("reports")}
        if form.is_valid():
            chosen = list(
                Report.objects.for_staff(request.user).filter(tracking_code__in=selected).order_by("expected_at", "pk")
            )
            try:
                results = report_bulk_update(
                    reports=chosen,
                    crew=form.cleaned_data["crew"],
                    status=form.cleaned_data["status"],
                    note=form.cleaned_data["note"],
                    note_is_public=form.cleaned_data["note_is_public"],
                    public_note=form.cleaned_data["public_note"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            else:
                for result in results:
                    messages.add_message(
                        request,
                        RESULT_LEVELS[result.outcome],
                        f"{result.code}: {result.text}",
                        extra_tags=f"bulk-{result.outcome}",
                    )
                if all(result.outcome != "error" for result in results):
                    return redirect(request.get_full_path())
    return supervision_page(request, form=form, selected=selected, failed=request.method == "POST")


@supervisor_required
@require_POST
def merge(request):
    """Mark a report as a duplicate of another (report_merge_duplicate)."""
    form = MergeForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            duplicate = report_merge_duplicate(
                duplicate=form.cleaned_data["duplicate"], original=form.cleaned_data["original"], by=request.user
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(
                request,
                _("%(duplicate)s cerrada como duplicada de %(original)s; sus seguidores siguen ahora %(original)s.")
                % {"duplicate": duplicate.tracking_code, "original": duplicate.duplicate_of.tracking_code},
            )
            return redirect("crew:supervision")
    return supervision_page(request, merge_form=form, failed=True)


def supervision_page(request, *, form=None, merge_form=None, selected=frozenset(), failed=False):
    filters = SupervisionFilterForm(request.GET, user=request.user)
    reports = (supervision_reports(**filters.filters()) if filters.is_valid() else open_reports()).for_staff(
        request.user
    )
    paginator = Paginator(reports.values_list("pk", flat=True), settings.GEO_SIAC_CREW_QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("pagina"))
    rows = labelled(
        open_reports()
        .filter(pk__in=list(page.object_list))
        .select_related("received_at", "department")
        .annotate(lng=LONGITUDE, lat=LATITUDE)
    )
    for row in rows:
        row.kind_actions = rule(row.kind).actions  # which of the row's links apply (the supervision list's)
    query = request.GET.copy()
    query.pop("pagina", None)
    return render(
        request,
        "workspace/supervision.html",
        {
            "filters": filters,
            "form": form or BulkForm(user=request.user),
            "merge_form": merge_form or MergeForm(user=request.user),
            "selected": selected,
            "reports": rows,
            "page": page,
            "query": query.urlencode(),
            "triage_count": triage_queue().for_staff(request.user).count(),
            "workload": crew_workload().for_staff(request.user),
            "map_data": map_data(Crew.objects.for_staff(request.user), rows),
            "tile_url": settings.GEO_SIAC_TILE_URL,
        },
        status=400 if failed or filters.errors else 200,
    )
