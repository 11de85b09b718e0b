"""The rule table of a report's fields, read by report_create and by the bulk importer, so both refuse the same
input under the same field with the same message: coordinates, comuna, category, channel, description, address,
control characters and dates.

Each rule is one function on one value. The importer's column forms (the `*_columns` functions) only pick, with
numpy, the rows a rule could refuse, and then ask the rule itself about those rows: the rule decides and words
the message, once."""

import math
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pandas as pd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from geo_siac.reports.deadlines import CALENDAR_START
from geo_siac.reports.states import CHANNEL_VALUES, Channel
from geo_siac.text import CONTROL_CHARACTERS, decimal

PHONE_CHARS = set("0123456789+-() ")
NAME_MAX_LENGTH = 200  # Report.reporter_name
PHONE_MAX_LENGTH = 40  # Report.reporter_phone
LATITUDE = (-90, 90)
LONGITUDE = (-180, 180)
ADDRESS_MAX_LENGTH = 300
MEDIA_URL_MAX_LENGTH = 500  # Report.media_url
# Lazy: translated only into a message, not for every pair of coordinates checked.
LATITUDE_NAME, LONGITUDE_NAME = gettext_lazy("latitud"), gettext_lazy("longitud")


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


def no_place_given(errors: dict, *, coordinates_given: bool) -> bool:
    """Whether the refusal is only that no place was given (no coordinates at all), with its "Falta la latitud"
    removed from `errors`: a person who searches a street or taps the map needs the page to say how, in its words."""
    if coordinates_given or not ("latitude" in errors or "longitude" in errors):
        return False
    errors.pop("latitude", None)
    errors.pop("longitude", None)
    return True


def coordinate_errors(latitude, longitude) -> tuple[float | None, float | None, dict[str, str]]:
    """The two numbers, and the refused ones' messages under report_create's parameter names."""
    errors: dict[str, str] = {}
    lat = lng = None
    try:
        lat = parse_coordinate(latitude, name=LATITUDE_NAME, low=LATITUDE[0], high=LATITUDE[1])
    except ValueError as exc:
        errors["latitude"] = str(exc)
    try:
        lng = parse_coordinate(longitude, name=LONGITUDE_NAME, low=LONGITUDE[0], high=LONGITUDE[1])
    except ValueError as exc:
        errors["longitude"] = str(exc)
    return lat, lng, errors


def coordinate_columns(latitude: pd.Series, longitude: pd.Series) -> tuple[np.ndarray, np.ndarray, dict]:
    """coordinate_errors over two columns of text: (latitudes, longitudes, {row position: (field, message)}), NaN
    where refused. A value that reads at once as an in-range number (with a point or a comma) is taken; any other
    goes through coordinate_errors, which accepts or refuses it as for a single report."""
    lat, lng = _numbers(latitude), _numbers(longitude)
    with np.errstate(invalid="ignore"):
        doubtful = ~(
            np.isfinite(lat)
            & np.isfinite(lng)
            & (lat >= LATITUDE[0])
            & (lat <= LATITUDE[1])
            & (lng >= LONGITUDE[0])
            & (lng <= LONGITUDE[1])
        )
    errors = {}
    for i in np.flatnonzero(doubtful):
        one_lat, one_lng, found = coordinate_errors(latitude.iat[i], longitude.iat[i])
        if found:
            errors[i] = next(iter(found.items()))
            one_lat = one_lng = math.nan
        lat[i], lng[i] = one_lat, one_lng
    return lat, lng, errors


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float, copy=True)


def outside_message(name: str, distance_m: float) -> str:
    """A point no active comuna covers, with the nearest one and its geodesic distance."""
    return _("El punto está fuera de las comunas atendidas. La más cercana es %(name)s, a %(distance)s.") % {
        "name": name,
        "distance": format_distance(distance_m),
    }


def unknown_category_message(code: str) -> str:
    return _("La categoría '%s' no existe o no está activa.") % "".join(
        c if c.isprintable() else "?" for c in code[:60]
    )


def channel_error(channel: str) -> str | None:
    return None if isinstance(channel, str) and channel in CHANNEL_VALUES else _("Canal desconocido: %s") % channel


def in_person_error(channel: str, received_at, *, points_loaded: bool) -> str | None:
    """An in-person request names the desk the person came to, unless its comuna has no service point to name."""
    if channel == Channel.IN_PERSON and received_at is None and points_loaded:
        return _(
            "Una solicitud presencial se registra con el punto de atención u oficina donde vino la persona: elíjalo."
        )
    return None


