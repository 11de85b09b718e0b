"""Labels of fields with fixed choices, for any app's models (a general get_FOO_display)."""

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

# Each field's choices as Django's get_FOO_display reads them, by value (choice_label).
CHOICE_LABELS: dict = {}


def choice_label(instance, name: str) -> str:
    """Django's get_FOO_display for a field of fixed choices: Django builds the dict of choices on every call by
    hashing each (value, label) pair, which translates every lazy label to show one (a timeline's row each time)."""
    field = instance._meta.get_field(name)
    labels = CHOICE_LABELS.get(field)
    if labels is None:
        labels = CHOICE_LABELS[field] = {make_hashable(value): label for value, label in field.flatchoices}
    value = getattr(instance, field.attname)
    return force_str(labels.get(make_hashable(value), value), strings_only=True)
