"""Tenant isolation per comuna (docs/staff-accounts.md, "Muchas comunas"): staff of Puente Alto (A) never see,
count or change anything of Peñalolén (B).

The URL walk takes every URL pattern from Django's resolver (so a new staff page is walked without editing this
file); only the patterns named in PUBLIC, or skipped in SKIPPED with a reason, are left out. A pattern whose path
names an object is requested with B's object as each of A's roles, GET and POST, and must answer 403 or 404 (or
send to a login); the same request by B's own staff must find it. A pattern without an object in its path must not
show A any of B's names or codes, while B's own staff, walking the same pages, see every one of them."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.geos import Point
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from geo_siac.alerts.models import Alert, AlertKind, DepartmentHead
from geo_siac.attention.models import Appointment, Offering, Procedure, Slot
from geo_siac.open311.services import api_key_create
from geo_siac.reports.models import Report
from geo_siac.testing import PENALOLEN_CENTRE, WEST_POINT, box, staff_account
from geo_siac.workspace.crew_views import KIND_STEPS
from geo_siac.zones.models import Commune, Crew, ServicePoint, ServicePointKind, Zone
from geo_siac.zones.roles import ROLES
from geo_siac.zones.services import zone_assign_crew, zone_save_version

# URL names anyone may open: the citizen's pages, the public data and Open311 (which never show what a staff page
# shows), and the doors of the staff pages.
PUBLIC = {
    "health",
    "favicon",
    "tile",
    "set_language",
    "login",
    "logout",
    "admin_login",
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
    "admin:jsi18n",
    "landing",
    "crew:manifest",
    "crew:service_worker",
    "schema",
    "docs",
    "geocode-search",
    "geocode-reverse",
    "geocode-places",
    "api-root",
    "report-list",
    "report-detail",
    "category-list",
    "category-detail",
}
PUBLIC_NAMESPACES = {"reports", "citizens", "open311"}
PUBLIC_EXCEPT = {"transparency:executive"}  # the one staff page under /transparencia/
PUBLIC_ATTENTION = {"points", "sessions_ics", "point", "procedures", "procedure", "book", "appointment", "cancel"}
SKIPPED = {
    # Redirects to the object's public URL; no tenant-owned model has one, so it answers 404 to everyone.
    "admin:view_on_site": "no model here has get_absolute_url",
}
# Admin models that belong to the installation, not to a comuna: shared catalogue and configuration, and the models
# only a superuser reads (the outbox and webhooks hold every comuna's).
SHARED_ADMIN_MODELS = {
    "catalogue.category",
    "catalogue.categorygroup",
    "catalogue.department",
    "auth.group",
    "alerts.escalationrule",
    "alerts.departmenthead",
    "alerts.staffalertpreference",
    "attention.procedure",
    "reports.responsetemplate",
    "zones.closedday",
    "notifications.notification",
    "webhooks.webhookendpoint",
    "webhooks.webhookattempt",
    "webhooks.webhookdelivery",
    "geocoding.place",
    "sessions.session",
}
# Admin models the walk holds no object of B for, though a comuna owns them: the reason they are still safe.
NOT_WALKED = {"reports.surveyresponse": "TenantAdmin through report__commune, as Report's admin walked here"}
# Path parameters that name an object; a pattern with none of them is a page of lists (walked for leaks in its body).
OBJECT_PARAMETERS = {"code", "pk", "object_id", "id"}
# Staff pages that take their object in the query string.
QUERY_OBJECTS = {"transparency:executive"}
POST_DATA = {
    "status": "in_progress",
    "reason": "prueba de aislamiento",
    "business_days": "5",
    "note": "nota",
    "mark": "arrived",
    "duplicate": "",
    "original": "",
}


def is_public(name: str) -> bool:
    namespace, _, short = name.rpartition(":")
    if name in PUBLIC_EXCEPT:
        return False
    return (
        name in PUBLIC
        or namespace in PUBLIC_NAMESPACES
        or namespace == "transparency"
        or (namespace == "attention" and short in PUBLIC_ATTENTION)
    )


def url_patterns(patterns=None, namespace: str = "") -> list[tuple[str, list[str]]]:
    """(view name, its path parameters) of every named pattern, from the resolver."""
    found = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found += url_patterns(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            parameters = list(getattr(pattern.pattern, "converters", {}) or pattern.pattern.regex.groupindex)
            found.append((namespace + pattern.name, parameters))
    return found


def staff_patterns() -> list[tuple[str, list[str]]]:
    return sorted({(name, tuple(p)) for name, p in url_patterns() if not is_public(name) and name not in SKIPPED})


def names_an_object(name: str, parameters) -> bool:
    return bool(set(parameters) & OBJECT_PARAMETERS) or name in QUERY_OBJECTS


def plain_url(name: str, parameters) -> str:
    return reverse(name, kwargs={"app_label": "zones"} if "app_label" in parameters else {})


def admin_models() -> dict[str, type]:
    """Admin URL name prefix ("admin:zones_crew") -> model."""
    return {f"admin:{m._meta.app_label}_{m._meta.model_name}": m for m in admin.site._registry}


@pytest.fixture
def world(crews, make_report, communes, django_user_model):
    """Puente Alto's crews and staff (the `crews` fixture) and Peñalolén's own: a crew, a zone, a routed report,
    a service point with an appointment, an alert, an API key and one account holding every role there."""
    penalolen, puente_alto = communes["13122"], communes["13201"]
    lat, lng = PENALOLEN_CENTRE
    b_crew = Crew.objects.create(
        department=crews["A"].department, commune=penalolen, name="Cuadrilla Quebrada de Macul", daily_capacity=5
    )
    b_zone = zone_save_version(
        commune=penalolen,
        key="macul",
        name="Zona Quebrada",
        geometry=box(lng - 0.02, lat - 0.02, lng + 0.02, lat + 0.02),
    )
    zone_assign_crew(zone=b_zone, crew=b_crew)
    b_report = make_report(point=PENALOLEN_CENTRE, reporter_email="vecina.b@example.cl", reporter_name="Berta Soto")
    Report.objects.filter(pk=b_report.pk).update(expected_at=timezone.now() - timedelta(days=2))
    a_report = make_report(point=WEST_POINT)
    assert (b_report.commune, b_report.crew, a_report.crew) == (penalolen, b_crew, crews["A"])
    b_point = ServicePoint.objects.create(
        name="Oficina Lo Hermida", kind=ServicePointKind.MUNICIPAL_OFFICE, commune=penalolen, point=Point(lng, lat)
    )
    procedure = Procedure.objects.create(slug="patente-b", name="Patente", requirements="RUT", responsible="Rentas")
    offering = Offering.objects.create(
        service_point=b_point, procedure=procedure, responsible="Mesón 1", slot_minutes=30, capacity_per_slot=1
    )
    start = timezone.now() + timedelta(days=1)
    slot = Slot.objects.create(offering=offering, starts_at=start, ends_at=start + timedelta(minutes=30), capacity=1)
    b_appointment = Appointment.objects.create(
        slot=slot, code="PEN0001", name="Bruno Peñalolén", email="bruno@example.cl", created_at=timezone.now()
    )
    b_alert = Alert.objects.create(report=b_report, kind=AlertKind.OVERDUE, level=0, fired_at=timezone.now())
    b_key, _raw = api_key_create(name="App Vecinal Peñalolén", commune=penalolen)
    everything = Permission.objects.all()
    b_staff = staff_account("berta-penalolen", communes=[penalolen], is_staff=True)
    b_staff.groups.set([Group.objects.get_or_create(name=role)[0] for role in ROLES])
    b_staff.user_permissions.set(everything)
    b_crew.members.add(b_staff)
    a_admin = staff_account("ada-admin-pa", communes=[puente_alto], is_staff=True)
    a_admin.user_permissions.set(everything)
    a_planner = staff_account("pia-planifica", communes=[puente_alto], is_staff=True)
    a_head = staff_account("hector-jefe", communes=[puente_alto])
    DepartmentHead.objects.create(department=crews["A"].department, user=a_head)
    for person in (crews["supervisor"], crews["operator"]):
        person.is_staff = True
        person.save()
    nobody = staff_account("sin-comuna", communes=[], is_staff=True)
    nobody.groups.set([Group.objects.get_or_create(name=role)[0] for role in ROLES])
    nobody.user_permissions.set(everything)
    return {
        "penalolen": penalolen,
        "report": b_report,
        "a_report": a_report,
        "crew": b_crew,
        "zone": b_zone,
        "point": b_point,
        "appointment": b_appointment,
        "alert": b_alert,
        "key": b_key,
        "b_staff": b_staff,
        "a_roles": {
            "crew": crews["member_a"],
            "supervisor": crews["supervisor"],
            "operator": crews["operator"],
            "planner": a_planner,
            "department head": a_head,
            "comuna admin": a_admin,
            "no membership": nobody,
        },
        "markers": [
            b_report.tracking_code,
            b_crew.name,
            b_zone.name,
            b_point.name,
            b_appointment.code,
            b_key.name,
            b_staff.username,
        ],
    }


def objects_of_b(world) -> dict[type, object]:
    from django.contrib.auth import get_user_model

    return {
        Report: world["report"],
        Crew: world["crew"],
        Zone: world["zone"],
        ServicePoint: world["point"],
        Commune: world["penalolen"],
        Appointment: world["appointment"],
        Alert: world["alert"],
        type(world["key"]): world["key"],
        get_user_model(): world["b_staff"],
    }


def filled(name: str, parameters, world) -> tuple[str, dict] | None:
    """The URL of `name` with B's objects in its path (and query), or None for a shared admin model's object."""
    values = {}
    by_model = objects_of_b(world)
    for parameter in parameters:
        if parameter == "code":
            values[parameter] = world["report"].tracking_code
        elif parameter == "pk" and name == "attention:mark":
            values[parameter] = world["appointment"].pk
        elif parameter == "step":
            values[parameter] = next(iter(KIND_STEPS))
        elif parameter in ("object_id", "id"):
            model = next(m for prefix, m in admin_models().items() if name.startswith(prefix + "_"))
            label = f"{model._meta.app_label}.{model._meta.model_name}"
            if model not in by_model:
                assert label in SHARED_ADMIN_MODELS | NOT_WALKED.keys(), f"{label}: add B's object, or mark it shared"
                return None
            values[parameter] = by_model[model].pk
        else:
            raise AssertionError(f"{name}: no value of B for the path parameter {parameter!r}; add one to filled()")
    query = {"commune": world["penalolen"].cut, "month": timezone.localdate().strftime("%Y-%m")}
    return reverse(name, kwargs=values), (query if name == "transparency:executive" else {})


def refused(response) -> bool:
    if response.status_code in (403, 404):
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and (
        location.startswith(resolve_url(settings.LOGIN_URL)) or location.startswith(reverse("admin:login"))
    )


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_every_admin_model_is_walked_or_declared_shared(world):
    walked = {f"{m._meta.app_label}.{m._meta.model_name}" for m in objects_of_b(world)}
    registered = {f"{m._meta.app_label}.{m._meta.model_name}" for m in admin.site._registry}
    assert registered - walked - SHARED_ADMIN_MODELS - NOT_WALKED.keys() == set()


def test_staff_of_a_get_403_or_404_on_every_staff_url_with_an_object_of_b(world, settings):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 10_000
    with_objects = [(n, p) for n, p in staff_patterns() if names_an_object(n, p)]
    assert {"crew:report", "crew:status", "alerts:reroute", "attention:mark", "admin:reports_report_change"} <= {
        n for n, _p in with_objects
    }
    walked, leaks, unchanged = [], [], Report.objects.filter(pk=world["report"].pk).values().get()
    for name, parameters in with_objects:
        target = filled(name, parameters, world)
        if target is None:
            continue
        url, query = target
        walked.append(name)
        for role, user in world["a_roles"].items():
            client = client_of(user)
            for method in ("get", "post"):
                data = query if method == "get" else {**POST_DATA, **query}
                response = getattr(client, method)(url, data)
                if not refused(response) and response.status_code != 405:
                    leaks.append(f"{role} {method.upper()} {url}: {response.status_code}")
    assert leaks == []
    # Nothing of B changed, whatever A posted.
    assert Report.objects.filter(pk=world["report"].pk).values().get() == unchanged
    # B's own staff find every one of those objects: the walk above did ask for something that exists.
    b = client_of(world["b_staff"])
    missing = []
    for name, parameters in with_objects:
        if (target := filled(name, parameters, world)) is None:
            continue
        url, query = target
        response = b.get(url, query)
        if response.status_code == 405:
            response = b.post(url, {**POST_DATA, **query})
            if response.status_code in (403, 404) or response.status_code >= 500:
                missing.append(f"POST {url}: {response.status_code}")
        elif response.status_code != 200:
            missing.append(f"GET {url}: {response.status_code}")
    assert missing == []
    assert len(walked) >= 15


def test_staff_pages_without_an_object_never_show_a_anything_of_b(world, settings):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 10_000
    plain = [plain_url(n, p) for n, p in staff_patterns() if not names_an_object(n, p)]
    assert {"/cuadrilla/", "/cuadrilla/supervision/", "/cuadrilla/plazos/", "/mapas/calor/", "/admin/zones/"} <= set(
        plain
    )
    shown_to_b = set()
    b = client_of(world["b_staff"])
    for url in plain:
        response = b.get(url)
        assert response.status_code < 500, url
        body = response.content.decode("utf-8", "replace")
        shown_to_b |= {marker for marker in world["markers"] if marker in body}
    # Every one of B's names and codes is on some page B's staff open: A not seeing them is not for want of data.
    assert shown_to_b == set(world["markers"])
    leaks = []
    for role, user in world["a_roles"].items():
        client = client_of(user)
        for url in plain:
            response = client.get(url)
            assert response.status_code < 500, f"{role} {url}"
            body = response.content.decode("utf-8", "replace")
            leaks += [f"{role} {url}: {m}" for m in world["markers"] if m in body]
    assert leaks == []
