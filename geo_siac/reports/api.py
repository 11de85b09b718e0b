"""GeoJSON API for the web pages and planners: public report fields and categories. Read-only."""

import functools

import django_filters
from django.contrib.gis.geos import Point
from django.core.paginator import Paginator
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_filters.utils import translate_validation
from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.pagination import GeoJsonPagination
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from geo_siac.catalogue.models import Category, english_active, localized_value
from geo_siac.db_router import public_read
from geo_siac.geo import STORAGE_SRID
from geo_siac.reports.models import Report
from geo_siac.reports.privacy import location_precision, shown_point
from geo_siac.reports.selectors import (
    BoxTooLarge,
    box_filter,
    feature_rows,
    public_categories,
    public_feature_keys,
    public_feature_rows,
    public_point,
    public_report_features,
    reports_in_bbox,
)
from geo_siac.reports.states import Status, open311_status


@extend_schema_field({"type": "object", "description": "GeoJSON Point"})
class PublicLocationField(GeometryField):
    """The shown point: exact when the citizen allowed it, else the centre of the report's published cell, or
    none (reports.privacy)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, report):
        point = public_point(report)
        if point is None:
            return None
        lat, lng = point
        return super().to_representation(Point(round(lng, 6), round(lat, 6), srid=STORAGE_SRID))


def _geometry(point: tuple[float, float] | None) -> dict | None:
    """A GeoJSON Point of its own for each feature, from the shown (lat, lng)."""
    return None if point is None else {"type": "Point", "coordinates": list(_coordinates(point))}


@functools.lru_cache(maxsize=1024)
def _coordinates(point: tuple[float, float]) -> tuple[float, float]:
    """(lng, lat) rounded to 6 decimals (about 0.1 m). Cached: the reports shown at a cell's centre share it."""
    return round(point[1], 6), round(point[0], 6)


class _StatusTerms(dict):
    """status -> (its name in the active language, its Open311 status), each asked once."""

    def __missing__(self, status):
        terms = self[status] = (status_name(status), open311_status(status))
        return terms


def _iso(value, zone) -> str:
    """DRF's DateTimeField output: ISO 8601 in the active time zone, "Z" for UTC."""
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# The fields describe the feature and make its OpenAPI schema (so does the docstring); to_representation builds the
# same feature directly, and geo_siac/reports/tests/test_api.py holds it equal to the field-by-field output.
class ReportSerializer(GeoFeatureModelSerializer):
    """Non-public reports: their published cell's centre or no place, no address or description, as in Open311."""

    location = PublicLocationField()
    category = serializers.CharField(source="category.service_code")
    category_name = serializers.CharField(source="category.name")
    commune = serializers.CharField(source="commune.cut")
    commune_name = serializers.CharField(source="commune.name")
    status_name = serializers.SerializerMethodField()
    open311_status = serializers.SerializerMethodField()
    location_precision = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()

    class Meta:
        model = Report
        geo_field = "location"
        fields = [
            "id",
            "status",
            "status_name",
            "open311_status",
            "category",
            "category_name",
            "commune",
            "commune_name",
            "description",
            "address",
            "created_at",
            "updated_at",
            "expected_at",
            "closed_at",
            "location_precision",
        ]

    def to_representation(self, row):
        """Going field by field, through GEOS, OGR and JSON text for each point, was two thirds of the CPU of a
        100-feature page; this is the same dictionary, built directly from a row of `feature_rows()`, with the
        status names looked up once per page (`page_terms`)."""
        zone, statuses, in_english = self.page_terms
        public = row["public_visibility"]
        status_name, status_open311 = statuses[row["status"]]
        return {
            "id": row["id"],
            "type": "Feature",
            "geometry": _geometry(shown_point(public, row["lat"], row["lng"], row["public_cell"])),
            "properties": {
                "status": row["status"],
                "status_name": status_name,
                "open311_status": status_open311,
                "category": row["category__service_code"],
                "category_name": localized_value(row["category__name_es"], row["category__name_en"], in_english),
                "commune": row["commune__cut"],
                "commune_name": row["commune__name"],
                "description": row["description"] if public else "",
                "address": row["address"] if public else "",
                "created_at": _iso(row["created_at"], zone),
                "updated_at": _iso(row["updated_at"], zone),
                "expected_at": _iso(row["expected_at"], zone),
                "closed_at": None if row["closed_at"] is None else _iso(row["closed_at"], zone),
                "location_precision": location_precision(public, row["public_cell"], row["lat"] is not None),
            },
        }

    @cached_property
    def page_terms(self) -> tuple:
        """The time zone, each status's names and whether the language is English, for every feature of the page this
        serializer draws: looked up once per page, not once per feature, as a page holds a few statuses."""
        return timezone.get_current_timezone(), _StatusTerms(), english_active()

    # The fields above, one by one: what the OpenAPI schema describes; the API's test builds features with them.
    def get_status_name(self, report) -> str:
        return status_name(report.status)

    def get_open311_status(self, report) -> str:
        return open311_status(report.status)

    def get_location_precision(self, report) -> str:
        return location_precision(report.public_visibility, report.public_cell, report.location is not None)

    def get_description(self, report) -> str:
        return report.description if report.public_visibility else ""

    def get_address(self, report) -> str:
        return report.address if report.public_visibility else ""


