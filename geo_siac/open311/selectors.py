"""Reads for Open311: keys, jurisdictions, services and service requests (public fields only)."""

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery, TextField, Value
from django.db.models.functions import Coalesce

from geo_siac.catalogue.models import Category
from geo_siac.db import KeyLookup, QueryTemplate, RowLookup, Slot
from geo_siac.open311.keys import hash_key
from geo_siac.open311.models import ApiKey
from geo_siac.open311.params import bad
from geo_siac.reports.models import Report, ReportEvent
from geo_siac.reports.responsibility import DEPARTMENT_NAME
from geo_siac.reports.selectors import (
    LATITUDE,
    LONGITUDE,
    BoxTooLarge,
    box_filter,
    category_by_code,
    public_categories,
    public_reports,
    public_updates,
    published_events,
    reports_in_box,
    reports_near,
)
from geo_siac.reports.tracking import normalize_tracking_code
from geo_siac.zones.models import Commune
from geo_siac.zones.selectors import offered_categories

API_KEY_BY_HASH = KeyLookup(lambda key_hash: ApiKey.objects.usable().filter(key_hash=key_hash))
JURISDICTION_BY_ID = KeyLookup(
    lambda jurisdiction_id: Commune.objects.active().filter(jurisdiction_id=jurisdiction_id).defer("geometry")
)


def usable_api_key(raw: str) -> ApiKey | None:
    if not raw:
        return None
    return API_KEY_BY_HASH(hash_key(raw))


def jurisdiction(jurisdiction_id: str) -> Commune | None:
    return JURISDICTION_BY_ID(jurisdiction_id)


def service_requests(
    *,
    jurisdiction: Commune | None = None,
    ids: list[int] | None = None,
    service_codes: list[str] | None = None,
    window: tuple[datetime, datetime] | None = None,
    statuses: set[str] | None = None,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    bbox: dict | None = None,
    circle: dict | None = None,
) -> QuerySet[Report]:
    """GET requests: service_request_id overrides every other filter, as the specification says."""
    reports = public_reports()
    if jurisdiction is not None:
        reports = reports.filter(commune=jurisdiction)
    if ids is not None:
        return reports.filter(pk__any=ids)
    if service_codes:
        reports = reports.filter(category__service_code__any=service_codes)
    if window is not None:
        reports = reports.filter(created_at__gte=window[0], created_at__lte=window[1])
    if statuses is not None:
        reports = reports.filter(status__any=statuses)
    if updated_after is not None:
        reports = reports.filter(updated_at__gte=updated_after)
    if updated_before is not None:
        reports = reports.filter(updated_at__lte=updated_before)
    if bbox is not None:
        box = box_in_bbox(bbox)
        reports = reports.none() if box is None else reports_in_box(reports, **box)
    if circle is not None:
        reports = reports_near(reports, **circle)
    return reports


def box_in_bbox(bbox: dict) -> dict | None:
    """box_filter's answer, a box too large for it being bad input (400) like any other bbox error."""
    try:
        return box_filter(**bbox)
    except BoxTooLarge as error:
        raise bad("bbox", str(error)) from None


def request_page(*, page: int, page_size: int, **filters) -> list[dict]:
    """A page of GET requests as rows (request_rows), filtered as service_requests says: the query compiled once per
    set of filters given (REQUEST_LIST; with a box, BOX_LIST, a statement prepared per session) and sent with this
    request's values; for a circle, whose geography filter holds a geometry, built and compiled each time."""
    if filters.get("circle") is not None:
        reports = service_requests(**filters)
        return request_rows(reports[(page - 1) * page_size : page * page_size])
    values = slot_values(**filters)
    if values is None:
        return []
    if "west" in values:
        values["first"] = page * page_size  # each branch of the box keeps the page's first rows (reports_in_box)
        statuses = values.pop("statuses", None)
        shape = (tuple(sorted(values)), None if statuses is None else tuple(sorted(statuses)))
        return BOX_LIST.rows(shape, values, limit=page_size, offset=(page - 1) * page_size)
    return REQUEST_LIST.rows(tuple(sorted(values)), values, limit=page_size, offset=(page - 1) * page_size)


def slot_values(
    *,
    jurisdiction: Commune | None = None,
    ids: list[int] | None = None,
    service_codes: list[str] | None = None,
    window: tuple[datetime, datetime] | None = None,
    statuses: set[str] | None = None,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    bbox: dict | None = None,
    circle: None = None,
) -> dict | None:
    """service_requests' filters as REQUEST_LIST's slot values, under the same rules; None when the box holds
    nothing served."""
    values = {} if jurisdiction is None else {"jurisdiction": jurisdiction.pk}
    if ids is not None:
        return values | {"ids": list(ids)}
    if service_codes:
        values["service_codes"] = list(service_codes)
    if window is not None:
        values |= dict(zip(WINDOW, window, strict=True))
    if statuses is not None:
        values["statuses"] = list(statuses)
    if updated_after is not None:
        values["updated_after"] = updated_after
    if updated_before is not None:
        values["updated_before"] = updated_before
    if bbox is not None:
        box = box_in_bbox(bbox)
        if box is None:
            return None
        values |= box
    return values


WINDOW = ("window_start", "window_end")
BOX = ("west", "south", "east", "north", "centred", "overlapping", "first")


