"""Writes on reports. The web form, the operator console and Open311 file reports through report_create; the bulk
importer of history (the importers package) writes whole chunks its own vectorised way, but reads the same rule table
(validation.py), deadline function (deadlines.deadline, with the closed days) and tracking-code generator
(tracking.py), so what either accepts or refuses, and the deadline and code it gives, cannot drift apart."""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.attributes import clean_answers
from geo_siac.catalogue.models import Category
from geo_siac.db import insert_sql, typed_values, unique_row
from geo_siac.geo import STORAGE_SRID, h3_cells
from geo_siac.notifications.models import Delivery, Medium, Notification
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.deadlines import SANTIAGO, calendar_days, deadline, local_day
from geo_siac.reports.messages import received_message, status_message
from geo_siac.reports.models import (
    CalendarDay,
    EventKind,
    Follower,
    Report,
    ReportEvent,
    ReportPhoto,
    Submission,
    SurveyResponse,
)
from geo_siac.reports.photos import ProcessedPhoto, process_photo
from geo_siac.reports.routing import decide, route
from geo_siac.reports.selectors import category_by_code
from geo_siac.reports.states import CLOSED, OPEN, Channel, Status, can_transition, is_open
from geo_siac.reports.tracking import new_tracking_code
from geo_siac.reports.validation import (
    address_error,
    channel_error,
    contact_errors,
    control_character_errors,
    coordinate_errors,
    description_error,
    outside_message,
    unknown_category_message,
)
from geo_siac.text import CONTROL_CHARACTERS
from geo_siac.zones.models import ClosedDay, Commune, Crew
from geo_siac.zones.selectors import Placement, closed_days, commune_nearest, placement

TRACKING_CODE_ATTEMPTS = 5


def resolve_category(category: Category | str | None) -> tuple[Category | None, str | None]:
    if isinstance(category, Category):
        found = category if category.is_active else None
    else:
        found = category_by_code(category, "active")
    if found is None:
        shown = category.service_code if isinstance(category, Category) else str(category or "")
        return None, unknown_category_message(shown)
    return found, None


