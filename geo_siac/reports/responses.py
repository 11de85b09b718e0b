"""Response templates ("respuestas tipo"): the placeholders a body may use and the text it gives for one report."""

from string import Formatter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from geo_siac.reports.deadlines import written_day

PLACEHOLDERS = ("codigo", "categoria", "plazo", "cuadrilla")


def validate_placeholders(body: str) -> None:
    """Refuse a body with a placeholder other than PLACEHOLDERS, or a brace that opens none: a template is
    checked when it is saved, not when a crew uses it in the street."""
    known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    try:
        fields = list(Formatter().parse(body))
    except ValueError:
        raise ValidationError(
            _("Hay una llave sin cerrar o sin abrir. Use solo %(known)s (para una llave escriba {{ o }}).")
            % {"known": known},
            code="braces",
        ) from None
    unknown = sorted(
        {
            f"{{{name}}}"
            for _text, name, spec, conversion in fields
            if name is not None and (name not in PLACEHOLDERS or spec or conversion)
        }
    )
    if unknown:
        raise ValidationError(
            _("Marcadores desconocidos: %(unknown)s. Use solo %(known)s.")
            % {"unknown": ", ".join(unknown), "known": known},
            code="placeholder",
        )


def response_text(body: str, report) -> str:
    """The body with the report's values in its placeholders. The deadline is written out as the installation's
    language writes a date (14 de diciembre de 2026), the language its templates are written in, whatever the
    officer's pages are in: the text goes into the citizen's history."""
    validate_placeholders(body)
    with translation.override(settings.LANGUAGE_CODE):
        deadline = written_day(report.expected_at)
    return body.format(
        codigo=report.tracking_code,
        categoria=report.category.name,
        plazo=deadline,
        cuadrilla=report.crew.name if report.crew_id else _("cola de triage"),
    )
