"""Procedures, where they are done (a procedure at a service point) and appointments in the slots of its hours."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.zones.models import ServicePoint
from geo_siac.zones.tenancy import TenantQuerySet


class Procedure(models.Model):
    """One entry of the procedures guide ("guía de trámites")."""

    slug = models.SlugField(_("identificador en la dirección"), max_length=80, unique=True)
    name = models.CharField(_("nombre"), max_length=200)
    summary = models.TextField(_("descripción"), blank=True)
    requirements = models.TextField(_("requisitos"), blank=True, help_text=_("Uno por línea."))
    cost = models.CharField(_("costo"), max_length=200, blank=True)
    legal_deadline = models.CharField(_("plazo legal"), max_length=200, blank=True)
    online_url = models.URLField(_("trámite en línea"), blank=True)
    responsible = models.CharField(_("unidad responsable"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("trámite")
        verbose_name_plural = _("trámites")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def requirement_list(self) -> list[str]:
        return [line.strip() for line in self.requirements.splitlines() if line.strip()]


class Offering(models.Model):
    """A procedure done at a service point, during the point's opening hours, in slots of a fixed length."""

    service_point = models.ForeignKey(
        ServicePoint, verbose_name=_("punto de atención"), on_delete=models.CASCADE, related_name="offerings"
    )
    procedure = models.ForeignKey(
        Procedure, verbose_name=_("trámite"), on_delete=models.CASCADE, related_name="offerings"
    )
    responsible = models.CharField(_("responsable en el punto"), max_length=200, blank=True)
    bookable = models.BooleanField(_("con cita previa"), default=True)
    slot_minutes = models.PositiveSmallIntegerField(
        _("minutos por cupo"), default=30, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    capacity_per_slot = models.PositiveSmallIntegerField(
        _("personas por cupo"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        verbose_name = _("trámite en un punto de atención")
        verbose_name_plural = _("trámites en puntos de atención")
        ordering = ["service_point", "procedure"]
        constraints = [
            models.UniqueConstraint(fields=["service_point", "procedure"], name="offering_unique_point_procedure"),
            models.CheckConstraint(condition=models.Q(slot_minutes__gte=5), name="offering_slot_minutes_positive"),
            models.CheckConstraint(condition=models.Q(capacity_per_slot__gte=1), name="offering_capacity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.procedure} · {self.service_point}"


class Slot(models.Model):
    """A bookable slot, written at its first booking: the row every booking of the slot locks."""

    offering = models.ForeignKey(
        Offering, verbose_name=_("trámite en el punto"), on_delete=models.CASCADE, related_name="slots"
    )
    starts_at = models.DateTimeField(_("inicio"))
    ends_at = models.DateTimeField(_("fin"))
    capacity = models.PositiveSmallIntegerField(_("cupos"))

    class Meta:
        verbose_name = _("cupo")
        verbose_name_plural = _("cupos")
        ordering = ["starts_at"]
        constraints = [models.UniqueConstraint(fields=["offering", "starts_at"], name="slot_unique_start")]

    def __str__(self) -> str:
        return f"{self.offering} {self.starts_at:%Y-%m-%d %H:%M}"


class AppointmentStatus(models.TextChoices):
    BOOKED = "booked", _("reservada")
    CANCELLED = "cancelled", _("cancelada")
    SERVED = "served", _("atendida")
    NO_SHOW = "no_show", _("no se presentó")


# The statuses that hold a seat of the slot: a cancellation frees it, the others keep it.
HOLDS_SEAT = (AppointmentStatus.BOOKED, AppointmentStatus.SERVED, AppointmentStatus.NO_SHOW)


class AppointmentQuerySet(TenantQuerySet):
    tenant_path = "slot__offering__service_point__commune"


class Appointment(models.Model):
    slot = models.ForeignKey(Slot, verbose_name=_("cupo"), on_delete=models.PROTECT, related_name="appointments")
    code = models.CharField(_("código"), max_length=12, unique=True)
    name = models.CharField(_("nombre"), max_length=120)
    email = models.EmailField(_("correo electrónico"), blank=True)
    phone = models.CharField(_("teléfono"), max_length=20, blank=True)
    language = models.CharField(_("idioma"), max_length=8, default="es")
    status = models.CharField(
        _("estado"), max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    created_at = models.DateTimeField(_("reservada el"))
    cancelled_at = models.DateTimeField(_("cancelada el"), null=True, blank=True)
    reminder_queued_at = models.DateTimeField(_("recordatorio encolado"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("llegada"), null=True, blank=True)
    served_at = models.DateTimeField(_("atendida el"), null=True, blank=True)
    # Set when the citizen's data is erased on request: the row stays, without contact, for the point's figures.
    erased_at = models.DateTimeField(_("datos borrados el"), null=True, blank=True)

    objects = AppointmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("cita")
        verbose_name_plural = _("citas")
        ordering = ["slot__starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(email="", phone="") | models.Q(erased_at__isnull=False),
                name="appointment_has_contact",
            ),
        ]
        indexes = [models.Index(fields=["status", "reminder_queued_at"], name="appointment_reminder_due")]

    def __str__(self) -> str:
        return self.code
