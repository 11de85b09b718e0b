"""The admin's fields for a service point's lists and hours: services and channels one per line instead of bare
JSON, and the opening hours as JSON with an example, empty (not "null") when unknown."""

import json

from django import forms
from django.forms.fields import InvalidJSONInput
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.models import Category

SEPARATOR = " | "


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def split_last(line: str) -> tuple[str, str]:
    """(name, code) around the last separator; (line, "") without one."""
    head, separator, tail = line.rpartition(SEPARATOR)
    return (head.strip(), tail.strip()) if separator else (line, "")


class LinesField(forms.CharField):
    """A list edited one item a line; `expresses(value)` says whether the text keeps a stored value whole."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(strip=False, **kwargs)

    def expresses(self, value) -> bool:
        text = self.prepare_value(value)
        return isinstance(text, str) and self.to_python(text) == value


class ServicesField(LinesField):
    """One service a line, "name" or "name | category code": what ServicePoint.services holds as
    {"name": ..., "category": ...}. A line is split on its last " | " only when what follows is a category's code,
    so a name may hold the separator."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", capfirst(_("servicios")))
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "cols": 60}))
        kwargs.setdefault(
            "help_text",
            _(
                "Un servicio por línea. Para enlazarlo a una categoría de solicitudes, agregue « | » y su código, "
                "p. ej.: «Pago de patentes» o «Retiro de escombros | retiro-escombros»."
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list) and all(isinstance(s, dict) for s in value):
            return "\n".join(
                f"{s.get('name', '')}{SEPARATOR}{s['category']}" if s.get("category") else str(s.get("name", ""))
                for s in value
            )
        return value

    def to_python(self, value):
        rows = [(line, *split_last(line)) for line in lines(value or "")]
        tails = {code for _line, _name, code in rows if code}
        known = set(Category.objects.filter(service_code__in=tails).values_list("service_code", flat=True))
        return [{"name": name, "category": code} if code in known else {"name": line} for line, name, code in rows]


class ChannelsField(LinesField):
    """One channel a line (ServicePoint.channels, a list of strings)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", capfirst(_("canales")))
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "cols": 60}))
        kwargs.setdefault(
            "help_text", _("Un canal de atención por línea, p. ej.: «Presencial», «Teléfono 22 731 2000».")
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list) and all(isinstance(channel, str) for channel in value):
            return "\n".join(value)
        return value

    def to_python(self, value):
        return lines(value or "")


def json_fallback(field: LinesField) -> forms.JSONField:
    """The stock JSON editor, for a stored value the one-a-line text would change on save (another key, a
    non-text item): edited whole rather than cut down."""
    return forms.JSONField(
        required=False,
        label=field.label,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 60}),
        help_text=_(
            "Este valor guarda datos que la lista por línea no puede mostrar, así que se edita como JSON para no "
            "perderlos."
        ),
    )


class OpeningHoursField(forms.JSONField):
    """The hours spec of zones.opening_hours; its validation (ServicePoint.clean) names what is wrong."""

    default_error_messages = {
        "invalid": _(
            "No es un JSON válido. Use comillas dobles y horas HH:MM, p. ej. "
            '{"weekly": {"mon": [["08:30", "14:00"]], "fri": [["08:30", "13:00"]]}}; o deje el campo vacío si el '
            "horario no se conoce."
        ),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", capfirst(_("horario")))
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 6, "cols": 60}))
        kwargs.setdefault(
            "help_text",
            _(
                "Vacío: horario desconocido. Cada día (mon, tue, wed, thu, fri, sat, sun) con sus tramos de inicio "
                'y fin, p. ej. {"weekly": {"mon": [["08:30", "14:00"], ["15:00", "17:30"]], "fri": [["08:30", '
                '"13:00"]]}}. Los feriados cierran salvo que agregue "closed_on_public_holidays": false.'
            ),
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if value is None:
            return ""
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)  # a day a line or so, not one long line
