"""Django's `date` filter, each format split once instead of on every call.

Loaded by a template (`{% load dates %}`), its `date` filter gives Django's text; Django's was much of the tracking
page's template CPU (docs/performance.md)."""

import datetime
from functools import lru_cache

from django import template
from django.utils import formats
from django.utils.dateformat import DateFormat, TimeFormat, re_escaped, re_formatchars

register = template.Library()


@lru_cache(maxsize=256)
def format_pieces(format_string: str) -> tuple[tuple[bool, str], ...]:
    """Django's Formatter.format split of a format, once per format: each piece a format character (True) or
    literal text with its escapes removed (False)."""
    pieces = []
    for index, piece in enumerate(re_formatchars.split(format_string)):
        if index % 2:
            pieces.append((True, piece))
        elif piece:
            pieces.append((False, re_escaped.sub(r"\1", piece)))
    return tuple(pieces)


def formatted(value, format_string) -> str:
    """django.utils.dateformat.format(value, format_string), the format's pieces parsed once."""
    formatter = DateFormat(value)
    parts = []
    for is_character, piece in format_pieces(str(format_string)):
        if not is_character:
            parts.append(piece)
            continue
        if type(value) is datetime.date and hasattr(TimeFormat, piece):
            raise TypeError(
                f"The format for date objects may not contain time-related format specifiers (found '{piece}')."
            )
        parts.append(str(getattr(formatter, piece)()))
    return "".join(parts)


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    """Django's `date` filter: the same text, with Django's formatter's split of the format done once per format
    (on every call it split the format with a regular expression and unescaped each literal piece with another)."""
    if value in (None, ""):
        return ""
    try:
        return formatted(value, formats.get_format(arg or "DATE_FORMAT"))
    except AttributeError:
        try:
            return formatted(value, arg)
        except AttributeError:
            return ""