def description_error(description: str) -> str | None:
    limit = settings.GEO_SIAC_MAX_DESCRIPTION
    if len(description) > limit:
        return _("La descripción tiene %(n)s caracteres; el máximo es %(max)s.") % {
            "n": f"{len(description):,}".replace(",", "."),
            "max": f"{limit:,}".replace(",", "."),
        }
    return None


def address_error(address: str) -> str | None:
    if len(address) > ADDRESS_MAX_LENGTH:
        return _("La dirección es demasiado larga (máximo 300 caracteres).")
    return None


def media_url_error(media_url: str) -> str | None:
    """A link to the request's photo or video kept as given (Open311's media_url): http or https only, so no
    javascript:, file: or data: link ever reaches a page or a back office."""
    if len(media_url) > MEDIA_URL_MAX_LENGTH:
        return _("El enlace es demasiado largo (máximo %(max)s caracteres).") % {"max": MEDIA_URL_MAX_LENGTH}
    try:
        URLValidator(schemes=["http", "https"])(media_url)
    except ValidationError:
        return _("Se esperaba un enlace http:// o https:// completo, por ejemplo https://ejemplo.cl/foto.jpg.")
    return None


def text_columns_errors(description: pd.Series, address: pd.Series) -> dict[int, tuple[str, str]]:
    """description_error, address_error and control_character_errors over two columns: {row position: (field,
    message)}, the first refusal of each row in report_create's order."""
    suspect = (
        (description.str.len() > settings.GEO_SIAC_MAX_DESCRIPTION)
        | (address.str.len() > ADDRESS_MAX_LENGTH)
        | description.str.contains(CONTROL_CHARACTERS.pattern, regex=True)
        | address.str.contains(CONTROL_CHARACTERS.pattern, regex=True)
    )
    errors = {}
    for i in np.flatnonzero(suspect.to_numpy()):
        text, where = description.iat[i], address.iat[i]
        found = {
            "description": description_error(text),
            "address": address_error(where),
            **control_character_errors(description=text, address=where),
        }
        first = next(((field, message) for field, message in found.items() if message), None)
        if first is not None:
            errors[i] = first
    return errors


def contact_errors(*, name: str, email: str, phone: str) -> dict[str, str]:
    """A reporter's contact, keyed by report_create's parameters."""
    found = {
        "reporter_name": name_error(name, max_length=NAME_MAX_LENGTH),
        "reporter_email": email_error(email) if email else None,
        "reporter_phone": phone_error(phone, max_length=PHONE_MAX_LENGTH) if phone else None,
    }
    return {field: message for field, message in found.items() if message}


def name_error(name: str, *, max_length: int) -> str | None:
    if len(name) > max_length:
        return _("El nombre es demasiado largo (máximo %(max)s caracteres).") % {"max": max_length}
    return None


def email_error(email: str) -> str | None:
    try:
        validate_email(email)
    except ValidationError:
        return _("El correo electrónico no es válido.")
    return None


def phone_error(phone: str, *, max_length: int) -> str | None:
    """The one phone rule (a report's contact, an appointment's): at least 8 digits, written with digits, +, -, ( )
    and spaces only."""
    if len(phone) > max_length or not set(phone) <= PHONE_CHARS or sum(c.isdigit() for c in phone) < 8:
        return _("El teléfono debe tener al menos 8 dígitos y solo números, +, -, ( ).")
    return None


def format_distance(metres: float) -> str:
    """In the active language's numbers: "8,9 km" in Spanish, "8.9 km" in English."""
    if metres < 1000:
        return f"{metres:.0f} m"
    return f"{decimal(metres / 1000)} km"


def control_character_errors(**fields: str) -> dict[str, str]:
    """The fields holding a CONTROL_CHARACTERS character, each with the message that names the problem."""
    return {
        name: _("El texto contiene caracteres de control no permitidos.")
        for name, value in fields.items()
        if value and CONTROL_CHARACTERS.search(value)
    }


# The dates a report can carry: the business-day calendar starts in 1970 and nothing has happened after now (a day
# of clock skew allowed). report_create stamps now; the importer reads them from a file.
def date_range(now: datetime) -> tuple[datetime, datetime]:
    return datetime.combine(CALENDAR_START, time(), tzinfo=UTC), now + timedelta(days=1)


def date_out_of_range_message(what: str) -> str:
    return f"fecha de {what} fuera de rango (1970 a hoy)"