class ReportSchema(GeoFeatureModelSerializerExtension):
    """The OpenAPI schema of a report feature: drf-spectacular's for GeoJSON features, with a geometry that may be
    null (a non-public report with no published place)."""

    target_class = "geo_siac.reports.api.ReportSerializer"
    priority = 1

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        schema["properties"]["geometry"]["nullable"] = True
        return schema


def status_name(status: str) -> str:
    return str(Status(status).label)


class CategorySerializer(serializers.ModelSerializer):
    name = serializers.CharField()
    description = serializers.CharField()
    group = serializers.CharField(source="group.name")
    department = serializers.CharField(source="department_name")

    class Meta:
        model = Category
        fields = [
            "service_code",
            "name",
            "description",
            "group",
            "keywords",
            "response_days",
            "department",
            "attributes",
        ]


class ReportFilter(django_filters.FilterSet):
    commune = django_filters.CharFilter(field_name="commune__cut", help_text=_("Código CUT de la comuna."))
    category = django_filters.CharFilter(field_name="category__service_code")
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")
    bbox = django_filters.CharFilter(method="in_bbox", help_text=_("oeste,sur,este,norte en grados."))

    class Meta:
        model = Report
        fields = ["commune", "category", "status", "created_after", "created_before", "bbox"]

    def in_bbox(self, queryset, name, value):
        try:
            return reports_in_bbox(queryset, **parsed_bbox(value))
        except BoxTooLarge as error:
            raise ValidationError({"bbox": str(error)}) from None


def parsed_bbox(value: str) -> dict:
    try:
        west, south, east, north = (float(part) for part in value.split(","))
    except ValueError:
        raise ValidationError({"bbox": _("Se esperaban cuatro números: oeste,sur,este,norte.")}) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValidationError({"bbox": _("Caja fuera de rango o invertida.")})
    return {"west": west, "south": south, "east": east, "north": north}


@functools.cache
def report_filter_form() -> type:
    """ReportFilter's form class, built once per process. django-filter builds it again for every request (a deep copy
    of the filters, then each filter's form field and label), a sixth of a GeoJSON page's CPU. Each request makes its
    own instance of the class; the class keeps the field labels of the language active when it was first built (the
    JSON answers never show labels), while error messages stay lazy and follow each request's language. No filter of
    ReportFilter may depend on the request (a queryset or choices per user would be fixed for the whole process)."""
    form = ReportFilter().get_form_class()
    form.base_fields = SharedFields(form.base_fields)
    return form


class SharedFields(dict):
    """A form class's fields, shared by its instances instead of deep-copied into each (as Django does, so that an
    instance may alter its own). Safe only while the form is never rendered and no field holds a queryset (whose
    results would be cached across requests): validating a query string only reads the fields."""

    def __deepcopy__(self, memo):
        return self


