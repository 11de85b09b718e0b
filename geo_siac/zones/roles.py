"""The roles of the crew workspace and operator console, as Django groups (the admin assigns people to them).

Crew membership itself is `Crew.members`, and it, not the CREW_MEMBER group, opens the crew pages
(workspace.access.may_use_crew_pages): the group names who works in the field."""

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

CREW_MEMBER = "Cuadrilla"
SUPERVISOR = "Supervisión"
OPERATOR = "Operación"
ROLES = (CREW_MEMBER, SUPERVISOR, OPERATOR)

# What each role sees and does, as the user form explains it (workspace.access holds the pages' rules).
ROLE_DESCRIPTIONS = {
    CREW_MEMBER: _(
        "Cuadrilla: nombra a quien trabaja en terreno. La «Cola de la cuadrilla», con las solicitudes de sus "
        "cuadrillas, la abre ser miembro de una (Administración › Territorio › Cuadrillas), con o sin este grupo."
    ),
    SUPERVISOR: _(
        "Supervisión: ve todas las solicitudes de sus comunas; asigna, deriva, reclasifica, prorroga y responde con "
        "carta (para firmarla necesita nombre completo y un cargo en Solicitudes ciudadanas › Firmantes de cartas)."
    ),
    OPERATOR: _(
        "Operación: registra en la «Consola de operación» las solicitudes recibidas por teléfono o en persona."
    ),
}


def role_needed(role: str):
    """What a 403 page says a role page needs, worded once for every role."""
    return format_lazy(_("el rol {role}"), role=role)


def has_role(user, role: str) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or role in group_names(user)


def group_names(user) -> frozenset[str]:
    """The user's group names, read once per user object, as Django caches permissions (`_perm_cache`): a request
    loads its user afresh, and a crew page asked "supervisor?" three times, one query each."""
    try:
        return user._geo_siac_groups
    except AttributeError:
        user._geo_siac_groups = frozenset(user.groups.values_list("name", flat=True))
        return user._geo_siac_groups


def is_supervisor(user) -> bool:
    return has_role(user, SUPERVISOR)


def is_operator(user) -> bool:
    return has_role(user, OPERATOR)
