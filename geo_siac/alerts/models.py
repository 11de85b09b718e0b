"""Staff alerts and escalation (docs/escalation.md): the rules an administrator edits, the alerts that fired (one
row per report, kind and level: the database is what makes "never twice" true), each person's inbox and how they
want to hear of it."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.models import Department
from geo_siac.zones.models import Commune, CommuneMembership
from geo_siac.zones.tenancy import TenantQuerySet

# The groups a migration creates for the two municipal roles escalation can reach (docs/crews.md).
OIRS_COORDINATION = "Coordinación OIRS"
MUNICIPAL_ADMINISTRATION = "Administración municipal"


class Recipient(models.TextChoices):
    CREW = "crew", _("Integrantes de la cuadrilla")
    CREW_SUPERVISOR = "crew_supervisor", _("Supervisión de la cuadrilla")
    DEPARTMENT_HEAD = "department_head", _("Jefatura de la dirección")
    OIRS_COORDINATOR = "oirs_coordinator", _("Coordinación OIRS")
    MUNICIPAL_ADMINISTRATOR = "municipal_administrator", _("Administración municipal")


class AlertKind(models.TextChoices):
    ASSIGNED = "assigned", _("Asignada")
    DUE_SOON = "due_soon", _("Por vencer")
    OVERDUE = "overdue", _("Vencida")
    REOPENED = "reopened", _("Reabierta")
    CITIZEN_INFO = "citizen_info", _("Información de la ciudadanía")
    TRIAGE_WAIT = "triage_wait", _("Esperando en triage")
    ESCALATION = "escalation", _("Escalamiento")


class DepartmentHeadQuerySet(TenantQuerySet):
    pass


class DepartmentHead(models.Model):
    """Who heads a department in one comuna: escalation of that comuna's requests reaches them, and the deadline
    board lets them reassign and extend those requests. Each comuna names its own (a Peñalolén head never hears of
    a Puente Alto request)."""

    commune = models.ForeignKey(
        Commune, verbose_name=_("comuna"), on_delete=models.CASCADE, related_name="department_heads"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("dirección municipal"), on_delete=models.CASCADE, related_name="heads"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("jefatura"),
        on_delete=models.CASCADE,
        related_name="headed_departments",
    )

    objects = DepartmentHeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("jefatura de dirección")
        verbose_name_plural = _("jefaturas de dirección")
        constraints = [
            models.UniqueConstraint(fields=["commune", "department"], name="department_head_one_per_commune")
        ]

    def __str__(self) -> str:
        return f"{self.department} ({self.commune.name}): {self.user}"

    def clean(self):
        if self.user_id is None or self.commune_id is None or self.user.is_superuser:
            return
        if not CommuneMembership.objects.filter(user_id=self.user_id, commune_id=self.commune_id).exists():
            raise ValidationError({"user": _("La jefatura debe ser una cuenta que atienda esa comuna.")})


class EscalationRuleQuerySet(TenantQuerySet):
    pass


class EscalationRule(models.Model):
    """Level `level` of a department's escalation in one comuna: reached `threshold_business_days` business days
    after the request's due day (negative: before it; 0: on the due day itself), it tells `recipients`."""

    commune = models.ForeignKey(
        Commune, verbose_name=_("comuna"), on_delete=models.CASCADE, related_name="escalation_rules"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("dirección municipal"), on_delete=models.CASCADE, related_name="escalation_rules"
    )
    level = models.PositiveSmallIntegerField(
        _("nivel"),
        help_text=_(
            "1 es el primer aviso; cada nivel siguiente (2, 3...) se alcanza después que el anterior: su umbral "
            "debe ser mayor."
        ),
    )
    threshold_business_days = models.SmallIntegerField(
        _("umbral (días hábiles desde el plazo)"),
        help_text=_(
            "Negativo: antes del día del plazo (-2: faltan dos días hábiles); 0: el día del plazo; "
            "1: vencida desde el día hábil siguiente; 5: vencida hace cinco días hábiles."
        ),
    )
    recipients = ArrayField(models.CharField(max_length=32, choices=Recipient.choices), verbose_name=_("avisar a"))

    objects = EscalationRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("regla de escalamiento")
        verbose_name_plural = _("reglas de escalamiento")
        ordering = ["commune", "department", "level"]
        constraints = [
            models.UniqueConstraint(fields=["commune", "department", "level"], name="escalation_rule_unique_level"),
            models.CheckConstraint(condition=models.Q(level__gte=1), name="escalation_rule_level_from_1"),
            models.CheckConstraint(
                condition=models.Q(threshold_business_days__range=(-60, 250)), name="escalation_rule_threshold_range"
            ),
            models.CheckConstraint(condition=~models.Q(recipients=[]), name="escalation_rule_has_recipients"),
        ]

    def __str__(self) -> str:
        return f"{self.department} ({self.commune.name}) {self.level}"

    def clean(self):
        # A later level must be reached later: else a catch-up tells the higher and the lower stays silent forever.
        if None in (self.commune_id, self.department_id, self.level, self.threshold_business_days):
            return
        siblings = EscalationRule.objects.filter(commune_id=self.commune_id, department_id=self.department_id).exclude(
            pk=self.pk
        )
        below = siblings.filter(level__lt=self.level).order_by("-level").first()
        above = siblings.filter(level__gt=self.level).order_by("level").first()
        if below is not None and self.threshold_business_days <= below.threshold_business_days:
            raise ValidationError(
                {
                    "threshold_business_days": _(
                        "Debe ser mayor que el umbral del nivel %(level)s (%(days)s): un nivel se alcanza después "
                        "del anterior."
                    )
                    % {"level": below.level, "days": below.threshold_business_days}
                }
            )
        if above is not None and self.threshold_business_days >= above.threshold_business_days:
            raise ValidationError(
                {
                    "threshold_business_days": _(
                        "Debe ser menor que el umbral del nivel %(level)s (%(days)s): un nivel se alcanza antes "
                        "del siguiente."
                    )
                    % {"level": above.level, "days": above.threshold_business_days}
                }
            )


