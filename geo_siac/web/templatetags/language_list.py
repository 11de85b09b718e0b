from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def language_list() -> list[tuple[str, str]]:
    """settings.LANGUAGES as written, each language named in itself: Django's get_available_languages translates
    the names into the page's language ("Inglés" on a Spanish page), and a reader looks for their own."""
    return settings.LANGUAGES
