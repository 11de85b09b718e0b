from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from geo_siac.alerts.models import OIRS_COORDINATION, EscalationRule, Recipient
from geo_siac.catalogue.models import Department
from geo_siac.zones.models import Commune

# The three levels of docs/escalation.md's example: two business days before the due day, the day after it, five after.
DEMO_LEVELS = (
    (1, -2, [Recipient.CREW_SUPERVISOR]),
    (2, 1, [Recipient.DEPARTMENT_HEAD]),
    (3, 5, [Recipient.OIRS_COORDINATOR, Recipient.MUNICIPAL_ADMINISTRATOR]),
)


class Command(BaseCommand):
    help = (
        "Demo: las tres reglas de escalamiento del ejemplo (docs/escalation.md) para cada comuna activa y cada "
        "dirección con temas, y el administrador de la demo (admin) en Coordinación OIRS. Volver a ejecutarlo no "
        "cambia nada; no toca las reglas que ya existen."
    )

    def handle(self, *args, **options):
        departments = list(Department.objects.filter(categories__is_active=True).distinct().order_by("name"))
        created = 0
        with transaction.atomic():
            for commune in Commune.objects.active().defer("geometry").order_by("cut"):
                for department in departments:
                    for level, threshold, recipients in DEMO_LEVELS:
                        _rule, new = EscalationRule.objects.get_or_create(
                            commune=commune,
                            department=department,
                            level=level,
                            defaults={"threshold_business_days": threshold, "recipients": recipients},
                        )
                        created += new
            admin = get_user_model().objects.filter(username="admin").first()
            if admin is None:
                raise CommandError("No existe el usuario admin de la demo: ejecute antes ensure_demo_admin.")
            admin.groups.add(Group.objects.get_or_create(name=OIRS_COORDINATION)[0])
        self.stdout.write(f"demo: {created} reglas de escalamiento nuevas; admin en {OIRS_COORDINATION}")
