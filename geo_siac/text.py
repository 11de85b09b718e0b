"""Text rules shared by every app, beside geo.py."""

import re

from django.conf import settings
from django.utils import translation

# C0 control characters other than tab and line ends: PostgreSQL refuses NUL in text, and XML 1.0 (Open311) cannot
# hold any of them. The one rule for every text a person or a file gives us.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def installation_language():
    """The installation's language (LANGUAGE_CODE) for the text GeoSIAC stores for its staff (a history's internal
    notes, an address): written once, it is read by everyone, whatever language the page that triggered it had."""
    return translation.override(settings.LANGUAGE_CODE)
