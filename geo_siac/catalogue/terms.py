"""The one rule for the terms a category is offered on: its response days and who answers it. Every place that
saves them asks it: the category (its clean, so the admin form), a comuna's terms (zones.CommuneCategory.clean) and
the catalogue loader (catalogue.load_catalogue); the database holds the days to the same range (days_in_range), and
the checks catalogue.W001 / zones.W001 list rows saved before it.

The department rule is stricter than routing on purpose: routing may still find a crew's department for a request
placed where a crew works, but a category citizens can choose must name its own, so that a request filed without a
place, or where no crew works, always has someone responsible."""

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from geo_siac.catalogue.kinds import RequestKind, rule

# 0 days makes a request due the day it arrives, a weekend included; the longest a topic may promise is three
# months of business days (the legal terms are 20: catalogue.kinds, Ley 19.880 art. 24 and Ley 20.285 art. 14).
MIN_RESPONSE_DAYS = 1
MAX_RESPONSE_DAYS = 60
# Independent of the 60 days an extension may add (reports.services.assignment): that is a later, separate term.


def days_in_range(field: str = "response_days") -> Q:
    """The CheckConstraint condition of a response-days column (NULL passes: a comuna's empty days are the category's)."""
    return Q(**{f"{field}__gte": MIN_RESPONSE_DAYS, f"{field}__lte": MAX_RESPONSE_DAYS})


def terms_errors(
    *, kind: str, response_days: int | None, has_department: bool, offered: bool, offered_by: str
) -> dict[str, str]:
    """What is wrong with these terms, by field ("response_days", "department"); empty when they may be saved.
    `response_days` None: not set here (a comuna's row that keeps the category's). `offered`: citizens can choose
    it, so someone must answer it: without a department (its crew's when a crew is found, else the category's or the
    comuna's), a request placed where no crew works, or filed without a place, has no one responsible.
    `offered_by`: the label of the field on the form being saved that the admin may untick instead (a comuna's
    «se atiende en la comuna», the category's «visible para la ciudadanía»)."""
    errors = {}
    if response_days is not None:
        message = days_error(kind, response_days)
        if message:
            errors["response_days"] = message
    if offered and not has_department:
        errors["department"] = _(
            "Una categoría que la ciudadanía puede elegir necesita una unidad responsable: sin ella, sus solicitudes "
            "quedan sin responsable. Elija la unidad, o desmarque «%(field)s»."
        ) % {"field": offered_by}
    return errors


def days_error(kind: str, days: int) -> str:
    legal = rule(kind).legal_days
    if days < MIN_RESPONSE_DAYS:
        return _(
            "El plazo de respuesta (días hábiles) debe ser de al menos %(min)s día hábil: con %(days)s, la solicitud "
            "vencería el mismo día en que llega."
        ) % {"min": MIN_RESPONSE_DAYS, "days": days}
    if days > MAX_RESPONSE_DAYS:
        return _("El plazo de respuesta (días hábiles) no puede superar %(max)s días hábiles.") % {
            "max": MAX_RESPONSE_DAYS
        }
    if kind == RequestKind.INFORMATION and days != legal:
        return _("El plazo de la Ley 20.285 es de %(days)s días hábiles y no se cambia.") % {"days": legal}
    if legal is not None and days > legal:
        return _("La ley fija un máximo de %(days)s días hábiles (%(law)s).") % {
            "days": legal,
            "law": rule(kind).legal_reference,
        }
    return ""


def check_terms(**terms) -> None:
    """terms_errors, raised as the ValidationError a model's clean or a loader gives."""
    errors = terms_errors(**terms)
    if errors:
        raise ValidationError(errors)
