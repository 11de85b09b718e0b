import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import DEFERRED, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from geo_siac.catalogue.models import Category, Department
from geo_siac.db import KeyLookup, QueryTemplate, RowLookup, Slot, unique_row
from geo_siac.zones.messages import outside_commune_message
from geo_siac.zones.models import ClosedDay, Commune, CommuneCategory, CommuneIdentity, Crew, ServicePoint, Zone

CUT = re.compile(r"[0-9]{5}")


def commune_by_cut(cut: str | None) -> Commune | None:
    """The comuna with this CUT code; None for a value no CUT can be (five digits) without asking PostgreSQL, which
    refuses NUL in text."""
    if not isinstance(cut, str) or not CUT.fullmatch(cut):
        return None
    return unique_row(Commune.objects.filter(cut=cut))


ACTIVE_COMMUNE_BY_CUT = KeyLookup(lambda cut: Commune.objects.active().filter(cut=cut).defer("geometry"))


def active_commune_by_cut(cut: str | None) -> Commune | None:
    """The active comuna with this CUT code, without its boundary (the comuna a citizen chose for a request without
    a place), compiled once (geo_siac.db.KeyLookup); None for a value no CUT can be."""
    if not isinstance(cut, str) or not CUT.fullmatch(cut):
        return None
    return ACTIVE_COMMUNE_BY_CUT(cut)


@dataclass(frozen=True)
class NearestCommune:
    commune: Commune
    distance_m: float


def commune_containing(point: Point) -> Commune | None:
    """The active comuna covering the point; on a shared border the lowest CUT wins, so the answer is stable."""
    # The boundary is not loaded: callers need the comuna, and a comuna's polygon is tens of kilobytes.
    return Commune.objects.active().covering(point).defer("geometry").order_by("cut").first()


def commune_nearest(point: Point) -> NearestCommune | None:
    """The nearest active comuna and its geodesic distance in metres (on the WGS84 spheroid)."""
    commune = (
        Commune.objects.active()
        .annotate(distance_m=RawSQL("ST_Distance(geometry::geography, ST_GeomFromEWKT(%s)::geography)", (point.ewkt,)))
        .order_by("distance_m")
        .first()
    )
    if commune is None:
        return None
    return NearestCommune(commune=commune, distance_m=commune.distance_m)


@dataclass(frozen=True)
class OutsideCommune:
    distance_m: float
    containing: Commune | None  # the loaded comuna covering the point instead, lowest CUT on a shared border

    def message(self, commune: Commune) -> str:
        return outside_commune_message(commune.name, self.distance_m, self.containing and self.containing.name)


def point_in_commune(point: Point, commune: Commune) -> OutsideCommune | None:
    """None when the comuna covers the point; otherwise how far outside it lies (geodesic metres) and where."""
    if Commune.objects.covering(point).filter(pk=commune.pk).exists():
        return None
    distance_m = (
        Commune.objects.filter(pk=commune.pk)
        .annotate(distance_m=RawSQL("ST_Distance(geometry::geography, ST_GeomFromEWKT(%s)::geography)", (point.ewkt,)))
        .values_list("distance_m", flat=True)
        .get()
    )
    containing = Commune.objects.covering(point).defer("geometry").order_by("cut").first()
    return OutsideCommune(distance_m=distance_m, containing=containing)


@dataclass(frozen=True)
class CategoryTerms:
    """How a comuna offers a category (`row`: its CommuneCategory, None without one): the answer every caller reads
    (report_create and its validation, routing, the deadline, reclassification, Open311's services, the commitments
    page). The one rule: the comuna's row overrides what it fills in; no row, or an empty field, is the catalogue's.
    The department loads only when asked: a report its crew answers never needs the category's."""

    category: Category
    row: CommuneCategory | None

    @property
    def enabled(self) -> bool:
        return self.row is None or self.row.enabled

    @property
    def response_days(self) -> int:
        """The topic's days in this comuna, before the kind's legal cap (catalogue.kinds.response_days)."""
        if self.row is None or self.row.response_days is None:
            return self.category.response_days
        return self.row.response_days

    @property
    def department(self) -> Department | None:
        if self.row is None or self.row.department_id is None:
            return self.category.department
        return self.row.department


def terms_of(category: Category, row: CommuneCategory | None) -> CategoryTerms:
    return CategoryTerms(category, row)


# Compiled once and prepared once per session: built per submission, this ORM join was a fifth of report_create's
# CPU, and PostgreSQL parsed and planned it on each one. [:1] (a pair has one row) keeps its limit in the statement.
TERMS = QueryTemplate(
    lambda _shape: (
        CommuneCategory.objects.filter(commune_id=Slot("commune"), category_id=Slot("category"))
        .order_by()
        .values("id", "enabled", "response_days", "department_id", "department__name")[:1]
    ),
    prepared=True,
)


