"""Field rules shared by report_create and the bulk importer, so every channel rejects the same input with
the same message."""

import math
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

PHONE_CHARS = set("0123456789+-() ")


def parse_coordinate(value, *, name: str, low: float, high: float) -> float:
    """A finite number in [low, high]; raises ValueError with the citizen-facing message."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(_("Falta la %(name)s.") % {"name": name})
    if isinstance(value, bool):
        raise ValueError(_("La %(name)s debe ser un número.") % {"name": name})
    try:
        number = float(value.strip().replace(",", ".") if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(_("La %(name)s debe ser un número.") % {"name": name}) from None
    if not math.isfinite(number):
        raise ValueError(_("La %(name)s debe ser un número finito.") % {"name": name})
    if not low <= number <= high:
        raise ValueError(
            _("La %(name)s debe estar entre %(low)s y %(high)s.") % {"name": name, "low": low, "high": high}
        )
    return number


def coordinate_errors(latitude, longitude) -> tuple[float | None, float | None, dict[str, str]]:
    errors: dict[str, str] = {}
    lat = lng = None
    try:
        lat = parse_coordinate(latitude, name=_("latitud"), low=-90, high=90)
    except ValueError as exc:
        errors["lat"] = str(exc)
    try:
        lng = parse_coordinate(longitude, name=_("longitud"), low=-180, high=180)
    except ValueError as exc:
        errors["long"] = str(exc)
    return lat, lng, errors


def description_error(description: str) -> str | None:
    limit = settings.GEO_SIAC_MAX_DESCRIPTION
    if len(description) > limit:
        return _("La descripción tiene %(n)s caracteres; el máximo es %(max)s.") % {
            "n": f"{len(description):,}".replace(",", "."),
            "max": f"{limit:,}".replace(",", "."),
        }
    return None


def contact_errors(*, name: str, email: str, phone: str) -> dict[str, str]:
    errors = {}
    if len(name) > 200:
        errors["reporter_name"] = _("El nombre es demasiado largo (máximo 200 caracteres).")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["reporter_email"] = _("El correo electrónico no es válido.")
    if phone and (len(phone) > 40 or not set(phone) <= PHONE_CHARS or sum(c.isdigit() for c in phone) < 8):
        errors["reporter_phone"] = _("El teléfono debe tener al menos 8 dígitos y solo números, +, -, ( ).")
    return errors


def format_distance(metres: float) -> str:
    if metres < 1000:
        return f"{metres:.0f} m"
    return f"{metres / 1000:.1f} km".replace(".", ",")


# C0 control characters other than tab and line ends: PostgreSQL refuses NUL in text, and XML 1.0 (Open311) cannot
# hold any of them. The one rule for every text a person or a file gives us.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def control_character_errors(**fields: str) -> dict[str, str]:
    """The fields holding a CONTROL_CHARACTERS character, each with the message that names the problem."""
    return {
        name: _("El texto contiene caracteres de control no permitidos.")
        for name, value in fields.items()
        if value and CONTROL_CHARACTERS.search(value)
    }
