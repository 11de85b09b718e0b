import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Crea el usuario administrador de la demo local (admin) con una contraseña aleatoria guardada en "
        "var/demo-admin-password.txt. No se ejecuta en producción."
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
        self.stdout.write(f"admin de la demo: usuario 'admin', contraseña '{password}' (en {secret_file})")
