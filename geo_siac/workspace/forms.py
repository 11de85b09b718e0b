import re
from datetime import datetime

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.kinds import DenialGround, LegalOutcome, RequestKind, offers_crew_work
from geo_siac.catalogue.models import Category, Department, Institution
from geo_siac.reports.models import Report
from geo_siac.reports.responses import response_text
from geo_siac.reports.selectors import report_by_tracking_code, response_templates_for
from geo_siac.reports.states import (
    OPEN,
    PUBLIC_TEXT_MAX_LENGTH,
    PUBLIC_TEXT_REQUIRED,
    Channel,
    Status,
    public_text_missing_message,
    resolved_only_by_letter,
    resolved_only_by_letter_message,
    transitions_by_hand,
)
from geo_siac.workspace.selectors import reroute_choices
from geo_siac.zones.models import Commune, Crew, ServicePoint, Zone
from geo_siac.zones.selectors import served_service_points


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


class PhotosInput(forms.FileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files from one input, as a list; report_change_status checks each photo and how many."""

    widget = PhotosInput(attrs={"accept": "image/jpeg,image/png,image/webp"})

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data]
        return [super(PhotosField, self).clean(item, initial) for item in files if item]


class ServicePointField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} · {obj.commune.name}"


class ZoneField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.label


# The HTML of unbound forms drawn once per process (DrawnOnce), by form, language and what its choices are.
DRAWN: dict = {}
DRAWN_MAX = 1000


class DrawnOnce:
    """A form whose unbound HTML (`as_p`) is drawn through Django's widget templates once per process for each
    language and `drawing_key()`, its initial values (text put in hidden or text inputs, such as `seen`) written
    in afterwards: a crew member's report page drew its status form on every view, a fifth of the page's CPU
    (docs/performance.md). A bound form, with the person's input and errors, is drawn as usual."""

    def drawing_key(self) -> tuple:
        """What else the unbound HTML depends on (choices worked out per report); () when nothing."""
        return ()

    def as_p(self):
        # Only non-empty text: Django leaves out an empty value's attribute, and a checkbox reads any text as checked.
        if self.is_bound or self._errors or any(not isinstance(v, str) or not v for v in self.initial.values()):
            return super().as_p()
        if any(isinstance(self.fields.get(name), forms.BooleanField) for name in self.initial):
            return super().as_p()
        key = (type(self), get_language(), self.auto_id, self.prefix, tuple(sorted(self.initial)), self.drawing_key())
        html = DRAWN.get(key)
        if html is None:
            html = self.drawn_with_markers()
            if html is None:
                return super().as_p()
            if len(DRAWN) >= DRAWN_MAX:
                DRAWN.clear()
            DRAWN[key] = html
        # One pass: a value written in is never read again as another's marker.
        return mark_safe(MARKER.sub(lambda found: conditional_escape(self.initial[found[1]]), html))

    def drawn_with_markers(self) -> str | None:
        """The form drawn with a marker in place of each initial value, or None when a value is not drawn once,
        as written (then the form is drawn as usual)."""
        initial = self.initial
        self.initial = {name: marker(name) for name in initial}
        try:
            html = str(super().as_p())
        finally:
            self.initial = initial
            self._bound_fields_cache.clear()  # their initial values were the markers
        return html if all(html.count(marker(name)) == 1 for name in initial) else None


def marker(name: str) -> str:
    return f"geosiacdrawnonce{name}marker"


MARKER = re.compile(r"geosiacdrawnonce(\w+?)marker")


class PageForm(forms.Form):
    """One of several forms on a report's page: its ids start with `id_<id_prefix>_`, since the page's other forms
    have fields of the same names (note, reason, seen) and a label, a hint or axe must find one field per id. The
    names, and so every POST and the offline app's queued changes, stay as they are."""

    id_prefix = ""

    def __init__(self, *args, **kwargs):
        if self.id_prefix:
            kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


NOTE_IS_PUBLIC_HELP = _(
    "Sin marcar, la nota es interna: solo la ve el personal municipal. El vecino ve siempre el cambio de estado."
)


class StatusChoiceField(forms.ChoiceField):
    """Also lets through the statuses only a letter reaches (`letter_only`), not offered, so that clean_status
    answers them with the service's reason instead of "not one of the available choices"."""

    letter_only: frozenset[str] = frozenset()

    def valid_value(self, value) -> bool:
        return value in self.letter_only or super().valid_value(value)


class ResponseSelect(forms.Select):
    """The "Respuesta tipo" select: each option carries its template's text filled for this report (`data-text`),
    which crew_offline.js copies into the reply box, offline too. It has no name, so it is never sent: the reply box
    is, as the crew sees it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.texts: dict[str, tuple[str, bool]] = {}

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["name"] = ""  # a control with an empty name is not submitted
        return context

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if (text := self.texts.get(str(value))) is not None:
            option["attrs"]["data-text"] = text[0]
            if text[1]:
                option["attrs"]["data-default"] = "1"
        return option


class StatusForm(DrawnOnce, forms.Form):
    status = StatusChoiceField(label=_("Nuevo estado"))
    response = forms.ChoiceField(
        label=_("Respuesta tipo"),
        required=False,
        widget=ResponseSelect,
        help_text=_("Copia su texto, con los datos de esta solicitud, en la respuesta al vecino; puede editarlo."),
    )
    public_note = forms.CharField(
        label=_("Respuesta al vecino: qué se hizo"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=PUBLIC_TEXT_MAX_LENGTH,
        help_text=_(
            "Es pública: la lee el vecino y cualquiera que consulte la solicitud. "
            "No escriba nombres, teléfonos ni números de casa."
        ),
    )
    note = forms.CharField(
        label=_("Nota interna (solo personal municipal)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    photos = PhotosField(label=_("Fotos (puede elegir varias)"), required=False)
    seen = SeenField(required=False)
    # Where the crew worked, filled by crew_offline.js from the phone when "Registrar dónde trabajé" is ticked.
    latitude = forms.CharField(required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(required=False, widget=forms.HiddenInput)
    accuracy = forms.CharField(required=False, widget=forms.HiddenInput)
    # Offered only where the request's kind has a crew's work in the field (catalogue.kinds.offers_crew_work).
    CREW_WORK_FIELDS = ("photos", "latitude", "longitude", "accuracy")

    def __init__(self, *args, current: str, report, **kwargs):
        super().__init__(*args, **kwargs)
        self.report = report
        self.crew_work = offers_crew_work(report.kind)
        if not self.crew_work:
            for name in self.CREW_WORK_FIELDS:
                del self.fields[name]
        self.allowed = transitions_by_hand(current, report.kind)
        # No status is chosen for the crew: one tap on "Guardar" must not move a report by accident.
        self.fields["status"].choices = [
            ("", _("— Elija el nuevo estado —")),
            *((s.value, s.label) for s in self.allowed),
        ]
        self.fields["status"].letter_only = frozenset(s for s in Status if resolved_only_by_letter(report.kind, s))
        # Read once, here: the select's choices and texts; a POST draws nothing from them and reads none.
        self.templates = [
            (str(t.pk), t.title, response_text(t.body, report), t.category_id == report.category_id)
            for t in response_templates_for(report)
        ]
        self.fields["response"].choices = [("", _("Ninguna")), *((pk, title) for pk, title, _t, _d in self.templates)]
        # The category's first template starts the reply, for a resolution only (crew_offline.js).
        default = next((pk for pk, _title, _t, is_category in self.templates if is_category), None)
        self.fields["response"].widget.texts = {pk: (text, pk == default) for pk, _title, text, _d in self.templates}
        public = self.fields["public_note"].widget.attrs
        public["data-required-for"] = " ".join(sorted(PUBLIC_TEXT_REQUIRED))
        public["data-prefill-for"] = Status.RESOLVED
        public["data-required-message"] = public_text_missing_message()

    def drawing_key(self) -> tuple:
        """The statuses and the response templates offered (their texts are filled for this report), and whether the
        crew's fields are."""
        return (tuple(self.allowed), tuple(self.templates), self.crew_work)

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if resolved_only_by_letter(self.report.kind, status):
            raise forms.ValidationError(resolved_only_by_letter_message(self.report.kind))
        return status


class ReasonForm(DrawnOnce, PageForm):
    id_prefix = "return"
    reason = forms.CharField(label=_("Motivo"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000)
    seen = SeenField(required=False)


class RerouteForm(PageForm):
    id_prefix = "reroute"
    crew = forms.ModelChoiceField(label=_("Cuadrilla"), queryset=Crew.objects.none())
    reason = forms.CharField(label=_("Motivo"), required=False, max_length=1000)
    seen = SeenField(required=False)

    def __init__(self, *args, crews, report, **kwargs):
        """`crews`: those the person may choose from (all, or a department head's); the report's comuna's are offered."""
        super().__init__(*args, **kwargs)
        field = self.fields["crew"]
        # A post naming the holding crew is valid here: report_reroute refuses it and says why.
        field.queryset = reroute_choices(report, crews, holder=True)
        field.choices = [("", _("Elija una cuadrilla")), *((c.pk, c.name) for c in reroute_choices(report, crews))]


class ExtendForm(PageForm):
    id_prefix = "extend"
    business_days = forms.IntegerField(label=_("Días hábiles adicionales"), min_value=1, max_value=60)
    reason = forms.CharField(label=_("Motivo"), max_length=1000)
    seen = SeenField(required=False)


class LegalExtendForm(PageForm):
    id_prefix = "legal_extend"
    reason = forms.CharField(label=_("Motivo de la prórroga (se comunica al solicitante)"), max_length=1000)
    seen = SeenField(required=False)


class CorrectionForm(PageForm):
    id_prefix = "correction"
    note = forms.CharField(
        label=_("Qué debe corregir o completar el solicitante"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    seen = SeenField(required=False)


class LegalAnswerForm(PageForm):
    """The answer by letter; report_answer checks the outcome and ground against the request's kind."""

    id_prefix = "answer"

    outcome = forms.ChoiceField(
        label=_("Resultado (Ley 20.285)"), required=False, choices=[("", "—"), *LegalOutcome.choices]
    )
    ground = forms.ChoiceField(
        label=_("Causal de denegación (si se deniega total o parcialmente)"),
        required=False,
        choices=[("", "—"), *DenialGround.choices],
    )
    note = forms.CharField(
        label=_("Respuesta (el texto de la carta)"), max_length=4000, widget=forms.Textarea(attrs={"rows": 6})
    )
    # How many PDFs the previewed letter listed: a file field comes back empty after a preview (crew_views.kind_step).
    documents_expected = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    seen = SeenField(required=False)


class ReferForm(PageForm):
    id_prefix = "referral"
    institution = forms.ModelChoiceField(
        label=_("Organismo competente"),
        queryset=Institution.objects.filter(is_active=True),
        empty_label=_("Elija el organismo"),
        error_messages={"invalid_choice": _("Elija de la lista el organismo al que se deriva.")},
    )
    note = forms.CharField(label=_("Nota para el vecino (opcional)"), max_length=1000, required=False)
    seen = SeenField(required=False)


class DepartmentForm(PageForm):
    id_prefix = "department"
    department = forms.ModelChoiceField(
        label=_("Dirección responsable"), queryset=Department.objects.order_by("name"), empty_label="—"
    )
    reason = forms.CharField(label=_("Motivo (opcional)"), required=False, max_length=1000)
    seen = SeenField(required=False)


class ReclassifyForm(PageForm):
    """Another topic for a request, the active topics grouped by kind; report_reclassify checks the choice. A request
    without a place is not offered the service catalogue, whose kind needs one."""

    id_prefix = "reclassify"
    category = forms.ChoiceField(label=_("Nuevo tema"))
    reason = forms.CharField(label=_("Motivo (interno)"), max_length=1000)
    seen = SeenField(required=False)

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        topics = Category.objects.filter(is_active=True).order_by("name_es")
        if report.location is None:
            topics = topics.exclude(kind=RequestKind.SERVICE_REQUEST)
        by_kind = {kind: [] for kind in RequestKind}
        for topic in topics:
            by_kind[topic.kind].append((topic.service_code, topic.name))
        self.fields["category"].choices = [
            ("", _("— Elija el tema —")),
            *[(kind.label, choices) for kind, choices in by_kind.items() if choices],
        ]


class BulkForm(forms.Form):
    reports = forms.CharField(widget=forms.MultipleHiddenInput, required=False)
    crew = forms.ModelChoiceField(label=_("Asignar a cuadrilla"), queryset=Crew.objects.none(), required=False)
    status = forms.ChoiceField(label=_("Cambiar estado a"), required=False, choices=[("", "—"), *Status.choices])
    public_note = forms.CharField(
        label=_("Respuesta al vecino: qué se hizo"),
        required=False,
        max_length=2000,
        help_text=_("Obligatoria al resolver o cerrar; va igual a cada solicitud elegida."),
    )
    note = forms.CharField(label=_("Nota"), required=False, max_length=1000)
    note_is_public = forms.BooleanField(
        label=_("Visible para el vecino"), required=False, help_text=NOTE_IS_PUBLIC_HELP
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["crew"].queryset = Crew.objects.for_staff(user).order_by("name")


TRIAGE = "triage"


class SupervisionFilterForm(forms.Form):
    """The supervision list's filters, a GET form of single selects and one checkbox (keyboard and screen-reader
    friendly, no Ctrl-click multi-select). `filters()` gives supervision_reports' arguments."""

    categoria = forms.ModelChoiceField(
        label=_("Categoría"),
        queryset=Category.objects.order_by("name_es"),
        to_field_name="service_code",
        required=False,
        empty_label=_("Todas"),
    )
    zona = ZoneField(
        label=_("Zona"),
        required=False,
        empty_label=_("Todas"),
        queryset=Zone.objects.none(),
    )
    cuadrilla = forms.ChoiceField(label=_("Cuadrilla"), required=False)
    estado = forms.ChoiceField(
        label=_("Estado"),
        required=False,
        choices=[("", _("Todos los abiertos")), *[(s.value, s.label) for s in Status if s in OPEN]],
    )
    vencidas = forms.BooleanField(label=_("Solo vencidas"), required=False)
    sin_lugar = forms.BooleanField(label=_("Solo sin lugar (reclamos, consultas, correo, WhatsApp...)"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zona"].queryset = (
            Zone.objects.current()
            .for_staff(user)
            .select_related("commune")
            .defer("geometry", "commune__geometry")
            .order_by("commune__name", "name", "pk")
        )
        self.crews = {str(crew.pk): crew for crew in Crew.objects.for_staff(user).order_by("name")}
        self.fields["cuadrilla"].choices = [
            ("", _("Todas")),
            (TRIAGE, _("Cola de triage (sin cuadrilla)")),
            *[(key, crew.name) for key, crew in self.crews.items()],
        ]

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "category": data["categoria"],
            "zone": data["zona"],
            "crew": self.crews.get(data["cuadrilla"]),
            "triage": data["cuadrilla"] == TRIAGE,
            "status": data["estado"],
            "overdue": data["vencidas"],
            "placeless": data["sin_lugar"],
        }


class ReportCodeField(forms.CharField):
    """A tracking code, as a supervisor types it, cleaned to the report it names among those they may see."""

    reports = Report.objects.none()

    def clean(self, value):
        code = super().clean(value)
        report = report_by_tracking_code(code, among=self.reports)
        if report is None:
            raise forms.ValidationError(_("No hay una solicitud con el código «%(code)s».") % {"code": code})
        return report


class MergeForm(forms.Form):
    duplicate = ReportCodeField(label=_("Solicitud duplicada (se cierra)"), max_length=40)
    original = ReportCodeField(label=_("Solicitud original (sigue abierta)"), max_length=40)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("duplicate", "original"):
            self.fields[name].reports = Report.objects.for_staff(user)


class OperatorReportForm(forms.Form):
    # The kind decides whether the map step applies (operator_console.js hides it for a kind without a place).
    # Left out, a service request (what the console filed before kinds existed).
    kind = forms.ChoiceField(
        label=_("Tipo de solicitud"), choices=RequestKind.choices, initial=RequestKind.SERVICE_REQUEST, required=False
    )
    channel = forms.ChoiceField(
        label=_("Canal"), choices=[(c.value, c.label) for c in (Channel.PHONE, Channel.IN_PERSON)]
    )
    # Next to the channel, which decides what it means: the desk the person came to, or the line that took the call.
    received_at = ServicePointField(
        label=_("Punto de atención u oficina que recibió la solicitud"),
        required=False,
        empty_label="—",
        queryset=ServicePoint.objects.none(),
        help_text=_(
            "Presencial: el punto de atención u oficina donde vino la persona (obligatorio si su comuna tiene puntos "
            "cargados). Teléfono: el punto u oficina que atendió la llamada, normalmente la suya (una central "
            "telefónica se carga como punto de atención de tipo «otro»); «—» si no lo sabe."
        ),
    )
    category = forms.ModelChoiceField(
        label=_("Categoría"), queryset=Category.objects.filter(is_active=True), to_field_name="service_code"
    )
    # Optional here: report_create requires them for the kinds that need a place, with its own message.
    latitude = forms.FloatField(label=_("Latitud"), required=False)
    longitude = forms.FloatField(label=_("Longitud"), required=False)
    commune = forms.ModelChoiceField(
        label=_("Comuna (si no la indica el punto de atención)"),
        required=False,
        queryset=Commune.objects.none(),
        to_field_name="cut",
        empty_label="—",
    )
    address = forms.CharField(label=_("Dirección o referencia"), required=False, max_length=300)
    description = forms.CharField(label=_("Descripción"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    reporter_name = forms.CharField(
        label=_("Nombre de la persona (llama o viene a la oficina)"), required=False, max_length=200
    )
    reporter_phone = forms.CharField(label=_("Teléfono"), required=False, max_length=40)
    reporter_email = forms.EmailField(label=_("Correo"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["received_at"].queryset = served_service_points().for_staff(user)
        self.fields["commune"].queryset = Commune.objects.active().for_staff(user).defer("geometry").order_by("name")
