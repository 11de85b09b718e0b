"""Writes on reports. Every channel (web form, operator console, Open311, importer of history) goes through
these functions, so validation, deadlines and history cannot drift apart."""

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.geo import STORAGE_SRID, h3_cells
from geo_siac.reports.attributes import clean_answers
from geo_siac.reports.deadlines import deadline
from geo_siac.reports.models import Category, EventKind, Report, ReportEvent
from geo_siac.reports.states import CLOSED, Channel, Status, can_transition
from geo_siac.reports.tracking import new_tracking_code
from geo_siac.reports.validation import (
    contact_errors,
    control_character_errors,
    coordinate_errors,
    description_error,
    format_distance,
)
from geo_siac.zones.selectors import commune_containing, commune_nearest

TRACKING_CODE_ATTEMPTS = 5


def resolve_category(category: Category | str | None) -> tuple[Category | None, str | None]:
    if isinstance(category, Category):
        found = category if category.is_active else None
    else:
        found = Category.objects.filter(service_code=category or "", is_active=True).first()
    if found is None:
        return None, _("La categoría '%s' no existe o no está activa.") % (
            category.service_code if isinstance(category, Category) else category
        )
    return found, None


def locate(lat: float, lng: float):
    """The active comuna holding the point, or a ValidationError naming the nearest one and its distance."""
    point = Point(lng, lat, srid=STORAGE_SRID)
    commune = commune_containing(point)
    if commune is not None:
        return point, commune
    nearest = commune_nearest(point)
    if nearest is None:
        raise ValidationError({"location": _("No hay comunas activas configuradas.")})
    raise ValidationError(
        {
            "location": _(
                "El punto está fuera de las comunas atendidas. La más cercana es %(name)s, a %(distance)s."
            )
            % {"name": nearest.commune.name, "distance": format_distance(nearest.distance_m)}
        }
    )


@transaction.atomic
def report_create(
    *,
    category: Category | str,
    latitude,
    longitude,
    channel: str,
    description: str = "",
    address: str = "",
    attributes: dict | None = None,
    reporter_name: str = "",
    reporter_email: str = "",
    reporter_phone: str = "",
    public_visibility: bool = False,
    language: str = "es",
    created_by=None,
    actor_label: str = "",
) -> Report:
    """Validate and store a citizen report with its comuna, H3 cells, deadline and first history event.

    Raises ValidationError (field -> message) and writes nothing when any input is wrong.
    """
    description = (description or "").strip()
    lat, lng, errors = coordinate_errors(latitude, longitude)
    found, category_error = resolve_category(category)
    if category_error:
        errors["service_code"] = category_error
    if (message := description_error(description)) is not None:
        errors["description"] = message
    if len(address) > 300:
        errors["address"] = _("La dirección es demasiado larga (máximo 300 caracteres).")
    if channel not in Channel.values:
        errors["channel"] = _("Canal desconocido: %s") % channel
    errors.update(contact_errors(name=reporter_name, email=reporter_email, phone=reporter_phone))
    errors.update(control_character_errors(description=description, address=address, reporter_name=reporter_name,
                                           reporter_email=reporter_email, reporter_phone=reporter_phone))
    answers = {}
    if found is not None:
        try:
            answers = clean_answers(found.attributes, attributes)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    point, commune = locate(lat, lng)

    now = timezone.now()
    report = Report(
        commune=commune,
        category=found,
        location=point,
        address=address.strip(),
        description=description,
        attributes=answers,
        channel=channel,
        public_visibility=public_visibility,
        reporter_name=reporter_name.strip(),
        reporter_email=reporter_email.strip(),
        reporter_phone=reporter_phone.strip(),
        language="en" if language.startswith("en") else "es",
        created_by=created_by,
        created_at=now,
        updated_at=now,
        expected_at=deadline(now, found.response_days),
        **h3_cells(lat, lng),
    )
    save_with_unique_code(report, commune.tracking_prefix)
    ReportEvent.objects.create(
        report=report,
        kind=EventKind.CREATED,
        to_status=report.status,
        actor=created_by,
        actor_label=actor_label or Channel(channel).label,
        created_at=now,
    )
    return report


def save_with_unique_code(report: Report, prefix: str) -> None:
    for _attempt in range(TRACKING_CODE_ATTEMPTS):
        report.tracking_code = new_tracking_code(prefix)
        try:
            with transaction.atomic():
                report.save(force_insert=True)
            return
        except IntegrityError:
            if not Report.objects.filter(tracking_code=report.tracking_code).exists():
                raise
    raise RuntimeError("could not draw a free tracking code")


@transaction.atomic
def report_change_status(*, report: Report, status: str, note: str = "", actor=None, actor_label: str = "",
                         is_public: bool = True) -> Report:
    """Move a report through an allowed transition, under a row lock so concurrent changes never interleave."""
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if status not in Status.values:
        raise ValidationError({"status": _("Estado desconocido: %s") % status})
    if not can_transition(locked.status, status):
        raise ValidationError(
            {"status": _("No se puede pasar de «%(from)s» a «%(to)s».")
             % {"from": Status(locked.status).label, "to": Status(status).label}}
        )
    now = timezone.now()
    previous = locked.status
    locked.status = status
    locked.updated_at = now
    locked.closed_at = now if status in CLOSED else None
    locked.save(update_fields=["status", "updated_at", "closed_at"])
    ReportEvent.objects.create(
        report=locked, kind=EventKind.STATUS, from_status=previous, to_status=status, note=note.strip(),
        is_public=is_public, actor=actor, actor_label=actor_label, created_at=now,
    )
    return locked
