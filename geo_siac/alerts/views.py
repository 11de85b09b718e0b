"""The staff inbox (every staff page's navigation shows its unread count) and the deadline board."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from geo_siac.alerts.models import Delivery
from geo_siac.alerts.selectors import (
    AGE_BANDS,
    BOARD_DIMENSIONS,
    board_figures,
    board_reports,
    inbox,
    may_act_on,
    may_use_board,
    may_use_inbox,
    reroute_crews,
)
from geo_siac.alerts.services import (
    alert_text,
    deadline_state_text,
    staff_alert_preference_set,
    staff_alerts_mark_read,
)
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_extend_deadline, report_reroute
from geo_siac.reports.tracking import normalize_tracking_code
from geo_siac.web.access import role_required
from geo_siac.workspace.forms import ExtendForm, RerouteForm
from geo_siac.workspace.selectors import reroute_choices
from geo_siac.zones.models import Crew
from geo_siac.zones.roles import SUPERVISOR, role_needed
from geo_siac.zones.selectors import closed_days

INBOX_SIZE = 200
BOARD_LIST_SIZE = 100


inbox_required = role_required(may_use_inbox, needs=gettext_lazy("una cuenta activa"))
board_required = role_required(
    may_use_board, needs=format_lazy(gettext_lazy("{role}, o una jefatura de dirección"), role=role_needed(SUPERVISOR))
)


class PreferenceForm(forms.Form):
    delivery = forms.ChoiceField(label=gettext_lazy("Avisos por correo"), choices=Delivery.choices)
    language = forms.ChoiceField(label=gettext_lazy("Idioma"), choices=settings.LANGUAGES)


@inbox_required
def inbox_page(request):
    preference = getattr(request.user, "alert_preference", None)
    form = PreferenceForm(
        request.POST or None,
        initial={
            "delivery": preference.delivery if preference else Delivery.IMMEDIATE,
            "language": preference.language if preference else settings.LANGUAGE_CODE,
        },
    )
    if request.method == "POST" and form.is_valid():
        staff_alert_preference_set(user=request.user, **form.cleaned_data)
        messages.success(request, _("Preferencia guardada."))
        return redirect("alerts:inbox")
    alerts = list(inbox(request.user)[:INBOX_SIZE])
    now, closed = timezone.now(), closed_days()
    for item in alerts:
        report = item.alert.report
        item.state = deadline_state_text(report.expected_at, now, closed_days=closed, status=report.status)
        item.text = alert_text(item.alert)
    unread = any(item.read_at is None for item in alerts)
    return render(
        request,
        "alerts/inbox.html",
        {"alerts": alerts, "unread": unread, "form": form},
        status=400 if form.errors else 200,
    )


@inbox_required
@require_POST
def mark_read(request):
    staff_alerts_mark_read(user=request.user)
    return redirect("alerts:inbox")


@board_required
def board(request):
    dimension = request.GET.get("por", "department")
    if dimension not in BOARD_DIMENSIONS:
        dimension = "department"
    now = timezone.now()
    rows = board_figures(dimension, as_of=now, user=request.user)
    actionable = list(board_reports(request.user, as_of=now)[:BOARD_LIST_SIZE])
    crews = list(reroute_crews(request.user))
    notes = row_messages(request)
    for report in actionable:
        report.crew_choices = reroute_choices(report, crews)
        report.notes = notes.pop(report.tracking_code, [])
    page_messages = [message for messages in notes.values() for message in messages]  # about no row listed
    return render(
        request,
        "alerts/board.html",
        {
            "rows": rows,
            "dimension": dimension,
            "dimensions": BOARD_DIMENSIONS,
            "age_bands": AGE_BANDS,
            "reports": actionable,
            "page_messages": page_messages,
            "page_messages_role": "alert" if any(m.level_tag == "error" for m in page_messages) else "status",
            "open_code": request.GET.get("abierta", ""),
        },
    )


ROW_TAG = "board-row"


def row_messages(request) -> dict[str, list]:
    """This request's messages by the board row they are about (its code); a message about no row under "". Drawn in
    its row, where the page lands after an action, a message is seen with the row it names."""
    by_row: dict[str, list] = {}
    for message in messages.get_messages(request):
        tags = (message.extra_tags or "").split()
        code = tags[tags.index(ROW_TAG) + 1] if ROW_TAG in tags else ""
        by_row.setdefault(code, []).append(message)
    return by_row


def _board_report(request, code: str) -> Report:
    report = get_object_or_404(Report.objects.for_staff(request.user), tracking_code=normalize_tracking_code(code))
    if not may_act_on(request.user, report):
        raise PermissionDenied
    return report


def _apply(request, report: Report, form: forms.Form, action) -> object:
    """Act on one row and come back to it, open, with a message that names the request: on a long board the
    person sees which row the message is about and corrects it where it is."""
    code = report.tracking_code
    tags = f"{ROW_TAG} {code}"
    if form.is_valid():
        try:
            action(form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, f"{code}: {' '.join(exc.messages)}", extra_tags=tags)
        else:
            messages.success(request, f"{code}: {_('Cambio guardado.')}", extra_tags=tags)
            return redirect(f"{reverse('alerts:board')}#aviso-{code}")  # done: the row folded, its message in it
    else:
        messages.error(
            request,
            f"{code}: {' '.join(str(error) for errors in form.errors.values() for error in errors)}",
            extra_tags=tags,
        )
    return redirect(f"{reverse('alerts:board')}?{urlencode({'abierta': code})}#aviso-{code}")


@board_required
@require_POST
def board_reroute(request, code):
    report = _board_report(request, code)

    def reroute(data):
        crew = data["crew"]
        if not reroute_crews(request.user).filter(pk=crew.pk).exists():
            raise ValidationError(
                _("Solo puede derivar a cuadrillas de la dirección que encabeza; %(crew)s es de %(department)s.")
                % {"crew": crew.name, "department": crew.department.name}
            )
        report_reroute(
            report=report, crew=crew, reason=data["reason"], actor=request.user, seen_updated_at=data["seen"]
        )

    return _apply(
        request,
        report,
        RerouteForm(request.POST, crews=Crew.objects.all(), report=report),
        reroute,
    )


@board_required
@require_POST
def board_extend(request, code):
    report = _board_report(request, code)
    return _apply(
        request,
        report,
        ExtendForm(request.POST),
        lambda data: report_extend_deadline(
            report=report,
            business_days=data["business_days"],
            reason=data["reason"],
            actor=request.user,
            seen_updated_at=data["seen"],
        ),
    )
