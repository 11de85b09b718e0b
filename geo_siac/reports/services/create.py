"""report_create: the one path by which the web form, the operator console and Open311 file a report. The bulk
importer of history (the importers package) writes whole chunks its own vectorised way, but reads the same rule table
(validation.py), deadline function (deadlines.deadline, with the closed days) and tracking-code generator
(tracking.py), so what either accepts or refuses, and the deadline and code it gives, cannot drift apart."""

from contextlib import nullcontext
from functools import lru_cache

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.attributes import clean_answers
from geo_siac.catalogue.kinds import KIND_VALUES, RequestKind, rule
from geo_siac.catalogue.models import Category
from geo_siac.db import compiled_insert_sql, execute_prepared, typed_values, unique_row
from geo_siac.geo import STORAGE_SRID, h3_cells
from geo_siac.geocoding.selectors import gazetteer_reverse
from geo_siac.notifications.services import notification_enqueue
from geo_siac.reports.deadlines import request_deadline
from geo_siac.reports.messages import received_message, sender_name
from geo_siac.reports.models import (
    EventKind,
    Report,
    ReportEvent,
    ReportKey,
    ReportYearId,
    Submission,
    tracking_code_key,
)
from geo_siac.reports.partitions import missing_partition, reception_partitions_ensure
from geo_siac.reports.photos import ProcessedDocument, ProcessedPhoto
from geo_siac.reports.routing import decide, decide_without_place
from geo_siac.reports.selectors import category_by_code
from geo_siac.reports.services.photos import (
    documents_process,
    documents_removed_on_rollback,
    photo_process,
    report_document_store,
    report_photo_store,
)
from geo_siac.reports.states import Channel
from geo_siac.reports.tracking import new_tracking_code
from geo_siac.reports.validation import (
    ADDRESS_MAX_LENGTH,
    CONTROL_CHARACTERS,
    address_error,
    channel_error,
    contact_errors,
    control_character_errors,
    coordinate_errors,
    description_error,
    in_person_error,
    media_url_error,
    unknown_category_message,
)
from geo_siac.text import installation_language
from geo_siac.zones.messages import outside_message
from geo_siac.zones.models import Commune, ServicePoint
from geo_siac.zones.selectors import (
    Placement,
    category_terms,
    closed_days,
    commune_nearest,
    not_offered,
    placement,
    served_service_point,
    served_service_points,
)
from geo_siac.zones.tenancy import may_see_commune

TRACKING_CODE_ATTEMPTS = 5


def reception_time(moment) -> Value:
    """created_at's value in an expression, typed: an untyped Value made a new DateTimeField for each report."""
    return Value(moment, output_field=Report._meta.get_field("created_at"))


def nearby_address(point: Point) -> str:
    """What is near the point ("cerca de Av. X / Esq. Y"), for a report filed without an address, or "". In the
    installation's language: the stored address is read by its staff, whatever language the citizen used. The local
    gazetteer only: a remote geocoder would receive every report's exact point, and make filing wait for it."""
    place = gazetteer_reverse(point)
    if place is None:
        return ""
    with installation_language():
        return place.description[:ADDRESS_MAX_LENGTH]  # a 300-character label with "cerca de " before it


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


def is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def place_errors(kind: str, latitude, longitude) -> tuple[float | None, float | None, dict[str, str]]:
    """The point's two numbers, or (None, None) for no place when the kind allows it (both left empty)."""
    if not rule(kind).place_required and is_blank(latitude) and is_blank(longitude):
        return None, None, {}
    return coordinate_errors(latitude, longitude)


def placeless_commune(commune: Commune | None, received_at: ServicePoint | None) -> Commune | None:
    """The comuna a request without a place belongs to: the one chosen, else the service point's where it was
    received, else the only one served; None when that leaves a choice to make."""
    if commune is not None:
        return commune if commune.is_active else None
    if received_at is not None:
        return received_at.commune
    served = list(Commune.objects.active().defer("geometry")[:2])
    return served[0] if len(served) == 1 else None


