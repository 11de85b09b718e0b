"""Reads on reports."""

import functools
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime

import h3
from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Concat, Replace
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from h3.api import basic_int as h3i

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category, CategoryGroup
from geo_siac.db import KeyLookup, QueryTemplate, RowsByKey, Slot, slot_sliced, unique_row
from geo_siac.geo import STORAGE_SRID, geodesic_box, geodesic_distance_m
from geo_siac.reports.archived import (
    PendingErasuresBlocked,
    archive_schemas_prepare,
    archive_search_path,
    archived_years,
    erasure_digest_keys,
    person_digest,
)
from geo_siac.reports.deadlines import DeadlineState, due_soon_before
from geo_siac.reports.models import (
    CITIZEN_REOPENING,
    PUBLIC_REROUTING,
    AnswerLetter,
    EventKind,
    EventPhoto,
    Follower,
    PendingErasure,
    Report,
    ReportDocument,
    ReportEvent,
    ReportKey,
    ReportPhoto,
    ResponseTemplate,
    Submission,
    tracking_code_key,
)
from geo_siac.reports.privacy import PLACE_RESOLUTIONS, shown_point
from geo_siac.reports.punctuality import deadline_compliance
from geo_siac.reports.responsibility import responsible_department_id
from geo_siac.reports.states import OPEN
from geo_siac.reports.tracking import normalize_tracking_code
from geo_siac.text import CONTROL_CHARACTERS
from geo_siac.zones.models import Commune, Crew
from geo_siac.zones.selectors import closed_days


def reports_by_tracking_code(among: QuerySet[Report], code: str) -> QuerySet[Report]:
    """Found through the code's key (ReportKey, the report's id by its unique primary key), not through the report
    table's index on the code: a bulk import suspends that index (importers.bulk_mode) and the lookup would read
    every partition meanwhile; the key's unique index and the reports' primary keys are never suspended."""
    key = ReportKey.objects.filter(key=Concat(Value(tracking_code_key("")), Value(code))).values("report_id")
    return (
        among.select_related("category__department", "department", "commune")
        # A page about one report never draws its comuna, and a comuna boundary is thousands of points: without
        # this, every tracking lookup fetched and parsed one.
        .defer("commune__geometry")
        .filter(pk__in=key)
    )


# Compiled once (geo_siac.db.KeyLookup): every public page about one request asks it (tracking, letter, survey),
# and the ORM building this three-table join was a quarter of a tracking page's CPU.
REPORT_BY_TRACKING_CODE = KeyLookup(lambda code: reports_by_tracking_code(Report.objects.all(), code))


def report_by_tracking_code(code: str, among: QuerySet[Report] | None = None) -> Report | None:
    """The report with this code, among `among` (a staff scope, `Report.objects.for_staff(user)`) or all."""
    code = normalize_tracking_code(code)
    if among is None:
        return REPORT_BY_TRACKING_CODE(code)
    return unique_row(reports_by_tracking_code(among, code))


def archived_code_year(code: str) -> int | None:
    """The year archived with the request of this tracking code (its key kept as a tombstone), or None."""
    key = tracking_code_key(normalize_tracking_code(code))
    return ReportKey.objects.filter(key=key, report__isnull=True).values_list("archived_year", flat=True).first()


# What Category.service_code (a SlugField of 50) can hold.
SERVICE_CODE = re.compile(r"[-a-zA-Z0-9_]{1,50}")


# The categories a service code is looked up among: all of them (a form re-drawn with what was posted), the active
# ones (what a report can be filed in) and the public ones (what Open311 and the public pages list).
CATEGORY_BY_CODE = {
    "all": KeyLookup(lambda code: Category.objects.filter(service_code=code)),
    "active": KeyLookup(lambda code: Category.objects.filter(is_active=True, service_code=code)),
    "public": KeyLookup(lambda code: Category.objects.public().filter(service_code=code)),
}


def category_by_code(code: str | None, among: str = "all") -> Category | None:
    """The category with this service code among `among` (CATEGORY_BY_CODE); None for a code no category can have
    (empty, too long, spaces, control characters) without asking PostgreSQL, which refuses NUL in text."""
    if not isinstance(code, str) or not SERVICE_CODE.fullmatch(code):
        return None
    return CATEGORY_BY_CODE[among](code)


def report_history(report: Report) -> QuerySet[ReportEvent]:
    """Every event of the report, oldest first, internal ones included (staff pages only), with its photos and
    `work_distance` (a Distance, `.m` in metres): how far from the reported point the crew worked, measured on the
    spheroid; None when the change recorded no position."""
    events = report.events.select_related("actor").prefetch_related("photos")
    if report.location is None:  # a request without a place: no distance to measure
        return events.annotate(work_distance=Value(None, output_field=FloatField()))
    return events.annotate(work_distance=Distance("work_location", report.location, spheroid=True))


def counted_reports() -> QuerySet[Report]:
    """Each problem once, a merged duplicate counted in its original: the base of every count of requests, the
    public indicators' (transparency_reports) and the staff deadline board's, so the two cannot disagree."""
    return Report.objects.filter(duplicate_of__isnull=True)


def public_categories(kind: str = RequestKind.SERVICE_REQUEST) -> QuerySet[Category]:
    """The public categories of one request kind: the service catalogue (the report page, Open311, the API) by
    default, or the topics a request of another kind is filed under."""
    return (
        Category.objects.public()
        .filter(kind=kind)
        .select_related("group", "department")
        .order_by("group__order", "name_es")
    )


