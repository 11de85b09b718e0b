"""Public pages (service points, the procedures guide, booking and the signed appointment link) and the desk's
staff pages (the day's agenda, the figures per point). Thin: reads from selectors, writes through services."""

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from geo_siac.attention import selectors
from geo_siac.attention.calendar_feed import sessions_calendar
from geo_siac.attention.messages import appointment_token, code_from_token
from geo_siac.attention.models import Appointment
from geo_siac.attention.services import appointment_book, appointment_cancel, appointment_mark
from geo_siac.db_router import public_read
from geo_siac.reports.messages import absolute
from geo_siac.reports.ratelimit import counts_submissions, submission_refusal
from geo_siac.reports.validation import coordinate_errors
from geo_siac.web.access import staff_required
from geo_siac.web.responses import text_error
from geo_siac.workspace.access import operator_required
from geo_siac.zones.opening_hours import validate_opening_hours
from geo_siac.zones.roles import is_operator
from geo_siac.zones.selectors import closed_days

# A list this short reads at a glance and is shown whole; a longer one is folded per comuna, each with its count,
# but for the comuna of the point nearest the citizen when the list is sorted by distance.
OPEN_LIST_POINTS = 12


def _coordinates(request) -> tuple[float, float] | None:
    """?lat=&lng= when both are valid coordinates; anything else is ignored (the list is then by name)."""
    lat, lng = request.GET.get("lat", ""), request.GET.get("lng", "")
    if not lat or not lng:
        return None
    latitude, longitude, errors = coordinate_errors(lat, lng)
    return None if errors else (latitude, longitude)


@public_read
@require_safe
def points(request):
    now = timezone.now()
    here = _coordinates(request)
    queryset = selectors.public_points()
    if here:
        queryset = selectors.points_near(queryset, *here)
    rows = selectors.points_with_status(queryset, now)
    if request.GET.get("nocturna"):
        rows = [row for row in rows if row["next_session"]]
    map_points = [
        {
            "lat": row["point"].point.y,
            "lng": row["point"].point.x,
            "name": row["point"].name,
            "url": reverse("attention:point", args=[row["point"].pk]),
            "open": row["open_now"],
        }
        for row in rows
    ]
    groups = selectors.points_by_commune(rows, nearest_first=bool(here))
    return render(
        request,
        "attention/points.html",
        {
            "rows": rows,
            "groups": [
                {
                    "commune": commune,
                    "rows": commune_rows,
                    "open": len(rows) <= OPEN_LIST_POINTS or (bool(here) and i == 0),
                }
                for i, (commune, commune_rows) in enumerate(groups)
            ],
            "here": here,
            "night_only": bool(request.GET.get("nocturna")),
            "map_points": map_points,
            "tile_url": settings.GEO_SIAC_TILE_URL,
        },
    )


@public_read
@require_safe
def point(request, pk: int):
    service_point = get_object_or_404(selectors.public_points(), pk=pk)
    now = timezone.now()
    today = selectors.local_date(service_point, now)
    closed = closed_days()
    spec = service_point.opening_hours
    return render(
        request,
        "attention/point.html",
        {
            "point": service_point,
            "open_now": service_point.is_open_at(now),
            "next_session": selectors.next_session(service_point, now, closed),
            "sessions": [
                s
                for s in selectors.point_sessions(service_point, today, selectors.SESSION_HORIZON_DAYS, closed)
                if s.ends_at > now
            ][:3],
            "weekly": weekly_rows(spec) if spec else None,
            "session_rules": spec.get("special_sessions", []) if spec else [],
            "closed_on_holidays": spec.get("closed_on_public_holidays", True) if spec else None,
            "closures": selectors.upcoming_closures(service_point, today, closed),
        },
    )


MIN_YEAR, MAX_YEAR = 2000, 2100
WEEKDAY_NAMES = {
    "mon": _lazy("lunes"),
    "tue": _lazy("martes"),
    "wed": _lazy("miércoles"),
    "thu": _lazy("jueves"),
    "fri": _lazy("viernes"),
    "sat": _lazy("sábado"),
    "sun": _lazy("domingo"),
}


def weekly_rows(spec: dict) -> list[tuple[str, str]]:
    weekly = validate_opening_hours(spec)["weekly"]
    return [
        (name, ", ".join(f"{a}–{b}" for a, b in weekly[day]) or _("cerrado")) for day, name in WEEKDAY_NAMES.items()
    ]


