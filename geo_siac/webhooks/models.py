"""Webhooks: back-office systems told of every request event, each delivery queued in the event's own transaction
(by the trigger of migration 0002) and sent by `manage.py deliver_webhooks` (docs/webhooks.md)."""

import secrets

from django.contrib.postgres.fields import ArrayField
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.reports.models import Report, ReportEvent


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A receiver of request events, edited in the admin."""

    description = models.CharField(_("descripción"), max_length=200)
    url = models.URLField(_("URL"), max_length=500, validators=[URLValidator(schemes=["http", "https"])])
    # Kept readable: each body is signed with it (HMAC-SHA256), so the receiver must hold the same value.
    secret = models.CharField(
        _("secreto para firmar"),
        max_length=128,
        default=new_secret,
        help_text=_("Entréguelo al sistema receptor: con él verifica la firma de cada envío."),
    )
    is_active = models.BooleanField(
        _("activo"), default=True, help_text=_("Un destino inactivo acumula sus envíos y los recibe al reactivarlo.")
    )
    is_internal = models.BooleanField(
        _("interno"),
        default=False,
        help_text=_(
            "Un destino interno recibe también los eventos internos, el código de seguimiento, la ubicación "
            "exacta, la dirección y la descripción. Nunca los datos de contacto del vecino."
        ),
    )
    # No choices on the column: the admin form offers EventKind's, and a new kind needs no migration here.
    event_kinds = ArrayField(
        models.CharField(max_length=16),
        blank=True,
        default=list,
        verbose_name=_("tipos de evento"),
        help_text=_("Ninguno marcado: todos."),
    )
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)

    class Meta:
        verbose_name = _("destino de webhooks")
        verbose_name_plural = _("destinos de webhooks")
        ordering = ["description"]

    def __str__(self) -> str:
        return self.description


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pendiente")
    DELIVERED = "delivered", _("Entregado")
    FAILED = "failed", _("Fallido definitivamente")
    SKIPPED = "skipped", _("Omitido: no corresponde a este destino")
    ARCHIVED = "archived", _("No enviado: su año se archivó con el destino inactivo")


class WebhookDelivery(models.Model):
    """One event for one endpoint: the unique pair is what makes each event reach each endpoint at most once."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("destino"), on_delete=models.CASCADE, related_name="deliveries"
    )
    # As an event photo's: the database's foreign key is (event, report), the events table being partitioned by
    # report (reports.partitions); the trigger that writes deliveries fills both.
    event = models.ForeignKey(
        ReportEvent, verbose_name=_("evento"), on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    report = models.ForeignKey(Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("estado"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("intentos"), default=0)
    next_attempt_at = models.DateTimeField(_("próximo intento"))
    delivered_at = models.DateTimeField(_("entregado"), null=True, blank=True)
    created_at = models.DateTimeField(_("en cola desde"))

    class Meta:
        verbose_name = _("envío de webhook")
        verbose_name_plural = _("envíos de webhooks")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")]
        # Partial: the worker asks only for pending rows, and most rows are delivered history.
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"], condition=models.Q(state="pending"), name="webhook_delivery_due"
            )
        ]

    def __str__(self) -> str:
        return f"{self.endpoint}: {self.event_id}"


class WebhookAttempt(models.Model):
    """The log of one endpoint: every try, what it answered and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, verbose_name=_("envío"), on_delete=models.CASCADE, related_name="log")
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("destino"), on_delete=models.CASCADE, related_name="attempts"
    )
    attempted_at = models.DateTimeField(_("intento"))
    status_code = models.PositiveSmallIntegerField(_("código HTTP"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latencia (ms)"))
    response_excerpt = models.TextField(_("inicio de la respuesta"), blank=True)
    error = models.TextField(_("mensaje de error"), blank=True)

    class Meta:
        verbose_name = _("intento de envío")
        verbose_name_plural = _("registro de intentos")
        ordering = ["-attempted_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "-attempted_at"], name="webhook_attempt_endpoint")]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