class FeatureSelection:
    """The reports a GeoJSON API list matches, for ReportFilter's validated values, as PageByKeyPaginator pages
    them: through the compiled queries of reports.selectors (FEATURE_KEYS), where ReportFilter's own filters
    (geo_siac/reports/tests/test_api.py holds the two to the same answers) built the ORM query on every request."""

    def __init__(self, cleaned: dict):
        values = {name: cleaned[name] for name in ("commune", "category") if cleaned.get(name)}
        values |= {name: cleaned[name] for name in ("created_after", "created_before") if cleaned.get(name)}
        if cleaned.get("status"):
            values["statuses"] = sorted(set(cleaned["status"]))
        if cleaned.get("bbox"):
            try:
                box = box_filter(**parsed_bbox(cleaned["bbox"]))
            except BoxTooLarge as error:
                raise ValidationError({"bbox": str(error)}) from None
            values = None if box is None else values | box  # None: nothing served in the box, nothing matches
        self.values = values

    def keys(self, *, offset: int, limit: int) -> list[tuple[int, int]]:
        """(key, number of matches) of a page's reports."""
        return [] if self.values is None else public_feature_keys(self.values, offset=offset, limit=limit)

    def count(self) -> int:
        found = self.keys(offset=0, limit=1)
        return found[0][1] if found else 0


MAX_OFFSET = 2**62


class PageByKeyPaginator(Paginator):
    """Pages a FeatureSelection: finds the page's keys first, then loads those rows (`feature_rows`): sorting
    every match with all its columns to keep 100 costs PostgreSQL far more.

    The keys come with the number of matches (`COUNT(*) OVER ()`), so the matches are scanned once, not once to
    count them and again to find the page. An empty page (past the end) or `page=last` counts on its own.
    """

    def page(self, number):
        selection = self.object_list
        if "count" not in self.__dict__:  # `count` is a cached_property: not yet known
            try:
                bottom = (int(number) - 1) * self.per_page
            except (TypeError, ValueError):
                bottom = -1  # not a number: validate_number says so
            if 0 <= bottom <= MAX_OFFSET:  # beyond, PostgreSQL's OFFSET overflows; counting says "no such page"
                found = selection.keys(offset=bottom, limit=self.per_page)
                if found:
                    self.__dict__["count"] = found[0][1]
                    number = self.validate_number(number)
                    return self._get_page(public_feature_rows([pk for pk, _ in found]), number, self)
        number = self.validate_number(number)
        found = selection.keys(offset=(number - 1) * self.per_page, limit=self.per_page)
        return self._get_page(public_feature_rows([pk for pk, _ in found]), number, self)


class ReportPagination(GeoJsonPagination):
    django_paginator_class = PageByKeyPaginator
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_paginated_response_schema(self, schema):
        """drf-gis nests the whole FeatureCollection under `features` and requires `results`; the body is flat."""
        link = {"type": "string", "format": "uri", "nullable": True}
        page = {
            "type": "object",
            "required": ["type", "count", "features"],
            "properties": {"count": {"type": "integer"}, "next": link, "previous": link},
        }
        return {"allOf": [schema, page]}


class CategoryPagination(PageNumberPagination):
    page_size = 100


@public_read
class ReportViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    pagination_class = ReportPagination

    def get_queryset(self):
        """The list's reports are a FeatureSelection (filter_queryset), counted and paged by key
        (PageByKeyPaginator); one report is loaded as its row directly."""
        if self.action == "list":
            return Report.objects.none()  # names the model only: filter_queryset selects the list's reports
        return feature_rows(public_report_features())

    def filter_queryset(self, queryset):
        if self.action != "list":
            return super().filter_queryset(queryset)
        # The list filters through ReportFilter alone (test_api checks filter_backends): another backend added
        # later must be written in here too. Its form validates the query string as DjangoFilterBackend's
        # FilterSet would (the same form, bound to the same data).
        form = report_filter_form()(self.request.query_params)
        if not form.is_valid():
            raise translate_validation(form.errors)
        return FeatureSelection(form.cleaned_data)


@public_read
class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CategorySerializer
    pagination_class = CategoryPagination
    lookup_field = "service_code"

    def get_queryset(self):
        return public_categories()
