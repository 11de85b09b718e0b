from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInLink(models.Model):
    """A one-time sign-in link to "Mis solicitudes": only the SHA-256 of its token is stored, so the table alone
    signs nobody in; `used_at` is set in the transaction that creates the citizen's session."""

    email = models.EmailField(_("correo"))
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("pedido"))
    expires_at = models.DateTimeField(_("vence"))
    used_at = models.DateTimeField(_("usado"), null=True, blank=True)

    class Meta:
        verbose_name = _("enlace de ingreso")
        verbose_name_plural = _("enlaces de ingreso")
        constraints = [models.UniqueConstraint(fields=["token_hash"], name="sign_in_link_unique_token_hash")]

    def __str__(self) -> str:
        return f"{self.email} {self.created_at:%Y-%m-%d %H:%M}"
