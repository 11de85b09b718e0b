from django.contrib.gis.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.geo import STORAGE_SRID
from geo_siac.zones.models import Commune


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


# The radii a citizen may choose for an area alert's circle, in metres.
ALERT_RADII_M = (250, 500, 1000, 2000)


class AreaAlert(models.Model):
    """A citizen's weekly summary of the new public reports in an area: a circle around a pin, or a crew zone
    (by its comuna and key, so a redrawn zone keeps its subscribers). Sent only once confirmed by the emailed link
    (double opt-in); `sent_up_to` marks the reports already considered, so no report is summarised twice.
    Unsubscribing deletes the row."""

    email = models.EmailField(_("correo"))
    language = models.CharField(_("idioma"), max_length=8, default="es")
    centre = models.PointField(_("centro"), srid=STORAGE_SRID, null=True, blank=True)
    radius_m = models.PositiveIntegerField(
        _("radio (m)"), null=True, blank=True, choices=[(r, f"{r} m") for r in ALERT_RADII_M]
    )
    zone_commune = models.ForeignKey(
        Commune, verbose_name=_("comuna de la zona"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    zone_key = models.SlugField(_("clave de la zona"), max_length=80, blank=True)
    zone_name = models.CharField(_("zona"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("pedido"))
    confirmed_at = models.DateTimeField(_("confirmado"), null=True, blank=True)
    sent_up_to = models.DateTimeField(_("resumido hasta"), null=True, blank=True)

    class Meta:
        verbose_name = _("aviso por zona")
        verbose_name_plural = _("avisos por zona")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(centre__isnull=False, radius_m__isnull=False, zone_commune__isnull=True)
                    | models.Q(centre__isnull=True, radius_m__isnull=True, zone_commune__isnull=False)
                ),
                name="area_alert_circle_or_zone",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed_at__isnull=True) | models.Q(sent_up_to__isnull=False),
                name="area_alert_confirmed_has_mark",
            ),
        ]
        indexes = [
            models.Index(fields=["sent_up_to"], condition=models.Q(confirmed_at__isnull=False), name="area_alert_due")
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.area_label}"

    @property
    def area_label(self) -> str:
        if self.zone_commune_id:
            return self.zone_name or self.zone_key
        return f"{self.radius_m} m · {self.centre.y:.5f}, {self.centre.x:.5f}"