def category_terms(commune: Commune, category: Category) -> CategoryTerms:
    """How `commune` offers `category` (terms_of). The comuna's row carries its department with only its name
    loaded (other fields load on access), as the ORM's select_related would have given it whole."""
    found = TERMS.rows(None, {"commune": commune.pk, "category": category.pk})
    if not found:
        return terms_of(category, None)
    (terms,) = found  # a comuna has one row per category
    row = loaded(
        CommuneCategory,
        id=terms["id"],
        commune_id=commune.pk,
        category_id=category.pk,
        enabled=terms["enabled"],
        response_days=terms["response_days"],
        department_id=terms["department_id"],
    )
    row.commune, row.category = commune, category
    department_id = terms["department_id"]
    row.department = (
        None if department_id is None else loaded(Department, id=department_id, name=terms["department__name"])
    )
    return terms_of(category, row)


def offered_categories(commune: Commune, categories) -> list[tuple[Category, CategoryTerms]]:
    """Those of `categories` (an iterable, in its order) that `commune` offers, each with its terms there."""
    rows = {
        row.category_id: row
        for row in CommuneCategory.objects.filter(commune=commune).select_related("department").order_by()
    }
    offered = [(category, terms_of(category, rows.get(category.pk))) for category in categories]
    return [(category, terms) for category, terms in offered if terms.enabled]


def commune_response_days() -> dict[tuple[int, int], int]:
    """(comuna pk, category pk) -> the days a comuna set (terms_of's override; a pair not here has the category's),
    for the bulk importer, which gives deadlines a chunk at a time."""
    rows = CommuneCategory.objects.filter(response_days__isnull=False).order_by()
    return {
        (commune, category): days
        for commune, category, days in rows.values_list("commune", "category", "response_days")
    }


# The code of that refusal, so a channel can tell it from an installation's fault (email intake answers it for good).
NOT_OFFERED = "not_offered"


def not_offered(category: Category, commune: Commune) -> ValidationError:
    """The refusal of a category in a comuna that does not enable it, under `category`: named for the citizen, the
    operator, the Open311 client and the email's sender alike."""
    message = _("«%(category)s» no se atiende en %(commune)s.") % {"category": category.name, "commune": commune.name}
    return ValidationError({"category": ValidationError(message, code=NOT_OFFERED)})


def active_communes_with_geometry() -> list[Commune]:
    return list(Commune.objects.active().order_by("cut"))


def active_communes_geojson(tolerance_deg: float = 0.0001) -> dict:
    """The served comunas' boundaries, lightly simplified (about 10 m) to keep the page small."""
    features = [
        {
            "type": "Feature",
            "properties": {"id": c.pk, "cut": c.cut, "name": c.name},
            "geometry": json.loads(c.geometry.simplify(tolerance_deg, preserve_topology=True).geojson),
        }
        for c in active_communes_with_geometry()
    ]
    return {"type": "FeatureCollection", "features": features}


def zone_containing(point: Point, commune: Commune) -> Zone | None:
    """The current zone of the comuna covering the point; on a shared border the lowest key wins (stable)."""
    return (
        Zone.objects.current()
        .filter(commune=commune, geometry__intersects=point)
        .defer("geometry")
        .order_by("key")
        .first()
    )


def closed_days() -> frozenset[date]:
    # Plain SQL: building the ORM's query took most of this read's CPU, on every request without a place filed.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT day FROM {ClosedDay._meta.db_table}")
        return frozenset(day for (day,) in cursor.fetchall())


@dataclass(frozen=True)
class Placement:
    commune: Commune
    zone: Zone | None
    crew: Crew | None  # with its department loaded
    closed_days: frozenset[date]  # the installation's (closed_days()), read with the rest for deadlines


# The comuna covering the point (lowest CUT on a shared border, as commune_containing), its current zone there
# (lowest key, as zone_containing), the crew answering the category in that zone (a row for the category beats one
# for its group beats the zone's default, then the oldest row) and the closed days, in one round trip: this runs
# for every report filed, and three ORM queries cost more Python than the database work they ask for. The SQL is
# the PL/pgSQL function of migration zones/0005, so PostgreSQL keeps its plan instead of planning it each time.
PLACEMENT_SQL = "SELECT * FROM geo_siac_placement(%s, %s, %s, %s, %s)"


def loaded(model, **values):
    """A model instance as the ORM would load it with only these fields (the others load on access). Every field
    is handed to from_db, the others as DEFERRED, so that it need not match the names to the fields again."""
    names = attnames(model)
    return model.from_db(DEFAULT_DB_ALIAS, names, [values.get(name, DEFERRED) for name in names])


