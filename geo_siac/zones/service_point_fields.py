"""The admin's fields for a service point's lists and hours: services and channels one per line instead of bare
JSON, and the opening hours as JSON with an example, empty (not "null") when unknown."""

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

SEPARATOR = "|"


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class ServicesField(forms.CharField):
    """One service a line, "name" or "name | category code": what ServicePoint.services holds as
    {"name": ..., "category": ...}."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", capfirst(_("servicios")))
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 4, "cols": 60}))
        kwargs.setdefault(
            "help_text",
            _(
                "Un servicio por línea. Para enlazarlo a una categoría de solicitudes, agregue « | » y su código, "
                "p. ej.: «Pago de patentes» o «Retiro de escombros | retiro-escombros»."
            ),
        )
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(
                f"{s.get('name', '')} {SEPARATOR} {s['category']}" if s.get("category") else str(s.get("name", ""))
                for s in value
                if isinstance(s, dict)
            )
        return value

    def to_python(self, value):
        services = []
        for line in lines(value or ""):
            name, _sep, code = (part.strip() for part in line.partition(SEPARATOR))
            if not name:
                raise forms.ValidationError(
                    _("Falta el nombre del servicio en la línea «%(line)s»."), params={"line": line}, code="no_name"
                )
            services.append({"name": name, "category": code} if code else {"name": name})
        return services


class ChannelsField(forms.CharField):
    """One channel a line (ServicePoint.channels, a list of strings)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", capfirst(_("canales")))
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "cols": 60}))
        kwargs.setdefault(
            "help_text", _("Un canal de atención por línea, p. ej.: «Presencial», «Teléfono 22 731 2000».")
        )
        super().__init__(strip=False, **kwargs)

    def prepare_value(self, value):
        return "\n".join(str(channel) for channel in value) if isinstance(value, list) else value

    def to_python(self, value):
        return lines(value or "")


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
        return super().prepare_value(value)
