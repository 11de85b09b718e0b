"""Data: department heads and escalation rules belong to a comuna (docs/escalation.md, "Por comuna").

Before, one head per department and one set of levels served every comuna, and an alert reached only the people
working for the request's comuna (alerts.selectors.Directory.works_for). Kept as it was: each rule is copied to every
active comuna; each head is kept for each comuna its account works for (every active comuna for a superuser, and for
an account of no comuna, which heard of nothing before and hears of nothing now until it is given one). With no
active comuna the rows serve nobody and are dropped."""

from django.db import migrations


def to_communes(apps, schema_editor):
    Commune = apps.get_model("zones", "Commune")
    CommuneMembership = apps.get_model("zones", "CommuneMembership")
    DepartmentHead = apps.get_model("alerts", "DepartmentHead")
    EscalationRule = apps.get_model("alerts", "EscalationRule")
    active = list(Commune.objects.filter(is_active=True).order_by("cut").values_list("pk", flat=True))
    for head in DepartmentHead.objects.filter(commune__isnull=True).select_related("user"):
        theirs = list(CommuneMembership.objects.filter(user_id=head.user_id).values_list("commune_id", flat=True))
        communes = active if head.user.is_superuser or not theirs else sorted(theirs)
        for commune_id in communes:
            DepartmentHead.objects.create(commune_id=commune_id, department_id=head.department_id, user_id=head.user_id)
        head.delete()
    for rule in EscalationRule.objects.filter(commune__isnull=True):
        for commune_id in active:
            EscalationRule.objects.create(
                commune_id=commune_id,
                department_id=rule.department_id,
                level=rule.level,
                threshold_business_days=rule.threshold_business_days,
                recipients=rule.recipients,
            )
        rule.delete()


def back_to_installation(apps, schema_editor):
    """Reversed: one row per department (and level) again, the lowest comuna's, as the unique constraints allow."""
    DepartmentHead = apps.get_model("alerts", "DepartmentHead")
    EscalationRule = apps.get_model("alerts", "EscalationRule")
    kept = set()
    for head in DepartmentHead.objects.order_by("department_id", "commune__cut"):
        if head.department_id in kept:
            head.delete()
        kept.add(head.department_id)
    kept = set()
    for rule in EscalationRule.objects.order_by("department_id", "level", "commune__cut"):
        if (rule.department_id, rule.level) in kept:
            rule.delete()
        kept.add((rule.department_id, rule.level))


class Migration(migrations.Migration):
    dependencies = [("alerts", "0004_per_commune_heads_and_rules")]

    operations = [migrations.RunPython(to_communes, back_to_installation)]