def locate(lat: float, lng: float, category: Category) -> tuple[Point, Placement]:
    """The point and where it belongs (active comuna, zone, crew), or a ValidationError naming the nearest comuna
    and its distance."""
    point = Point(lng, lat, srid=STORAGE_SRID)
    placed = placement(point, category)
    if placed is not None:
        return point, placed
    nearest = commune_nearest(point)
    if nearest is None:
        raise ValidationError({"location": _("No hay comunas activas configuradas.")})
    raise ValidationError({"location": outside_message(nearest.commune.name, nearest.distance_m)})


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
    photo=None,
    submission_token: str = "",
    within: Commune | None = None,
) -> Report:
    """Validate and store a citizen report with its comuna, H3 cells, deadline, first history event, optional
    photo and the reporter's confirmation in the notification outbox.

    Raises ValidationError (field -> message) and writes nothing when any input is wrong, or when the point is
    outside `within` (an Open311 jurisdiction). A repeated `submission_token` (double click, resubmitted form)
    returns the report the first submission created.

    Everything is checked first; then one transaction writes (report_store). The rare tracking code already
    taken makes PostgreSQL refuse the report's row, and the transaction is run again with a new code: guarding
    every insert with a savepoint instead cost two round trips per report for a clash that comes once in
    hundreds of thousands.
    """
    if CONTROL_CHARACTERS.search(submission_token):
        # The form's hidden token, tampered with: PostgreSQL refuses NUL in text, so it is refused here by name.
        raise ValidationError({"token": _("El formulario llegó dañado (su código de envío no es válido). "
                                          "Recargue la página e inténtelo de nuevo.")})
    description = (description or "").strip()
    lat, lng, errors = coordinate_errors(latitude, longitude)
    found, category_error = resolve_category(category)
    if category_error:
        errors["service_code"] = category_error
    if (message := description_error(description)) is not None:
        errors["description"] = message
    if (message := address_error(address)) is not None:
        errors["address"] = message
    if (message := channel_error(channel)) is not None:
        errors["channel"] = message
    errors.update(contact_errors(name=reporter_name, email=reporter_email, phone=reporter_phone))
    errors.update(control_character_errors(description=description, address=address, reporter_name=reporter_name,
                                           reporter_email=reporter_email, reporter_phone=reporter_phone))
    answers = {}
    if found is not None:
        try:
            answers = clean_answers(found.attributes, attributes)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    processed = None
    if photo is not None:
        try:
            processed = process_photo(photo, max_bytes=settings.GEO_SIAC_PHOTO_MAX_BYTES)
        except ValidationError as exc:
            errors["photo"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    point, placed = locate(lat, lng, found)
    if within is not None and placed.commune.pk != within.pk:
        raise ValidationError({"location": _("El punto está fuera de la comuna %(name)s.") % {"name": within.name}})
    commune, decision = placed.commune, decide(placed, found)

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
        expected_at=deadline(local_day(now), found.response_days, closed_days=placed.closed_days),
        zone=decision.zone,
        crew=decision.crew,
        department=decision.department,
        **h3_cells(lat, lng),
    )
    events = [
        ReportEvent(report=report, kind=EventKind.CREATED, to_status=report.status, actor=created_by,
                    actor_label=actor_label or Channel(channel).label, created_at=now),
        ReportEvent(report=report, kind=EventKind.ROUTED, note=decision.reason, is_public=False,
                    actor_label="GeoSIAC", created_at=now),
    ]
    for _attempt in range(TRACKING_CODE_ATTEMPTS):
        report.pk, report.tracking_code = None, new_tracking_code(commune.tracking_prefix)
        try:
            return report_store(report, events=events, photo=processed, submission_token=submission_token)
        except IntegrityError as exc:
            if constraint_name(exc) != TRACKING_CODE_CONSTRAINT:
                raise
        except AlreadySubmitted as exc:
            found = unique_row(Report.objects.filter(pk=exc.report_id)) if exc.report_id is not None else None
            if found is not None:
                return found
            # The first submission's report was deleted in between: this one files it after all.
    raise RuntimeError("could not draw a free tracking code")


TRACKING_CODE_CONSTRAINT = "report_unique_tracking_code"


class AlreadySubmitted(Exception):
    """The form token was claimed by a report another transaction committed: this one is rolled back."""

    def __init__(self, report_id: int | None):
        super().__init__(report_id)
        self.report_id = report_id


def constraint_name(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)


# The report, its first events and its form token in one statement: as three ORM inserts (save, bulk_create, the
# token), they took 0.55 ms of CPU and three round trips per report filed.
REPORT_INSERT = """
WITH report AS ({report} RETURNING id),
events AS (INSERT INTO {events_table} ({report_column}, {event_columns})
           SELECT report.id, event.* FROM report, (VALUES {event_rows}) AS event),
claim AS (INSERT INTO {submission_table} (token, report_id) SELECT %s, report.id FROM report WHERE %s
          ON CONFLICT (token) DO NOTHING RETURNING 1)
SELECT report.id, EXISTS (SELECT FROM claim) FROM report
"""
EVENT_FIELDS = [f for f in ReportEvent._meta.local_concrete_fields if f.name not in ("id", "report")]


