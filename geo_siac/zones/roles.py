"""The roles of the crew workspace and operator console, as Django groups (the admin assigns people to them).

Crew membership itself is `Crew.members`; the CREW_MEMBER group only opens the workspace's door."""

CREW_MEMBER = "Cuadrilla"
SUPERVISOR = "Supervisión"
OPERATOR = "Operación"
ROLES = (CREW_MEMBER, SUPERVISOR, OPERATOR)


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
