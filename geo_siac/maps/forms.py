"""Forms of the maps pages: the coverage options and the heat-map filters (read from the query string by the
API, the CSV and the page alike)."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.models import Category, CategoryGroup
from geo_siac.geo import H3_RESOLUTIONS
from geo_siac.maps.selectors import (
    COVERAGE_RESOLUTIONS,
    DEFAULT_CATCHMENT_M,
    MAX_THRESHOLD_M,
    MAX_THRESHOLDS,
    CellFilters,
    CoverageOptions,
)
from geo_siac.reports.deadlines import CALENDAR_END, CALENDAR_START, SANTIAGO
from geo_siac.reports.states import Channel, Status
from geo_siac.web.forms import QueryForm
from geo_siac.zones.models import Commune, ServicePointKind, Zone
from geo_siac.zones.tenancy import staff_commune_ids

# The hints of a list of checkboxes, by the gender of its noun ("todos" the kinds, "todas" the categories): the
# line of ticked boxes, the count announced and the buttons (heatmap_filters.js reads them from the page).
_CHOICE_WORDS = {
    True: {
        "some": _("Marcados:"),
        "none": _("Sin marcar: todos."),
        "all": _("Marcados: todos."),
        "count": _("%(n)s de %(total)s marcados."),
        "tick": _("Marcar todos"),
        "untick": _("Desmarcar todos"),
        "tick_label": _("Marcar todos: %(label)s"),
        "untick_label": _("Desmarcar todos: %(label)s"),
    },
    False: {
        "some": _("Marcadas:"),
        "none": _("Sin marcar: todas."),
        "all": _("Marcadas: todas."),
        "count": _("%(n)s de %(total)s marcadas."),
        "tick": _("Marcar todas"),
        "untick": _("Desmarcar todas"),
        "tick_label": _("Marcar todas: %(label)s"),
        "untick_label": _("Desmarcar todas: %(label)s"),
    },
}


@dataclass(frozen=True)
class ChoiceList:
    """A list of checkboxes as maps/_choice_list.html shows it: its line of ticked boxes (a scrolled list may hide
    them), whether it is long enough to take a whole row, and its hints' `words` in its noun's gender."""

    field: forms.BoundField
    ticked: str
    long: bool
    words: dict[str, str]


class ChoiceLists:
    """The lists of checkboxes of a maps form, `CHOICE_LISTS` in the order the page shows them; nothing ticked means
    every choice, which the page says ("Sin marcar: todas")."""

    CHOICE_LISTS: tuple[str, ...] = ()
    MASCULINE_LISTS: tuple[str, ...] = ()
    # A longer list (the categories: 18 in the demo) spans the row in columns, so most of it shows at once.
    SHORT_LIST = 8

    def choice_lists(self) -> list[ChoiceList]:
        """The lists that have something to choose (no zones before any is drawn)."""
        return [self._choice_list(name) for name in self.CHOICE_LISTS if self.fields[name].choices]

    def _choice_list(self, name: str) -> ChoiceList:
        field = self[name]
        table = _CHOICE_WORDS[name in self.MASCULINE_LISTS]
        words = {key: str(text) for key, text in table.items() if not key.endswith("_label")}
        words.update({key: str(table[key]) % {"label": field.label} for key in ("tick_label", "untick_label")})
        return ChoiceList(field, _ticked_line(field, words), len(field.field.choices) > self.SHORT_LIST, words)

    def other_fields(self):
        return [field for field in self if field.name not in self.CHOICE_LISTS]

    def fields_in_order(self) -> list[tuple[forms.BoundField, ChoiceList | None]]:
        """Every field with its ChoiceList, None for a field that is not a list of checkboxes."""
        return [(field, self._choice_list(field.name) if field.name in self.CHOICE_LISTS else None) for field in self]


def _ticked_line(field: forms.BoundField, words: dict[str, str]) -> str:
    ticked = [str(box.choice_label) for box in field if box.data["selected"]]
    if not ticked:
        return words["none"]
    if len(ticked) == len(field.field.choices):
        return words["all"]
    return f"{words['some']} {', '.join(ticked)}"


class CoverageForm(ChoiceLists, QueryForm):
    CHOICE_LISTS = ("kinds",)
    MASCULINE_LISTS = ("kinds",)

    commune = forms.ModelChoiceField(
        Commune.objects.none(),
        label=_("Comuna"),
        to_field_name="cut",
        error_messages={
            "required": _("No tiene comunas asignadas: pida a un administrador que le asigne una."),
            "invalid_choice": _("Esa comuna no existe o no es de las suyas: elija una de la lista."),
        },
    )
    res = forms.TypedChoiceField(
        label=_("Resolución H3"),
        coerce=int,
        initial=9,
        choices=[(r, r) for r in COVERAGE_RESOLUTIONS],
        error_messages={"invalid_choice": _("«%(value)s» no es una resolución posible aquí: elija una de la lista.")},
    )
    kinds = forms.MultipleChoiceField(
        label=_("Tipos"), choices=ServicePointKind.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    at = forms.DateTimeField(
        label=_("Abiertos el (hora de Santiago)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    thresholds = forms.CharField(label=_("Umbrales (m)"), initial="500,1000,2000", max_length=100)
    catchment_m = forms.IntegerField(
        label=_("Área de influencia 2SFCA (m)"),
        initial=DEFAULT_CATCHMENT_M,
        min_value=100,
        max_value=20_000,
        help_text=_(
            "La capa «Accesibilidad (2SFCA)» reparte cada punto entre los habitantes a esta distancia y suma, para "
            "cada celda, lo que le toca de los puntos a su alcance: más alto, más atención por habitante."
        ),
    )
    k = forms.IntegerField(
        label=_("Sitios propuestos"),
        initial=5,
        min_value=0,
        max_value=20,
        help_text=_(
            "Cuántos lugares nuevos sugerir, los que más habitantes sin punto cercano cubrirían: uno a uno (voraz, "
            "rápido) y todos a la vez (óptimo, exacto)."
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        communes = Commune.objects.active().for_staff(user)
        self.fields["commune"].queryset = communes
        # Without a comuna in the query, the viewer's first one (by CUT), as the page opens.
        self.fields["commune"].initial = communes.order_by("cut").values_list("cut", flat=True).first()

    def clean_thresholds(self):
        try:
            values = tuple(sorted({int(v) for v in self.cleaned_data["thresholds"].split(",") if v.strip()}))
        except ValueError as exc:
            raise forms.ValidationError(_("Escriba distancias en metros separadas por comas.")) from exc
        if not values or values[0] <= 0 or values[-1] > MAX_THRESHOLD_M:
            raise forms.ValidationError(_("Los umbrales deben estar entre 1 y %(max)s m.") % {"max": MAX_THRESHOLD_M})
        if len(values) > MAX_THRESHOLDS:
            raise forms.ValidationError(_("Escriba a lo más %(count)s umbrales.") % {"count": MAX_THRESHOLDS})
        return values

    def clean_at(self):
        at = self.cleaned_data["at"]
        return at.replace(tzinfo=SANTIAGO) if at is not None and at.tzinfo is None else at

    def described(self) -> list[str]:
        """The analysis's options in words, for the page (and its print) to say what was asked beside the comuna."""
        data = self.cleaned_data
        kinds = [str(label) for value, label in self.fields["kinds"].choices if value in data["kinds"]]
        return [
            f"{self.fields['kinds'].label}: {', '.join(kinds) or gettext('todos')}",
            f"{self.fields['thresholds'].label}: {', '.join(_number(t) for t in data['thresholds'])}",
            f"{self.fields['catchment_m'].label}: {_number(data['catchment_m'])}",
            f"{self.fields['k'].label}: {_number(data['k'])}",
        ]

    def options(self) -> CoverageOptions:
        data = self.cleaned_data
        return CoverageOptions(
            res=data["res"],
            kinds=tuple(data["kinds"]),
            open_at=data["at"],
            thresholds=data["thresholds"],
            catchment_m=data["catchment_m"],
        )