def report_create(
    *,
    category: Category | str,
    latitude=None,
    longitude=None,
    channel: str,
    kind: str = RequestKind.SERVICE_REQUEST,
    commune: Commune | None = None,
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
    documents=(),
    media_url: str = "",
    submission_token: str = "",
    within: Commune | None = None,
    received_at: ServicePoint | None = None,
    staff=None,
) -> Report:
    """Validate and store a citizen report with its comuna, H3 cells, deadline, first history event, optional
    photo, PDF `documents` (where the kind takes them: services.photos.documents_process) and the reporter's
    confirmation in the notification outbox.

    Raises ValidationError and writes nothing when any input is wrong, or when the point is outside `within` (an
    Open311 jurisdiction). Its keys are this function's parameters (`attribute[code]` for one of `attributes`), and
    `location` for a point no comuna (or not `within`) covers, a fault of the pair rather than of either coordinate;
    callers show them as they are, and Open311 maps them to the specification's names at its edge.
    `media_url` is a link to the client's own copy of a photo or video (Open311), kept as given once it is an http(s)
    URL. `staff` is the account filing for a resident (the operator console): the request's comuna must be one it
    works for (zones.tenancy). `received_at` is the service point where an operator took the request, one of a served comuna's;
    an in-person request must name it when its comuna has a served point. `kind`
    (catalogue.kinds) must be the category's (its topic's); a kind whose rule does not require a place may leave
    both coordinates empty, and then belongs to `commune` (an active one), else the service point's comuna, else the
    only comuna served, and is routed to the topic's department or the OIRS triage queue. A category the request's
    comuna does not enable is refused under `category`; its response days and department are the comuna's
    (zones.selectors.category_terms). A repeated
    `submission_token` (double click, resubmitted form) returns the report the first submission created, with
    `resubmitted` set True on it (False on a report this call filed).

    Everything is checked first; then one transaction writes (report_store). The rare tracking code already
    taken makes PostgreSQL refuse the report's key (models.ReportKey), and the transaction is run again with a new code: guarding
    every insert with a savepoint instead cost two round trips per report for a clash that comes once in
    hundreds of thousands.
    """
    if CONTROL_CHARACTERS.search(submission_token):
        # The form's hidden token, tampered with: PostgreSQL refuses NUL in text, so it is refused here by name.
        raise ValidationError(
            {
                "submission_token": _(
                    "El formulario llegó dañado (su código de envío no es "
                    "válido). Recargue la página e inténtelo de nuevo."
                )
            }
        )
    description = (description or "").strip()
    if not (isinstance(kind, str) and kind in KIND_VALUES):
        raise ValidationError({"kind": _("Tipo de solicitud desconocido: «%s».") % kind})
    lat, lng, errors = place_errors(kind, latitude, longitude)
    found, category_error = resolve_category(category)
    if category_error:
        errors["category"] = category_error
    elif found.kind != kind:
        errors["category"] = _("«%(category)s» no es un tema de «%(kind)s».") % {
            "category": found.name,
            "kind": RequestKind(kind).label,
        }
    kind_rule = rule(kind)
    if not kind_rule.place_required and not description:
        errors["description"] = _("Escriba su %(kind)s.") % {"kind": RequestKind(kind).label.lower()}
    if kind_rule.identity_required and not reporter_name.strip():
        errors["reporter_name"] = _("La Ley 20.285 pide el nombre de quien solicita.")
    if kind_rule.identity_required and not (reporter_email.strip() or reporter_phone.strip()):
        errors["reporter_email"] = _("Indique un correo (o un teléfono) para enviarle la respuesta.")
    placeless = lat is None and not errors.keys() & {"latitude", "longitude"}
    home = placeless_commune(within or commune, received_at) if placeless else None
    if placeless and home is None:
        errors["commune"] = _("Elija la comuna a la que dirige su solicitud.")
    if (message := description_error(description)) is not None:
        errors["description"] = message
    if (message := address_error(address)) is not None:
        errors["address"] = message
    if (message := channel_error(channel)) is not None:
        errors["channel"] = message
    media_url = (media_url or "").strip()
    if media_url and (message := media_url_error(media_url)) is not None:
        errors["media_url"] = message
    errors.update(contact_errors(name=reporter_name, email=reporter_email, phone=reporter_phone))
    errors.update(
        control_character_errors(
            description=description,
            address=address,
            reporter_name=reporter_name,
            reporter_email=reporter_email,
            reporter_phone=reporter_phone,
        )
    )
    if received_at is not None and served_service_point(received_at.pk) is None:
        errors["received_at"] = _("El punto de atención «%(name)s» no pertenece a una comuna atendida.") % {
            "name": received_at.name
        }
    answers = {}
    if found is not None:
        try:
            answers = clean_answers(found.attributes, attributes)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    processed = None
    if photo is not None:
        try:
            processed = photo_process(photo)
        except ValidationError as exc:
            errors["photo"] = exc.messages[0]
    checked_documents = []
    if documents:
        try:
            checked_documents = documents_process(kind, documents)
        except ValidationError as exc:
            errors["documents"] = exc.messages[0]
    if errors:
        raise ValidationError(errors)
    if placeless:
        point, commune, placed = None, home, None
    else:
        point, placed = locate(lat, lng, found)
        if within is not None and placed.commune.pk != within.pk:
            raise ValidationError({"location": _("El punto está fuera de la comuna %(name)s.") % {"name": within.name}})
        commune = placed.commune
    if staff is not None and not may_see_commune(staff, commune.pk):
        raise ValidationError(
            {
                "location" if point else "commune": _("%(name)s no es una comuna que atienda su cuenta.")
                % {"name": commune.name}
            }
        )
    # Once the comuna is known: only its own points can be named.
    points_loaded = channel == Channel.IN_PERSON and served_service_points().filter(commune_id=commune.pk).exists()
    if (message := in_person_error(channel, received_at, points_loaded=points_loaded)) is not None:
        raise ValidationError({"received_at": message})
    terms = category_terms(commune, found)
    if not terms.enabled:
        raise not_offered(found, commune)
    if placeless:
        decision, closed, cells = decide_without_place(commune, found, terms), closed_days(), {}
        address = address.strip()
    else:
        decision, closed, cells = decide(placed, found, terms), placed.closed_days, h3_cells(lat, lng)
        address = address.strip() or nearby_address(point)

    now = timezone.now()
    report = Report(
        kind=kind,
        commune=commune,
        category=found,
        location=point,
        address=address,
        description=description,
        attributes=answers,
        media_url=media_url,
        channel=channel,
        public_visibility=public_visibility,
        reporter_name=reporter_name.strip(),
        reporter_email=reporter_email.strip(),
        reporter_phone=reporter_phone.strip(),
        language="en" if language.startswith("en") else "es",
        created_by=created_by,
        received_at=received_at,
        created_at=now,
        updated_at=now,
        expected_at=request_deadline(now, kind, terms.response_days, closed_days=closed),
        zone=decision.zone,
        crew=decision.crew,
        department=decision.department,
        **cells,
    )
    events = [
        ReportEvent(
            report=report,
            kind=EventKind.CREATED,
            to_status=report.status,
            actor=created_by,
            actor_label=actor_label or Channel(channel).label,
            created_at=now,
        ),
        ReportEvent(
            report=report,
            kind=EventKind.ROUTED,
            note=decision.reason,
            is_public=False,
            actor_label="GeoSIAC",
            created_at=now,
        ),
    ]
    for _attempt in range(TRACKING_CODE_ATTEMPTS):
        # The id carries the year of created_at, not of the transaction's now() the column's default would read.
        report.pk, report.tracking_code = ReportYearId(reception_time(now)), new_tracking_code(commune.tracking_prefix)
        try:
            report.resubmitted = False
            return report_store(
                report,
                events=events,
                photo=processed,
                documents=checked_documents,
                submission_token=submission_token,
            )
        except IntegrityError as exc:
            if missing_partition(exc):
                # A year whose partitions neither migrate nor add_year_partitions made: made by its first request.
                reception_partitions_ensure([now])
            elif constraint_name(exc) != TRACKING_CODE_CONSTRAINT:
                raise
        except AlreadySubmitted as exc:
            found = unique_row(Report.objects.filter(pk=exc.report_id)) if exc.report_id is not None else None
            if found is not None:
                found.resubmitted = True  # tells the caller nothing new was filed (a form sent again)
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