@transaction.atomic
def report_store(report: Report, *, events: list[ReportEvent], photo: ProcessedPhoto | None,
                 submission_token: str) -> Report:
    """Write a checked report (report_create), its first events, form token, photo and confirmation message.

    The token is claimed in the report's own statement: a second submission of the same form waits there until the
    first one commits (PostgreSQL holds a unique key being inserted), then finds it claimed and raises
    AlreadySubmitted, rolling back its own report before any photo is stored."""
    report_sql, report_params = insert_sql(report)
    event_rows, event_params = typed_values(events, EVENT_FIELDS)
    statement = REPORT_INSERT.format(
        report=report_sql, events_table=ReportEvent._meta.db_table,
        report_column=ReportEvent._meta.get_field("report").column,
        event_columns=", ".join(f.column for f in EVENT_FIELDS), event_rows=event_rows,
        submission_table=Submission._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(statement, [*report_params, *event_params, submission_token, bool(submission_token)])
        report.pk, claimed = cursor.fetchone()
    report._state.adding, report._state.db = False, connection.alias
    if submission_token and not claimed:
        raise AlreadySubmitted(unique_row(Submission.objects.filter(token=submission_token)
                                          .values_list("report_id", flat=True)))
    if photo is not None:
        report_photo_store(report=report, processed=photo)
    if report.reporter_email:
        subject, body = received_message(report, report.language)
        notification_enqueue(report=report, recipient=report.reporter_email, language=report.language,
                             subject=subject, body=body)
    return report


def photo_file_name(extension: str) -> str:
    """A random name: media files are served without access control, so a name derived from the tracking code
    and the month would let anyone holding a code (or guessing one) fetch the crew's photos of that report."""
    return f"{secrets.token_urlsafe(18)}.{extension}"


def report_photo_store(*, report: Report, processed: ProcessedPhoto) -> ReportPhoto:
    """Store through Django's storage API. A rolled-back transaction can leave an orphan file, never a row."""
    name = photo_file_name(processed.extension)
    photo = ReportPhoto(report=report, content_type=processed.content_type, width=processed.width,
                        height=processed.height, created_at=report.created_at)
    photo.image.save(name, ContentFile(processed.image), save=False)
    photo.thumbnail.save(name, ContentFile(processed.thumbnail), save=False)
    photo.save()
    return photo


def lock_report(report: Report, seen_updated_at=None) -> Report:
    """The report's row, locked until the transaction ends. With `seen_updated_at` (what the person's form
    showed), refuse when someone else changed the report in between rather than overwrite their change."""
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if seen_updated_at is not None and locked.updated_at != seen_updated_at:
        raise ValidationError(
            {"__all__": _("Otra persona modificó esta solicitud mientras usted la tenía abierta. "
                          "Revise su estado actual y vuelva a intentarlo.")}
        )
    return locked


def stored_photo(photo) -> ContentFile | None:
    if photo is None:
        return None
    try:
        processed = process_photo(photo)
    except ValidationError as exc:
        raise ValidationError({"photo": exc.messages}) from exc
    return ContentFile(processed.image, name=photo_file_name(processed.extension))


@transaction.atomic
def report_change_status(*, report: Report, status: str, note: str = "", actor=None, actor_label: str = "",
                         note_is_public: bool = False, photo=None, seen_updated_at=None) -> Report:
    """Move a report through an allowed transition, under a row lock so concurrent changes never interleave.

    The change itself is public (the citizen is told of every change). The note is internal unless
    `note_is_public`: crews write for each other ("vecino conflictivo", a neighbour's name), so a note reaches the
    citizen only when its author chose so; an internal note is kept as a separate staff-only history event.
    `photo` (bytes or an uploaded file) is validated and stripped of metadata before anything is written."""
    locked = lock_report(report, seen_updated_at)
    if status not in Status.values:
        raise ValidationError({"status": _("Estado desconocido: %s") % status})
    if not can_transition(locked.status, status):
        raise ValidationError(
            {"status": _("No se puede pasar de «%(from)s» a «%(to)s».")
             % {"from": Status(locked.status).label, "to": Status(status).label}}
        )
    image = stored_photo(photo)
    now = timezone.now()
    previous = locked.status
    locked.status = status
    locked.updated_at = now
    locked.closed_at = now if status in CLOSED else None
    if previous == Status.SUBMITTED and locked.first_response_at is None:
        locked.first_response_at = now
    if previous in CLOSED and status in OPEN:
        locked.times_reopened += 1
    locked.save(update_fields=["status", "updated_at", "closed_at", "first_response_at", "times_reopened"])
    note = note.strip()
    event = ReportEvent(
        report=locked, kind=EventKind.STATUS, from_status=previous, to_status=status,
        note=note if note_is_public else "", is_public=True, actor=actor, actor_label=actor_label, created_at=now,
    )
    if image is not None:
        event.photo.save(image.name, image, save=False)
    event.save()
    if note and not note_is_public:
        ReportEvent.objects.create(report=locked, kind=EventKind.NOTE, note=note, is_public=False, actor=actor,
                                   actor_label=actor_label, created_at=now)
    notify_status_change(report=locked, note=note if note_is_public else "")
    return locked


@transaction.atomic
def business_calendar_sync() -> int:
    """Make the SQL calendar equal to deadlines.calendar_days() with the installation's closed days, the calendar
    deadlines use. It changes when a closed day is added or removed (the admin calls this) or the `holidays`
    package learns a new holiday (refresh_indicators calls this). Returns the number of days rewritten, 0 when it
    was already equal."""
    with connection.cursor() as cursor:
        # One rewrite at a time (two admins, the admin and refresh_indicators): the second waits here, then reads
        # the closed days the first committed, instead of failing on the rows the first inserted. SHARE ROW
        # EXCLUSIVE conflicts with itself and with writes, not with reads: the indicators keep reading.
        cursor.execute(f"LOCK TABLE {CalendarDay._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
    expected = {day: (business, count) for day, business, count in calendar_days(extra_closed=closed_days())}
    stored = {day: (business, count) for day, business, count in
              CalendarDay.objects.values_list("day", "is_business_day", "business_days")}
    changed = [day for day, values in expected.items() if stored.get(day) != values]
    if not changed and stored.keys() == expected.keys():
        return 0
    CalendarDay.objects.all().delete()
    CalendarDay.objects.bulk_create((CalendarDay(day=day, is_business_day=business, business_days=count)
                                     for day, (business, count) in expected.items()), batch_size=5000)
    return len(changed) + len(stored.keys() - expected.keys())


@transaction.atomic
def closed_day_save(*, closed_day: ClosedDay) -> ClosedDay:
    """Add or change an extra closed day, and the SQL calendar with it: deadlines of reports filed from then on skip
    it, and the indicators' business-day durations count it as a non-working day."""
    closed_day.save()
    business_calendar_sync()
    return closed_day


@transaction.atomic
def closed_days_delete(*, days: QuerySet[ClosedDay]) -> int:
    """Remove closed days, and the SQL calendar's record of them. Returns how many were removed."""
    removed = days.delete()[0]
    business_calendar_sync()
    return removed


def notify_status_change(*, report: Report, note: str) -> None:
    """Outbox messages for the reporter (email, or SMS when only a phone was left) and every follower."""
    recipients = {f.email: (Medium.EMAIL, f.language) for f in report.followers.all()}
    if report.reporter_email:
        recipients[report.reporter_email.lower()] = (Medium.EMAIL, report.language)
    elif report.reporter_phone:
        recipients[report.reporter_phone] = (Medium.SMS, report.language)
    for recipient, (medium, language) in recipients.items():
        subject, body = status_message(report, language, note)
        notification_enqueue(report=report, recipient=recipient, language=language, subject=subject, body=body,
                             medium=medium)


@transaction.atomic
def report_follow(*, report: Report, email: str, language: str = "es") -> Follower:
    """Follow an open report instead of filing a duplicate: the follower gets its notifications."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Escriba un correo electrónico válido para recibir los avisos.")}) from None
    if not is_open(report.status):
        raise ValidationError({"email": _("Esta solicitud ya está cerrada; ya no envía avisos.")})
    follower, _created = Follower.objects.get_or_create(
        report=report, email=email.lower(),
        defaults={"language": "en" if language.startswith("en") else "es", "created_at": timezone.now()},
    )
    return follower


@transaction.atomic
def survey_submit(*, report: Report, resolution_rating, service_rating, comment: str = "") -> SurveyResponse:
    """Store the satisfaction survey of a closed report; one answer per report."""
    errors = {}
    ratings = {}
    for field, value in (("resolution_rating", resolution_rating), ("service_rating", service_rating)):
        try:
            ratings[field] = int(value)
        except (TypeError, ValueError):
            ratings[field] = 0
        if not 1 <= ratings[field] <= 5:
            errors[field] = _("Elija una nota de 1 a 5.")
    comment = (comment or "").strip()
    if (message := description_error(comment)) is not None:
        errors["comment"] = message
    if report.status not in CLOSED:
        errors["__all__"] = _("La encuesta se abre cuando la solicitud se cierra.")
    Report.objects.select_for_update().filter(pk=report.pk).first()  # one survey writer per report at a time
    if SurveyResponse.objects.filter(report=report).exists():
        errors["__all__"] = _("Esta solicitud ya tiene una encuesta respondida. ¡Gracias!")
    if errors:
        raise ValidationError(errors)
    return SurveyResponse.objects.create(report=report, comment=comment, created_at=timezone.now(), **ratings)


def required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Indique el motivo.")})
    return reason


def record(report: Report, *, kind: str, note: str, actor, fields: list[str]) -> Report:
    now = timezone.now()
    report.updated_at = now
    report.save(update_fields=[*fields, "updated_at"])
    ReportEvent.objects.create(report=report, kind=kind, note=note, is_public=False, actor=actor,
                               actor_label=actor.get_username() if actor else "", created_at=now)
    return report


@transaction.atomic
def report_return(*, report: Report, reason: str, actor=None, seen_updated_at=None) -> Report:
    """A crew hands a report back (not theirs, wrong place...): it leaves the crew and waits in triage."""
    reason = required_reason(reason)
    locked = lock_report(report, seen_updated_at)
    if locked.crew_id is None:
        raise ValidationError({"crew": _("La solicitud ya está en la cola de triage.")})
    note = _("Devuelta por %(crew)s: %(reason)s") % {"crew": locked.crew.name, "reason": reason}
    locked.crew = None
    return record(locked, kind=EventKind.RETURNED, note=note, actor=actor, fields=["crew"])


def reports_route_unrouted(*, source: str | None = None, batch: int = 500) -> int:
    """Route the open reports that were never routed: the bulk importer writes history rows, not decisions, so
    an imported report still open would otherwise wait in triage. Each gets what report_create would have
    decided for it (zone, crew, department) and the same internal `routed` event; a report with that event is
    never routed twice, so running this again changes nothing. Returns how many were routed."""
    already = ReportEvent.objects.filter(report=OuterRef("pk"), kind=EventKind.ROUTED)
    pending = (Report.objects.filter(status__in=OPEN).exclude(Exists(already))
               .select_related("category", "commune").defer("commune__geometry").order_by("pk"))
    if source is not None:
        pending = pending.filter(source=source)
    routed = 0
    while chunk := list(pending[:batch]):
        with transaction.atomic():
            now = timezone.now()
            events = []
            for report in chunk:
                decision = route(report.location, report.commune, report.category)
                report.zone, report.crew, report.department = decision.zone, decision.crew, decision.department
                report.save(update_fields=["zone", "crew", "department"])
                events.append(ReportEvent(report=report, kind=EventKind.ROUTED, note=decision.reason,
                                          is_public=False, actor_label="GeoSIAC", created_at=now))
            ReportEvent.objects.bulk_create(events)
        routed += len(chunk)
    return routed


@transaction.atomic
def report_reroute(*, report: Report, crew: Crew, reason: str = "", actor=None, seen_updated_at=None) -> Report:
    """A supervisor sends the report to a crew ("derivación"), from triage or from another crew."""
    locked = lock_report(report, seen_updated_at)
    previous = locked.crew.name if locked.crew_id else _("cola de triage")
    note = _("Derivada de %(from)s a %(to)s.") % {"from": previous, "to": crew.name}
    if reason.strip():
        note = f"{note} {reason.strip()}"
    locked.crew = crew
    locked.department = crew.department
    return record(locked, kind=EventKind.REROUTED, note=note, actor=actor, fields=["crew", "department"])


@transaction.atomic
def report_extend_deadline(*, report: Report, business_days: int, reason: str, actor=None,
                           seen_updated_at=None) -> Report:
    """A supervisor's one extension ("prórroga"): the deadline moves `business_days` business days later."""
    reason = required_reason(reason)
    locked = lock_report(report, seen_updated_at)
    if locked.deadline_extended_at is not None:
        raise ValidationError({"business_days": _("El plazo de esta solicitud ya fue prorrogado una vez.")})
    if not 1 <= business_days <= 60:
        raise ValidationError({"business_days": _("La prórroga debe ser de 1 a 60 días hábiles.")})
    previous = locked.expected_at
    locked.expected_at = deadline(local_day(previous), business_days, closed_days=closed_days())
    locked.deadline_extended_at = timezone.now()
    note = _("Plazo prorrogado %(days)s días hábiles, del %(from)s al %(to)s: %(reason)s") % {
        "days": business_days, "from": previous.astimezone(SANTIAGO).date().isoformat(),
        "to": locked.expected_at.astimezone(SANTIAGO).date().isoformat(), "reason": reason,
    }
    return record(locked, kind=EventKind.EXTENDED, note=note, actor=actor,
                  fields=["expected_at", "deadline_extended_at"])


@transaction.atomic
def report_bulk_update(*, reports: list[Report], crew: Crew | None = None, status: str = "", note: str = "",
                       note_is_public: bool = False, actor=None) -> int:
    """A supervisor's bulk assignment and/or status change, through the single-report paths. All or nothing:
    the first report that cannot move stops the whole batch, and the message names it."""
    if not reports:
        raise ValidationError({"__all__": _("Seleccione al menos una solicitud.")})
    if crew is None and not status:
        raise ValidationError({"__all__": _("Elija una cuadrilla o un estado.")})
    for report in reports:
        try:
            if crew is not None:
                report_reroute(report=report, crew=crew, reason=note, actor=actor)
            if status:
                report_change_status(report=report, status=status, note=note, note_is_public=note_is_public,
                                     actor=actor, actor_label=actor.get_username() if actor else "")
        except ValidationError as exc:
            raise ValidationError({"__all__": f"{report.tracking_code}: {' '.join(exc.messages)}"}) from exc
    return len(reports)


ERASED = "[borrado a petición del titular]"


@dataclass
class ErasureSummary:
    reports_anonymised: int = 0
    photos_deleted: int = 0
    follows_removed: int = 0
    notifications_redacted: int = 0


def reporter_data_erase(*, email: str, commit: bool = False) -> ErasureSummary:
    """Erase one person's data on request (Ley 19.628 / 21.719); their reports stay, anonymised, in statistics.

    Removes name, email and phone from their reports and their photos (which may show people or plates),
    their follows, and the recipient and text of messages to them. Dry run unless `commit`. Photo files are
    deleted only after the transaction commits, so a failure never leaves rows pointing at missing files.
    """
    summary = ErasureSummary()
    files: list[str] = []
    with transaction.atomic():
        reports = Report.objects.select_for_update().filter(reporter_email__iexact=email)
        photos = ReportPhoto.objects.filter(report__in=reports)
        files = [name for photo in photos for name in (photo.image.name, photo.thumbnail.name) if name]
        summary.photos_deleted = photos.delete()[0]
        summary.reports_anonymised = reports.update(reporter_name="", reporter_email="", reporter_phone="")
        summary.follows_removed = Follower.objects.filter(email__iexact=email).delete()[0]
        messages = Notification.objects.filter(recipient__iexact=email)
        messages.filter(delivery=Delivery.PENDING).update(delivery=Delivery.FAILED, last_error=ERASED)
        summary.notifications_redacted = messages.update(recipient=ERASED, subject=ERASED, body="")
        if not commit:
            transaction.set_rollback(True)
    if commit:
        storage = ReportPhoto._meta.get_field("image").storage
        for name in files:
            storage.delete(name)
    return summary
