"""The operator console (/operador/): phone and front-desk staff file reports on a citizen's behalf."""

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from geo_siac.catalogue.attributes import posted_answers, question_blocks
from geo_siac.catalogue.kinds import RequestKind
from geo_siac.geo import STORAGE_SRID
from geo_siac.reports.models import Report
from geo_siac.reports.responsibility import responsible_department_name
from geo_siac.reports.selectors import category_by_code, open_reports_near
from geo_siac.reports.services import report_create
from geo_siac.reports.tracking import normalize_tracking_code
from geo_siac.reports.validation import coordinate_errors, no_place_given
from geo_siac.workspace.access import operator_required
from geo_siac.workspace.forms import OperatorReportForm
from geo_siac.zones.selectors import active_communes_geojson, served_area_centre


@operator_required
def new_report(request):
    form = OperatorReportForm(request.POST or None, user=request.user)
    answer_errors = {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = report_create(
                kind=data["kind"] or RequestKind.SERVICE_REQUEST,
                commune=data["commune"],
                category=data["category"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                channel=data["channel"],
                description=data["description"],
                address=data["address"],
                attributes=posted_answers(request.POST, data["category"]),
                received_at=data["received_at"],
                reporter_name=data["reporter_name"],
                reporter_phone=data["reporter_phone"],
                reporter_email=data["reporter_email"],
                created_by=request.user,
                staff=request.user,
            )
        except ValidationError as exc:
            # Keyed by report_create's parameters, the form's own fields; an answer's error goes beside its question
            # (questions.html); a point outside (location) heads the form.
            errors_by_field = exc.message_dict
            given = data["latitude"] is not None or data["longitude"] is not None
            if no_place_given(errors_by_field, coordinates_given=given):
                form.add_error(
                    None,
                    _(
                        "Falta el lugar: busque la calle y el número arriba del mapa y elija una opción de la "
                        "lista, o haga clic en el mapa."
                    ),
                )
            for field, errors in errors_by_field.items():
                if field.startswith("attribute["):
                    answer_errors[field] = errors[0]
                else:
                    form.add_error(field if field in form.fields else None, errors)
            if answer_errors:
                form.add_error("category", _("Responda las preguntas de esta categoría."))
        else:
            return redirect("operator:filed", code=report.tracking_code)
    categories = form.fields["category"].queryset
    return render(
        request,
        "workspace/operator_new.html",
        {
            "form": form,
            "centre": served_area_centre(request.user),
            "tile_url": settings.GEO_SIAC_TILE_URL,
            "communes_geojson": active_communes_geojson(),
            "question_blocks": question_blocks(
                categories, request.POST, answer_errors, request.POST.get("category", "")
            ),
            "chosen_category": request.POST.get("category", ""),
            "category_kinds": dict(categories.values_list("service_code", "kind")),
        },
        status=400 if form.errors else 200,
    )


@operator_required
def nearby(request):
    """Open reports of the category near the point, so the operator can tell the citizen it is known."""
    lat, lng, errors = coordinate_errors(request.GET.get("lat"), request.GET.get("lng"))
    if errors:  # not numbers, NaN, infinite or out of range: the same rule as the citizen's form
        return JsonResponse({"error": " ".join([_("Indique lat y lng numéricos."), *errors.values()])}, status=400)
    point = Point(lng, lat, srid=STORAGE_SRID)
    category = category_by_code(request.GET.get("category"), "active")
    if category is None:
        return JsonResponse({"error": _("Categoría desconocida.")}, status=400)
    reports = open_reports_near(category=category, point=point, public_only=False).for_staff(request.user)[:20]
    return JsonResponse(
        {
            "reports": [
                {
                    "tracking_code": r.tracking_code,
                    "status": r.get_status_display(),
                    "address": r.address,
                    "created_at": r.created_at.isoformat(),
                }
                for r in reports
            ]
        }
    )


@operator_required
def filed(request, code):
    report = get_object_or_404(
        Report.objects.for_staff(request.user)
        .select_related("category__department", "crew", "commune", "department", "received_at")
        .defer("commune__geometry"),
        tracking_code=normalize_tracking_code(code),
    )
    duplicates = (
        open_reports_near(category=report.category, point=report.location, public_only=False)
        .for_staff(request.user)
        .exclude(pk=report.pk)[:10]
        if report.location is not None
        else []
    )
    return render(
        request,
        "workspace/operator_filed.html",
        {
            "report": report,
            "spelled": " ".join(report.tracking_code),
            "department": responsible_department_name(report),
            "duplicates": duplicates,
        },
    )