@lru_cache(maxsize=64)
def attnames(model) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


def placement(point: Point, category, commune: Commune | None = None) -> Placement | None:
    """Where a report of `category` at `point` belongs: its comuna (the active one covering the point, or
    `commune` when already known), zone and crew, and the closed days. None when no active comuna covers the
    point. The instances carry only the fields routing and tracking codes use; any other field loads on access."""
    with connection.cursor() as cursor:
        cursor.execute(
            PLACEMENT_SQL, [point.x, point.y, commune.pk if commune else None, category.pk, category.group_id]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    found = commune or loaded(
        Commune, id=row[0], cut=row[1], name=row[2], tracking_prefix=row[3], jurisdiction_id=row[4]
    )
    zone = crew = None
    if row[5] is not None:
        zone = loaded(Zone, id=row[5], commune_id=found.pk, key=row[6], name=row[7], version=row[8])
        zone.commune = found
    if row[9] is not None:
        crew = loaded(Crew, id=row[9], name=row[10], department_id=row[11])
        crew.department = loaded(Department, id=row[11], name=row[12])
    return Placement(commune=found, zone=zone, crew=crew, closed_days=frozenset(row[13]))


def staff_communes(user) -> QuerySet[Commune]:
    """The comunas a staff account works for (every one for a superuser, none without a membership)."""
    return Commune.objects.for_staff(user)


def crews_of(user) -> QuerySet[Crew]:
    """The person's own crews, of the comunas they work for."""
    return Crew.objects.for_staff(user).filter(members=user) if user.is_authenticated else Crew.objects.none()


def current_zones_of(crews) -> QuerySet[Zone]:
    return Zone.objects.current().filter(responsibilities__crew__in=crews).distinct()


def served_service_points() -> QuerySet[ServicePoint]:
    """The municipal service points of the served (active) comunas: where an operator may record a request as
    received, and where a suggestion box may stand."""
    return (
        ServicePoint.objects.municipal()
        .filter(commune__is_active=True)
        .select_related("commune")
        .defer("commune__geometry")
        .order_by("commune__name", "name")
    )


# One served service point with its comuna's fields that a suggestion box and report_create use, compiled once
# (geo_siac.db.RowLookup): the ORM built this join twice for every suggestion-box submission.
SERVED_POINT_ROW = RowLookup(
    lambda pk: (
        served_service_points()
        .filter(pk=pk)
        .values("id", "name", "commune_id", "commune__cut", "commune__name", "commune__tracking_prefix")
    ),
    marker=-1,
)
BIGINT_MAX = 2**63 - 1


def served_service_point(pk: int) -> ServicePoint | None:
    """The service point `pk` if its comuna is served (as served_service_points), with that comuna (without its
    boundary); fields other than the point's name and the comuna's code, name and tracking prefix load on access."""
    if not 0 < pk <= BIGINT_MAX:
        return None
    row = SERVED_POINT_ROW(pk)
    if row is None:
        return None
    commune = loaded(
        Commune,
        id=row["commune_id"],
        cut=row["commune__cut"],
        name=row["commune__name"],
        tracking_prefix=row["commune__tracking_prefix"],
        is_active=True,
    )
    point = loaded(ServicePoint, id=row["id"], name=row["name"], commune_id=commune.pk)
    point.commune = commune
    return point


def served_area_centre(user=None) -> list[float]:
    """[lat, lng] where an empty map opens: a point inside the first comuna served, of those `user` works for when
    given (Santiago if none). PostGIS finds the point, so the comuna's boundary (thousands of vertices) is not sent
    to Python on every crew page."""
    communes = Commune.objects.active()
    if user is not None:
        communes = communes.for_staff(user)
    centre = (
        communes.order_by("cut").annotate(centre=PointOnSurface("geometry")).values_list("centre", flat=True).first()
    )
    if centre is None:
        return [-33.45, -70.65]
    return [centre.y, centre.x]


@dataclass(frozen=True)
class PublicIdentity:
    """Who a public page speaks for: a comuna (name, logo, colours, contact line) or, with `commune` None, the
    installation itself under GEO_SIAC_INSTALLATION_NAME in the colours of site.css."""

    name: str
    commune: Commune | None = None
    home_url: str = ""  # where its name leads; empty: the page's own home
    logo_url: str = ""
    css_url: str = ""
    contact_line: str = ""


def _formal_name(commune_name: str) -> str:
    return _("Ilustre Municipalidad de %(commune)s") % {"commune": commune_name}


def municipality_name(commune: Commune) -> str:
    """The name the comuna's public pages and answer letters carry: its identity's, or the formal default."""
    identity = unique_row(CommuneIdentity.objects.filter(commune=commune).only("display_name"))
    return _formal_name(commune.name) if identity is None else identity.display_name


def municipality_name_by_id(commune_id: int) -> str:
    """municipality_name of the comuna `commune_id`, for a message about a request loaded without its comuna, whose
    row (and boundary) it must not fetch."""
    row = unique_row(Commune.objects.filter(pk=commune_id).values("name", "identity__display_name"))
    if row["identity__display_name"]:
        return row["identity__display_name"]
    return _formal_name(row["name"])


def municipality_sender_name(commune_id: int) -> str:
    """Who the comuna's emails are from and signed by: its municipality by its legal, Spanish name
    (LANGUAGE_CODE's), whatever language the screen that queued them (an officer's) or their reader uses."""
    with translation.override(settings.LANGUAGE_CODE):
        return municipality_name_by_id(commune_id)


def commune_identity(commune: Commune, home_url: str = "") -> PublicIdentity:
    """The identity a comuna's public pages carry, whatever host shows them; `home_url` when its name must lead
    elsewhere than the page's own home (a request's page on another comuna's host)."""
    try:
        identity = commune.identity
    except CommuneIdentity.DoesNotExist:
        return PublicIdentity(name=_formal_name(commune.name), commune=commune, home_url=home_url)
    return PublicIdentity(
        name=identity.display_name,
        commune=commune,
        home_url=home_url,
        logo_url=reverse("zones:logo", args=[identity.logo.name]) if identity.logo else "",
        css_url=f"{reverse('zones:identity_css', args=[commune.jurisdiction_id])}?v={identity.stylesheet_stamp}",
        contact_line=identity.contact_line,
    )


def public_identity(*, host: str, slug: str | None = None) -> PublicIdentity | None:
    """The one answer to "which municipality is this public page showing" (zones.middleware asks it once per
    request): the active comuna whose identity claims `host`; on any other host (the installation's shared one) the
    active comuna whose jurisdiction_id is `slug`, chosen in the path, or the installation when none is chosen. None
    when `slug` names no active comuna, or when a comuna's own host is asked for another comuna's path."""
    own = COMMUNE_BY_HOST(host.lower())
    if own is not None:
        return None if slug is not None else commune_identity(own)
    if slug is None:
        return PublicIdentity(name=settings.GEO_SIAC_INSTALLATION_NAME)
    chosen = COMMUNE_BY_JURISDICTION(slug)
    return None if chosen is None else commune_identity(chosen)


def communes_with_identity() -> QuerySet[Commune]:
    return Commune.objects.active().select_related("identity").defer("geometry")


# Compiled once (geo_siac.db.KeyLookup): every public request asks which comuna its host shows, and building this
# join with the ORM was an eighth of a tracking page's CPU.
COMMUNE_BY_HOST = KeyLookup(lambda host: communes_with_identity().filter(identity__public_host=host))
COMMUNE_BY_JURISDICTION = KeyLookup(lambda slug: communes_with_identity().filter(jurisdiction_id=slug))


def identity_by_jurisdiction(slug: str) -> CommuneIdentity | None:
    return unique_row(
        CommuneIdentity.objects.filter(commune__jurisdiction_id=slug, commune__is_active=True).select_related("commune")
    )


# Compiled once (geo_siac.db.RowLookup), by the comuna's key: every message about a request asks it, often for a
# report loaded without its comuna, whose row (and boundary) it must not fetch.
COMMUNE_PUBLIC_HOST = RowLookup(
    lambda pk: (
        CommuneIdentity.objects.filter(commune_id=pk, commune__is_active=True)
        .exclude(public_host=None)
        .values("public_host")
    ),
    marker=-1,
)


def commune_public_host(commune_id: int) -> str | None:
    """The host name of the comuna `commune_id`, when its identity claims one and the comuna is served
    (public_identity shows it there)."""
    row = COMMUNE_PUBLIC_HOST(commune_id)
    return None if row is None else row["public_host"]


# What zones.branding.processed_logo names a logo (a storage may add its own letters, digits, _ and -).
LOGO_NAME = re.compile(r"logos/[-\w]+\.png", re.ASCII)


def logo_exists(name: str) -> bool:
    """Whether `name` is the stored logo of an active comuna's identity (the logo view serves nothing else). Any
    other shape is none, unasked: PostgreSQL refuses NUL in text."""
    return (
        bool(LOGO_NAME.fullmatch(name)) and CommuneIdentity.objects.filter(logo=name, commune__is_active=True).exists()
    )


def communes_to_choose() -> QuerySet[Commune]:
    """The served comunas a visitor of the shared host may choose, by name."""
    return Commune.objects.active().defer("geometry").order_by("name")
