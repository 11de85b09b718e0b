"""{% event_line event %}: an event's note as the page's reader reads it (reports.events.event_text)."""

from django import template
from django.utils.translation import get_language

from geo_siac.reports.events import event_text

register = template.Library()


@register.simple_tag
def event_line(event) -> str:
    return event_text(event, get_language())
