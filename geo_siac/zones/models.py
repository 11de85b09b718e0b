import hashlib

from django.conf import settings
from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.models import Category, CategoryGroup, Department
from geo_siac.catalogue.terms import days_in_range, terms_errors
from geo_siac.geo import STORAGE_SRID
from geo_siac.zones import branding
from geo_siac.zones import opening_hours as hours
from geo_siac.zones.tenancy import TenantQuerySet


class CommuneQuerySet(TenantQuerySet):
    tenant_path = "pk"

    def active(self):
        return self.filter(is_active=True)

    def covering(self, point):
        """The comunas whose boundary holds the point (both, on a shared border)."""
        return self.filter(geometry__intersects=point)


class Commune(models.Model):
    """A comuna (municipality), identified by its CUT code. `is_active` marks the ones this installation serves."""

    cut = models.CharField(_("código CUT"), max_length=5, unique=True)
    name = models.CharField(_("nombre"), max_length=100)
    region = models.CharField(_("región"), max_length=100, blank=True)
    region_code = models.CharField(_("código de región"), max_length=2, blank=True)
    province = models.CharField(_("provincia"), max_length=100, blank=True)
    province_code = models.CharField(_("código de provincia"), max_length=3, blank=True)
    geometry = models.MultiPolygonField(_("límite"), srid=STORAGE_SRID)
    jurisdiction_id = models.SlugField(_("jurisdiction_id Open311"), max_length=100, unique=True)
    tracking_prefix = models.CharField(
        _("prefijo de códigos de seguimiento"), max_length=3, help_text=_("Por ejemplo PA para Puente Alto.")
    )
    is_active = models.BooleanField(_("atendida por esta instalación"), default=False)
    source = models.CharField(_("fuente del límite"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        verbose_name = _("comuna")
        verbose_name_plural = _("comunas")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.cut})"


DEFAULT_PRIMARY_COLOUR = "#0b4f6c"  # the installation's own colour (site.css)


class CommuneIdentityQuerySet(TenantQuerySet):
    pass


