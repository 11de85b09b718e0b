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
                {
                    "attributes": _("Tipo de dato inválido en '%(code)s': use %(types)s.")
                    % {"code": item["code"], "types": ", ".join(sorted(DATATYPES))}
                }
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


def posted_answers(values, category) -> dict:
    """The answers to `category`'s questions in a posted form (the citizen's page or the operator console): the
    form holds the inputs of every category, named `attribute[service_code][code]`, and only the chosen one's count."""
    if category is None:
        return {}
    answers = {}
    for question in category.attributes:
        name = question_input_name(category.service_code, question)
        answers[question["code"]] = (
            values.getlist(name) if question["datatype"] == "multivaluelist" else values.get(name, "")
        )
    return answers


def question_input_name(service_code: str, question: dict) -> str:
    return f"attribute[{service_code}][{question['code']}]"


def question_ids(service_code: str, code: str) -> tuple[str, str]:
    """A category's extra question's input and message ids, which the error summary links to (reports' form_errors)."""
    return f"q-{service_code}-{code}", f"error-q-{service_code}-{code}"


def question_blocks(categories, values, errors: dict, chosen: str) -> list[dict]:
    """Each category's extra questions as form fields for reports/questions.html, with what was posted selected
    again after an error and report_create's `attribute[code]` errors beside the chosen category's questions."""
    return [
        {
            "service_code": category.service_code,
            "questions": [
                question_field(
                    category.service_code, question, values, errors if category.service_code == chosen else {}
                )
                for question in sorted(category.attributes, key=lambda q: q.get("order", 0))
            ],
        }
        for category in categories
        if category.attributes
    ]


def question_field(service_code: str, question: dict, values, errors: dict) -> dict:
    name = question_input_name(service_code, question)
    posted = values.getlist(name) if hasattr(values, "getlist") else []
    input_id, error_id = question_ids(service_code, question["code"])
    return {
        "name": name,
        "id": input_id,
        "error_id": error_id,
        "datatype": question["datatype"],
        "label": question_label(question),
        "required": question.get("required", False),
        "value": posted[0] if posted else "",
        "options": [
            {"key": str(v["key"]), "name": v["name"], "selected": str(v["key"]) in posted}
            for v in question.get("values", [])
        ],
        "error": errors.get(f"attribute[{question['code']}]", ""),
    }


def question_label(question: dict) -> str:
    return question.get("description") or question["code"]


def answers_shown(definitions: list[dict], answers: dict) -> list[tuple[str, str]]:
    """A report's answers as (question, answer) in the category's order, each listed value by its name: what the
    citizen read and picked, for the crew. An answer to a question since removed from the category keeps its code."""
    known = {item["code"]: item for item in definitions}
    order = sorted(answers, key=lambda code: (code not in known, known.get(code, {}).get("order", 0), code))
    shown = []
    for code in order:
        item = known.get(code, {"code": code})
        names = {str(v["key"]): v["name"] for v in item.get("values", [])}
        values = answers[code] if isinstance(answers[code], list) else [answers[code]]
        shown.append((question_label(item), ", ".join(names.get(str(v), str(v)) for v in values)))
    return shown