# The report, its tracking code's key, its first events and its form token in one statement: one round trip
# instead of four ORM inserts. `generic` gives the rest of the transaction generic plans (set_config's local
# setting), for the foreign-key checks of the key, events and token against the partitioned reports, which run at
# commit: PostgreSQL planned each of them again (a custom plan, cheaper on paper than a generic one that prunes the
# partitions when it runs), 0.2 ms of a submission's 1.0 ms in this statement (docs/performance.md). So any prepared
# statement or PL/pgSQL run after report_create in the same transaction runs on forced generic plans too (values a
# plan must see belong in a QueryTemplate's shape, not in its slots), and so does a django_db test's after its first
# make_report (the test's one transaction).
REPORT_INSERT = """
WITH report AS ({report} RETURNING id),
code AS (INSERT INTO {key_table} ({key_columns}) SELECT %s, report.id FROM report),
events AS (INSERT INTO {events_table} ({report_column}, {event_columns})
           SELECT report.id, event.* FROM report, (VALUES {event_rows}) AS event),
claim AS (INSERT INTO {submission_table} (token, report_id) SELECT %s, report.id FROM report WHERE %s
          ON CONFLICT (token) DO NOTHING RETURNING 1),
generic AS (SELECT set_config('plan_cache_mode', 'force_generic_plan', true))
SELECT report.id, EXISTS (SELECT FROM claim) FROM report, generic
"""
EVENT_FIELDS = [f for f in ReportEvent._meta.local_concrete_fields if f.name not in ("id", "report")]


