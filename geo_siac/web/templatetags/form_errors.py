"""The citizen forms' errors for people who do not see the red text: each field in error marked invalid and
described by its message, and the error summary (templates/_error_summary.html) linking every message to its field.

`{% load form_errors %}`; the forms' errors are report_create's, keyed by its argument names (`category`,
`latitude`, `attribute[code]`...), so this table says which input and which message element each one has."""

import re

from django import template
from django.utils.html import format_html

register = template.Library()

# report_create's field: (the input's id, its message's id), as the citizen forms write them.
FIELDS = {
    "location": ("place-search-input", "error-location"),
    "latitude": ("id_lat", "error-lat"),
    "longitude": ("id_long", "error-long"),
    "address": ("id_address", "error-address"),
    "category": ("id_service_code", "error-service_code"),
    "commune": ("id_commune", "error-commune"),
    "description": ("id_description", "error-description"),
    "photo": ("id_photo", "error-photo"),
    "reporter_name": ("id_reporter_name", "error-reporter_name"),
    "reporter_email": ("id_reporter_email", "error-reporter_email"),
    "reporter_phone": ("id_reporter_phone", "error-reporter_phone"),
    "consent": ("id_consent", "error-consent"),
}
ANSWER = re.compile(r"attribute\[(?P<code>[^\]]+)\]")


def question_ids(service_code: str, code: str) -> tuple[str, str]:
    """A category's extra question's input and message ids (catalogue.attributes.question_field)."""
    return f"q-{service_code}-{code}", f"error-q-{service_code}-{code}"


def aria(error: str, error_id: str, *described_by: str):
    """The one rule: an input is described by its help and its message, and is invalid while it has a message."""
    ids = " ".join([*filter(None, described_by), error_id])
    if error:
        return format_html(' aria-describedby="{}" aria-invalid="true"', ids)
    return format_html(' aria-describedby="{}"', ids)


@register.simple_tag
def field_aria(errors, field: str, *described_by: str):
    """`{% field_aria errors "address" "address-help" %}` in an input's tag."""
    return aria(errors.get(field, ""), FIELDS[field][1], *described_by)


@register.simple_tag
def question_aria(question: dict):
    return aria(question["error"], question["error_id"])


@register.simple_tag
def error_links(errors, chosen_category: str = "") -> list[dict]:
    """The summary's lines in the form's order: each message with the `#id` of its input, or no link for a
    message about the whole form (an expired form token, the channel)."""
    order = list(FIELDS)
    found = []
    for field, message in errors.items():
        answer = ANSWER.fullmatch(field)
        if field in FIELDS:
            href, rank = "#" + FIELDS[field][0], order.index(field)
        elif answer and chosen_category:
            # A category's questions follow its select.
            href, rank = "#" + question_ids(chosen_category, answer["code"])[0], order.index("category") + 0.5
        else:
            href, rank = "", -1
        found.append({"href": href, "message": message, "rank": rank})
    return sorted(found, key=lambda line: line["rank"])