def public_reports() -> QuerySet[Report]:
    """Reports in public categories, newest first, with what their public fields need (`public_events`)."""
    return reports_with_public_fields().filter(category__is_public=True)


def reports_with_public_fields() -> QuerySet[Report]:
    """Every report, newest first, with what its public fields need (`public_events`): public_reports, and the
    internal back offices that also see reports of hidden categories (webhooks)."""
    public_events = Prefetch(
        "events",
        queryset=ReportEvent.objects.filter(is_public=True).order_by("created_at", "id"),
        to_attr="public_events",
    )
    return (
        Report.objects.select_related("category__group", "category__department", "commune")
        # The comuna's boundary (tens of kilobytes) would otherwise travel and be parsed once per report.
        .defer("commune__geometry")
        .prefetch_related(public_events)
        .order_by("-created_at", "-id")
    )


# The columns one public GeoJSON feature shows (reports.api.ReportSerializer.to_representation), with the point's
# longitude and latitude as numbers (`lng`, `lat`): no GEOS geometry to decode per row.
FEATURE_FIELDS = (
    "id",
    "public_cell",
    "public_visibility",
    "status",
    "description",
    "address",
    "created_at",
    "updated_at",
    "expected_at",
    "closed_at",
    "category__service_code",
    "category__name_es",
    "category__name_en",
    "commune__cut",
    "commune__name",
    "lng",
    "lat",
)


def public_report_features() -> QuerySet[Report]:
    """Reports in public categories, newest first: what the public GeoJSON list filters, counts and pages, with no
    join (a page's rows come from `feature_rows`).

    Hidden categories are excluded by `NOT IN` rather than joined for `is_public`: misjudging how many reports a
    map box holds, the planner probed the category index once per matching report. No events: the list does not
    show them.
    """
    return Report.objects.exclude(category__in=Category.objects.filter(is_public=False)).order_by("-created_at", "-id")


class Coordinate(Func):
    """ST_X or ST_Y of the report's point, with no converter: psycopg2 returns float8 as a Python float (or None)."""

    output_field = FloatField()
    convert_value = staticmethod(Func._convert_value_noop)


# A report's point as two numbers, computed by PostgreSQL: no GEOS geometry to decode in Python.
LONGITUDE = Coordinate("location", function="ST_X")
LATITUDE = Coordinate("location", function="ST_Y")


def feature_rows(reports: QuerySet[Report]) -> QuerySet:
    """These reports as plain rows (dicts of FEATURE_FIELDS): 100 model instances, each with its category and
    comuna, were 300 objects to build and half of the API's CPU."""
    return reports.annotate(lng=LONGITUDE, lat=LATITUDE).values(*FEATURE_FIELDS)


def public_point(report: Report) -> tuple[float, float] | None:
    """(lat, lng) shown publicly (privacy.shown_point): exact when the citizen allowed it, else the centre of the
    report's published cell, or None."""
    if report.location is None:
        return None
    return shown_point(report.public_visibility, report.location.y, report.location.x, report.public_cell)


# A point on a cell's edge belongs to one cell, and H3 draws the box's edges (planar in degrees) and the cells'
# (arcs) slightly differently: the cells overlapping a box this much wider hold every point of the box.
BOX_MARGIN_DEG = 1e-5  # about 1 m


def box_cells(*, west: float, south: float, east: float, north: float) -> tuple[list[int], list[int]]:
    """The cells of every published resolution whose centre lies in the box (where a private report is shown)
    and the res-9 cells holding any point of the box (where a public report in the box is stored)."""
    if (east - west) * (north - south) <= CACHED_BOX_MAX_AREA:
        centred, overlapping = cells_of_box(west, south, east, north)
    else:
        centred, overlapping = cells_of_box.__wrapped__(west, south, east, north)
    return list(centred), list(overlapping)


# Only boxes up to 0.1° x 0.1° (about 2,500 cells, 0.1 MB) are kept: a box of the whole region holds 741,203
# cells (30 MB), and anyone can ask for 128 different ones.
CACHED_BOX_MAX_AREA = 0.01


@functools.lru_cache(maxsize=128)
def cells_of_box(west: float, south: float, east: float, north: float) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """box_cells' cells, kept for the last small boxes asked (at most about 0.1 MB each): drawing them was a seventh
    of an Open311 list's Python CPU (docs/performance.md, "Open311"), and a map's clients ask for the same box again."""
    shape = h3.LatLngPoly([(south, west), (south, east), (north, east), (north, west)])
    centred = tuple(h3.str_to_int(c) for res in PLACE_RESOLUTIONS for c in h3.polygon_to_cells(shape, res))
    m = BOX_MARGIN_DEG
    wider = h3.LatLngPoly([(south - m, west - m), (south - m, east + m), (north + m, east + m), (north + m, west - m)])
    overlapping = tuple(h3.str_to_int(c) for c in h3.h3shape_to_cells_experimental(wider, 9, contain="overlap"))
    return centred, overlapping


# A published cell holds a report of a served comuna, so its centre is at most a res-6 cell's radius (about 4 km)
# outside their extent: a box is clipped to the extent grown by this much.
PUBLISHED_CELL_MARGIN_DEG = 0.05