@lru_cache(maxsize=64)
def report_insert(report_sql: str, event_rows: str) -> str:
    """REPORT_INSERT for the report's INSERT and its events' rows, written once per shape of each."""
    return REPORT_INSERT.format(
        report=report_sql,
        events_table=ReportEvent._meta.db_table,
        report_column=ReportEvent._meta.get_field("report").column,
        event_columns=", ".join(f.column for f in EVENT_FIELDS),
        event_rows=event_rows,
        submission_table=Submission._meta.db_table,
        key_table=ReportKey._meta.db_table,
        key_columns=", ".join(ReportKey._meta.get_field(name).column for name in ("key", "report")),
    )


def report_store(
    report: Report,
    *,
    events: list[ReportEvent],
    photo: ProcessedPhoto | None,
    submission_token: str,
    documents: list[ProcessedDocument] = (),
) -> Report:
    """Write a checked report (report_create), its first events, form token, photo, documents and confirmation
    message.

    The token is claimed in the report's own statement: a second submission of the same form waits there until the
    first one commits (PostgreSQL holds a unique key being inserted), then finds it claimed and raises
    AlreadySubmitted, rolling back its own report before any photo is stored.

    A report with nothing to write after that statement (no form token, photo or email, as an Open311 POST) is sent
    outside a transaction: PostgreSQL applies one statement whole or not at all, and BEGIN and COMMIT cost two more
    round trips (docs/performance.md). Inside a caller's transaction it keeps its savepoint, so that a tracking code
    already taken rolls back only this attempt."""
    alone = (
        not connection.in_atomic_block
        and photo is None
        and not documents
        and not submission_token
        and not report.reporter_email
    )
    with documents_removed_on_rollback(), nullcontext() if alone else transaction.atomic():
        return report_write(report, events=events, photo=photo, documents=documents, submission_token=submission_token)


def report_write(
    report: Report,
    *,
    events: list[ReportEvent],
    photo: ProcessedPhoto | None,
    submission_token: str,
    documents: list[ProcessedDocument] = (),
) -> Report:
    report_sql, report_params = compiled_insert_sql(report)
    event_rows, event_params = typed_values(events, EVENT_FIELDS)
    statement = report_insert(report_sql, event_rows)
    code = tracking_code_key(report.tracking_code)
    with connection.cursor() as cursor:
        params = [*report_params, code, *event_params, submission_token, bool(submission_token)]
        execute_prepared(cursor, statement, params, table=Report._meta.db_table)
        report.pk, claimed = cursor.fetchone()
    report._state.adding, report._state.db = False, connection.alias
    if submission_token and not claimed:
        raise AlreadySubmitted(
            unique_row(Submission.objects.filter(token=submission_token).values_list("report_id", flat=True))
        )
    if photo is not None:
        report_photo_store(report=report, processed=photo)
    for document in documents:
        report_document_store(report=report, processed=document, created_at=report.created_at)
    if report.reporter_email:
        subject, body = received_message(report, report.language)
        notification_enqueue(
            report=report,
            recipient=report.reporter_email,
            language=report.language,
            subject=subject,
            body=body,
            sender_name=sender_name(report),
        )
    return report