SCHEMES = (("quantiles", _("Cuantiles")), ("natural_breaks", _("Cortes naturales (Jenks)")))
MEASURES = (("count", _("Conteo")), ("rate", _("Tasa por 1.000 hab.")))


def _local_midnight(day) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=SANTIAGO) if day else None


DATE_INPUT = {"type": "date", "min": CALENDAR_START.isoformat(), "max": CALENDAR_END.isoformat()}


def _number(value) -> str:
    return number_format(value, use_l10n=True, force_grouping=True)


def _checkboxes(label, **kwargs) -> forms.MultipleChoiceField:
    """A multiple choice ticked in a list of checkboxes: no Ctrl-click, each box reached with the keyboard."""
    return forms.MultipleChoiceField(label=label, required=False, widget=forms.CheckboxSelectMultiple, **kwargs)


class HeatmapFilterForm(ChoiceLists, QueryForm):
    CHOICE_LISTS = ("category", "group", "comuna", "zone", "status", "channel")

    res = forms.TypedChoiceField(
        label=_("Resolución H3"), choices=[(r, r) for r in H3_RESOLUTIONS], coerce=int, initial=9, required=False
    )
    comuna = _checkboxes(_("Comunas"))
    category = _checkboxes(_("Categorías"))
    group = _checkboxes(_("Grupos de categorías"))
    status = _checkboxes(_("Estados"), choices=Status.choices)
    channel = _checkboxes(_("Canales"), choices=Channel.choices)
    zone = forms.TypedMultipleChoiceField(
        label=_("Zonas"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Cuenta las solicitudes cuyo punto está dentro del polígono vigente de la zona."),
    )
    # Dates a report can carry (the business-day calendar's range): beyond, "until + 1 day" and the comparison
    # period's start would overflow Python's dates.
    since = forms.DateField(
        label=_("Desde"),
        required=False,
        widget=forms.DateInput(attrs=DATE_INPUT),
        validators=[MinValueValidator(CALENDAR_START), MaxValueValidator(CALENDAR_END)],
    )
    until = forms.DateField(
        label=_("Hasta (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs=DATE_INPUT),
        validators=[MinValueValidator(CALENDAR_START), MaxValueValidator(CALENDAR_END)],
    )
    measure = forms.ChoiceField(label=_("Medida"), choices=MEASURES, initial="count", required=False)
    scheme = forms.ChoiceField(
        label=_("Clasificación"),
        choices=SCHEMES,
        initial="quantiles",
        required=False,
        help_text=_(
            "Clasificación: cómo se reparten los colores. Cuantiles: cada color tiene el mismo número de hexágonos. "
            "Cortes naturales (Jenks): cada color junta hexágonos de valores parecidos y los cortes caen donde los "
            "valores saltan."
        ),
    )
    classes = forms.TypedChoiceField(
        label=_("Clases"), choices=[(k, k) for k in range(3, 8)], coerce=int, initial=5, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.within = staff_commune_ids(user)
        communes = Commune.objects.active().for_staff(user).order_by("name")
        self.fields["comuna"].choices = list(communes.values_list("cut", "name"))
        self.fields["category"].choices = [(c.service_code, c.name) for c in Category.objects.all()]
        self.fields["group"].choices = [(g.code, g.name) for g in CategoryGroup.objects.all()]
        self.fields["zone"].choices = [
            (zone.pk, zone.label)
            for zone in Zone.objects.current()
            .for_staff(user)
            .select_related("commune")
            .defer("commune__geometry")
            .order_by("commune__name", "name")
        ]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("«Desde» debe ser anterior a «Hasta»."))
        communes = set(data.get("comuna") or ())
        if communes and data.get("zone"):
            outside = Zone.objects.filter(pk__in=data["zone"]).exclude(commune__cut__in=communes)
            if outside:
                self.add_error(
                    "zone",
                    _("Estas zonas no están en las comunas elegidas: %(zones)s.")
                    % {"zones": ", ".join(zone.name for zone in outside)},
                )
        return data

    @property
    def resolution(self) -> int:
        return self.cleaned_data["res"]

    @property
    def classification(self) -> str:
        return self.cleaned_data["scheme"]

    @property
    def class_count(self) -> int:
        return self.cleaned_data["classes"]

    @property
    def map_measure(self) -> str:
        return self.cleaned_data["measure"]

    def filters(self) -> CellFilters:
        data = self.cleaned_data
        until = data.get("until")
        chosen = tuple(data.get("comuna") or ())
        return CellFilters(
            # Without a choice, the viewer's own comunas (their population is the rates' denominator).
            communes=chosen or tuple(cut for cut, _name in self.fields["comuna"].choices if self.within is not None),
            within=self.within,
            categories=tuple(data.get("category") or ()),
            groups=tuple(data.get("group") or ()),
            statuses=tuple(data.get("status") or ()),
            channels=tuple(data.get("channel") or ()),
            zones=tuple(data.get("zone") or ()),
            since=_local_midnight(data.get("since")),
            until=_local_midnight(until + timedelta(days=1)) if until else None,
        )