# The active comunas' extent as one row (grouped by a constant: a values() query a template can hold).
SERVED_EXTENT = QueryTemplate(
    lambda shape: (
        Commune.objects.active()
        .order_by()
        .annotate(every=Value(1, output_field=IntegerField()))
        .values("every")
        .annotate(extent=Extent("geometry"))
        .values("extent")
    )
)


# The largest box (in square degrees, once clipped to what is served) whose cells a request may draw: 0.5° x 0.5° is
# about 62,000 cells and 0.5 s of CPU; a box of the whole Región Metropolitana is 741,203 cells and 16 s. A two-comuna
# installation's whole area is about 0.12.
BOX_MAX_AREA = 0.25


class BoxTooLarge(ValueError):
    """A box whose served part is larger than BOX_MAX_AREA: the APIs answer 400 and name the limit."""


def box_filter(*, west: float, south: float, east: float, north: float) -> dict | None:
    """What reports_in_box needs for a box: the box clipped to the served comunas (grown by the published cells'
    margin) and its cells (box_cells), or None when nothing served is in it. BoxTooLarge when the clipped box is
    larger than BOX_MAX_AREA."""
    served = SERVED_EXTENT.rows("all", {})[0]["extent"]
    if served is None:
        return None
    m = PUBLISHED_CELL_MARGIN_DEG
    west, south = max(west, served[0] - m), max(south, served[1] - m)
    east, north = min(east, served[2] + m), min(north, served[3] + m)
    if west >= east or south >= north:
        return None
    if (east - west) * (north - south) > BOX_MAX_AREA:
        raise BoxTooLarge(
            _(
                "la caja abarca demasiado del área atendida (%(area).2f grados cuadrados; a lo más %(most).2f, "
                "por ejemplo 0,5 x 0,5 grados): pida varias cajas más pequeñas."
            )
            % {"area": (east - west) * (north - south), "most": BOX_MAX_AREA}
        )
    centred, overlapping = box_cells(west=west, south=south, east=east, north=north)
    return {"west": west, "south": south, "east": east, "north": north, "centred": centred, "overlapping": overlapping}


def reports_in_bbox(
    queryset: QuerySet[Report], *, west: float, south: float, east: float, north: float
) -> QuerySet[Report]:
    """The reports shown in the box: public ones whose point lies in it, private ones whose published cell's
    centre does (box_filter, then reports_in_box)."""
    box = box_filter(west=west, south=south, east=east, north=north)
    return queryset.none() if box is None else reports_in_box(queryset, **box)


def reports_in_box(queryset: QuerySet[Report], **box) -> QuerySet[Report]:
    """The reports shown in a box box_filter has clipped (`box`: its values, or Slots of a QueryTemplate, and
    `first`, as shown_in_box takes them)."""
    return queryset.filter(pk__in=shown_in_box(queryset, **box))


def shown_in_box(
    queryset: QuerySet, *, west, south, east, north, centred, overlapping, first=None, fields=("pk",)
) -> QuerySet:
    """The `fields` (values()) of the reports of `queryset` shown in a box box_filter has clipped: its values, or
    Slots of a QueryTemplate. A UNION ALL of two branches that never share a report (public and private ones).

    Public ones are found through the res-9 cells the box touches, whose index (report_shown_cell) carries every
    column this filter, the hidden-category filter and the API's order read, so counting a box is an index-only
    scan. A point lies in a box exactly when its coordinates are within the bounds, which PostgreSQL tests on the
    index entry; ST_Intersects would also have let it pick the table visit. Private ones are found by their
    published cell, from report_public_cell alone. The two sets are a UNION of keys: written as one OR,
    PostgreSQL walked every report in date order looking for the page (docs/performance.md). Each branch carries
    `queryset`'s own filters, so that the status and date tests (both indexes include those columns) drop a
    candidate inside the index instead of after a table visit: 5,458 visits for 128 open reports in a 3 x 3 km box.
    For open reports only (the Open311 list's default), report_open_shown_cell and report_open_public_cell hold
    just those, so that the branches do not walk the closed reports of the box's cells either.
    The cells are one array parameter each, so the SQL does not change with the box's size.

    With `first` (a number, or a QueryTemplate's Slot), only the reports among the first that many in `queryset`'s
    order: each branch keeps its own first ones, read from the index in that order, so that the outer query visits
    at most twice that many rows instead of every report in the box (7,799 for a page of 100 in a busy 3 x 3 km
    box). For a page, `first` is its offset plus its size. Not for a count.
    """
    candidates = queryset.order_by()
    shown_public = candidates.alias(point_x=LONGITUDE, point_y=LATITUDE).filter(
        h3_res9__any=overlapping, public_visibility=True, point_x__range=(west, east), point_y__range=(south, north)
    )
    # True here and False there, on a NOT NULL column: FeatureKeys counts the union without removing repeats.
    shown_private = candidates.filter(public_cell__any=centred, public_visibility=False)
    shown_public, shown_private = shown_public.values(*fields), shown_private.values(*fields)
    if first is not None:
        order = queryset.query.order_by
        if not order:
            raise ValueError("shown_in_box: the first reports of an unordered queryset")
        shown_public = slot_sliced(shown_public.order_by(*order), first)
        shown_private = slot_sliced(shown_private.order_by(*order), first)
    return shown_public.union(shown_private, all=True)


# The GeoJSON API's filters (reports.api.ReportFilter) as slot values of FEATURE_KEYS, and the box's (box_filter).
FEATURE_FILTERS = ("commune", "category", "statuses", "created_after", "created_before")
BOX_VALUES = ("west", "south", "east", "north", "centred", "overlapping")


