from django import template
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

register = template.Library()

# What a route without arguments reverses to, by everything reverse() reads besides the URLconf's patterns: a few
# dozen entries (the names templates give, under each comuna's prefix, in each language).
PATHS: dict[tuple, str] = {}
UNSET = object()


@register.simple_tag(takes_context=True)
def fixed_url(context, name: str) -> str:
    """`{% url name %}` for a route without arguments, reversed once per script prefix (zones.middleware gives each
    comuna's pages their own), URLconf, current application and language instead of on every page: reversing was
    a share of every page's CPU (docs/performance.md). The current application is found as `{% url %}` finds it."""
    request = getattr(context, "request", None)
    current_app = getattr(request, "current_app", UNSET)
    if current_app is UNSET:
        current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
    key = (get_script_prefix(), get_urlconf(), current_app, get_language(), name)
    path = PATHS.get(key)
    if path is None:
        path = PATHS[key] = reverse(name, current_app=current_app)
    return path


@receiver(setting_changed)
def paths_forgotten(**kwargs) -> None:
    """A test's settings (ROOT_URLCONF, FORCE_SCRIPT_NAME...) may give other paths, as they clear Django's caches."""
    PATHS.clear()
