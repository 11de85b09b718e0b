"""Each municipality's own name, logo, colours and Carta de Compromisos on its public pages, by its own host name or
chosen in the shared host's path; edited in the admin only by that comuna's administrator: issue #26, point 1
(docs/deployment.md, "Una instalación, muchas comunas")."""

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_script_prefix
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from geo_siac.attention.messages import cancellation_message, confirmation_message, reminder_message
from geo_siac.attention.models import Appointment, Offering, Procedure, Slot
from geo_siac.citizens.messages import confirm_url, unsubscribe_url
from geo_siac.citizens.models import AreaAlert
from geo_siac.notifications.models import Notification
from geo_siac.reports.letters import letter_content
from geo_siac.reports.messages import reopen_token, survey_token
from geo_siac.reports.models import Report
from geo_siac.reports.services import EXPLAINED_BY_CALLER, report_change_status
from geo_siac.testing import PENALOLEN_CENTRE, staff_account
from geo_siac.transparency.models import CommitmentCharter
from geo_siac.zones.branding import clean_colour, contrast_ratio, processed_logo
from geo_siac.zones.models import Commune, CommuneIdentity, ServicePoint, ServicePointKind

PA_HOST, PE_HOST = "reclamos.puentealto.test", "reclamos.penalolen.test"
LOGO = re.compile(r'<img class="brand-logo" src="(?P<url>[^"]+)"')
STYLESHEET = re.compile(r'<link rel="stylesheet" href="(?P<url>/[^"]*identidad/[^"]+\.css\?v=[0-9a-f]{16})">')


def png(colour: tuple[int, int, int], size=(300, 200), **save) -> bytes:
    output = io.BytesIO()
    Image.new("RGB", size, colour).save(output, format="PNG", **save)
    return output.getvalue()


def identity(commune, *, host, name, primary, accent, contact, logo_colour):
    made = CommuneIdentity(
        commune=commune,
        display_name=name,
        primary_colour=primary,
        accent_colour=accent,
        contact_line=contact,
        public_host=host,
    )
    made.full_clean()
    content, filename = processed_logo(io.BytesIO(png(logo_colour)))
    made.logo.save(filename, ContentFile(content), save=False)
    made.save()
    return made


@pytest.fixture
def identities(communes, settings, tmp_path):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, PA_HOST, PE_HOST]
    settings.MEDIA_ROOT = tmp_path
    return {
        "13201": identity(
            communes["13201"],
            host=PA_HOST,
            name="Municipalidad de Puente Alto",
            primary="#7a1f2b",
            accent="#1d5e20",
            contact="OIRS Puente Alto · 22 731 4000",
            logo_colour=(200, 30, 30),
        ),
        "13122": identity(
            communes["13122"],
            host=PE_HOST,
            name="Municipalidad de Peñalolén",
            primary="#223a8c",
            accent="#5b2a86",
            contact="OIRS Peñalolén · 22 486 8000",
            logo_colour=(30, 30, 200),
        ),
    }


def page(client, url: str, host: str) -> str:
    response = client.get(url, HTTP_HOST=host)
    assert response.status_code == 200, (url, host, response.status_code)
    return response.content.decode()