def feature_keys_query(shape: tuple[str, ...]) -> QuerySet:
    """The keys and dates of the public reports a GeoJSON API list shows, filtered as reports.api.ReportFilter
    filters (a Slot for each value the shape names), unordered: FeatureKeys pages and counts them.

    A box's keys and dates are shown_in_box's union itself, read from its indexes, which carry both. Taken as
    `pk IN (union)` the outer query fetched every matching report again to sort by date: 4,129 visits of the
    reports' primary keys for a page of the bench's 1 km box at 1.2 M reports, 15-20 ms of PostgreSQL instead of
    2-3 (docs/performance.md)."""
    slots = {name: Slot(name) for name in shape}
    reports = public_report_features()
    if "commune" in slots:
        reports = reports.filter(commune__cut=slots["commune"])
    if "category" in slots:
        reports = reports.filter(category__service_code=slots["category"])
    if "statuses" in slots:
        reports = reports.filter(status__any=slots["statuses"])
    if "created_after" in slots:
        reports = reports.filter(created_at__gte=slots["created_after"])
    if "created_before" in slots:
        reports = reports.filter(created_at__lte=slots["created_before"])
    if "west" in slots:
        return shown_in_box(reports, **{name: slots[name] for name in BOX_VALUES}, fields=("pk", "created_at"))
    return reports.order_by().values("pk", "created_at")


class FeatureKeys(QueryTemplate):
    """feature_keys_query's keys newest first (public_report_features' order), each with the number of matches,
    as `COUNT(*) OVER ()` over the whole set: (pk, matches) rows, paged by QueryTemplate's LIMIT and OFFSET."""

    def compile(self, shape):
        query = super().compile(shape)
        query.sql = (
            f'SELECT shown."pk", COUNT(*) OVER () AS "matches" FROM ({query.sql}) shown'
            ' ORDER BY shown."created_at" DESC, shown."pk" DESC'
        )
        query.names, query.converters = ["pk", "matches"], {}
        return query


# Compiled once per set of filters given: django-filter and the ORM built them, the box's union and the page's
# window on every request, half of the API's CPU (docs/performance.md).
FEATURE_KEYS = FeatureKeys(feature_keys_query)
FEATURE_ROWS = QueryTemplate(
    # The category's publicity again: one hidden between the two statements must not serve its reports.
    lambda shape: feature_rows(
        Report.objects.filter(pk__any=Slot("keys"), category__is_public=True).order_by("-created_at", "-id")
    )
)


def public_feature_keys(values: dict, *, offset: int, limit: int) -> list[tuple[int, int]]:
    """(key, number of matches) of one page of the GeoJSON API's list, for FEATURE_FILTERS' and box_filter's
    values (only those given)."""
    rows = FEATURE_KEYS.rows(tuple(sorted(values)), values, limit=limit, offset=offset)
    return [(row["pk"], row["matches"]) for row in rows]


def public_feature_rows(keys: list[int]) -> list[dict]:
    """feature_rows of these reports, newest first."""
    return FEATURE_ROWS.rows("by keys", {"keys": keys}) if keys else []


def within_m(point: Point, radius_m: float) -> Q:
    """Reports whose location lies within `radius_m` metres of the point, measured on the spheroid (PostGIS
    geography): the one "near a point" rule, behind the duplicates of the citizen page and the operator console and
    Open311's lat/long/radius. ST_DWithin on geography decides; the box before it lets the location's GiST index
    (on geometry) find the candidates, which the cast to geography alone would not."""
    near = Q(
        Func(
            _geography(F("location")),
            _geography_of(point),
            Value(float(radius_m)),
            function="ST_DWithin",
            output_field=BooleanField(),
        )
    )
    box = geodesic_box(point.y, point.x, radius_m)
    return near if box is None else Q(location__bboverlaps=Polygon.from_bbox(box)) & near


def distance_m(point: Point) -> Func:
    """A report's distance in metres to the point on the spheroid, as within_m measures it."""
    return Func(_geography(F("location")), _geography_of(point), function="ST_Distance", output_field=FloatField())


def _geography(expression) -> Func:
    return Func(expression, template="(%(expressions)s)::geography")


def _geography_of(point: Point) -> Func:
    return Func(Value(point.ewkt), function="ST_GeogFromText")


def reports_near(queryset: QuerySet[Report], *, lat: float, lng: float, radius_m: float) -> QuerySet[Report]:
    """The reports shown within `radius_m` of the point: public ones by their point (within_m), private ones by
    their published cell's centre, at a distance measured the same way."""
    cells = [
        cell
        for res in PLACE_RESOLUTIONS
        for cell in h3i.grid_disk(
            h3i.latlng_to_cell(lat, lng, res), math.ceil(radius_m / h3.average_hexagon_edge_length(res, unit="m")) + 1
        )
        if geodesic_distance_m(lat, lng, *h3i.cell_to_latlng(cell)) <= radius_m
    ]
    return queryset.filter(
        (Q(public_visibility=True) & within_m(Point(lng, lat, srid=STORAGE_SRID), radius_m))
        | (Q(public_visibility=False) & Q(public_cell__in=cells))
    )


