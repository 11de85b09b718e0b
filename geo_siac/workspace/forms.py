from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.models import Category
from geo_siac.reports.states import TRANSITIONS, Channel, Status
from geo_siac.zones.models import Crew


class SeenField(forms.CharField):
    """The report's `updated_at` when the page was drawn, to detect someone else's change in between."""

    widget = forms.HiddenInput

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:
            raise forms.ValidationError(_("Marca de versión inválida.")) from exc


NOTE_IS_PUBLIC_HELP = _("Sin marcar, la nota es interna: solo la ve el personal municipal. El vecino ve siempre el "
                        "cambio de estado.")


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Nuevo estado"))
    note = forms.CharField(label=_("Nota"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)
    note_is_public = forms.BooleanField(label=_("Visible para el vecino"), required=False,
                                        help_text=NOTE_IS_PUBLIC_HELP)
    photo = forms.FileField(label=_("Foto"), required=False)
    seen = SeenField(required=False)

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s.value, s.label) for s in Status if s in TRANSITIONS[current]]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Motivo"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    seen = SeenField(required=False)


class RerouteForm(forms.Form):
    crew = forms.ModelChoiceField(label=_("Cuadrilla"), queryset=Crew.objects.order_by("name"))
    reason = forms.CharField(label=_("Motivo"), required=False, max_length=1000)
    seen = SeenField(required=False)


class ExtendForm(forms.Form):
    business_days = forms.IntegerField(label=_("Días hábiles adicionales"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("Motivo"), max_length=1000)
    seen = SeenField(required=False)


class BulkForm(forms.Form):
    reports = forms.CharField(widget=forms.MultipleHiddenInput, required=False)
    crew = forms.ModelChoiceField(label=_("Asignar a cuadrilla"), queryset=Crew.objects.order_by("name"),
                                  required=False)
    status = forms.ChoiceField(label=_("Cambiar estado a"), required=False,
                               choices=[("", "—"), *Status.choices])
    note = forms.CharField(label=_("Nota"), required=False, max_length=1000)
    note_is_public = forms.BooleanField(label=_("Visible para el vecino"), required=False,
                                        help_text=NOTE_IS_PUBLIC_HELP)


class OperatorReportForm(forms.Form):
    channel = forms.ChoiceField(label=_("Canal"), choices=[(c.value, c.label) for c in (Channel.PHONE,
                                                                                         Channel.IN_PERSON)])
    category = forms.ModelChoiceField(label=_("Categoría"), queryset=Category.objects.filter(is_active=True),
                                      to_field_name="service_code")
    latitude = forms.FloatField(label=_("Latitud"))
    longitude = forms.FloatField(label=_("Longitud"))
    address = forms.CharField(label=_("Dirección o referencia"), required=False, max_length=300)
    description = forms.CharField(label=_("Descripción"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    reporter_name = forms.CharField(label=_("Nombre de quien llama"), required=False, max_length=200)
    reporter_phone = forms.CharField(label=_("Teléfono"), required=False, max_length=40)
    reporter_email = forms.EmailField(label=_("Correo"), required=False)
