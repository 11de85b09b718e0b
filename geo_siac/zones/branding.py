"""The rules of a municipality's public identity (docs/deployment.md, "Una instalación, muchas comunas"): its colours
must carry white text at WCAG AA contrast, its logo is a real PNG or JPEG re-encoded without metadata, and its own
host name must be one the installation's configuration admits."""

import io
import re
import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http.request import validate_host
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

# Lower case: what clean_colour stores, and the shape the database's check on an identity's colours accepts.
COLOUR_PATTERN = r"^#[0-9a-f]{6}$"
COLOUR = re.compile(COLOUR_PATTERN)
TEXT_ON_COLOUR = "#ffffff"  # the header's and the buttons' text (site.css)
WCAG_AA_NORMAL_TEXT = 4.5
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_PIXELS = 16_000_000  # checked from the header, before the pixels are decoded
LOGO_HEIGHT = 128  # twice the header's 64 px, sharp on a phone's screen
# A host name of letters, digits and hyphens in dot-separated labels (RFC 1123), lower case.
HOST = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def _linear(channel: int) -> float:
    value = channel / 255
    return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""
    red, green, blue = (_linear(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def clean_colour(value: str) -> str:
    """`value` as #rrggbb in lower case, refused when it is not one or when white text on it would not reach 4.5:1."""
    colour = (value or "").strip().lower()
    if not COLOUR.fullmatch(colour):
        raise ValidationError(
            _("«%(value)s» no es un color #rrggbb (por ejemplo #0b4f6c).") % {"value": value}, code="colour"
        )
    ratio = contrast_ratio(colour, TEXT_ON_COLOUR)
    if ratio < WCAG_AA_NORMAL_TEXT:
        raise ValidationError(
            _(
                "El texto blanco sobre %(colour)s tiene un contraste de %(ratio)s:1; WCAG AA pide al menos 4,5:1. "
                "Elija un color más oscuro."
            )
            # Truncated, not rounded: 4.499 must not read as the 4.50 it fails to reach.
            % {"colour": colour, "ratio": number_format(Decimal(int(ratio * 100)) / 100, 2)},
            code="contrast",
        )
    return colour


def clean_host(value: str | None) -> str | None:
    """The municipality's own host name in lower case, or None; refused unless ALLOWED_HOSTS admits it, so that a
    name the configuration does not list can never be saved and then answer 400 to every visitor."""
    host = (value or "").strip().lower().rstrip(".")
    if not host:
        return None
    if not HOST.fullmatch(host):
        raise ValidationError(
            _("«%(host)s» no es un nombre de servidor (por ejemplo reclamos.puentealto.cl).") % {"host": value},
            code="host",
        )
    if not validate_host(host, settings.ALLOWED_HOSTS):
        raise ValidationError(
            _("%(host)s no está en ALLOWED_HOSTS: agréguelo a la configuración del servidor antes de asignarlo.")
            % {"host": host},
            code="host_not_allowed",
        )
    return host


def processed_logo(upload) -> tuple[bytes, str]:
    """The uploaded logo re-encoded as PNG (transparency kept, metadata and anything appended dropped), no taller than
    LOGO_HEIGHT, and a fresh random file name for it. Refused: empty or over 1 MB, SVG (a drawing that may carry
    script, and Pillow cannot check it), and anything Pillow cannot decode as PNG or JPEG."""
    data = upload.read(LOGO_MAX_BYTES + 1)
    if not data:
        raise ValidationError(_("El archivo del logo está vacío."), code="empty")
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(_("El logo supera el tamaño máximo de 1 MB."), code="too_large")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise ValidationError(
            _("No se aceptan logos SVG (un dibujo SVG puede llevar código). Súbalo como PNG o JPEG."), code="svg"
        )
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as image:
            if image.width * image.height > LOGO_MAX_PIXELS:
                raise ValidationError(_("La imagen del logo tiene demasiados píxeles."), code="pixels")
            image.load()
            picture = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError):
        raise ValidationError(_("El archivo no es una imagen PNG o JPEG válida."), code="invalid") from None
    picture = picture.convert("RGBA")
    if picture.height > LOGO_HEIGHT:
        picture = picture.resize((max(1, round(picture.width * LOGO_HEIGHT / picture.height)), LOGO_HEIGHT))
    output = io.BytesIO()
    picture.save(output, format="PNG", optimize=True)
    return output.getvalue(), f"{secrets.token_urlsafe(16)}.png"