def reports_in_area(queryset: QuerySet[Report], *, area: MultiPolygon) -> QuerySet[Report]:
    """The reports shown inside `area` (a crew zone): public ones by their point, private ones by their published
    cell's centre, as reports_near and reports_in_bbox place them. Spatial filters match what is shown, so probing
    with them cannot locate a private report."""
    shape = h3.geo_to_h3shape(json.loads(area.geojson))
    cells = [h3.str_to_int(cell) for res in PLACE_RESOLUTIONS for cell in h3.h3shape_to_cells(shape, res)]
    return queryset.filter(
        # The flag first: PostgreSQL tests the ANDed terms in the order written.
        (Q(public_visibility=True) & Q(location__intersects=area))
        | (Q(public_visibility=False) & Q(public_cell__in=cells))
    )


def open_reports_near(*, category: Category, point: Point, public_only: bool) -> QuerySet[Report]:
    """Open reports of the category within its duplicate radius (`Category.duplicate_radius_m`, the one setting),
    nearest first, with `distance_m`: likely the same problem. The citizen page and the operator console both ask
    this; `public_only` for the citizen's, since answering "is there a report near here?" for private reports
    would let anyone locate them by probing points."""
    reports = open_reports().filter(within_m(point, category.duplicate_radius_m), category=category)
    if public_only:
        reports = reports.filter(public_visibility=True)
    return reports.annotate(distance_m=distance_m(point)).order_by("distance_m", "pk")


# A report's key is never negative: the marker these compiled lookups are built with.
NO_REPORT = -1
PUBLIC_TIMELINE = RowsByKey(
    lambda report_id: ReportEvent.objects.filter(report_id=report_id, is_public=True).order_by("created_at", "id"),
    marker=NO_REPORT,
)
ANSWER_LETTERS = RowsByKey(
    lambda report_id: (
        AnswerLetter.objects.filter(report_id=report_id).only("number", "issued_at", "report_id").order_by("number")
    ),
    marker=NO_REPORT,
)


def public_timeline(report: Report) -> list[ReportEvent]:
    """The request's public events, oldest first."""
    return PUBLIC_TIMELINE(report.pk)


def answer_letters(report: Report) -> list[AnswerLetter]:
    """The request's answer letters, oldest first, without their text or PDF: for its tracking page and, where
    its kind is answered by letter, the supervisor's report page."""
    return ANSWER_LETTERS(report.pk)


TRACKING_CODE_MASK = "[código de seguimiento]"


def published_events() -> QuerySet[ReportEvent]:
    """The events anyone may read (Open311's notes and updates, public webhooks): the public events of service
    requests, with `published_note`, their note with the request's tracking code masked (a response template may
    quote it, and the code opens a non-public request's tracking page). A request of another kind (a complaint, an
    access-to-information request) is a conversation with an identified person: its notes are for the requester's
    own tracking page only, and so is a citizen's reason for reopening one (models.CITIZEN_REOPENING), published as
    the reopening alone. A rerouting's note, its department's name (models.PUBLIC_REROUTING), is published worded. A
    request its citizen did not make public shows its changes but not their notes (a reply to the citizen may describe
    the place or the person); its own tracking page, by code, still does."""
    with translation.override(settings.LANGUAGE_CODE):  # the history's one language, as every stored note
        reopened = _("Reabierta a pedido de quien la presentó.")
        before, after = _("Derivada a %(department)s.").split("%(department)s")
    return ReportEvent.objects.filter(is_public=True, report__kind=RequestKind.SERVICE_REQUEST).annotate(
        published_note=Case(
            When(CITIZEN_REOPENING, then=Value(reopened)),
            When(PUBLIC_REROUTING, then=Concat(Value(before), F("note"), Value(after), output_field=TextField())),
            When(
                report__public_visibility=True,
                then=Replace(F("note"), F("report__tracking_code"), Value(TRACKING_CODE_MASK)),
            ),
            default=Value(""),
            output_field=TextField(),
        )
    )


def public_updates() -> QuerySet[ReportEvent]:
    """What happened to requests after they were filed, as their public timelines show it: public events of
    reports in public categories, oldest first, each with `status_after`, the report's status once it happened
    (an event that changed none, such as a public note, inherits the latest change before it)."""
    earlier = (
        ReportEvent.objects.filter(report=OuterRef("report"), is_public=True, created_at__lte=OuterRef("created_at"))
        .exclude(to_status="")
        .order_by("-created_at", "-id")
        .values("to_status")[:1]
    )
    return (
        published_events()
        .filter(report__category__is_public=True)
        .exclude(kind=EventKind.CREATED)
        .annotate(status_after=Case(When(~Q(to_status=""), then=F("to_status")), default=Subquery(earlier)))
        .order_by("created_at", "id")
    )


def categories_by_group() -> list[tuple[CategoryGroup, list[Category]]]:
    groups: dict[int, tuple[CategoryGroup, list[Category]]] = {}
    for category in public_categories():
        groups.setdefault(category.group_id, (category.group, []))[1].append(category)
    return list(groups.values())


def deadline_state(now) -> Case:
    """An open report's deadline state (on time / due soon / overdue) at `now`, computed by PostgreSQL."""
    return Case(
        When(expected_at__lt=now, then=Value(DeadlineState.OVERDUE)),
        When(expected_at__lt=due_soon_before(now, closed_days=closed_days()), then=Value(DeadlineState.DUE_SOON)),
        default=Value(DeadlineState.ON_TIME),
        output_field=CharField(),
    )