def test_two_host_names_show_two_names_logos_colours_and_contact_lines(client, identities):
    seen = {}
    for host, name, other, colours, contact, pixel in (
        (PA_HOST, "Municipalidad de Puente Alto", "Peñalolén", ("#7a1f2b", "#1d5e20"), "22 731 4000", (200, 30, 30)),
        (PE_HOST, "Municipalidad de Peñalolén", "Puente Alto", ("#223a8c", "#5b2a86"), "22 486 8000", (30, 30, 200)),
    ):
        body = page(client, "/", host)
        assert f"<span>{name}</span>" in body and f"· {name}</title>" in body
        assert contact in body and f"Municipalidad de {other}" not in body
        css = client.get(STYLESHEET.search(body)["url"], HTTP_HOST=host)
        assert css["Content-Type"].startswith("text/css")
        assert css.content.decode() == (f":root {{ --brand-primary: {colours[0]}; --brand-accent: {colours[1]}; }}\n")
        assert "max-age=31536000" in css["Cache-Control"]
        logo = client.get(LOGO.search(body)["url"], HTTP_HOST=host)
        assert logo["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(b"".join(logo.streaming_content)))
        assert image.height == 128 and image.convert("RGB").getpixel((5, 5)) == pixel
        seen[host] = (STYLESHEET.search(body)["url"], LOGO.search(body)["url"])
    assert seen[PA_HOST][0] != seen[PE_HOST][0] and seen[PA_HOST][1] != seen[PE_HOST][1]


def test_the_transparency_pages_carry_the_hosts_municipality(client, identities):
    for url in ("/transparencia/", "/transparencia/compromisos/"):
        assert "<span>Municipalidad de Puente Alto</span>" in page(client, url, PA_HOST), url
        assert "<span>Municipalidad de Peñalolén</span>" in page(client, url, PE_HOST), url


def test_a_requests_pages_carry_its_own_municipality_on_another_comunas_host(client, identities, make_report):
    report = make_report(public_visibility=True)  # in Puente Alto
    pages = [
        reverse("reports:tracking", args=[report.tracking_code]),
        reverse("reports:submitted", args=[report.tracking_code]),
        reverse("reports:survey", args=[survey_token(report)]),
        reverse("citizens:reopen_link", args=[reopen_token(report, "rosa@example.cl")]),
    ]
    for url in pages:
        for host in (PA_HOST, PE_HOST, "testserver"):
            body = page(client, url, host)
            assert "Peñalolén" not in body, (url, host)
        assert "<span>Municipalidad de Puente Alto</span>" in page(client, url, PE_HOST), url
        assert STYLESHEET.search(page(client, url, PE_HOST))["url"].startswith("/identidad/puente-alto.css")
    on_the_shared_host = page(client, f"/comuna/penalolen/seguimiento/{report.tracking_code}/", "testserver")
    assert "<span>Municipalidad de Puente Alto</span>" in on_the_shared_host
    # Its name leads to its own home, not to the home of the host or path showing it.
    scheme = urlsplit(settings.SITE_URL).scheme
    for body in (page(client, pages[0], PE_HOST), on_the_shared_host):
        assert f'class="brand" href="{scheme}://{PA_HOST}/"' in body
    identities["13201"].public_host = None
    identities["13201"].save()
    body = page(client, f"/comuna/penalolen/seguimiento/{report.tracking_code}/", "testserver")
    assert f'class="brand" href="{settings.SITE_URL.rstrip("/")}/comuna/puente-alto/"' in body
    # A comuna no longer served has no pages to lead to: the installation speaks for its requests.
    Commune.objects.filter(pk=report.commune_id).update(is_active=False)
    body = page(client, pages[0], PE_HOST)
    assert f"<span>{settings.GEO_SIAC_INSTALLATION_NAME}</span>" in body and "Peñalolén" not in body


def test_the_shared_host_shows_the_installation_and_links_each_comuna_which_keeps_its_prefix_in_links(
    client, identities, settings
):
    settings.GEO_SIAC_INSTALLATION_NAME = "Reclamos Región Metropolitana"
    body = page(client, "/", "testserver")
    assert "<span>Reclamos Región Metropolitana</span>" in body and "brand-logo" not in body
    assert not STYLESHEET.search(body)
    assert '<a href="/comuna/puente-alto/">Puente Alto</a>' in body
    assert '<a href="/comuna/penalolen/">Peñalolén</a>' in body
    chosen = page(client, "/comuna/puente-alto/", "testserver")
    assert "<span>Municipalidad de Puente Alto</span>" in chosen and STYLESHEET.search(chosen)
    assert 'href="/comuna/puente-alto/seguimiento/"' in chosen and 'class="brand" href="/comuna/puente-alto/"' in chosen
    assert 'id="commune-choice"' not in chosen
    # The prefix was this request's only: the next one on the shared host builds plain links again.
    assert 'href="/seguimiento/"' in page(client, "/", "testserver")


def test_a_comuna_without_an_identity_is_shown_by_its_formal_name_in_the_installations_colours(client, communes):
    body = page(client, "/comuna/penalolen/transparencia/", "testserver")
    assert "<span>Ilustre Municipalidad de Peñalolén</span>" in body and not STYLESHEET.search(body)


def test_an_unknown_comuna_or_another_comunas_path_on_a_comunas_host_is_not_found(client, identities):
    assert client.get("/comuna/springfield/").status_code == 404
    assert client.get("/comuna/penalolen/", HTTP_HOST=PA_HOST).status_code == 404
    assert client.get("/comuna/penalolen", HTTP_HOST="testserver").status_code == 301
    assert client.get("/identidad/springfield.css").status_code == 404
    for name in ("photos/anything.jpg", "logos/a%00b.png", "logos/" + "x" * 5000 + ".png"):
        assert client.get(f"/identidad/logo/{name}").status_code == 404


def test_each_comuna_shows_its_own_carta_de_compromisos_and_the_shared_host_links_them(client, identities):
    CommitmentCharter.objects.create(
        commune=identities["13201"].commune,
        commitments="Responder cada reclamo en 10 días hábiles.\n\nRetirar escombros en 5 días hábiles.",
        published_on=date(2026, 3, 2),
        signed_by="Ana Pérez Soto, Alcaldesa de Puente Alto",
    )
    mine = page(client, "/transparencia/compromisos/", PA_HOST)
    assert "<li>Retirar escombros en 5 días hábiles.</li>" in mine and "Ana Pérez Soto, Alcaldesa" in mine
    assert "2 de marzo de 2026" in mine and 'id="commitments-13201"' in mine  # the comuna's computed table stays
    assert 'id="commitments-13122"' not in mine  # and only its own (tests/test_commune_services.py)
    other = page(client, "/transparencia/compromisos/", PE_HOST)
    assert "Retirar escombros en 5" not in other and "aún no publica compromisos propios en su Carta" in other
    shared = page(client, "/transparencia/compromisos/", "testserver")
    assert '<a href="/comuna/puente-alto/transparencia/compromisos/">Puente Alto</a>' in shared
    assert "penalolen/transparencia" not in shared and "Retirar escombros en 5" not in shared


def test_a_citizens_messages_link_to_the_requests_comuna_host_or_else_the_installations_site(
    identities, make_report, settings
):
    settings.SITE_URL = "https://siac.example.cl"
    # Written while a page of the shared host's /comuna/puente-alto/ answers: that prefix is the shared host's only.
    with override_script_prefix("/comuna/puente-alto/"):
        report = make_report(reporter_email="rosa@example.cl")
    # As the status services lock it: without its comuna, whose row (and boundary) the messages must not fetch.
    with CaptureQueriesContext(connection) as queries:
        report_change_status(
            public_note=EXPLAINED_BY_CALLER, report=Report.objects.get(pk=report.pk), status="resolved"
        )
    assert not [q["sql"] for q in queries.captured_queries if '"zones_commune"."geometry"' in q["sql"]]
    identities["13122"].delete()
    with override_script_prefix("/comuna/puente-alto/"):
        other = make_report(point=PENALOLEN_CENTRE, reporter_email="rosa@example.cl")
    report_change_status(public_note=EXPLAINED_BY_CALLER, report=other, status="acknowledged")

    bodies = list(Notification.objects.filter(report=report).order_by("pk").values_list("body", flat=True))
    assert len(bodies) == 2
    for body in bodies:
        assert f"https://{PA_HOST}/seguimiento/{report.tracking_code}/" in body and "/comuna/" not in body
    assert len(re.findall("https://", bodies[1])) == 4  # tracking, survey, reopening, "Mis solicitudes"
    # The account is the installation's: "Mis solicitudes" signs in on its site, where ClaveÚnica returns.
    assert "https://siac.example.cl/mis-solicitudes/ingresar/" in bodies[1]
    assert set(re.findall(r"https?://[^/\s]+/", "".join(bodies))) == {f"https://{PA_HOST}/", "https://siac.example.cl/"}
    for body in Notification.objects.filter(report=other).values_list("body", flat=True):
        assert f"https://siac.example.cl/seguimiento/{other.tracking_code}/" in body and "/comuna/" not in body


def test_an_appointments_messages_link_to_its_service_points_comuna_host(identities, settings):
    settings.SITE_URL = "https://siac.example.cl"
    procedure = Procedure.objects.create(slug="patente", name="Patente", requirements="RUT", responsible="Rentas")

    def appointment(commune, code):
        point = ServicePoint.objects.create(
            name=f"Oficina {code}",
            kind=ServicePointKind.MUNICIPAL_OFFICE,
            commune=commune,
            point=Point(*reversed(PENALOLEN_CENTRE)),
        )
        offering = Offering.objects.create(
            service_point=point, procedure=procedure, responsible="Mesón 1", slot_minutes=30, capacity_per_slot=1
        )
        start = timezone.now() + timedelta(days=1)
        slot = Slot.objects.create(
            offering=offering, starts_at=start, ends_at=start + timedelta(minutes=30), capacity=1
        )
        return Appointment.objects.create(
            slot=slot, code=code, name="Rosa", email="rosa@example.cl", created_at=timezone.now()
        )

    booked = appointment(identities["13122"].commune, "PEN0001")
    links = [
        re.findall(r"https?://[^\s]+", message(booked)[1])
        for message in (confirmation_message, reminder_message, cancellation_message)
    ]
    assert links[0] and links[1] and links[2]
    assert all(link.startswith(f"https://{PE_HOST}/") for found in links for link in found), links
    assert f"https://{PE_HOST}/citas/reservar/{booked.slot.offering_id}/" in links[2]
    # A comuna without a host of its own: the installation's site.
    identities["13201"].delete()
    other = appointment(identities["13201"].commune, "PAL0001")
    assert re.findall(r"https?://[^\s/]+/", confirmation_message(other)[1]) == ["https://siac.example.cl/"]


def test_a_zone_alerts_links_go_to_its_comunas_host_and_a_circles_to_the_site(identities, settings):
    settings.SITE_URL = "https://siac.example.cl"
    zone = AreaAlert.objects.create(
        email="rosa@example.cl", zone_commune=identities["13122"].commune, zone_key="z1", created_at=timezone.now()
    )
    circle = AreaAlert.objects.create(
        email="rosa@example.cl", centre=Point(-70.54, -33.485), radius_m=500, created_at=timezone.now()
    )
    assert confirm_url(zone).startswith(f"https://{PE_HOST}/") and unsubscribe_url(zone).startswith(
        f"https://{PE_HOST}/"
    )
    assert confirm_url(circle).startswith("https://siac.example.cl/")
    assert unsubscribe_url(circle).startswith("https://siac.example.cl/")


def test_the_answer_letters_letterhead_carries_the_identitys_name(identities, crews, make_report):
    report = make_report(reporter_name="Rosa Pérez", reporter_email="rosa@example.cl")
    content = letter_content(
        report=report, officer=crews["supervisor"], note="Retirado.", outcome="", ground="", now=timezone.now()
    )
    assert content["municipality"] == "Municipalidad de Puente Alto"


@pytest.fixture
def comuna_admin(communes, settings, tmp_path):
    """Ada administers Puente Alto: the identity and charter permissions through a group, no superuser."""
    settings.MEDIA_ROOT = tmp_path
    group = Group.objects.create(name="Administración Puente Alto")
    group.permissions.set(
        Permission.objects.filter(content_type__model__in=["communeidentity", "commitmentcharter"])
        | Permission.objects.filter(codename="view_commune")
    )
    ada = staff_account("ada-admin-pa", communes=[communes["13201"]], is_staff=True)
    ada.groups.add(group)
    client = Client()
    client.force_login(ada)
    return client


def identity_form(commune, **changes) -> dict:
    return {
        "commune": str(commune.pk),
        "display_name": "Municipalidad de Puente Alto",
        "primary_colour": "#7a1f2b",
        "accent_colour": "#1d5e20",
        "contact_line": "OIRS",
        **changes,
    }


def add_identity(client, commune, **changes):
    return client.post(reverse("admin:zones_communeidentity_add"), identity_form(commune, **changes))


def test_a_comuna_administrator_cannot_see_or_edit_another_comunas_identity_or_charter(
    comuna_admin, identities, communes
):
    theirs = identities["13122"]
    url = reverse("admin:zones_communeidentity_change", args=[theirs.pk])
    assert comuna_admin.get(url).status_code == 404
    assert comuna_admin.post(url, identity_form(communes["13122"], display_name="Tomada")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.display_name == "Municipalidad de Peñalolén"
    listed = comuna_admin.get(reverse("admin:zones_communeidentity_changelist")).content.decode()
    assert "Municipalidad de Puente Alto" in listed and "Peñalolén" not in listed
    charter = CommitmentCharter.objects.create(
        commune=communes["13122"], commitments="x", published_on=date(2026, 1, 5), signed_by="Alcalde"
    )
    assert (
        comuna_admin.get(reverse("admin:transparency_commitmentcharter_change", args=[charter.pk])).status_code == 404
    )
    added = comuna_admin.post(
        reverse("admin:transparency_commitmentcharter_add"),
        {"commune": str(communes["13122"].pk), "commitments": "y", "published_on": "2026-01-05", "signed_by": "Yo"},
    )
    assert added.status_code == 200 and "commune" in added.context["adminform"].form.errors
    assert CommitmentCharter.objects.filter(commune=communes["13122"]).count() == 1


def test_her_own_comunas_identity_saves_but_not_its_host_name(comuna_admin, communes, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, PA_HOST]
    response = add_identity(comuna_admin, communes["13201"], public_host=PA_HOST)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    saved = CommuneIdentity.objects.get(commune=communes["13201"])
    assert saved.display_name == "Municipalidad de Puente Alto" and saved.public_host is None
    assert add_identity(comuna_admin, communes["13122"]).status_code == 200  # not one of her comunas
    assert not CommuneIdentity.objects.filter(commune=communes["13122"]).exists()


@pytest.mark.parametrize(
    ("field", "colour", "ratio"),
    [
        ("primary_colour", "#f2a900", "2,00"),
        ("accent_colour", "#6ea8d8", "2,54"),
        ("primary_colour", "#777777", "4,47"),
    ],
)
def test_a_colour_white_text_cannot_be_read_on_is_refused_naming_its_contrast(
    comuna_admin, communes, field, colour, ratio
):
    response = add_identity(comuna_admin, communes["13201"], **{field: colour})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert errors == [
        f"El texto blanco sobre {colour} tiene un contraste de {ratio}:1; WCAG AA pide al menos 4,5:1. "
        "Elija un color más oscuro."
    ]
    assert not CommuneIdentity.objects.exists()


def test_the_contrast_is_wcags_and_a_malformed_colour_is_named():
    assert round(contrast_ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast_ratio("#0b4f6c", "#ffffff"), 2) == 8.94
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54  # the lightest grey WCAG AA admits
    with pytest.raises(ValidationError, match="«rojo» no es un color #rrggbb"):
        clean_colour("rojo")
    assert clean_colour(" #0B4F6C ") == "#0b4f6c"


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"esto no es una imagen", "image/png"), "no es una imagen PNG o JPEG válida"),
        (
            SimpleUploadedFile(
                "logo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "image/svg+xml",
            ),
            "No se aceptan logos SVG",
        ),
        (SimpleUploadedFile("logo.gif", b"GIF89a" + b"\0" * 40, "image/gif"), "no es una imagen PNG o JPEG válida"),
        (SimpleUploadedFile("logo.png", b"\x89PNG" + b"\0" * (1024 * 1024 + 1), "image/png"), "máximo de 1 MB"),
    ],
    ids=["text", "svg", "gif", "too-large"],
)
def test_a_logo_that_is_not_a_png_or_jpeg_is_refused_and_nothing_is_stored(
    comuna_admin, communes, tmp_path, upload, message
):
    response = add_identity(comuna_admin, communes["13201"], logo=upload)
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors["logo"])
    assert not CommuneIdentity.objects.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_an_uploaded_logo_is_stored_as_a_fresh_png_without_what_was_appended_or_its_metadata(
    comuna_admin, communes, django_capture_on_commit_callbacks
):
    jpeg = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Camara de la alcaldia"
    Image.new("RGB", (400, 256), (10, 90, 40)).save(jpeg, format="JPEG", exif=exif)
    upload = SimpleUploadedFile("escudo.jpg", jpeg.getvalue() + b"<script>alert(1)</script>", "image/jpeg")
    assert add_identity(comuna_admin, communes["13201"], logo=upload).status_code == 302
    saved = CommuneIdentity.objects.get()
    stored = saved.logo.read()
    assert b"<script>" not in stored and b"Camara" not in stored
    image = Image.open(io.BytesIO(stored))
    assert (image.format, image.size) == ("PNG", (200, 128))
    saved.logo.close()
    replaced = Path(saved.logo.path)
    # A second upload replaces the first, whose file goes once the change is committed.
    change = reverse("admin:zones_communeidentity_change", args=[saved.pk])
    with_new = identity_form(communes["13201"], logo=SimpleUploadedFile("b.png", png((1, 2, 3)), "image/png"))
    with django_capture_on_commit_callbacks(execute=True):
        assert comuna_admin.post(change, with_new).status_code == 302
    saved.refresh_from_db()
    assert Path(saved.logo.path).exists() and not replaced.exists()


