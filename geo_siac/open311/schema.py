"""The OpenAPI description of the GeoReport v2 endpoints (drf-spectacular), JSON shapes shown; XML mirrors them."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers

TAGS = ["Open311 GeoReport v2"]


class ErrorSerializer(serializers.Serializer):
    code = serializers.IntegerField()
    description = serializers.CharField()


class EndpointSerializer(serializers.Serializer):
    specification = serializers.URLField()
    url = serializers.URLField()
    changeset = serializers.CharField()
    type = serializers.ChoiceField(["production", "test"])
    formats = serializers.ListField(child=serializers.CharField())


class DiscoverySerializer(serializers.Serializer):
    changeset = serializers.CharField()
    contact = serializers.CharField()
    key_service = serializers.CharField()
    endpoints = EndpointSerializer(many=True)


class ServiceSerializer(serializers.Serializer):
    service_code = serializers.CharField()
    service_name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    metadata = serializers.BooleanField()
    type = serializers.ChoiceField(["realtime", "batch", "blackbox"])
    keywords = serializers.CharField(allow_blank=True)
    group = serializers.CharField()


class ValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class AttributeSerializer(serializers.Serializer):
    variable = serializers.BooleanField()
    code = serializers.CharField()
    datatype = serializers.ChoiceField(["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"])
    required = serializers.BooleanField()
    datatype_description = serializers.CharField(allow_blank=True)
    order = serializers.IntegerField()
    description = serializers.CharField(allow_blank=True)
    values = ValueSerializer(many=True)


class ServiceDefinitionSerializer(serializers.Serializer):
    service_code = serializers.CharField()
    attributes = AttributeSerializer(many=True)


class NoteSerializer(serializers.Serializer):
    datetime = serializers.DateTimeField()
    status = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)


class ExtendedAttributesSerializer(serializers.Serializer):
    detailed_status = serializers.CharField()
    detailed_status_name = serializers.CharField()
    jurisdiction_id = serializers.CharField()
    zone = serializers.CharField()
    notes = NoteSerializer(many=True)


class ServiceRequestSerializer(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.ChoiceField(["open", "closed"])
    status_notes = serializers.CharField(allow_blank=True)
    service_name = serializers.CharField()
    service_code = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    agency_responsible = serializers.CharField(allow_blank=True)
    service_notice = serializers.CharField(allow_blank=True)
    requested_datetime = serializers.DateTimeField()
    updated_datetime = serializers.DateTimeField()
    expected_datetime = serializers.DateTimeField(allow_null=True)
    address = serializers.CharField(allow_blank=True)
    address_id = serializers.CharField(allow_blank=True)
    zipcode = serializers.CharField(allow_blank=True)
    lat = serializers.FloatField(required=False, help_text="Absent for a non-public request with no published place.")
    long = serializers.FloatField(required=False)
    media_url = serializers.CharField(allow_blank=True)
    extended_attributes = ExtendedAttributesSerializer(required=False, help_text="Only with extensions=true.")


class RequestUpdateSerializer(serializers.Serializer):
    update_id = serializers.CharField()
    service_request_id = serializers.CharField()
    status = serializers.ChoiceField(
        [
            "open",
            "closed",
            "investigating",
            "in_progress",
            "fixed",
            "duplicate",
            "not_councils_responsibility",
            "no_further_action",
        ]
    )
    external_status_code = serializers.CharField(help_text="GeoSIAC's own status (reports/states.py).")
    updated_datetime = serializers.DateTimeField()
    description = serializers.CharField(allow_blank=True)
    media_url = serializers.CharField(allow_blank=True)


class CreatedSerializer(serializers.Serializer):
    service_request_id = serializers.CharField()
    service_notice = serializers.CharField(allow_blank=True)
    account_id = serializers.CharField(allow_null=True)


class TokenSerializer(serializers.Serializer):
    service_request_id = serializers.CharField()
    token = serializers.CharField()


# A file in the multipart body: drf-spectacular gives a FileField "string($uri)" (a response's link), which Swagger UI
# shows as a text box; "binary" gives a file picker.
@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    pass


class CreateFormSerializer(serializers.Serializer):
    api_key = serializers.CharField(
        help_text="The client application's key, issued by the municipality (discovery's key_service says how). "
        "A key of one comuna files only into that comuna."
    )
    jurisdiction_id = serializers.CharField(
        required=False,
        help_text="The comuna, e.g. puente-alto. When omitted: the key's comuna, or for a key of every comuna the "
        "one that contains lat/long.",
    )
    service_code = serializers.CharField()
    lat = serializers.FloatField(help_text="Latitude in WGS 84 decimal degrees, e.g. -33.6117; inside the comuna.")
    long = serializers.FloatField(help_text="Longitude in WGS 84 decimal degrees, e.g. -70.5758; inside the comuna.")
    address_string = serializers.CharField(required=False)
    address_id = serializers.CharField(required=False)
    email = serializers.EmailField(required=False)
    device_id = serializers.CharField(required=False)
    account_id = serializers.CharField(required=False)
    first_name = serializers.CharField(required=False)
    last_name = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    media_url = serializers.URLField(required=False, help_text="http(s) link to the client's copy, kept as given.")


class CreateMultipartSerializer(CreateFormSerializer):
    media = UploadField(required=False, help_text="A JPEG, PNG or WebP photo file; multipart/form-data only.")


def query(name: str, description: str, kind=OpenApiTypes.STR) -> OpenApiParameter:
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description)


JURISDICTION = query("jurisdiction_id", "The comuna, e.g. puente-alto; any served comuna when omitted.")
ERRORS = ErrorSerializer(many=True)
REQUEST_FILTERS = [
    JURISDICTION,
    query("service_request_id", "Comma list of ids; overrides every other filter."),
    query("service_code", "Comma list of service codes."),
    query(
        "start_date", "ISO 8601. With end_date at most 90 days apart; default: the last 90 days.", OpenApiTypes.DATETIME
    ),
    query("end_date", "ISO 8601.", OpenApiTypes.DATETIME),
    query("status", "Comma list of open, closed."),
    query("page", "Extension: page number, from 1.", OpenApiTypes.INT),
    query("page_size", "Extension: 1 to 1000 (the default).", OpenApiTypes.INT),
    query("updated_after", "Extension: ISO 8601.", OpenApiTypes.DATETIME),
    query("updated_before", "Extension: ISO 8601.", OpenApiTypes.DATETIME),
    query("bbox", "Extension: west,south,east,north in degrees."),
    query("lat", "Extension: centre latitude, with long and radius.", OpenApiTypes.DOUBLE),
    query("long", "Extension: centre longitude.", OpenApiTypes.DOUBLE),
    query("radius", "Extension: metres, 1 to 5000, default 500.", OpenApiTypes.DOUBLE),
    query("extensions", "Extension: true adds extended_attributes."),
]

discovery = extend_schema(tags=TAGS, responses={200: DiscoverySerializer})
service_list = extend_schema(
    tags=TAGS, parameters=[JURISDICTION], responses={200: ServiceSerializer(many=True), 400: ERRORS}
)
service_definition = extend_schema(
    tags=TAGS, parameters=[JURISDICTION], responses={200: ServiceDefinitionSerializer, 400: ERRORS, 404: ERRORS}
)
request_list = extend_schema(
    tags=TAGS, parameters=REQUEST_FILTERS, responses={200: ServiceRequestSerializer(many=True), 400: ERRORS}
)
request_create = extend_schema(
    tags=TAGS,
    request={
        "application/x-www-form-urlencoded": CreateFormSerializer,
        "multipart/form-data": CreateMultipartSerializer,
    },
    description="Form-encoded, or multipart to upload a photo as media; attribute[code]=value, "
    "attribute[code][]=value for multivaluelist questions.",
    responses={201: CreatedSerializer(many=True), 400: ERRORS, 403: ERRORS, 429: ERRORS},
)
request_detail = extend_schema(
    tags=TAGS,
    operation_id="open311_v2_request_retrieve",
    parameters=[
        OpenApiParameter("service_request_id", OpenApiTypes.STR, OpenApiParameter.PATH),
        JURISDICTION,
        query("extensions", "true adds extended_attributes."),
    ],
    responses={200: ServiceRequestSerializer(many=True), 404: ERRORS},
)
request_updates = extend_schema(
    tags=TAGS,
    operation_id="open311_v2_servicerequestupdates_list",
    description="FixMyStreet's extension: public status changes and notes, oldest first.",
    parameters=[
        JURISDICTION,
        query(
            "start_date",
            "ISO 8601. With end_date at most 90 days apart; default: the last 90 days.",
            OpenApiTypes.DATETIME,
        ),
        query("end_date", "ISO 8601.", OpenApiTypes.DATETIME),
        query("page", "Extension: page number, from 1.", OpenApiTypes.INT),
        query("page_size", "Extension: 1 to 1000 (the default).", OpenApiTypes.INT),
    ],
    responses={200: RequestUpdateSerializer(many=True), 400: ERRORS},
)
token = extend_schema(
    tags=TAGS,
    parameters=[
        OpenApiParameter(
            "token", OpenApiTypes.STR, OpenApiParameter.PATH, description="A tracking code, e.g. PA-7K3M-Q9XD."
        )
    ],
    responses={200: TokenSerializer(many=True), 404: ERRORS},
)