def with_deadline_state(reports: QuerySet[Report], now=None) -> QuerySet[Report]:
    """These reports with `deadline_state`, None for a closed one: a report's page reads it with the report."""
    return reports.annotate(
        deadline_state=Case(
            When(status__in=OPEN, then=deadline_state(now or timezone.now())), default=None, output_field=CharField()
        )
    )


def open_reports(now=None) -> QuerySet[Report]:
    """Open reports with `deadline_state` (on time / due soon / overdue), soonest deadline first."""
    now = now or timezone.now()
    return (
        Report.objects.filter(status__in=OPEN)
        .select_related("category", "crew", "zone", "commune")
        # A list never draws the comuna's or the zone's polygon, and a comuna boundary is thousands of points.
        .defer("commune__geometry", "zone__geometry")
        .annotate(deadline_state=deadline_state(now))
        .order_by("expected_at", "pk")  # the key makes pages stable where deadlines tie
    )


def overdue_reports(now=None) -> QuerySet[Report]:
    return open_reports(now).filter(deadline_state=DeadlineState.OVERDUE)


def triage_queue() -> QuerySet[Report]:
    """Open reports no crew answers: routing found no zone or no crew, or a crew handed them back."""
    return open_reports().filter(crew__isnull=True)


def supervision_reports(
    *,
    category: Category | None = None,
    zone=None,
    crew=None,
    triage: bool = False,
    status: str = "",
    overdue: bool = False,
    placeless: bool = False,
) -> QuerySet[Report]:
    """Open reports under the supervision page's filters, soonest deadline first. `zone` matches every version of
    that zone (a redrawn zone is the same zone); `triage` keeps the reports no crew answers; `placeless` the
    requests without a place."""
    reports = open_reports()
    if category is not None:
        reports = reports.filter(category=category)
    if zone is not None:
        reports = reports.filter(zone__commune_id=zone.commune_id, zone__key=zone.key)
    if triage:
        reports = reports.filter(crew__isnull=True)
    elif crew is not None:
        reports = reports.filter(crew=crew)
    if status:
        reports = reports.filter(status=status)
    if overdue:
        reports = reports.filter(deadline_state=DeadlineState.OVERDUE)
    if placeless:
        reports = reports.filter(location__isnull=True)
    return reports


def response_templates_for(report: Report) -> QuerySet[ResponseTemplate]:
    """The active response templates a report may be answered with: its category's and its responsible
    department's."""
    scope = Q(category_id=report.category_id)
    if (department_id := responsible_department_id(report)) is not None:
        scope |= Q(department_id=department_id)
    return ResponseTemplate.objects.filter(scope, is_active=True).order_by("title", "pk")


def reports_of_crews(crews) -> QuerySet[Report]:
    """The crews' open reports, soonest deadline first. The crews' keys reach PostgreSQL as values, not as a
    subquery: knowing them, it reads a crew's page from report_open_crew_deadline in order, where with the
    subquery it walked every open report by deadline looking for the crew's."""
    return open_reports().filter(crew__in=[crew.pk for crew in crews])


def deadline_state_counts(reports: QuerySet[Report]) -> dict[str, int]:
    """How many of these open reports are on time, due soon and overdue: one GROUP BY, whatever their number."""
    counts = {state.value: 0 for state in DeadlineState}
    for row in reports.order_by().values("deadline_state").annotate(n=Count("pk")):
        counts[row["deadline_state"]] = row["n"]
    return counts


def phone_key(phone: str) -> str:
    """One way of writing a number, to find a person by it: digits only, Chile's country code before a national
    nine-digit number ("+56 9 1234 5678", "56912345678" and "9 1234 5678" are one number)."""
    digits = "".join(c for c in phone if c.isdigit())
    return "56" + digits if len(digits) == 9 else digits


def email_key(email: str) -> str:
    """An e-mail as a person is found by it: without the spaces around it ("  Vecina@Example.cl " is
    vecina@example.cl), lower case as citizens.services.clean_email writes it (the matches are `iexact`)."""
    return (email or "").strip().lower()


def phone_key_sql(field: str):
    """phone_key() of a column, in SQL."""
    digits = Func(F(field), Value(r"\D"), Value(""), Value("g"), function="regexp_replace", output_field=CharField())
    return Case(When(Q(**{f"{field}__regex": r"^\D*(\d\D*){9}$"}), then=Concat(Value("56"), digits)), default=digits)


def person_reports(*, email: str = "", phone: str = "") -> QuerySet[Report]:
    """The reports one person filed, found by their email or, for the channels that have only a number (phone,
    WhatsApp, SMS), by their number however it was written. By number, only the reports that carry no email: a
    family's or an office's shared number must not hand one person's request (name, email, text) to another, and a
    report with an email is that email's. Neither given finds nothing."""
    if email:
        return Report.objects.filter(reporter_email__iexact=email)
    if len(phone_key(phone)) < 8:
        return Report.objects.none()
    return (
        Report.objects.filter(reporter_email="")
        .exclude(reporter_phone="")
        .alias(key=phone_key_sql("reporter_phone"))
        .filter(key=phone_key(phone))
    )


def person_notifications(*, email: str = "", phone: str = ""):
    """The messages sent to one person: to their email, or by SMS or WhatsApp to their number."""
    from geo_siac.notifications.models import Medium, Notification

    if email:
        return Notification.objects.filter(medium=Medium.EMAIL, recipient__iexact=email)
    if len(phone_key(phone)) < 8:
        return Notification.objects.none()
    return (
        Notification.objects.filter(medium__in=[Medium.SMS, Medium.WHATSAPP])
        .alias(key=phone_key_sql("recipient"))
        .filter(key=phone_key(phone))
    )


