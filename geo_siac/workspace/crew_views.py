"""The field-crew workspace (/cuadrilla/): phone-first pages over the report services."""

import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from geo_siac.reports.deadlines import DeadlineState
from geo_siac.reports.models import Report
from geo_siac.reports.states import status_names
from geo_siac.reports.selectors import (crew_workload, deadline_state_counts, open_reports, reports_of_crews,
                                        triage_queue, with_deadline_state, LONGITUDE, LATITUDE)
from geo_siac.reports.services import (
    report_bulk_update,
    report_change_status,
    report_extend_deadline,
    report_reroute,
    report_return,
)
from geo_siac.reports.tracking import normalize_tracking_code
from geo_siac.workspace.access import crew_required, supervisor_required, visible_reports
from geo_siac.workspace.forms import BulkForm, ExtendForm, ReasonForm, RerouteForm, StatusForm
from geo_siac.zones.models import Crew
from geo_siac.zones.roles import is_supervisor
from geo_siac.zones.selectors import crews_of, current_zones_of, served_area_centre


def map_data(crews, reports) -> dict:
    """The crews' zones and the page's reports (rows of `queue_rows`) for crew_map.js."""
    zones = [{"name": str(z), "geometry": json.loads(z.geometry.geojson)} for z in current_zones_of(crews)]
    points = [
        {"code": r.tracking_code, "lat": r.lat, "lng": r.lng, "state": r.deadline_state,
         "label": f"{r.tracking_code} · {r.category.name} · {r.status_name}", "url": r.url}
        for r in reports
    ]
    return {"zones": zones, "reports": points, "centre": served_area_centre()}


def queue_rows(keys) -> list[Report]:
    """A queue page's reports, in deadline order, with what the list and the map show of each: its category and no
    other relation, its point as two numbers, and its link and status name worked out once (`url`,
    `status_name`) for both; a page of 50 full reports with their crews, zones and comunas took 3.5 ms of
    Python to load and as much to label."""
    reports = list(open_reports().filter(pk__in=keys).select_related(None).select_related("category")
                   .only("tracking_code", "status", "expected_at", "address", "category__name_es",
                         "category__name_en").annotate(lng=LONGITUDE, lat=LATITUDE))
    names = status_names()
    for report in reports:
        report.url = reverse("crew:report", args=[report.tracking_code])
        report.status_name = names[report.status]
    return reports


@crew_required
def home(request):
    """The crew's open reports, soonest deadline first, one page at a time: a crew with a backlog of thousands
    still gets a page a phone can load. The map shows the page's reports; the counts cover the whole queue."""
    crews = Crew.objects.all() if is_supervisor(request.user) else crews_of(request.user)
    queue = reports_of_crews(crews)
    state_counts = deadline_state_counts(queue)
    # The page's keys first, then its rows with what they show: sorting the whole queue joined to its categories,
    # crews and zones to keep 50 took PostgreSQL 65 ms for a crew with 13,000 open reports; the keys alone take
    # 0.2-5 ms (an index in deadline order, or the crew's index when statistics do not know the crew yet).
    paginator = Paginator(queue.values_list("pk", flat=True), settings.GEO_SIAC_CREW_QUEUE_PAGE_SIZE)
    paginator.count = sum(state_counts.values())  # the rows the GROUP BY just counted: no second COUNT(*)
    page = paginator.get_page(request.GET.get("pagina"))
    reports = queue_rows(list(page.object_list))
    return render(request, "workspace/crew_home.html", {
        "crews": crews, "reports": reports, "page": page, "state_counts": state_counts,
        "map_data": map_data(crews, reports), "states": DeadlineState, "is_supervisor": is_supervisor(request.user),
        "tile_url": settings.GEO_SIAC_TILE_URL,
    })


def detail_context(request, report: Report, **forms) -> dict:
    seen = {"seen": report.updated_at.isoformat()}
    context = {
        "report": report,
        "deadline_state": report.deadline_state,
        "events": report.events.select_related("actor"),
        "status_form": forms.get("status_form") or StatusForm(current=report.status, initial=seen),
        "return_form": forms.get("return_form") or ReasonForm(initial=seen),
        "is_supervisor": is_supervisor(request.user),
    }
    if context["is_supervisor"]:
        context["reroute_form"] = forms.get("reroute_form") or RerouteForm(initial=seen)
        context["extend_form"] = forms.get("extend_form") or ExtendForm(initial=seen)
    return context


def find_report(request, code: str) -> Report:
    """The report, with its `deadline_state` (None once closed), if this person may see it; else 404."""
    reports = (with_deadline_state(visible_reports(request.user))
               .select_related("category", "crew", "zone", "commune")
               .defer("commune__geometry", "zone__geometry"))  # the page draws neither polygon
    return get_object_or_404(reports, tracking_code=normalize_tracking_code(code))


@crew_required
def report_page(request, code):
    report = find_report(request, code)
    return render(request, "workspace/crew_report.html", detail_context(request, report))


def apply(request, report, form_name, form, action):
    """Run `action(form.cleaned_data)`; on bad input re-draw the page with the errors and HTTP 400."""
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Cambio guardado."))
            return redirect("crew:report", code=report.tracking_code)
    return render(request, "workspace/crew_report.html", detail_context(request, report, **{form_name: form}),
                  status=400)


@crew_required
@require_POST
def change_status(request, code):
    report = find_report(request, code)
    form = StatusForm(request.POST, request.FILES, current=report.status)
    return apply(request, report, "status_form", form, lambda data: report_change_status(
        report=report, status=data["status"], note=data["note"], note_is_public=data["note_is_public"],
        photo=data["photo"], actor=request.user, actor_label=request.user.get_username(), seen_updated_at=data["seen"],
    ))


@crew_required
@require_POST
def hand_back(request, code):
    report = find_report(request, code)
    return apply(request, report, "return_form", ReasonForm(request.POST), lambda data: report_return(
        report=report, reason=data["reason"], actor=request.user, seen_updated_at=data["seen"]))


@supervisor_required
@require_POST
def reroute(request, code):
    report = find_report(request, code)
    return apply(request, report, "reroute_form", RerouteForm(request.POST), lambda data: report_reroute(
        report=report, crew=data["crew"], reason=data["reason"], actor=request.user, seen_updated_at=data["seen"]))


@supervisor_required
@require_POST
def extend(request, code):
    report = find_report(request, code)
    return apply(request, report, "extend_form", ExtendForm(request.POST), lambda data: report_extend_deadline(
        report=report, business_days=data["business_days"], reason=data["reason"], actor=request.user,
        seen_updated_at=data["seen"]))


@supervisor_required
def supervision(request):
    form = BulkForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        # Normalised as on every page that takes a code (a NUL would reach PostgreSQL, which refuses it).
        codes = {normalize_tracking_code(code) for code in request.POST.getlist("reports")}
        chosen = list(Report.objects.filter(tracking_code__in=codes))
        try:
            count = report_bulk_update(reports=chosen, crew=form.cleaned_data["crew"],
                                       status=form.cleaned_data["status"], note=form.cleaned_data["note"],
                                       note_is_public=form.cleaned_data["note_is_public"], actor=request.user)
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("%d solicitudes actualizadas.") % count)
            return redirect("crew:supervision")
    if request.method == "POST":
        status = 400
    return render(request, "workspace/supervision.html", {
        "form": form, "triage": triage_queue()[:300], "triage_count": triage_queue().count(),
        "workload": crew_workload(),
        "open_reports": open_reports()[:300],
    }, status=status)
