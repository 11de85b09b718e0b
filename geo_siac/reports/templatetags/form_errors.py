"""The citizen forms' errors for people who do not see the red text: each field in error marked invalid and
described by its message, and the error summary (templates/_error_summary.html) linking every message to its field.

`{% load form_errors %}`; the forms' errors are report_create's, keyed by its argument names (`category`,
`latitude`, `attribute[code]`...), so this table says which input and which message element each one has. Another
form (a booking) passes its own table of field -> input id to the summary."""

import re

from django import template
from django.utils.html import format_html

from geo_siac.catalogue.attributes import question_ids

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
    "documents": ("id_documents", "error-documents"),
    "reporter_name": ("id_reporter_name", "error-reporter_name"),
    "reporter_email": ("id_reporter_email", "error-reporter_email"),
    "reporter_phone": ("id_reporter_phone", "error-reporter_phone"),
    "consent": ("id_consent", "error-consent"),
}
ANSWER = re.compile(r"attribute\[(?P<code>[^\]]+)\]")


def aria(error: str, error_id: str, *described_by: str, group: bool = False):
    """The one rule: an input is described by its help and its message, and is invalid while it has a message; a
    group's <fieldset> is only described (aria-invalid is no state of a group)."""
    ids = " ".join(filter(None, [*described_by, error_id]))
    if error and not group:
        return format_html(' aria-describedby="{}" aria-invalid="true"', ids)
    return format_html(' aria-describedby="{}"', ids) if ids else ""


@register.simple_tag
def field_aria(errors, field: str, *described_by: str, group: bool = False):
    """`{% field_aria errors "address" "address-help" %}` in an input's tag; without a field (a page where the input
    reports no error), only its help."""
    if not field:
        return aria("", "", *described_by)
    return aria(errors.get(field, ""), FIELDS[field][1], *described_by, group=group)


@register.simple_tag
def question_aria(question: dict, group: bool = False):
    return aria(question["error"], question["error_id"], group=group)


@register.simple_tag
def error_links(errors, fields=None, questions_of: str = "") -> list[dict]:
    """The summary's lines in the form's order: each message with the `#id` of its input, or no link for a
    message about the whole form (an expired form token, the channel). `fields` maps another form's fields to their
    input ids (report_create's by default); `questions_of` is the chosen category whose questions the page shows."""
    inputs = fields or {field: ids[0] for field, ids in FIELDS.items()}
    order = list(inputs)
    found = []
    for field, message in errors.items():
        answer = ANSWER.fullmatch(field)
        if field in inputs:
            href, rank = "#" + inputs[field], order.index(field)
        elif answer and questions_of and "category" in order:
            # A category's questions follow its select.
            href, rank = "#" + question_ids(questions_of, answer["code"])[0], order.index("category") + 0.5
        else:
            href, rank = "", -1
        found.append({"href": href, "message": message, "rank": rank})
    return sorted(found, key=lambda line: line["rank"])
