"""Text rules shared by every app, beside geo.py."""

import re

from django.conf import settings
from django.utils import translation
from django.utils.formats import number_format

# C0 control characters other than tab and line ends: PostgreSQL refuses NUL in text, and XML 1.0 (Open311) cannot
# hold any of them. The one rule for every text a person or a file gives us.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def installation_language():
    """The installation's language (LANGUAGE_CODE) for the text GeoSIAC stores for its staff (a history's internal
    notes, an address): written once, it is read by everyone, whatever language the page that triggered it had."""
    return translation.override(settings.LANGUAGE_CODE)


def decimal(value: float, places: int = 1) -> str:
    """`value` rounded to `places` decimals, without trailing zeros, in the active language's numbers ("8,9" in
    Spanish, "8.9" in English; 10.0 is "10"), or the installation's when none is active (a management command)."""
    value = round(value, places)
    with translation.override(translation.get_language() or settings.LANGUAGE_CODE):
        return number_format(value, decimal_pos=0 if float(value).is_integer() else places)
