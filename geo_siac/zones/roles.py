"""The roles of the crew workspace and operator console, as Django groups (the admin assigns people to them).

Crew membership itself is `Crew.members`; the CREW_MEMBER group only opens the workspace's door."""

CREW_MEMBER = "Cuadrilla"
SUPERVISOR = "Supervisión"
OPERATOR = "Operación"
ROLES = (CREW_MEMBER, SUPERVISOR, OPERATOR)


def has_role(user, role: str) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=role).exists()


def is_supervisor(user) -> bool:
    return has_role(user, SUPERVISOR)


def is_operator(user) -> bool:
    return has_role(user, OPERATOR)
