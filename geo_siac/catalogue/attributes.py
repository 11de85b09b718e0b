"""Open311 attributes: the extra questions a category asks, and validation of a citizen's answers."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}


def validate_attribute_definitions(definitions) -> None:
    if not isinstance(definitions, list):
        raise ValidationError({"attributes": _("Las preguntas adicionales deben ser una lista.")})
    codes = set()
    for item in definitions:
        if not isinstance(item, dict) or not item.get("code"):
            raise ValidationError({"attributes": _("Cada pregunta necesita un código.")})
        if item["code"] in codes:
            raise ValidationError({"attributes": _("Código de pregunta repetido: %s") % item["code"]})
        codes.add(item["code"])
        if item.get("datatype") not in DATATYPES:
            raise ValidationError(
                {"attributes": _("Tipo de dato inválido en '%(code)s': use %(types)s.")
                 % {"code": item["code"], "types": ", ".join(sorted(DATATYPES))}}
            )
        if item["datatype"].endswith("valuelist") and not item.get("values"):
            raise ValidationError({"attributes": _("La pregunta '%s' necesita valores.") % item["code"]})


def clean_answers(definitions: list[dict], answers: dict | None) -> dict:
    """Check answers against the category's questions; returns them normalised (lists for multivaluelist)."""
    answers = answers or {}
    errors: dict[str, str] = {}
    known = {item["code"]: item for item in definitions}
    cleaned: dict = {}
    for code in answers:
        if code not in known:
            errors[f"attribute[{code}]"] = _("Pregunta desconocida para esta categoría.")
    for code, item in known.items():
        value = answers.get(code)
        if value in (None, "", []):
            if item.get("required"):
                errors[f"attribute[{code}]"] = _("Esta pregunta es obligatoria.")
            continue
        try:
            cleaned[code] = clean_answer(item, value)
        except ValueError as exc:
            errors[f"attribute[{code}]"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return cleaned


def clean_answer(item: dict, value):
    datatype = item["datatype"]
    keys = {str(v["key"]) for v in item.get("values", [])}
    if datatype == "multivaluelist":
        values = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        bad = [v for v in values if v not in keys]
        if bad:
            raise ValueError(_("Valores no permitidos: %s") % ", ".join(bad))
        return values
    if isinstance(value, (list, tuple)):
        raise ValueError(_("Se esperaba un solo valor."))
    value = str(value).strip()
    if datatype == "singlevaluelist" and value not in keys:
        raise ValueError(_("Valor no permitido: %s") % value)
    if datatype == "number":
        try:
            number = float(value)
        except ValueError:
            raise ValueError(_("Se esperaba un número.")) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError(_("Se esperaba un número finito."))
    if datatype == "datetime":
        from django.utils.dateparse import parse_datetime

        if parse_datetime(value) is None:
            raise ValueError(_("Se esperaba una fecha y hora ISO 8601."))
    if len(value) > 2000:
        raise ValueError(_("La respuesta es demasiado larga (máximo 2.000 caracteres)."))
    return value
