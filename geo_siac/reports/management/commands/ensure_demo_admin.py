import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from geo_siac.reports.models import Signatory
from geo_siac.zones.roles import SUPERVISOR

# The demo's one account does every staff job: supervision hears the alerts, and a letter needs a signer's name and title.
DEMO_NAME = ("Demo", "GeoSIAC")
# It answers both the OIRS's reclamos and the Unidad de Transparencia's Ley 20.285 requests, so its title names both
# units, as a small municipality's one officer for both signs; an OIRS-only title under a Transparencia answer misleads.
DEMO_TITLE = "Encargada de la OIRS y de la Unidad de Transparencia Municipal (demostración)"
# The title earlier demos gave the account, brought up to date where the municipality has not changed it.
EARLIER_DEMO_TITLES = ("Encargada de la OIRS (demostración)",)


class Command(BaseCommand):
    help = (
        "Crea el usuario administrador de la demo local (admin) con una contraseña aleatoria guardada en "
        "var/demo-admin-password.txt, con nombre y cargo para firmar cartas y en Supervisión para recibir los avisos. "
        "No se ejecuta en producción."
    )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("ensure_demo_admin es solo para la demo local; use createsuperuser en producción.")
        secret_file = settings.BASE_DIR / "var" / "demo-admin-password.txt"
        User = get_user_model()
        if User.objects.filter(username="admin").exists() and secret_file.exists():
            password = secret_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            user, _ = User.objects.get_or_create(username="admin", defaults={"email": "admin@localhost"})
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            secret_file.parent.mkdir(exist_ok=True)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
        user = User.objects.get(username="admin")
        if not user.get_full_name().strip():
            user.first_name, user.last_name = DEMO_NAME
            user.save(update_fields=["first_name", "last_name"])
        Signatory.objects.get_or_create(user=user, defaults={"title": DEMO_TITLE})
        Signatory.objects.filter(user=user, title__in=EARLIER_DEMO_TITLES).update(title=DEMO_TITLE)
        user.groups.add(Group.objects.get_or_create(name=SUPERVISOR)[0])
        self.stdout.write(f"admin de la demo: usuario 'admin', contraseña '{password}' (en {secret_file})")