class CommuneIdentity(models.Model):
    """What a comuna's public pages show of it (docs/deployment.md, "Una instalación, muchas comunas"): its name,
    logo, colours and contact line, and the host name its residents reach it at. A comuna without one is shown as
    "Ilustre Municipalidad de <name>" in the installation's colours."""

    commune = models.OneToOneField(Commune, verbose_name=_("comuna"), on_delete=models.CASCADE, related_name="identity")
    display_name = models.CharField(
        _("nombre público"), max_length=150, help_text=_("Por ejemplo Municipalidad de Puente Alto.")
    )
    logo = models.FileField(
        _("logotipo"),
        upload_to="logos/",
        blank=True,
        help_text=_("PNG o JPEG de hasta 1 MB; se guarda como PNG de 128 px de alto, sin metadatos."),
    )
    primary_colour = models.CharField(
        _("color principal"),
        max_length=7,
        default=DEFAULT_PRIMARY_COLOUR,
        help_text=_("#rrggbb del encabezado, con texto blanco encima: contraste de al menos 4,5:1."),
    )
    accent_colour = models.CharField(
        _("color de acento"),
        max_length=7,
        default=DEFAULT_PRIMARY_COLOUR,
        help_text=_(
            "#rrggbb de los botones y enlaces destacados, con texto blanco encima: contraste de al menos 4,5:1."
        ),
    )
    contact_line = models.CharField(
        _("línea de contacto"),
        max_length=200,
        blank=True,
        help_text=_("Por ejemplo: OIRS, Av. Concha y Toro 1820 · +56 2 2731 4000 · oirs@mpuentealto.cl"),
    )
    public_host = models.CharField(
        _("nombre de servidor propio"),
        max_length=253,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Por ejemplo reclamos.puentealto.cl; debe estar en ALLOWED_HOSTS. Lo asigna un superusuario."),
    )
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)

    objects = CommuneIdentityQuerySet.as_manager()

    class Meta:
        verbose_name = _("identidad pública de la comuna")
        verbose_name_plural = _("identidades públicas de las comunas")
        ordering = ["commune__name"]
        # The colours are written into a stylesheet as they are: the database refuses any other shape than the
        # #rrggbb in lower case that clean() stores, whichever writer skipped clean().
        constraints = [
            models.CheckConstraint(
                condition=models.Q(**{f"{field}__regex": branding.COLOUR_PATTERN}), name=f"identity_{field}"
            )
            for field in ("primary_colour", "accent_colour")
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def stylesheet_stamp(self) -> str:
        """The `?v=` of the stylesheet's address: it changes with every save (to the microsecond, so two saves in
        one second too), and a browser may keep the stylesheet of one stamp for a year."""
        saved = f"{self.primary_colour} {self.accent_colour} {self.updated_at.isoformat()}"
        return hashlib.sha256(saved.encode()).hexdigest()[:16]

    def clean(self):
        errors = {}
        for field in ("primary_colour", "accent_colour", "public_host"):
            clean_value = branding.clean_host if field == "public_host" else branding.clean_colour
            try:
                setattr(self, field, clean_value(getattr(self, field)))
            except ValidationError as exc:
                errors[field] = exc.messages
        if errors:
            raise ValidationError(errors)


class CommuneBoundary(models.Model):
    """One version of a comuna's boundary as its source drew it (repaired). A load that brings a different
    boundary retires the current version and adds the next; `Commune.geometry` is derived from the current
    versions of every comuna, with the overlaps between neighbours split (docs/boundaries.md)."""

    commune = models.ForeignKey(Commune, on_delete=models.CASCADE, related_name="boundaries")
    version = models.PositiveIntegerField(_("versión"))
    # Read whole, never searched by location: the derived Commune.geometry carries the spatial index.
    geometry = models.MultiPolygonField(_("límite según la fuente"), srid=STORAGE_SRID, spatial_index=False)
    source = models.CharField(_("fuente del límite"), max_length=200, blank=True)
    loaded_at = models.DateTimeField(_("cargado"))
    retired_at = models.DateTimeField(_("reemplazado"), null=True, blank=True)

    class Meta:
        verbose_name = _("versión de límite comunal")
        verbose_name_plural = _("versiones de límites comunales")
        ordering = ["commune", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["commune", "version"], name="commune_boundary_unique_version"),
            models.UniqueConstraint(
                fields=["commune"], condition=models.Q(retired_at__isnull=True), name="commune_boundary_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.commune} v{self.version}"


class CommuneMembership(models.Model):
    """A staff account works for this comuna: it sees and changes only its comunas' requests, crews, zones and
    service points (zones.tenancy). Superusers work for every comuna without a row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("cuenta"), on_delete=models.CASCADE, related_name="commune_memberships"
    )
    commune = models.ForeignKey(Commune, verbose_name=_("comuna"), on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        verbose_name = _("comuna de la cuenta")
        verbose_name_plural = _("comunas de la cuenta")
        constraints = [models.UniqueConstraint(fields=["user", "commune"], name="commune_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} · {self.commune.name}"


class CommuneCategoryQuerySet(TenantQuerySet):
    pass


class CommuneCategory(models.Model):
    """How one comuna offers one category: whether it takes it, in how many business days it promises an answer,
    and which department answers it there. A comuna without a row for a category offers it as the catalogue says
    (enabled, the category's days and department), so a new category or a newly served comuna needs no rows.
    The one rule that reads it is zones.selectors.category_terms (docs/staff-accounts.md, "Servicios por comuna")."""

    commune = models.ForeignKey(
        Commune, verbose_name=_("comuna"), on_delete=models.CASCADE, related_name="category_terms"
    )
    category = models.ForeignKey(Category, verbose_name=_("categoría"), on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(_("se atiende en la comuna"), default=True)
    response_days = models.PositiveSmallIntegerField(
        _("plazo de respuesta (días hábiles)"),
        null=True,
        blank=True,
        help_text=_("Vacío: el plazo de la categoría."),
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("unidad responsable"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Vacío: la unidad responsable de la categoría."),
    )

    objects = CommuneCategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("servicio de la comuna")
        verbose_name_plural = _("servicios de la comuna")
        ordering = ["commune", "category__group__order", "category__name_es"]
        constraints = [
            models.UniqueConstraint(fields=["commune", "category"], name="commune_category_unique"),
            models.CheckConstraint(condition=days_in_range(), name="commune_category_days_in_range"),
        ]

    def __str__(self) -> str:
        return f"{self.commune.name} · {self.category}"

    def terms_errors(self) -> dict[str, str]:
        """What catalogue.terms refuses in this comuna's row (its clean, and the check zones.W001)."""
        category = self.category
        return terms_errors(
            kind=category.kind,
            response_days=self.response_days,
            has_department=self.department_id is not None or category.department_id is not None,
            offered=self.enabled and category.is_public and category.is_active,
            offered_by=str(self._meta.get_field("enabled").verbose_name),
        )

    def clean(self):
        if self.category_id is None:
            return
        errors = self.terms_errors()
        if errors:
            raise ValidationError(errors)


class CrewQuerySet(TenantQuerySet):
    pass


class Crew(models.Model):
    """A department's field team, working for one comuna."""

    department = models.ForeignKey(
        Department, verbose_name=_("dirección municipal"), on_delete=models.PROTECT, related_name="crews"
    )
    commune = models.ForeignKey(Commune, verbose_name=_("comuna"), on_delete=models.PROTECT, related_name="crews")
    name = models.CharField(_("nombre"), max_length=120, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="crews", verbose_name=_("integrantes")
    )
    daily_capacity = models.PositiveSmallIntegerField(_("capacidad diaria (solicitudes)"), default=10)

    objects = CrewQuerySet.as_manager()

    class Meta:
        verbose_name = _("cuadrilla")
        verbose_name_plural = _("cuadrillas")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ZoneQuerySet(TenantQuerySet):
    def current(self):
        return self.filter(retired_at__isnull=True)


class Zone(models.Model):
    """One version of a named crew zone inside a comuna. Redrawing retires this row and adds the next version,
    so a report keeps pointing at the polygon it was routed by."""

    commune = models.ForeignKey(Commune, verbose_name=_("comuna"), on_delete=models.PROTECT, related_name="zones")
    key = models.SlugField(_("clave"), max_length=80, help_text=_("Igual en todas las versiones de la zona."))
    name = models.CharField(_("nombre"), max_length=120)
    version = models.PositiveIntegerField(_("versión"), default=1)
    geometry = models.MultiPolygonField(_("polígono"), srid=STORAGE_SRID)
    created_at = models.DateTimeField(_("vigente desde"))
    retired_at = models.DateTimeField(_("reemplazada"), null=True, blank=True)
    source = models.CharField(_("origen"), max_length=200, blank=True)

    objects = ZoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("zona")
        verbose_name_plural = _("zonas")
        ordering = ["commune", "key", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["commune", "key", "version"], name="zone_unique_version"),
            models.UniqueConstraint(
                fields=["commune", "key"], condition=models.Q(retired_at__isnull=True), name="zone_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def label(self) -> str:
        """The zone in a list of several comunas' zones: every comuna has its "Cuadro 1-1", so the comuna comes
        first (select the commune with the zones)."""
        return f"{self.commune.name} · {self.name}"


class ZoneResponsibilityQuerySet(TenantQuerySet):
    tenant_path = "zone__commune"


class ZoneResponsibility(models.Model):
    """Which crew answers a zone's reports: for one category, for a category group, or (neither) for the rest.
    The most specific row wins."""

    zone = models.ForeignKey(Zone, verbose_name=_("zona"), on_delete=models.CASCADE, related_name="responsibilities")
    crew = models.ForeignKey(
        Crew, verbose_name=_("cuadrilla"), on_delete=models.PROTECT, related_name="responsibilities"
    )
    category = models.ForeignKey(
        Category, verbose_name=_("categoría"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    category_group = models.ForeignKey(
        CategoryGroup,
        verbose_name=_("grupo de categorías"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    objects = ZoneResponsibilityQuerySet.as_manager()

    class Meta:
        verbose_name = _("responsabilidad de zona")
        verbose_name_plural = _("responsabilidades de zona")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__isnull=True) | models.Q(category_group__isnull=True),
                name="responsibility_category_or_group",
            ),
            models.UniqueConstraint(
                fields=["zone", "category", "category_group"], nulls_distinct=False, name="responsibility_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.zone} → {self.crew}"

    def clean(self):
        if self.crew_id and self.zone_id and self.crew.commune_id != self.zone.commune_id:
            raise ValidationError({"crew": _("La cuadrilla debe ser de la comuna de la zona.")})


class ClosedDay(models.Model):
    """A day this installation does not work (a local holiday, a municipal closure): deadlines skip it."""

    day = models.DateField(_("día"), unique=True)
    reason = models.CharField(_("motivo"), max_length=200)

    class Meta:
        verbose_name = _("día inhábil adicional")
        verbose_name_plural = _("días inhábiles adicionales")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.reason}"


class ServicePointKind(models.TextChoices):
    MUNICIPAL_OFFICE = "municipal_office", _("oficina municipal")
    OIRS = "oirs", _("OIRS")
    HEALTH = "health", _("CESFAM / salud")
    LIBRARY = "library", _("biblioteca")
    MOBILE_OFFICE = "mobile_office", _("oficina móvil")
    NIGHT_SERVICE = "night_service", _("atención nocturna")
    OTHER = "other", _("otro")


class ServicePointQuerySet(TenantQuerySet):
    def municipal(self):
        """Where the municipality itself attends and receives requests: every kind but health facilities, loaded
        for coverage (DEIS lists private clinics too), whose complaints go to the health service's own OIRS."""
        return self.exclude(kind=ServicePointKind.HEALTH)


class ServicePoint(models.Model):
    """A place where residents are attended. `opening_hours` null means the hours are unknown."""

    name = models.CharField(_("nombre"), max_length=200)
    kind = models.CharField(_("tipo"), max_length=20, choices=ServicePointKind.choices, db_index=True)
    point = models.PointField(_("ubicación"), srid=STORAGE_SRID)
    commune = models.ForeignKey(
        Commune, verbose_name=_("comuna"), on_delete=models.PROTECT, related_name="service_points"
    )
    address = models.CharField(_("dirección"), max_length=300, blank=True)
    services = models.JSONField(
        _("servicios"),
        default=list,
        blank=True,
        help_text=_('Lista de {"name": ..., "category": código de servicio opcional}.'),
    )
    channels = models.JSONField(_("canales"), default=list, blank=True)
    accessibility = models.TextField(_("accesibilidad"), blank=True)
    capacity_per_day = models.PositiveIntegerField(_("atenciones por día"), null=True, blank=True)
    opening_hours = models.JSONField(_("horario"), null=True, blank=True)
    source = models.CharField(_("origen de importación"), max_length=100, blank=True)
    source_id = models.CharField(_("identificador en el origen"), max_length=100, blank=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)

    objects = ServicePointQuerySet.as_manager()

    class Meta:
        verbose_name = _("punto de atención")
        verbose_name_plural = _("puntos de atención")
        ordering = ["commune", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"], condition=~models.Q(source_id=""), name="service_point_unique_source_id"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_address(self) -> str:
        """The address and its comuna, the comuna once: "Av. Peñalolén 1200" is a street named after it, not it."""
        address, commune = self.address.strip(), self.commune.name
        if not address:
            return commune
        return address if address.casefold().endswith(commune.casefold()) else f"{address}, {commune}"

    def clean(self):
        errors = {}
        for check in (self._check_inside_commune, self._check_opening_hours, self._check_services):
            try:
                check()
            except ValidationError as exc:
                errors.update(exc.error_dict)
        if errors:
            raise ValidationError(errors)

    def _check_opening_hours(self):
        if self.opening_hours is not None:
            try:
                self.opening_hours = hours.validate_opening_hours(self.opening_hours)
            except ValueError as exc:
                raise ValidationError({"opening_hours": str(exc)}) from exc

    def _check_inside_commune(self):
        # A point outside its comuna is listed, mapped and printed on a QR sheet as that comuna's. Only a new or
        # moved place is checked: imported registry points lie metres outside, and an edit of their name stands.
        from geo_siac.zones.selectors import point_in_commune  # selectors read these models

        if self.point is None or self.commune_id is None or not self._place_changed():
            return
        outside = point_in_commune(self.point, self.commune)
        if outside is not None:
            raise ValidationError({"point": outside.message(self.commune)})

    def _place_changed(self) -> bool:
        """A new row, another comuna or a point moved by more than GeometryField.has_changed's tolerance."""
        stored = ServicePoint.objects.filter(pk=self.pk).values_list("point", "commune_id").first() if self.pk else None
        return stored is None or stored[1] != self.commune_id or not self.point.equals_exact(stored[0], 1e-6)

    def _check_services(self):
        if not isinstance(self.services, list) or not all(
            isinstance(s, dict) and isinstance(s.get("name"), str) and s["name"] for s in self.services
        ):
            raise ValidationError(
                {"services": _('Use una lista de {"name": ..., "category": código de servicio opcional}.')}
            )
        codes = {s["category"] for s in self.services if s.get("category")}
        known = Category.objects.filter(service_code__in=codes).values_list("service_code", flat=True)
        unknown = codes - set(known)
        if unknown:
            raise ValidationError({"services": _("Categorías inexistentes: %s.") % ", ".join(sorted(unknown))})

    def is_open_at(self, when) -> bool:
        """False when the hours are unknown: a time-filtered analysis only counts points known to be open."""
        return self.opening_hours is not None and hours.is_open_at(self.opening_hours, when)


class CensusZone(models.Model):
    """An INE census zone with its population by age band (Censo 2017)."""

    geocodigo = models.CharField(_("geocódigo"), max_length=11, unique=True)
    cut = models.CharField(_("código CUT"), max_length=5, db_index=True)
    geometry = models.MultiPolygonField(_("límite"), srid=STORAGE_SRID)
    pob_total = models.PositiveIntegerField()
    pob_0_a_5 = models.PositiveIntegerField()
    pob_6_a_14 = models.PositiveIntegerField()
    pob_15_a_64 = models.PositiveIntegerField()
    pob_65_y_mas = models.PositiveIntegerField()
    source = models.CharField(_("fuente"), max_length=200, blank=True)
    # The census the counts come from, as load_population --census recorded it (the maps cite it).
    census = models.CharField(_("censo"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("zona censal")
        verbose_name_plural = _("zonas censales")


class PopulationCell(models.Model):
    """Population of one comuna's census zones inside one H3 cell, by areal weighting in EPSG:32719.

    Keyed by comuna as well as cell: a cell on a border holds one row per comuna, so each comuna's
    total is conserved on its own.
    """

    cut = models.CharField(max_length=5)
    res = models.PositiveSmallIntegerField()
    cell = models.BigIntegerField()
    pob_total = models.FloatField()
    pob_under_15 = models.FloatField()
    pob_65_plus = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cut", "res", "cell"], name="population_cell_unique")]
