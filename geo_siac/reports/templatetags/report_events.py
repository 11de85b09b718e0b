"""{% event_line event %}: an event's note as the page's reader reads it (reports.events.event_html), and
{% event_title event %} its heading (reports.events.event_title)."""

from django import template
from django.utils.translation import get_language

from geo_siac.reports.events import event_html
from geo_siac.reports.events import event_title as title

register = template.Library()


@register.simple_tag
def event_line(event) -> str:
    return event_html(event, get_language())


@register.simple_tag
def event_title(event) -> str:
    return title(event, get_language())
