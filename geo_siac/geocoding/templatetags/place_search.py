"""The search box's hint, naming streets of the page's comuna (templates/_place_search.html)."""

from django import template
from django.utils.translation import gettext as _

from geo_siac.geocoding.selectors import search_example

register = template.Library()


@register.simple_tag
def search_hint(commune) -> str:
    example = search_example(commune)
    if example is None:
        return _("Escriba una calle y su número, o dos calles que se cruzan. Luego puede mover el marcador.")
    address, crossing = example
    return _("Por ejemplo «%(address)s» o «%(crossing)s». Luego puede mover el marcador.") % {
        "address": address,
        "crossing": crossing,
    }
