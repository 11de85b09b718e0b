"""What a citizen does after filing: follow an open report, answer the survey of a closed one."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.reports.models import Follower, Report, SurveyResponse
from geo_siac.reports.states import CLOSED, is_open
from geo_siac.reports.validation import description_error

@transaction.atomic
def report_follow(*, report: Report, email: str, language: str = "es") -> Follower:
    """Follow an open report instead of filing a duplicate: the follower gets its notifications."""
    email = (email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Escriba un correo electrónico válido para recibir los avisos.")}) from None
    if not is_open(report.status):
        raise ValidationError({"email": _("Esta solicitud ya está cerrada; ya no envía avisos.")})
    follower, _created = Follower.objects.get_or_create(
        report=report, email=email.lower(),
        defaults={"language": "en" if language.startswith("en") else "es", "created_at": timezone.now()},
    )
    return follower


@transaction.atomic
def survey_submit(*, report: Report, resolution_rating, service_rating, comment: str = "") -> SurveyResponse:
    """Store the satisfaction survey of a closed report; one answer per report."""
    errors = {}
    ratings = {}
    for field, value in (("resolution_rating", resolution_rating), ("service_rating", service_rating)):
        try:
            ratings[field] = int(value)
        except (TypeError, ValueError):
            ratings[field] = 0
        if not 1 <= ratings[field] <= 5:
            errors[field] = _("Elija una nota de 1 a 5.")
    comment = (comment or "").strip()
    if (message := description_error(comment)) is not None:
        errors["comment"] = message
    if report.status not in CLOSED:
        errors["__all__"] = _("La encuesta se abre cuando la solicitud se cierra.")
    Report.objects.select_for_update().filter(pk=report.pk).first()  # one survey writer per report at a time
    if SurveyResponse.objects.filter(report=report).exists():
        errors["__all__"] = _("Esta solicitud ya tiene una encuesta respondida. ¡Gracias!")
    if errors:
        raise ValidationError(errors)
    return SurveyResponse.objects.create(report=report, comment=comment, created_at=timezone.now(), **ratings)
