"""Django's `{% translate %}` tag and `date` filter, their constant work done once instead of on every render.

Loaded after i18n (`{% load i18n i18n_once %}`), a template's tags and filters give the same text; makemessages
still finds its `{% translate %}` texts. They were much of the tracking page's template CPU (docs/performance.md)."""

import datetime
from functools import lru_cache

from django import template
from django.template.base import Variable
from django.templatetags.i18n import TranslateNode, do_translate
from django.utils import formats
from django.utils.dateformat import DateFormat, TimeFormat, re_escaped, re_formatchars
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()


class ConstantTranslateNode(TranslateNode):
    """`{% translate "text" %}` of a quoted text, without filters, context, noop or `as`. Django's node makes the
    text a lazy string on every render and renders it as a variable; what comes out is the text's translation,
    marked safe (a template's literal is), its percent signs restored. This node gives that directly."""

    def __init__(self, node: TranslateNode):
        super().__init__(node.filter_expression, node.noop, node.asvar, node.message_context)
        self.msgid = mark_safe(node.filter_expression.var.literal.replace("%", "%%"))

    def render(self, context):
        return mark_safe(gettext(self.msgid).replace("%%", "%"))


@register.tag("translate")
@register.tag("trans")
def translate(parser, token):
    node = do_translate(parser, token)
    expression = node.filter_expression
    constant = (
        isinstance(expression.var, Variable)
        and expression.var.lookups is None
        and isinstance(expression.var.literal, str)
        and not expression.var.translate
    )
    if not constant or expression.filters or node.noop or node.asvar or node.message_context:
        return node
    return ConstantTranslateNode(node)


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