def request_list_query(shape: tuple[str, ...]) -> QuerySet:
    """request_rows_query(service_requests(...)) with a Slot for each value a shape (the names slot_values gave, no
    box) has."""
    slots = {name: Slot(name) for name in shape}
    filters = {name: slots.get(name) for name in ("jurisdiction", "ids", "service_codes", "statuses")}
    filters |= {name: slots.get(name) for name in ("updated_after", "updated_before")}
    if "window_start" in slots:
        filters["window"] = tuple(slots[name] for name in WINDOW)
    return request_rows_query(service_requests(**filters))


REQUEST_LIST = QueryTemplate(request_list_query)


def box_list_query(shape: tuple[tuple[str, ...], tuple[str, ...] | None]) -> QuerySet:
    """request_list_query for a shape with a box: the slot names, and the status set written into the SQL, so that
    the generic plan of the prepared statement (BOX_LIST) still proves the open reports' partial indexes
    (reports_in_box) from it; the window as `in_window`, so that it never turns a date index into its path."""
    names, statuses = shape
    slots = {name: Slot(name) for name in names}
    filters = {name: slots.get(name) for name in ("jurisdiction", "service_codes", "updated_after", "updated_before")}
    reports = service_requests(statuses=statuses, **filters)
    if "window_start" in slots:
        reports = reports.filter(created_at__in_window=tuple(slots[name] for name in WINDOW))
    return request_rows_query(reports_in_box(reports, **{name: slots[name] for name in BOX}))


# Planning the list over the report partitions and their indexes took longer than running it (docs/performance.md,
# "Open311"): prepared once per session, and per status set.
BOX_LIST = QueryTemplate(box_list_query, prepared=True)


def service_request(pk: str) -> dict | None:
    if not (pk.isdigit() and len(pk) < 19):
        return None
    return REQUEST_BY_ID(int(pk))


# What a GeoReport v2 request shows (presenters.service_request), the point as two numbers, and its last public note
# (status_notes) from a subquery: plain rows in one query, no model instances, GEOS geometries or prefetch.
REQUEST_FIELDS = (
    "id",
    "status",
    "public_visibility",
    "public_cell",
    "description",
    "address",
    "created_at",
    "updated_at",
    "expected_at",
    "category__service_code",
    "category__name_es",
    "category__name_en",
    "agency_responsible",
    "commune__jurisdiction_id",
    "commune__name",
    "media_url",
    "lng",
    "lat",
    "status_notes",
)
# A published note is empty only where the note is (a reopening's reason and a rerouting's department never are).
PUBLIC_NOTES = published_events().exclude(note="").order_by("-created_at", "-id")


def request_rows(reports: QuerySet[Report]) -> list[dict]:
    """These reports as plain rows (dicts of REQUEST_FIELDS): a page of 100 as model instances, with their category,
    group, department, comuna and events, was 670 objects to build and most of the list's CPU."""
    return list(request_rows_query(reports))


def request_rows_query(reports: QuerySet[Report]) -> QuerySet:
    last_note = Coalesce(
        Subquery(PUBLIC_NOTES.filter(report=OuterRef("pk")).values("published_note")[:1]),
        Value(""),
        output_field=TextField(),
    )
    return (
        reports.prefetch_related(None)
        .annotate(lng=LONGITUDE, lat=LATITUDE, status_notes=last_note, agency_responsible=DEPARTMENT_NAME)
        .values(*REQUEST_FIELDS)
    )


# Building and compiling this query was half of a request by id's CPU (docs/performance.md, "Open311"); the key
# marker is -1, an id no report has.
REQUEST_BY_ID = RowLookup(lambda pk: request_rows_query(public_reports().filter(pk=pk)), marker=-1)


def public_notes(report_ids: list[int]) -> dict[int, list[dict]]:
    """The public history of these reports (extensions=true), oldest first, by report."""
    notes = {pk: [] for pk in report_ids}
    events = (
        published_events()
        .filter(report__in=report_ids)
        .order_by("created_at", "id")
        .values_list("report_id", "created_at", "to_status", "published_note")
    )
    for report_id, created_at, status, note in events:
        notes[report_id].append({"datetime": created_at, "status": status, "description": note})
    return notes


def service_request_by_token(token: str) -> Report | None:
    return public_reports().filter(tracking_code=normalize_tracking_code(token)).first()


def services(jurisdiction: Commune | None = None) -> list[Category] | QuerySet[Category]:
    """GET services: the public categories, or with a jurisdiction_id only those its comuna offers
    (zones.selectors.offered_categories)."""
    categories = public_categories()
    return categories if jurisdiction is None else [c for c, _terms in offered_categories(jurisdiction, categories)]


def service(service_code: str) -> Category | None:
    """The category a request names, without its group: every POST looks one up, and the join is not needed for
    it (the service definition, which shows the group, loads it when asked)."""
    return category_by_code(service_code, "public")


def request_updates(*, jurisdiction: Commune | None, window: tuple[datetime, datetime]) -> QuerySet[ReportEvent]:
    """GET servicerequestupdates: the public updates made in the window, oldest first."""
    updates = public_updates().filter(created_at__gte=window[0], created_at__lte=window[1])
    if jurisdiction is not None:
        updates = updates.filter(report__commune=jurisdiction)
    return updates
