from django import template

from geo_siac.reports.selectors import answer_letters

register = template.Library()


@register.simple_tag
def letters_of(report):
    """The request's sent answer letters, for the report page: the officer opens the PDF they just signed."""
    return answer_letters(report)