def person_added_photos(*, email: str) -> QuerySet[EventPhoto]:
    """The photos one person added ("Agregar información") to a request, theirs or one they follow: the export lists
    them and the erasure removes them. By e-mail only, as added_by holds it (email_key): a crew's photo and one sent
    by number have none, so no e-mail finds nothing."""
    key = email_key(email)
    return EventPhoto.objects.filter(added_by=key) if key else EventPhoto.objects.none()


def reporter_data(*, email: str = "", phone: str = "") -> dict:
    """Everything stored about one person by email, or by phone number for the channels that have only that
    (Ley 19.628 / 21.719 access request), as plain data: in the live tables and in the schema of every archived year
    still in the database (each of its reports and messages says `archived_year`, and each of its follows is
    {"tracking_code", "archived_year"} where a live one is only the code); the years only in a dump are listed in
    `archived_years_not_read`, and those where an erasure of theirs waits for the dump to be restored in
    `archived_years_erasure_pending`. A schema lacking a live column gets it first (archived.archive_schemas_prepare);
    one that cannot (its table locked) raises ArchiveColumnsMissing."""
    email = email_key(email)
    archive_schemas_prepare()
    data = {"email": email, "phone": phone, **person_data(email=email, phone=phone)}
    data["archived_years_not_read"] = []
    data["archived_years_erasure_pending"] = pending_erasures_of(email=email, phone=phone)
    for archive in archived_years():
        if not archive.in_database:
            data["archived_years_not_read"].append({"year": archive.year, "dump": archive.dump or None})
            continue
        with archive_search_path(archive.schema):
            archived = person_data(email=email, phone=phone, archived_year=archive.year)
        for key, rows in archived.items():
            data[key] += rows
    return data


def pending_erasures_of(*, email: str, phone: str) -> list[dict]:
    """The erasures of this person recorded for archived years only in their dump (PendingErasure), each found under
    the key that made it; `applied` when applied to a restored schema, the record kept until a new dump of the year.
    Rows whose key is gone cannot be told apart: PendingErasuresBlocked says so rather than an empty list."""
    if not email and len(phone_key(phone)) < 8:
        return []
    keys = erasure_digest_keys()
    orphaned = PendingErasure.objects.exclude(key_fingerprint__in=list(keys))
    if orphaned.exists():
        raise PendingErasuresBlocked(
            f"{orphaned.count()} borrados pendientes (reports_pendingerasure) fueron hechos con una clave que ya no "
            "está en reports_erasuredigestkey: no se sabe si alguno es de esta persona. Restaure esa fila de un "
            "respaldo."
        )
    digests = Q()
    for fingerprint, key in keys.items():
        digests |= Q(key_fingerprint=fingerprint, person=person_digest(key, email=email, phone=phone_key(phone)))
    if not keys:
        return []
    pending = PendingErasure.objects.filter(digests).order_by("archive_id")
    return [
        {
            "year": each.archive_id,
            "erased_at": each.erased_at.isoformat(),
            "applied_at": each.applied_at.isoformat() if each.applied_at else None,
        }
        for each in pending
    ]


def person_data(*, email: str, phone: str, archived_year: int | None = None) -> dict:
    """reporter_data's lists, from the tables the search_path names."""
    reports = person_reports(email=email, phone=phone).select_related("category", "commune").defer("commune__geometry")
    archived = {"archived_year": archived_year} if archived_year else {}
    return {
        "reports": [
            {
                "tracking_code": r.tracking_code,
                "created_at": r.created_at.isoformat(),
                "category": r.category.service_code if r.category else None,
                "status": r.status,
                "commune": r.commune.name if r.commune else None,
                "latitude": r.location.y if r.location else None,
                "longitude": r.location.x if r.location else None,
                "address": r.address,
                "description": r.description,
                "reporter_name": r.reporter_name,
                "reporter_email": r.reporter_email,
                "reporter_phone": r.reporter_phone,
                "photos": [p.image.name for p in r.photos.all()],
                "media_url": r.media_url,
                **archived,
            }
            for r in reports
        ],
        # A live follow is its request's tracking code; one of an archived year says the year too.
        "following": [
            {"tracking_code": f.report.tracking_code, **archived} if archived else f.report.tracking_code
            for f in (Follower.objects.filter(email__iexact=email).select_related("report") if email else [])
        ],
        "notifications": [
            {"created_at": n.created_at.isoformat(), "subject": n.subject, "delivery": n.delivery, **archived}
            for n in person_notifications(email=email, phone=phone)
        ],
        # Photos they added ("Agregar información") to a request, theirs or one they follow: what the erasure removes.
        "photos_added": [
            {"tracking_code": p.report.tracking_code, "photo": p.image.name, **archived}
            for p in person_added_photos(email=email).select_related("report")
        ],
    }


