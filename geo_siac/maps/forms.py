from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from geo_siac.maps.selectors import COVERAGE_RESOLUTIONS, DEFAULT_CATCHMENT_M, CoverageOptions
from geo_siac.zones.models import Commune, ServicePointKind

SANTIAGO = ZoneInfo("America/Santiago")


class CoverageForm(forms.Form):
    commune = forms.ModelChoiceField(Commune.objects.active(), label=_("Comuna"), to_field_name="cut")
    res = forms.TypedChoiceField(label=_("Resolución H3"), coerce=int, initial=9,
                                 choices=[(r, r) for r in COVERAGE_RESOLUTIONS])
    kinds = forms.MultipleChoiceField(label=_("Tipos"), choices=ServicePointKind.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    at = forms.DateTimeField(label=_("Abiertos el (hora de Santiago)"), required=False,
                             widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    thresholds = forms.CharField(label=_("Umbrales (m)"), initial="500,1000,2000")
    catchment_m = forms.IntegerField(label=_("Área de influencia 2SFCA (m)"), initial=DEFAULT_CATCHMENT_M,
                                     min_value=100, max_value=20_000)
    k = forms.IntegerField(label=_("Sitios propuestos"), initial=5, min_value=0, max_value=20)

    def clean_thresholds(self):
        try:
            values = tuple(sorted({int(v) for v in self.cleaned_data["thresholds"].split(",") if v.strip()}))
        except ValueError as exc:
            raise forms.ValidationError(_("Escriba distancias en metros separadas por comas.")) from exc
        if not values or values[0] <= 0:
            raise forms.ValidationError(_("Los umbrales deben ser positivos."))
        return values

    def clean_at(self):
        at = self.cleaned_data["at"]
        return at.replace(tzinfo=SANTIAGO) if at is not None and at.tzinfo is None else at

    def options(self) -> CoverageOptions:
        data = self.cleaned_data
        return CoverageOptions(res=data["res"], kinds=tuple(data["kinds"]), open_at=data["at"],
                               thresholds=data["thresholds"], catchment_m=data["catchment_m"])