class AlertQuerySet(TenantQuerySet):
    tenant_path = "report__commune"


class Alert(models.Model):
    """An alert that fired for a report. Unique per report, kind and level: `manage.py escalate` inserts with ON
    CONFLICT DO NOTHING, so however many runs overlap or repeat, each fires once. `level` is the escalation level,
    the reopening's number (reopened) or the crew (assigned), 0 otherwise. A `silent` row told nobody: an
    escalation level reached while a higher one was due (docs/escalation.md, "Catching up")."""

    report = models.ForeignKey(
        "reports.Report", verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="alerts", db_index=False
    )
    kind = models.CharField(_("tipo"), max_length=16, choices=AlertKind.choices)
    level = models.IntegerField(_("nivel"), default=0)
    fired_at = models.DateTimeField(_("emitido"))
    # An escalation's rule as it stood when it fired, so its text never follows later edits; null before 0007.
    threshold_business_days = models.SmallIntegerField(_("umbral (días hábiles desde el plazo)"), null=True, blank=True)
    recipients = ArrayField(models.CharField(max_length=32), verbose_name=_("avisar a"), default=list, blank=True)
    # A level a catch-up passed (a higher one was due in the same run): kept so it never fires, told to nobody.
    silent = models.BooleanField(_("alcanzado sin aviso"), default=False, db_default=False)
    # On the level a catch-up told: the lower levels that run recorded silent, which its text names.
    passed_levels = ArrayField(
        models.SmallIntegerField(),
        verbose_name=_("niveles alcanzados sin aviso"),
        default=list,
        db_default=[],
        blank=True,
    )
    # And whom those levels would have told (their rules' recipients, in order), which its text names too.
    passed_recipients = ArrayField(
        models.CharField(max_length=32),
        verbose_name=_("no avisados"),
        default=list,
        db_default=[],
        blank=True,
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("aviso emitido")
        verbose_name_plural = _("avisos emitidos")
        constraints = [models.UniqueConstraint(fields=["report", "kind", "level"], name="alert_fires_once")]

    def __str__(self) -> str:
        return f"{self.report_id} {self.kind} {self.level}"


class StaffAlert(models.Model):
    """One alert in one person's inbox; `digested_at` is when a daily digest carried it."""

    alert = models.ForeignKey(Alert, verbose_name=_("aviso"), on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("persona"),
        on_delete=models.CASCADE,
        related_name="staff_alerts",
        db_index=False,
    )
    read_at = models.DateTimeField(_("leído"), null=True, blank=True)
    digested_at = models.DateTimeField(_("enviado en resumen"), null=True, blank=True)

    class Meta:
        verbose_name = _("aviso en bandeja")
        verbose_name_plural = _("avisos en bandeja")
        constraints = [models.UniqueConstraint(fields=["user", "alert"], name="staff_alert_unique")]
        indexes = [models.Index(fields=["user", "read_at"], name="staff_alert_unread")]


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", _("Inmediato")
    DIGEST = "digest", _("Resumen diario")


class StaffAlertPreference(models.Model):
    """How a person hears of their alerts by email; without a row, immediately, in Spanish."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("persona"), on_delete=models.CASCADE, related_name="alert_preference"
    )
    delivery = models.CharField(_("envío"), max_length=16, choices=Delivery.choices, default=Delivery.IMMEDIATE)
    language = models.CharField(_("idioma"), max_length=8, choices=settings.LANGUAGES, default="es-cl")

    class Meta:
        verbose_name = _("preferencia de avisos")
        verbose_name_plural = _("preferencias de avisos")
