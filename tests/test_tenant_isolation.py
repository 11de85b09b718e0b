"""Tenant isolation per comuna (docs/staff-accounts.md, "Muchas comunas"): staff of Puente Alto (A) never see,
count or change anything of Peñalolén (B).

The URL walk takes every URL pattern from Django's resolver (so a new staff page is walked without editing this
file); only the patterns named in PUBLIC, or skipped in SKIPPED with a reason, are left out. A pattern whose path
names an object is requested with B's object as each of A's roles, GET and POST, and must answer 403 or 404 (or
send to a login); the same request by B's own staff must find it. A pattern without an object in its path must not
show A any of B's names or codes, while B's own staff, walking the same pages, see every one of them."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.shortcuts import resolve_url
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from geo_siac.alerts.models import Alert, AlertKind, DepartmentHead, EscalationRule
from geo_siac.attention.models import Appointment, Offering, Procedure, Slot
from geo_siac.email_intake.models import InboundEmail
from geo_siac.open311.services import api_key_create
from geo_siac.reports.models import AnswerLetter, Report, ReportDocument, Signatory
from geo_siac.testing import PENALOLEN_CENTRE, WEST_POINT, box, staff_account
from geo_siac.transparency.models import CommitmentCharter
from geo_siac.workspace.crew_views import KIND_STEPS
from geo_siac.zones.models import Commune, CommuneCategory, CommuneIdentity, Crew, ServicePoint, ServicePointKind, Zone
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
# messaging: the WhatsApp and SMS providers' webhooks, which answer only a signed provider request.
# "zones": a comuna's public stylesheet and logo (zones.views), which every visitor's page loads.
PUBLIC_NAMESPACES = {"reports", "citizens", "open311", "messaging", "zones"}
PUBLIC_EXCEPT = {"transparency:executive"}  # the one staff page under /transparencia/
# "box": the suggestion box's form a printed QR code opens, for anyone.
PUBLIC_ATTENTION = {
    "points",
    "sessions_ics",
    "point",
    "procedures",
    "procedure",
    "book",
    "appointment",
    "cancel",
    "box",
}
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
    # The public bodies a request may be referred to (Ley 20.285, art. 13) are the same for every comuna.
    "catalogue.institution",
}
# Admin models the walk holds no object of B for, though a comuna owns them: the reason they are still safe.
NOT_WALKED = {"reports.surveyresponse": "TenantAdmin through report__commune, as Report's admin walked here"}
# Path parameters that name an object; a pattern with none of them is a page of lists (walked for leaks in its body).
OBJECT_PARAMETERS = {"code", "pk", "object_id", "id", "name"}  # "name": a stored photo's
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


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def world(crews, make_report, communes, django_user_model, settings, tmp_path):
    """Puente Alto's crews and staff (the `crews` fixture) and Peñalolén's own: a crew, a zone, a routed report
    with a photo, its answer letter and the email it came by, a service point with an appointment, an alert, an API
    key and one account holding every role there, who signs letters."""
    settings.MEDIA_ROOT = tmp_path / "media"
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
    b_report = make_report(
        point=PENALOLEN_CENTRE, reporter_email="vecina.b@example.cl", reporter_name="Berta Soto", photo=png_bytes()
    )
    assert not b_report.public_visibility, "the photo is staff-only"
    b_letter = AnswerLetter.objects.create(
        report=b_report, number=1, language="es", content={}, pdf=b"%PDF", issued_at=timezone.now()
    )
    b_document = ReportDocument(report=b_report, name="poder.pdf", size=24, created_at=timezone.now())
    b_document.file.save("poder.pdf", ContentFile(b"%PDF-1.4\n1 0 obj\n%%EOF\n"), save=True)
    b_email = InboundEmail.objects.create(
        message_id="<b@example.cl>", outcome=InboundEmail.Outcome.CREATED, report=b_report, received_at=timezone.now()
    )
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
    b_identity = CommuneIdentity.objects.create(commune=penalolen, display_name="Muni Peñalolén Identidad B")
    b_charter = CommitmentCharter.objects.create(
        commune=penalolen, commitments="Responder en 10 días.", published_on=timezone.now().date(), signed_by="Firma B"
    )
    everything = Permission.objects.all()
    b_staff = staff_account("berta-penalolen", communes=[penalolen], is_staff=True)
    b_staff.groups.set([Group.objects.get_or_create(name=role)[0] for role in ROLES])
    b_staff.user_permissions.set(everything)
    b_crew.members.add(b_staff)
    b_signatory = Signatory.objects.create(user=b_staff, title="Encargada de Transparencia")
    b_head = DepartmentHead.objects.create(commune=penalolen, department=crews["A"].department, user=b_staff)
    b_rule = EscalationRule.objects.create(
        commune=penalolen, department=crews["A"].department, level=1, threshold_business_days=1, recipients=["crew"]
    )
    b_terms = CommuneCategory.objects.create(
        commune=penalolen, category=b_report.category, enabled=True, response_days=3
    )
    a_admin = staff_account("ada-admin-pa", communes=[puente_alto], is_staff=True)
    a_admin.user_permissions.set(everything)
    a_planner = staff_account("pia-planifica", communes=[puente_alto], is_staff=True)
    a_head = staff_account("hector-jefe", communes=[puente_alto])
    DepartmentHead.objects.create(commune=crews["A"].commune, department=crews["A"].department, user=a_head)
    for person in (crews["supervisor"], crews["operator"]):
        person.is_staff = True
        person.save()
    nobody = staff_account("sin-comuna", communes=[], is_staff=True)
    nobody.groups.set([Group.objects.get_or_create(name=role)[0] for role in ROLES])
    nobody.user_permissions.set(everything)
    return {
        "penalolen": penalolen,
        "report": b_report,
        "photo": b_report.photos.get().image.name,
        "letter": b_letter,
        "document": b_document.file.name,
        "email": b_email,
        "signatory": b_signatory,
        "head": b_head,
        "rule": b_rule,
        "terms": b_terms,
        "a_report": a_report,
        "crew": b_crew,
        "zone": b_zone,
        "point": b_point,
        "appointment": b_appointment,
        "alert": b_alert,
        "key": b_key,
        "b_staff": b_staff,
        "identity": b_identity,
        "charter": b_charter,
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
            b_identity.display_name,
            b_charter.signed_by,
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
        AnswerLetter: world["letter"],
        InboundEmail: world["email"],
        Signatory: world["signatory"],
        DepartmentHead: world["head"],
        EscalationRule: world["rule"],
        CommuneCategory: world["terms"],
        CommuneIdentity: world["identity"],
        CommitmentCharter: world["charter"],
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
        elif parameter == "pk" and name == "attention:box_print":
            values[parameter] = world["point"].pk
        elif parameter == "name" and name == "photo":
            values[parameter] = world["photo"]
        elif parameter == "name" and name == "document":
            values[parameter] = world["document"]
        elif parameter == "number":
            values[parameter] = world["letter"].number
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


def deleting_is_closed_to_everyone(name: str, user) -> bool:
    """An admin delete page of a model whose admin deletes nothing (a record only its one writer keeps): it answers
    403 to its own comuna too, after finding the object."""
    if not name.endswith("_delete"):
        return False
    prefix = name.removesuffix("_delete")
    model_admin = next(
        a for m, a in admin.site._registry.items() if f"admin:{m._meta.app_label}_{m._meta.model_name}" == prefix
    )
    request = RequestFactory().get("/")
    request.user = user
    return not model_admin.has_delete_permission(request)


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
        if response.status_code == 403 and deleting_is_closed_to_everyone(name, world["b_staff"]):
            continue
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


# Every read of staff data that a user scopes, as a function of the user giving the objects it returns (each
# object's comuna is then looked up). Guarded below: a selector with a `user` parameter must be here or in NOT_LISTS.
def scoped_reads(now):
    from geo_siac.alerts.selectors import board_figures, board_reports, inbox, reroute_crews
    from geo_siac.attention.selectors import point_efficiency
    from geo_siac.maps.forms import HeatmapFilterForm
    from geo_siac.maps.selectors import filtered_reports
    from geo_siac.reports.selectors import crew_workload, supervision_reports, triage_queue
    from geo_siac.workspace.access import visible_reports
    from geo_siac.zones.selectors import crews_of, staff_communes

    def heatmap_reports(user):
        form = HeatmapFilterForm({}, user=user)
        assert form.is_valid(), form.errors
        return filtered_reports(form.filters())

    def board_crews(user):
        return Crew.objects.filter(name__in=[row.group for row in board_figures("crew", as_of=now, user=user)])

    def efficiency_points(user):
        rows = point_efficiency(month=timezone.localdate().replace(day=1), user=user)
        return ServicePoint.objects.filter(pk__in=[row["point"].pk for row in rows])

    return {
        "workspace.access.visible_reports": visible_reports,
        "zones.selectors.crews_of": crews_of,
        "zones.selectors.staff_communes": staff_communes,
        "alerts.selectors.reroute_crews": reroute_crews,
        "alerts.selectors.board_reports": lambda user: board_reports(user, as_of=now),
        "alerts.selectors.board_figures": board_crews,
        "alerts.selectors.inbox": lambda user: Alert.objects.filter(deliveries__in=inbox(user)),
        "attention.selectors.point_efficiency": efficiency_points,
        "maps (heat map, hotspots, CSV): filtered_reports of the form's filters": heatmap_reports,
        "supervision list": lambda user: supervision_reports().for_staff(user),
        "triage queue": lambda user: triage_queue().for_staff(user),
        "crew workload": lambda user: crew_workload().for_staff(user),
    }


# Selectors taking a user that return no list of comuna-owned objects: a yes/no, the person's own pages, or one
# report the caller already found among Report.objects.for_staff(user).
NOT_LISTS = {
    "web.access.is_staff_member",
    "alerts.selectors.may_use_inbox",
    "alerts.selectors.unread_count",
    "alerts.selectors.heads_of",
    "alerts.selectors.may_act_on",
    "alerts.selectors.may_use_board",
    "workspace.access.may_use_crew_pages",
    "workspace.access.may_use_admin",
    "workspace.access.staff_pages",
    "workspace.access.landing_page",
    "workspace.access.seen_token",
    "workspace.access.seen_report",
    "zones.tenancy.staff_commune_ids",
    "zones.tenancy.may_see_commune",
    "zones.tenancy.scoped",
    # Accounts, not comuna-owned objects: what a comuna's administrator manages (tests/test_staff_admin_scope.py).
    "zones.tenancy.managed_accounts",
    # A point where the map opens, inside one of the person's comunas.
    "zones.selectors.served_area_centre",
}


def commune_ids(objects) -> set[int]:
    """The comunas of these objects of a comuna-owned model (through its QuerySet's `tenant_path`)."""
    model = objects.model
    keys = [o.pk for o in objects]
    return set(
        model._default_manager.filter(pk__in=keys).values_list(model._default_manager.all().tenant_path, flat=True)
    )


def test_every_selector_taking_a_user_is_checked_under_a_scope():
    import importlib
    import inspect
    import pkgutil

    import geo_siac

    found = set()
    for module_info in pkgutil.walk_packages(geo_siac.__path__, "geo_siac."):
        if not module_info.name.endswith((".selectors", ".access", ".tenancy")):
            continue
        module = importlib.import_module(module_info.name)
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and "user" in inspect.signature(function).parameters:
                found.add(f"{module.__name__.removeprefix('geo_siac.')}.{name}")
    assert found - set(scoped_reads(timezone.now())) - NOT_LISTS == set()


def tenant_models():
    from django.apps import apps

    from geo_siac.zones.tenancy import TenantQuerySet

    return [m for m in apps.get_models() if isinstance(m._default_manager.all(), TenantQuerySet)]


@pytest.mark.parametrize("roles", ["every role", "crew only"])
@pytest.mark.parametrize("membership", [(), ("13201",), ("13122",), ("13201", "13122")])
def test_no_selector_returns_an_object_of_a_comuna_outside_the_scope(world, communes, membership, roles):
    """Exhaustive over the memberships two comunas allow (none, either, both) and two kinds of account: every
    scoped read and every comuna-owned model's `for_staff` stay within the account's comunas, and with both
    comunas they do reach both (the check is not passed by returning nothing)."""
    allowed = {communes[cut].pk for cut in membership}
    person = staff_account(
        f"prop-{'-'.join(membership) or 'none'}-{roles[0]}", communes=[communes[c] for c in membership]
    )
    person.is_staff = True
    person.save()
    if roles == "every role":
        person.groups.set([Group.objects.get_or_create(name=role)[0] for role in ROLES])
    for crew in Crew.objects.all():
        crew.members.add(person)
    from geo_siac.alerts.services import alerts_run

    alerts_run()
    reached = set()
    for label, read in scoped_reads(timezone.now()).items():
        got = commune_ids(read(person))
        assert got <= allowed, f"{label} gave comunas {got - allowed} outside {allowed}"
        reached |= got
    for model in tenant_models():
        got = commune_ids(model._default_manager.for_staff(person))
        assert got <= allowed, f"{model.__name__}.objects.for_staff gave comunas {got - allowed}"
        reached |= got
    assert reached == allowed


def test_a_request_a_few_metres_either_side_of_the_puente_alto_la_florida_border_goes_to_the_comuna_holding_it(
    communes, make_report
):
    from geo_siac.zones.importers import import_communes

    import_communes(path=None, cuts=["13110"], activate=True, commit=True)
    puente_alto, la_florida = Commune.objects.get(cut="13201"), Commune.objects.get(cut="13110")
    border = puente_alto.geometry.boundary.intersection(la_florida.geometry.boundary)
    assert border.length > 0.01, "the loaded comunas share a border"  # degrees: over a kilometre
    on_border = border.point_on_surface
    step = 0.0003  # about 30 m
    around = [
        Point(on_border.x + dx * step, on_border.y + dy * step, srid=4326) for dx in (-1, 0, 1) for dy in (-1, 0, 1)
    ]
    inside_pa = next(p for p in around if puente_alto.geometry.contains(p) and not la_florida.geometry.intersects(p))
    inside_lf = next(p for p in around if la_florida.geometry.contains(p) and not puente_alto.geometry.intersects(p))
    near_pa = make_report(point=(inside_pa.y, inside_pa.x))
    near_lf = make_report(point=(inside_lf.y, inside_lf.x))
    assert (near_pa.commune.cut, near_lf.commune.cut) == ("13201", "13110")
    assert inside_pa.distance(inside_lf) < 4 * step


def test_an_open311_key_of_one_comuna_files_only_into_it(communes, client):
    from geo_siac.open311.services import api_key_create

    key = api_key_create(name="App de Puente Alto", commune=communes["13201"])[1]
    base = {"api_key": key, "service_code": "retiro-escombros", "description": "Escombros en la vereda."}
    lat, lng = PENALOLEN_CENTRE
    outside = client.post("/open311/v2/requests.json", {**base, "lat": lat, "long": lng})
    assert outside.status_code == 400, outside.content
    assert "Puente Alto" in outside.content.decode()
    other = client.post(
        "/open311/v2/requests.json",
        {**base, "lat": lat, "long": lng, "jurisdiction_id": communes["13122"].jurisdiction_id},
    )
    assert other.status_code == 400 and "jurisdiction_id" in other.content.decode()
    assert not Report.objects.filter(commune=communes["13122"]).exists()
    lat, lng = WEST_POINT
    inside = client.post("/open311/v2/requests.json", {**base, "lat": lat, "long": lng})
    assert inside.status_code in (200, 201), inside.content
    assert Report.objects.get().commune == communes["13201"]


def test_an_operator_of_puente_alto_cannot_file_or_bulk_change_a_request_of_penalolen(world, client, crews):
    client.force_login(crews["operator"])
    lat, lng = PENALOLEN_CENTRE
    before = Report.objects.count()
    response = client.post(
        "/operador/",
        {"channel": "phone", "category": "retiro-escombros", "latitude": lat, "longitude": lng, "description": "x"},
    )
    assert response.status_code == 400
    assert "no es una comuna que atienda su cuenta" in response.content.decode()
    assert Report.objects.count() == before
    client.force_login(crews["supervisor"])
    b_report = world["report"]
    client.post(
        "/cuadrilla/supervision/", {"reports": [b_report.tracking_code], "crew": crews["A"].pk, "status": "in_progress"}
    )
    merge = client.post(
        "/cuadrilla/supervision/duplicadas/",
        {"duplicate": b_report.tracking_code, "original": world["a_report"].tracking_code},
    )
    assert merge.status_code == 400
    b_report.refresh_from_db()
    assert (b_report.crew, b_report.status, b_report.duplicate_of) == (world["crew"], "submitted", None)


def test_a_crew_of_another_comuna_cannot_answer_a_request(world, crews):
    from django.core.exceptions import ValidationError

    from geo_siac.reports.services import report_reroute

    with pytest.raises(ValidationError, match="Cuadrilla Quebrada de Macul trabaja en Peñalolén"):
        report_reroute(report=world["a_report"], crew=world["crew"], actor=crews["admin"])
    with pytest.raises(ValidationError, match="comuna de la zona"):
        zone_assign_crew(zone=crews["west"], crew=world["crew"])