@public_read
@require_safe
def sessions_ics(request):
    now = timezone.now()
    response = HttpResponse(
        sessions_calendar(selectors.sessions_feed(now), now), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="sesiones.ics"'
    return response


@public_read
@require_safe
def procedures(request):
    query = request.GET.get("q", "")[:100]
    return render(
        request,
        "attention/procedures.html",
        {
            "query": query,
            "procedures": selectors.procedures_search(query),
        },
    )


@public_read
@require_safe
def procedure(request, slug: str):
    found = selectors.procedure_by_slug(slug)
    if found is None:
        raise Http404
    offerings = found.offerings.select_related("service_point").order_by("service_point__name")
    return render(
        request,
        "attention/procedure.html",
        {
            "procedure": found,
            "offerings": offerings,
            "share_link": absolute(reverse("attention:procedure", args=[found.slug])),
        },
    )


def _day(value: str, default: date | None) -> date | None:
    """A YYYY-MM-DD date of the years the pages can show (later ones overflow datetime arithmetic), else None."""
    if not value:
        return default
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


# appointment_book's fields -> their inputs' ids in attention/book.html, for its error summary.
BOOKING_FIELDS = {"starts_at": "id_starts_at", "name": "id_name", "email": "id_email", "phone": "id_phone"}


@require_http_methods(["GET", "HEAD", "POST"])
@counts_submissions
def book(request, pk: int):
    offering = selectors.offering_by_pk(pk)
    if offering is None or not offering.bookable:
        raise Http404
    now = timezone.now()
    today = selectors.local_date(offering.service_point, now)
    days = selectors.booking_days(offering, today)
    day = _day(request.GET.get("dia", ""), days[0] if days else today)
    if day is None or (days and day not in days):
        return text_error(
            _("Elija un día de los próximos %(days)s con horario, con la forma AAAA-MM-DD.")
            % {"days": selectors.BOOKING_HORIZON_DAYS}
        )
    errors, refusal = {}, None
    values = request.POST if request.method == "POST" else {}
    # Booking emails its confirmation, so it spends the new requests' budget.
    if request.method == "POST" and (refusal := submission_refusal(request, purpose="booking")) is None:
        try:
            booked = appointment_book(
                offering=offering,
                starts_at=_instant(values.get("starts_at", "")),
                name=values.get("name", ""),
                email=values.get("email", ""),
                phone=values.get("phone", ""),
                language=get_language() or "es",
            )
        except ValidationError as exc:
            errors = {key: " ".join(messages) for key, messages in exc.message_dict.items()}
        else:
            return redirect("attention:appointment", token=appointment_token(booked))
    slots = selectors.free_slots(offering, day, now)
    return render(
        request,
        "attention/book.html",
        {
            "offering": offering,
            "days": days,
            "day": day,
            "slots": slots,
            # The error summary's link for a refused slot goes to the first one that can be chosen.
            "first_free": next((slot["starts_at"] for slot in slots if slot["free"] > 0), None),
            "errors": errors,
            "values": values,
            "rate_limited": refusal,
            "error_fields": BOOKING_FIELDS,
        },
        status=429 if refusal else 400 if errors else 200,
    )


def _instant(value: str) -> datetime | None:
    """A slot's start as the form sends it (ISO 8601 with offset); None for anything else, which the booking
    refuses under `starts_at`."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _appointment_or_404(token: str) -> Appointment:
    code = code_from_token(token)
    found = selectors.appointment_by_code(code) if code else None
    if found is None:
        raise Http404
    return found


@require_safe
def appointment(request, token: str):
    return render(
        request,
        "attention/appointment.html",
        {
            "appointment": _appointment_or_404(token),
            "token": token,
            "cancelled": request.GET.get("cancelada"),
        },
    )


@require_POST
def cancel(request, token: str):
    found = _appointment_or_404(token)
    try:
        appointment_cancel(appointment=found)
    except ValidationError as exc:
        return render(
            request,
            "attention/appointment.html",
            {"appointment": found, "token": token, "error": " ".join(exc.messages)},
            status=409,
        )
    return redirect(reverse("attention:appointment", args=[token]) + "?cancelada=1")


# The desk's: the agenda names the citizens who booked, and marks them; a planner (staff with no group) gets 403.
@operator_required
@require_safe
def agenda(request):
    points_list = selectors.points_with_offerings().for_staff(request.user)
    chosen = (
        points_list.filter(pk=request.GET.get("punto")).first()
        if request.GET.get("punto", "").isdigit()
        else points_list.first()
    )
    today = selectors.local_date(chosen, timezone.now()) if chosen else timezone.localdate()
    day = _day(request.GET.get("dia", ""), today)
    if day is None:
        return text_error(_("Fecha inválida: use AAAA-MM-DD."))
    return render(
        request,
        "attention/agenda.html",
        {
            "points": points_list,
            "chosen": chosen,
            "day": day,
            "appointments": selectors.day_agenda(chosen, day) if chosen else [],
        },
    )


@operator_required
@require_POST
def mark(request, pk: int):
    found = get_object_or_404(Appointment.objects.for_staff(request.user).select_related("slot__offering"), pk=pk)
    try:
        appointment_mark(appointment=found, mark=request.POST.get("mark", ""))
    except ValidationError as exc:
        return text_error(" ".join(exc.messages), status=409)
    point_id = found.slot.offering.service_point_id
    local = timezone.localtime(found.slot.starts_at).date()
    return redirect(f"{reverse('attention:agenda')}?punto={point_id}&dia={local.isoformat()}")


@staff_required
@require_safe
def efficiency(request):
    value = request.GET.get("mes", "")
    month = _day(f"{value}-01", None) if value else timezone.localdate().replace(day=1)
    if month is None:
        return text_error(
            _("El mes debe tener la forma AAAA-MM, por ejemplo 2026-10, y no «%(value)s».") % {"value": value[:20]}
        )
    return render(
        request,
        "attention/efficiency.html",
        {
            "month": month,
            "rows": selectors.point_efficiency(month=month, user=request.user),
            "may_use_agenda": is_operator(request.user),  # the agenda names citizens: the desk's only
        },
    )