def received_by_point(*, start: datetime, end: datetime, as_of: datetime) -> dict[int, dict]:
    """Per service point (`Report.received_at`), the requests received start <= created_at < end: how many, how
    many by channel, and the share answered in time at `as_of` (reports.punctuality; a merged duplicate is left
    out of the share, as the indicators leave it, since its original is what gets answered)."""
    received = Report.objects.filter(received_at__isnull=False, created_at__gte=start, created_at__lt=end)
    figures: dict[int, dict] = {}
    counts = received.order_by().values_list("received_at", "channel").annotate(n=Count("id"))
    for point_id, channel, count in counts:
        row = figures.setdefault(point_id, {"received": 0, "channels": {}, "on_time_share": None})
        row["received"] += count
        row["channels"][channel] = count
    judged = deadline_compliance(received & counted_reports(), (F("received_at"),), as_of=as_of)
    for (point_id,), compliance in judged.items():
        figures[point_id]["on_time_share"] = compliance["share"]
    return figures


def crew_workload() -> QuerySet[Crew]:
    """Each crew with its open and overdue reports, to set against its daily capacity."""
    now = timezone.now()
    open_filter = Q(reports__status__in=OPEN)
    return (
        Crew.objects.select_related("department")
        .annotate(
            open_count=Count("reports", filter=open_filter),
            overdue_count=Count("reports", filter=open_filter & Q(reports__expected_at__lt=now)),
        )
        .order_by("name")
    )


@dataclass(frozen=True)
class PhotoFile:
    """A stored photo file and the report it belongs to: `citizen` for the citizen's photo or its thumbnail (the
    tracking page shows them when the report may be shown publicly), not for a crew's photo of a status change."""

    report: Report
    content_type: str
    citizen: bool


# A crew's photo row keeps no type; its name's extension is the one reports.photos gave it.
TYPE_OF_EXTENSION = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def photo_file(name: str) -> PhotoFile | None:
    """The photo row a storage name belongs to, or None for a name no row holds (an orphan of a rolled-back
    transaction, an erased photo, a made-up name). A name with a control character is none, unasked: PostgreSQL
    refuses NUL in text."""
    if CONTROL_CHARACTERS.search(name):
        return None
    citizen = ReportPhoto.objects.filter(Q(image=name) | Q(thumbnail=name)).select_related("report").order_by().first()
    if citizen is not None:
        return PhotoFile(citizen.report, citizen.content_type, citizen=True)
    crew = EventPhoto.objects.filter(image=name).select_related("event__report").order_by().first()
    if crew is not None:
        extension = name.rsplit(".", 1)[-1].lower()
        return PhotoFile(crew.event.report, TYPE_OF_EXTENSION.get(extension, "application/octet-stream"), citizen=False)
    return None


def document_file(name: str) -> ReportDocument | None:
    """The requester's PDF a storage name belongs to, with its report, or None (photo_file's reasons)."""
    if CONTROL_CHARACTERS.search(name):
        return None
    return ReportDocument.objects.filter(file=name).select_related("report").order_by().first()


def report_documents(report: Report):
    """A request's PDF documents its requester sent, oldest first, for its staff page (not its answers')."""
    return ReportDocument.objects.filter(report=report, letter__isnull=True).order_by("created_at", "id")


def letter_documents(report: Report) -> dict[int, list[ReportDocument]]:
    """The documents each answer letter of the request delivered, by the letter's number, in the letter's order."""
    documents = {}
    rows = ReportDocument.objects.filter(report=report, letter__isnull=False).select_related("letter")
    for document in rows.only("id", "name", "size", "file", "letter__number").order_by("id"):
        documents.setdefault(document.letter.number, []).append(document)
    return documents


# The note report_add_citizen_info writes when the citizen sent only a photo or a document: not something they wrote.
CITIZEN_INFO_PLACEHOLDERS = (
    gettext_noop("La persona que reporta agregó una foto."),
    gettext_noop("La persona que reporta agregó un documento."),
)


def requester_additions(report: Report) -> list[ReportEvent]:
    """What the requester wrote into their request after filing, oldest first, each with `answers_correction`: the
    internal notes marked data["from_requester"] (services.citizen.report_add_citizen_info; their subsanación typed
    at a desk, information_correction_receive). Notes written before that mark: only the answers to a subsanación,
    found as the note written at the same moment as the clock's restart. For the requester's own pages only: the
    text is theirs, and the request's internal notes are published to none."""
    restarts = ReportEvent.objects.filter(report=report, kind=EventKind.CORRECTION).values("created_at")
    with translation.override(settings.LANGUAGE_CODE):  # the placeholders are written in the installation's language
        placeholders = [_(text) for text in CITIZEN_INFO_PLACEHOLDERS]
    events = list(
        ReportEvent.objects.filter(report=report, is_public=False, kind__in=[EventKind.CITIZEN_INFO, EventKind.NOTE])
        .filter(Q(data__from_requester=True) | Q(data__isnull=True, created_at__in=restarts))
        .exclude(note__in=placeholders)
        .only("note", "created_at", "data")
        .order_by("created_at", "id")
    )
    for event in events:
        event.answers_correction = not event.data or bool(event.data.get("answers_correction"))
    return events


def letter_document(report: Report, number: int, document_id: int) -> ReportDocument | None:
    """One document of the request's answer letter `number`, or None: never one its requester sent."""
    return (
        ReportDocument.objects.filter(report=report, letter__number=number, letter__report=report, pk=document_id)
        .order_by()
        .first()
    )


def submitted_tracking_code(token: str) -> str | None:
    """The tracking code of the report a form's `token` already filed (a double click, a form sent again), if any."""
    if not token or CONTROL_CHARACTERS.search(token):
        return None
    return unique_row(Submission.objects.filter(token=token[:64]).values_list("report__tracking_code", flat=True))