def test_a_pages_policy_widening_follows_its_path_inside_the_application_also_under_a_comuna(admin_client, communes):
    plain = admin_client.get("/admin/zones/commune/")
    chosen = admin_client.get("/comuna/puente-alto/admin/zones/commune/")
    assert plain.status_code == chosen.status_code == 200
    assert "'unsafe-inline'" in plain["Content-Security-Policy"]
    assert chosen["Content-Security-Policy"] == plain["Content-Security-Policy"]


@pytest.mark.parametrize("colour", ["#0B4F6C", "red;}*{", "#0b4f6;", "0b4f6c", ""])
def test_the_database_refuses_a_colour_of_any_other_shape_than_clean_stores(communes, colour):
    made = CommuneIdentity(commune=communes["13201"], display_name="Municipalidad de Prueba")
    for field in ("primary_colour", "accent_colour"):
        setattr(made, field, colour)
        with pytest.raises(IntegrityError, match=f"identity_{field}"), transaction.atomic():
            made.save()
        setattr(made, field, "#0b4f6c")
    made.save()
    assert CommuneIdentity.objects.filter(commune=communes["13201"]).count() == 1


def test_two_saves_in_one_second_give_the_stylesheet_two_stamps(client, identities):
    made = identities["13201"]
    saved = datetime(2026, 5, 4, 10, 30, 15, 200, tzinfo=UTC)
    stamps = []
    for moment in (saved, saved + timedelta(microseconds=500)):  # the same second
        CommuneIdentity.objects.filter(pk=made.pk).update(updated_at=moment)
        made.refresh_from_db()
        stamps.append(made.stylesheet_stamp)
    assert stamps[0] != stamps[1]
    css = reverse("zones:identity_css", args=[made.commune.jurisdiction_id])
    assert "max-age=31536000" in client.get(f"{css}?v={stamps[1]}")["Cache-Control"]
    assert "max-age=300" in client.get(f"{css}?v={stamps[0]}")["Cache-Control"]
