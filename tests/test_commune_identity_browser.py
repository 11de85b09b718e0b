"""Each comuna's home page on its own host name, in production mode at phone size: its name, logo and colours
(from its stylesheet, since the policy allows no inline style), with no CSP message: issue #26, point 1."""

import io
import os

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from geo_siac.testing import PENALOLEN_CENTRE, PUENTE_ALTO_CENTRE
from geo_siac.zones.branding import processed_logo
from geo_siac.zones.models import CommuneIdentity

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API inside pytest-django

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
CENTRES = {"13201": PUENTE_ALTO_CENTRE, "13122": PENALOLEN_CENTRE}
COMUNAS = {
    "13201": ("puentealto.localhost", "Municipalidad de Puente Alto", "#7a1f2b", (122, 31, 43), (220, 180, 40)),
    "13122": ("penalolen.localhost", "Municipalidad de Peñalolén", "#223a8c", (34, 58, 140), (40, 160, 90)),
}


def logo(colour) -> ContentFile:
    """A shield-like logo: a coloured disc on transparency, as municipal logos are drawn."""
    image = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    for x in range(240):
        for y in range(240):
            if (x - 120) ** 2 + (y - 120) ** 2 < 110**2:
                image.putpixel((x, y), (*colour, 255))
    data = io.BytesIO()
    image.save(data, format="PNG")
    content, name = processed_logo(io.BytesIO(data.getvalue()))
    return name, ContentFile(content)


@pytest.fixture
def identities(production_server, communes, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, ".localhost"]
    settings.MEDIA_ROOT = production_server.root / "media"  # where the server reads the logos
    for cut, (host, name, primary, _rgb, logo_colour) in COMUNAS.items():
        identity = CommuneIdentity(
            commune=communes[cut],
            display_name=name,
            primary_colour=primary,
            accent_colour=primary,
            contact_line=f"OIRS {communes[cut].name} · oirs@{host}",
            public_host=host,
        )
        identity.full_clean()
        identity.logo.save(*logo(logo_colour), save=False)
        identity.save()


def test_each_comunas_home_page_on_a_phone_shows_its_name_logo_and_colours(chromium, production_server, identities):
    from django.db import connections

    port = production_server.url.rsplit(":", 1)[1]
    for cut, (host, name, _primary, rgb, _logo) in COMUNAS.items():
        context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
        page = context.new_page()
        messages = []
        page.on("console", lambda message, seen=messages: seen.append(message.text))
        try:
            page.goto(f"http://{host}:{port}/", wait_until="networkidle")
            header = page.locator(".site-header")
            assert header.locator(".brand span").inner_text() == name
            assert header.evaluate("e => getComputedStyle(e).backgroundColor") == f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"
            button = page.locator("#use-location")
            assert button.evaluate("e => getComputedStyle(e).backgroundColor") == f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})"
            assert page.locator(".brand-logo").evaluate("e => e.complete && e.naturalHeight") == 128
            assert page.locator(".site-footer").inner_text().startswith("OIRS ")
            # The map opens on the host's comuna: nearer its centre than the other's.
            lat = page.evaluate("() => window.geoSiacMap.getCenter().lat")
            other = next(c for c in CENTRES if c != cut)
            assert abs(lat - CENTRES[cut][0]) < abs(lat - CENTRES[other][0])
            page.screenshot(path=f"/tmp/brand-{cut}.png")
        finally:
            context.close()
            connections.close_all()
        assert [m for m in messages if "Content Security Policy" in m or "Content-Security-Policy" in m] == []


def test_the_shared_host_on_a_phone_shows_the_installation_and_a_link_to_each_comuna(
    chromium, production_server, identities
):
    from django.db import connections

    context = chromium.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(production_server.url + "/", wait_until="networkidle")
        assert page.locator(".site-header .brand span").inner_text() == "GeoSIAC"
        assert page.locator(".brand-logo").count() == 0
        page.screenshot(path="/tmp/brand-shared.png")
        page.locator("#commune-choice a", has_text="Peñalolén").click()
        page.wait_for_load_state("networkidle")
        assert page.url.endswith("/comuna/penalolen/")
        assert page.locator(".site-header .brand span").inner_text() == "Municipalidad de Peñalolén"
        background = page.locator(".site-header").evaluate("e => getComputedStyle(e).backgroundColor")
        assert background == "rgb(34, 58, 140)"
        page.locator("a[href$='/seguimiento/']").first.click()
        page.wait_for_load_state("networkidle")
        assert "/comuna/penalolen/seguimiento/" in page.url  # the choice follows the visitor's links
        assert page.locator(".site-header .brand span").inner_text() == "Municipalidad de Peñalolén"
        page.screenshot(path="/tmp/brand-shared-penalolen.png")
    finally:
        context.close()
        connections.close_all()
