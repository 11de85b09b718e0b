"""System checks of the alerts app that read the database (`manage.py check --database default`, and migrate)."""

from django.core import checks
from django.db import DatabaseError


def escalation_rules_order(app_configs=None, databases=None, **kwargs):
    """Warn of escalation rules whose threshold does not rise with the level (docs/escalation.md, "Catching up")."""
    if not databases:
        return []
    from geo_siac.alerts.selectors import escalation_rules_out_of_order

    try:
        rules = escalation_rules_out_of_order()
    except DatabaseError:  # not migrated yet
        return []
    if not rules:
        return []
    named = "; ".join(
        f"{rule.commune.name}, {rule.department}: nivel {rule.level} a {rule.threshold_business_days} días hábiles"
        for rule in rules
    )
    return [
        checks.Warning(
            f"Reglas de escalamiento con un umbral que no supera al del nivel anterior: {named}.",
            hint="Cada nivel debe alcanzarse después del anterior; si no, al ponerse al día el nivel más bajo queda "
            "sin aviso para siempre. Corrija los umbrales en la administración (Reglas de escalamiento).",
            id="alerts.W001",
        )
    ]
