"""Who may open which staff page (the navigation bar and the landing after login read it here), and which reports
each person may see."""

from datetime import datetime, timedelta

from django.contrib import admin
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from geo_siac.alerts.selectors import may_use_board, may_use_inbox
from geo_siac.reports.models import Report
from geo_siac.web.access import is_staff_member, role_required
from geo_siac.zones.roles import OPERATOR, SUPERVISOR, is_operator, is_supervisor, role_needed
from geo_siac.zones.selectors import crews_of


def visible_reports(user) -> QuerySet[Report]:
    """Supervisors and admins see every report of their comunas; a crew member only those of their crews (anything
    else 404s)."""
    reports = Report.objects.for_staff(user)
    if is_supervisor(user):
        return reports
    return reports.filter(crew__in=crews_of(user))


def may_use_crew_pages(user) -> bool:
    """Asked once per user object, as zones.roles.group_names: a crew page asks it for its access and again for its
    navigation bar, a query each."""
    try:
        return user._geo_siac_crew_pages
    except AttributeError:
        user._geo_siac_crew_pages = is_supervisor(user) or crews_of(user).exists()
        return user._geo_siac_crew_pages


def may_use_admin(user) -> bool:
    """The admin's own rule for listing a model on its index (AdminSite._build_app_dict), stopping at the first: a
    staff account without one would meet only "No tiene permiso para ver o editar nada". Building the whole list
    reversed a URL per model on every staff page. Asked once per user object, as may_use_crew_pages."""
    try:
        return user._geo_siac_admin
    except AttributeError:
        request = HttpRequest()
        request.user = user
        user._geo_siac_admin = is_staff_member(user) and any(
            model_admin.has_module_permission(request) and any(model_admin.get_model_perms(request).values())
            for model_admin in admin.site._registry.values()
        )
        return user._geo_siac_admin


crew_required = role_required(
    may_use_crew_pages, needs=format_lazy(_("{role}, o ser miembro de una cuadrilla"), role=role_needed(SUPERVISOR))
)
supervisor_required = role_required(is_supervisor, needs=role_needed(SUPERVISOR))
operator_required = role_required(is_operator, needs=role_needed(OPERATOR))


# Every staff page a person may be shown, in the navigation bar's order: (URL name, label, who may use it).
STAFF_PAGES = (
    ("operator:new", _("Consola de operación"), is_operator),
    ("crew:home", _("Cola de la cuadrilla"), may_use_crew_pages),
    ("crew:supervision", _("Supervisión"), is_supervisor),
    ("alerts:board", _("Por vencer y vencidas"), may_use_board),
    ("maps:heatmap", _("Mapa de calor"), is_staff_member),
    ("maps:coverage", _("Cobertura"), is_staff_member),
    ("attention:agenda", _("Agenda de citas"), is_operator),
    ("transparency:executive", _("Informe ejecutivo"), is_staff_member),
    ("admin:index", _("Administración"), may_use_admin),
    ("alerts:inbox", _("Avisos"), may_use_inbox),
)
# Where a login without ?next= lands: the first of these the person may use (a superuser oversees, so supervision).
LANDING_ORDER = ("crew:supervision", "operator:new", "crew:home", "maps:heatmap")


def staff_pages(user) -> list[tuple[str, str]]:
    """The (URL name, label) of each staff page this person may use; none for a visitor."""
    if not user.is_authenticated:
        return []
    return [(name, label) for name, label, may_use in STAFF_PAGES if may_use(user)]


def landing_page(user) -> str | None:
    """The URL name of the person's own workspace, or None when no staff page is theirs."""
    usable = {name for name, _label in staff_pages(user)}
    return next((name for name in LANDING_ORDER if name in usable), None)


# How long a phone may keep a change recorded offline before it must reload the report (docs/crews.md).
SEEN_MAX_AGE = timedelta(days=14)


def seen_token(user, report: Report) -> str:
    """The report and its version as this person's page showed them, signed: the offline app sends it back with a
    change, proving the report was theirs to see even if it has since been re-routed away from them."""
    return signing.dumps([report.pk, report.updated_at.isoformat()], salt=f"geo_siac.crew-seen.{user.pk}")


def seen_report(user, token: str) -> tuple[Report, datetime]:
    """The report and version a `seen_token` names; ValidationError if it is not one, another person's or too old."""
    try:
        pk, seen = signing.loads(token, salt=f"geo_siac.crew-seen.{user.pk}", max_age=SEEN_MAX_AGE)
        return Report.objects.for_staff(user).select_related("crew").get(pk=pk), datetime.fromisoformat(seen)
    except (signing.BadSignature, Report.DoesNotExist, TypeError, ValueError):
        raise ValidationError(
            {
                "seen": _(
                    "La versión de la solicitud no es válida o tiene más de %(days)d días: "
                    "abra la solicitud con conexión y registre el cambio otra vez."
                )
                % {"days": SEEN_MAX_AGE.days}
            }
        ) from None
