from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.zones.models import Commune
from geo_siac.zones.tenancy import TenantQuerySet


class ApiKeyQuerySet(TenantQuerySet):
    def usable(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A client application's Open311 key. Only its SHA-256 is stored; the key is shown once, when created."""

    name = models.CharField(_("aplicación"), max_length=100)
    # A key files requests only into its comuna (docs/open311.md); none for a key an installation serving one
    # comuna made before keys had one: such a key files wherever report_create places the point.
    commune = models.ForeignKey(
        Commune, verbose_name=_("comuna"), null=True, blank=True, on_delete=models.PROTECT, related_name="api_keys"
    )
    prefix = models.CharField(_("prefijo"), max_length=8, editable=False)
    key_hash = models.CharField(_("hash SHA-256"), max_length=64, unique=True, editable=False)
    channel_label = models.CharField(
        _("etiqueta del canal"), max_length=100, help_text=_("Aparece en el historial de cada solicitud recibida.")
    )
    rate_limit_per_minute = models.PositiveIntegerField(_("límite de solicitudes por minuto"), default=30)
    contact_email = models.EmailField(_("correo de contacto"), blank=True)
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revocada"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("clave de API")
        verbose_name_plural = _("claves de API")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
