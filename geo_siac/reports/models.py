from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.kinds import DenialGround, LegalOutcome, RequestKind
from geo_siac.catalogue.models import Category, Department, Institution
from geo_siac.choices import choice_label
from geo_siac.geo import STORAGE_SRID
from geo_siac.reports.responses import validate_placeholders
from geo_siac.reports.states import CLOSED, OPEN, Channel, Status
from geo_siac.zones.models import Commune, Crew, ServicePoint, Zone
from geo_siac.zones.tenancy import TenantQuerySet

HEATMAP_COLUMNS = ("category", "commune", "status", "channel", "h3_res6", "h3_res7", "h3_res8", "h3_res9", "h3_res10")
# A report's id is its year times this plus a serial (migration 0032, docs/deployment.md "Partitioned history").
YEAR_ID_BASE = 10**11


class ReportYearId(models.Func):
    """The id for a report received at `received` (a datetime expression or value): the SQL function the id
    column's default calls with now(), for a writer whose reception time is not the transaction's."""

    function = "report_year_id"
    output_field = models.BigIntegerField()


def report_id_year(report_id: int) -> int | None:
    """The year a report's id carries, or None for a report stored before ids carried one."""
    return report_id // YEAR_ID_BASE or None


class ReportQuerySet(TenantQuerySet):
    pass


class Report(models.Model):
    """A citizen report (Open311 service request). Created only through services.report_create."""

    tracking_code = models.CharField(_("código de seguimiento"), max_length=16)
    # What the request is (catalogue.kinds, its legal rules); always its category's (topic's) kind.
    kind = models.CharField(
        _("tipo de solicitud"),
        max_length=24,
        choices=RequestKind.choices,
        default=RequestKind.SERVICE_REQUEST,
        db_default=RequestKind.SERVICE_REQUEST,
    )
    # Indexed by report_heatmap_commune, which leads with it.
    commune = models.ForeignKey(
        Commune, verbose_name=_("comuna"), on_delete=models.PROTECT, related_name="reports", db_index=False
    )
    # Indexed by report_heatmap_category below (category_id leads it), not by a separate FK index.
    category = models.ForeignKey(
        Category, verbose_name=_("categoría"), on_delete=models.PROTECT, related_name="reports", db_index=False
    )
    # None for a request without a place (only kinds whose rule allows it: the CHECK below); such a request is
    # on no map, cell count or public place.
    location = models.PointField(_("ubicación"), srid=STORAGE_SRID, null=True, blank=True)
    address = models.CharField(_("dirección"), max_length=300, blank=True)
    description = models.TextField(
        _("descripción"), blank=True, validators=[MaxLengthValidator(settings.GEO_SIAC_MAX_DESCRIPTION)]
    )
    attributes = models.JSONField(_("respuestas a preguntas adicionales"), default=dict, blank=True)
    # A link to a photo or video the client keeps (Open311's media_url), stored as given; shown where the description
    # is. A default in the database too, so the bulk importer's INSERT need not name it.
    media_url = models.URLField(_("enlace a foto o video"), max_length=500, blank=True, default="", db_default="")
    status = models.CharField(_("estado"), max_length=24, choices=Status.choices, default=Status.SUBMITTED)
    channel = models.CharField(_("canal"), max_length=16, choices=Channel.choices)
    public_visibility = models.BooleanField(_("puede mostrarse públicamente"), default=False)
    reporter_name = models.CharField(_("nombre de quien reporta"), max_length=200, blank=True)
    reporter_email = models.EmailField(_("correo de quien reporta"), blank=True)
    reporter_phone = models.CharField(_("teléfono de quien reporta"), max_length=40, blank=True)
    language = models.CharField(_("idioma de las notificaciones"), max_length=8, default="es")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("registrada por"),
        db_index=False,
    )
    # Where an operator took the request (a service point's desk or phone line), for each point's statistics.
    received_at = models.ForeignKey(
        ServicePoint,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("recibida en"),
        db_index=False,  # report_received_at below
    )
    created_at = models.DateTimeField(_("recibida"))  # indexed by report_heatmap_created
    updated_at = models.DateTimeField(_("actualizada"))
    expected_at = models.DateTimeField(_("plazo"))
    closed_at = models.DateTimeField(_("cerrada"), null=True, blank=True)
    # Facts the indicators read (docs/indicators.md), kept by report_change_status and the bulk importer so the
    # indicators need no pass over the history: the first change out of "submitted", and the reopenings.
    first_response_at = models.DateTimeField(_("primera respuesta"), null=True, blank=True)
    times_reopened = models.PositiveSmallIntegerField(_("veces reabierta"), default=0, db_default=0)
    deadline_extended_at = models.DateTimeField(_("plazo prorrogado"), null=True, blank=True)
    # The Ley 20.285 clock (deadlines.py, services/information.py): a subsanación asked and by when the citizen
    # must answer it (the clock waits meanwhile), and the answer's legal outcome and, for a denial, its ground.
    correction_requested_at = models.DateTimeField(_("subsanación pedida"), null=True, blank=True)
    correction_due_at = models.DateTimeField(_("plazo de subsanación"), null=True, blank=True)
    legal_outcome = models.CharField(
        _("resultado legal"), max_length=24, choices=LegalOutcome.choices, blank=True, default="", db_default=""
    )
    denial_ground = models.CharField(
        _("causal de denegación"), max_length=32, choices=DenialGround.choices, blank=True, default="", db_default=""
    )
    # The competent body a request was referred to ("derivación"), which closed it for the municipality: always one
    # of the institutions kept in the admin, so the citizen is told how to reach it.
    referred_to = models.ForeignKey(
        Institution,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("derivada a"),
        db_index=False,  # report_referred_to below
    )
    # Routing: the zone version that held the point, and who answers. No crew means the triage queue.
    zone = models.ForeignKey(
        Zone, null=True, blank=True, on_delete=models.PROTECT, related_name="reports", verbose_name=_("zona")
    )
    crew = models.ForeignKey(
        Crew, null=True, blank=True, on_delete=models.PROTECT, related_name="reports", verbose_name=_("cuadrilla")
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
        verbose_name=_("dirección responsable"),
    )
    # A merged duplicate (services.report_merge_duplicate): closed, its followers moved to this original report,
    # and left out of the indicators so the problem counts once.
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        verbose_name=_("duplicada de"),
        db_index=False,
    )
    source = models.CharField(_("origen de importación"), max_length=100, blank=True)
    source_id = models.CharField(_("identificador en el origen"), max_length=100, blank=True)
    # The point's H3 cell at each resolution the maps query (geo.H3_RESOLUTIONS), as 64-bit ints.
    h3_res6 = models.BigIntegerField(_("celda H3 de resolución 6"), db_index=True, null=True, blank=True)
    h3_res7 = models.BigIntegerField(_("celda H3 de resolución 7"), db_index=True, null=True, blank=True)
    h3_res8 = models.BigIntegerField(_("celda H3 de resolución 8"), db_index=True, null=True, blank=True)
    h3_res9 = models.BigIntegerField(_("celda H3 de resolución 9"), db_index=True, null=True, blank=True)
    h3_res10 = models.BigIntegerField(_("celda H3 de resolución 10"), db_index=True, null=True, blank=True)
    # The H3 cell (res 9 to 6) public outputs place the report at, or none: privacy.published_cells, stored by
    # services.report_public_cells_refresh (the open-data publish step).
    public_cell = models.BigIntegerField(_("celda pública"), null=True, blank=True, editable=False)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("solicitud")
        verbose_name_plural = _("solicitudes")
        ordering = ["-created_at"]
        # Every index here is paid on each bulk insert (bench/ingest.py): keep only those that queries use.
        # The tracking code and the source id are unique through ReportKey (a partitioned table's unique keys must
        # hold its partition key); report_tracking_code below answers the lookups by code.
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind=RequestKind.SERVICE_REQUEST) | models.Q(location__isnull=False),
                name="report_service_request_has_place",
                violation_error_message=_("Una solicitud de servicio necesita un lugar."),
            ),
            # The maps group by the cells and the public outputs read them: a place has all of them or none.
            models.CheckConstraint(
                condition=models.Q(location__isnull=False, **{f"h3_res{r}__isnull": False for r in range(6, 11)})
                | models.Q(location__isnull=True, **{f"h3_res{r}__isnull": True for r in range(6, 11)}),
                name="report_place_and_cells_together",
            ),
        ]
        # The three heat-map indexes carry every column the maps filter and group by, so the counts per H3 cell
        # are index-only scans (docs/maps.md); they replace the plain created_at, category_id and commune_id indexes.
        indexes = [
            models.Index(fields=["tracking_code"], name="report_tracking_code"),
            # Partial: only open reports are queried by deadline, and most stored history is closed.
            models.Index(
                fields=["expected_at"], condition=models.Q(status__in=sorted(OPEN)), name="report_open_deadline"
            ),
            # A crew's queue (selectors.reports_of_crews), already in deadline order.
            models.Index(
                fields=["crew", "expected_at", "id"],
                condition=models.Q(status__in=sorted(OPEN)),
                name="report_open_crew_deadline",
            ),
            models.Index(fields=["created_at"], include=HEATMAP_COLUMNS, name="report_heatmap_created"),
            models.Index(
                fields=["category", "created_at"], include=HEATMAP_COLUMNS[1:], name="report_heatmap_category"
            ),
            # A comuna's reports by date (the week layers, a comuna's period): read one comuna's entries, not every
            # comuna's of the period (docs/maps.md, "Reads by date"). It replaces the plain commune_id index.
            models.Index(
                fields=["commune", "created_at"],
                include=[c for c in HEATMAP_COLUMNS if c != "commune"],
                name="report_heatmap_commune",
            ),
            # What the public lists filter a map box by, and order by (selectors.reports_in_bbox): the box's count
            # and page are read from this index alone. The plain h3_res9 index stays for the heat map's unfiltered
            # count, which this wider one would make read ten times the pages.
            # Partial: the importer's rows (no service point) cost it nothing; per-point counts and a service
            # point's deletion check (PROTECT) read it.
            models.Index(
                fields=["received_at"], condition=models.Q(received_at__isnull=False), name="report_received_at"
            ),
            # Partial, as received_at's: an institution's deletion check (PROTECT) reads it.
            models.Index(
                fields=["referred_to"], condition=models.Q(referred_to__isnull=False), name="report_referred_to"
            ),
            models.Index(
                fields=["h3_res9"],
                include=["public_visibility", "category", "created_at", "id", "location", "status"],
                name="report_shown_cell",
            ),
            # Reports placed publicly, by their published cell (the box and radius filters). Partial: a new report
            # has none until the next refresh, so a submission or an import adds no entry to it.
            models.Index(
                fields=["public_cell"],
                include=["public_visibility", "category", "created_at", "id", "status"],
                condition=models.Q(public_cell__isnull=False),
                name="report_public_cell",
            ),
            # The Open311 list's default (status=open): the same two box lookups over open reports only, a tenth of
            # the table, so that neither branch walks the closed reports of the box's cells to drop them
            # (docs/performance.md, "The open list's own indexes"). A query whose statuses are all open uses them.
            models.Index(
                fields=["h3_res9"],
                include=["category", "created_at", "id", "location"],
                condition=models.Q(status__in=sorted(OPEN), public_visibility=True),
                name="report_open_shown_cell",
            ),
            models.Index(
                fields=["public_cell"],
                include=["category", "created_at", "id"],
                condition=models.Q(status__in=sorted(OPEN), public_visibility=False, public_cell__isnull=False),
                name="report_open_public_cell",
            ),
            # Partial: few reports are merged duplicates, and only a merge asks which ones point at a report.
            models.Index(
                fields=["duplicate_of"], condition=models.Q(duplicate_of__isnull=False), name="report_duplicate_of"
            ),
        ]

    def __str__(self) -> str:
        return self.tracking_code

    @property
    def channel_text(self) -> str:
        """The channel as staff read it: an imported request says so, and the channel it came in by at its source
        ("Importación (canal de origen: Web)"); the source's own name is a detail for a title attribute."""
        if not self.source or self.channel == Channel.IMPORT:
            return self.get_channel_display()
        return _("Importación (canal de origen: %(channel)s)") % {"channel": self.get_channel_display()}


class SuspendedSchemaObject(models.Model):
    """An index or foreign key of the report tables that a bulk-mode import dropped, or a count kept by triggers
    that it left to recount at its end, with the SQL that puts it back (importers.restore_suspended). A row left
    here outside a running import means an import died before restoring it: `manage.py import_reports
    --restore-schema` puts it back, and `manage.py check` warns."""

    class Kind(models.TextChoices):
        INDEX = "index", _("índice")
        FOREIGN_KEY = "foreign_key", _("clave foránea")
        RECOUNT = "recount", _("recuento")

    table = models.CharField(_("tabla"), max_length=63)
    name = models.CharField(_("nombre"), max_length=63, unique=True)
    kind = models.CharField(_("tipo"), max_length=16, choices=Kind.choices)
    definition = models.TextField(_("definición SQL"))
    suspended_at = models.DateTimeField(_("suspendido"), auto_now_add=True)

    class Meta:
        verbose_name = _("índice o clave suspendido por una importación")
        verbose_name_plural = _("índices y claves suspendidos por una importación")

    def __str__(self) -> str:
        return f"{self.table}.{self.name}"


class CalendarDay(models.Model):
    """Every day of deadlines.CALENDAR_START..CALENDAR_END numbered by the business days up to it, so SQL counts
    the business days between two dates as a difference (deadlines.business_days_between). Kept equal to
    deadlines.calendar_days() by services.business_calendar_sync."""

    day = models.DateField(primary_key=True)
    is_business_day = models.BooleanField()
    business_days = models.IntegerField(help_text="Business days from CALENDAR_START up to and including this day.")

    def __str__(self) -> str:
        return f"{self.day} {self.business_days}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Creada")
    STATUS = "status", _("Cambio de estado")
    NOTE = "note", _("Nota")
    ROUTED = "routed", _("Asignación automática")
    RETURNED = "returned", _("Devuelta por la cuadrilla")
    REROUTED = "rerouted", _("Derivación")
    EXTENDED = "extended", _("Prórroga")
    CITIZEN_INFO = "citizen_info", _("Información agregada por el vecino")
    CORRECTION = "correction", _("Subsanación")
    RECLASSIFIED = "reclassified", _("Reclasificación")


# Who wrote a citizen's reopening or note, in the history the crew reads; never their email.
CITIZEN_ACTOR = "Vecino/a"
# A citizen's reopening ("No fue resuelto"): a status change they made, from a closed status back to an open one. Its
# note is their own reason: shown on their tracking page, published nowhere (selectors.published_events).
CITIZEN_REOPENING_FIELDS = {"kind": EventKind.STATUS, "actor_label": CITIZEN_ACTOR}
CITIZEN_REOPENING = models.Q(**CITIZEN_REOPENING_FIELDS, from_status__in=CLOSED, to_status__in=OPEN)


# The public event of a request sent to another department (services.assignment.department_changed): its note is
# only that department's name, so each page words it in its own language (reports/_timeline.html).
PUBLIC_REROUTING = models.Q(kind=EventKind.REROUTED, is_public=True)


class ReportEventQuerySet(TenantQuerySet):
    tenant_path = "report__commune"


def tracking_code_key(code: str) -> str:
    return f"code:{code}"


def source_key(source: str, source_id: str) -> str:
    return f"source:{source}:{source_id}"


class ReportKey(models.Model):
    """A key that must be unique across every year partition of the reports: `code:<tracking code>` for each
    report, `source:<source>:<source id>` for an imported one. A partitioned table's unique constraints must hold
    the partition key (the id), so the tracking code and the source id cannot be unique in the report table
    itself (docs/deployment.md, "Partitioned history"). Written in the report's own statement (report_store, the
    importer); its primary key is named report_unique_tracking_code, the name report_create redraws a code on.

    Archiving a year (reports.archive) keeps its keys as tombstones, `report` NULL and `archived_year` set: an
    archived code is never drawn again and an archived source row is never imported again."""

    key = models.CharField(_("clave"), max_length=220, primary_key=True)
    report = models.ForeignKey(
        Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    archived_year = models.PositiveSmallIntegerField(_("año archivado"), null=True, blank=True)

    class Meta:
        verbose_name = _("clave única de solicitud")
        verbose_name_plural = _("claves únicas de solicitudes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(report__isnull=False, archived_year__isnull=True)
                | models.Q(report__isnull=True, archived_year__isnull=False),
                name="report_key_live_or_archived",
            )
        ]


class YearArchive(models.Model):
    """A year archived by reports.archive: no request of it is written again (year_partitions_ensure refuses it)."""

    year = models.PositiveSmallIntegerField(_("año"), primary_key=True)
    schema = models.CharField(_("esquema"), max_length=63)
    dump = models.CharField(_("volcado"), max_length=500, blank=True)
    # The recorded dump's size and SHA-256 when it was written, checked again before its schema is dropped.
    dump_size = models.BigIntegerField(_("tamaño del volcado"), null=True, blank=True)
    dump_sha256 = models.CharField(_("SHA-256 del volcado"), max_length=64, blank=True)
    # Incremented by every erasure that changes the archive schema (with this row locked): a dump is recorded only if
    # no erasure changed the schema since before its pg_dump began (reports.archive.archive_dump).
    erasures = models.PositiveIntegerField(_("borrados en el esquema"), default=0)
    # The dump this year's pending erasures are being written out of (reports.archive_erasure): it still holds the
    # erased data, and its file is deleted once a new dump is recorded and the schema dropped.
    dump_replaced = models.CharField(_("volcado reemplazado"), max_length=500, blank=True, default="", db_default="")
    archived_at = models.DateTimeField(_("archivado"))

    class Meta:
        verbose_name = _("año archivado")
        verbose_name_plural = _("años archivados")

    def __str__(self) -> str:
        return str(self.year)


class PendingErasure(models.Model):
    """An erasure on request (reports.services.erasure) that could not reach an archived year only in its dump: who,
    as a keyed digest of the normalised e-mail or number (archived.person_digest, never the address or number), and
    when, so that the year's schema, once restored, is erased as of then (pending_erasures_apply). Applying marks
    `applied_at` and keeps the row: the dump restored still holds the data, and may be restored again. The row goes
    only when archive_dump records a new dump of the year written after the last apply (reports.archive)."""

    person = models.CharField(_("huella de la persona"), max_length=64)
    archive = models.ForeignKey(
        YearArchive, verbose_name=_("año archivado"), on_delete=models.CASCADE, related_name="pending_erasures"
    )
    erased_at = models.DateTimeField(_("borrado pedido"))
    # Which ErasureDigestKey made `person` (archived.key_fingerprint): applied with that key only, so that a key
    # replaced (not just lost) leaves its rows unapplied and named, never taken as applied.
    key_fingerprint = models.CharField(_("huella de la clave"), max_length=16)
    applied_at = models.DateTimeField(_("aplicado"), null=True, blank=True)

    class Meta:
        verbose_name = _("borrado pendiente")
        verbose_name_plural = _("borrados pendientes")
        constraints = [models.UniqueConstraint(fields=["person", "archive"], name="pending_erasure_person_year")]


class ErasureDigestKey(models.Model):
    """The one key of PendingErasure's digests: random, made once by migration 0041 and kept beside them (in every
    backup with them), so that neither a SECRET_KEY rotation nor a lost setting can part them (docs/deployment.md)."""

    key = models.CharField(_("clave"), max_length=64)

    class Meta:
        verbose_name = _("clave de las huellas de borrados pendientes")
        verbose_name_plural = _("claves de las huellas de borrados pendientes")


class ReportEvent(models.Model):
    """The report's history: every status change and note, with who or what made it."""

    report = models.ForeignKey(Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("tipo"), max_length=16, choices=EventKind.choices)
    from_status = models.CharField(_("estado anterior"), max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(_("estado nuevo"), max_length=24, choices=Status.choices, blank=True)
    note = models.TextField(_("nota"), blank=True)
    # A line GeoSIAC wrote for the citizen, as its name and parameters (reports.events), worded in each reader's
    # language; null for a person's note and for events written before (their note is shown as stored).
    data = models.JSONField(_("datos de la línea"), null=True, blank=True)
    is_public = models.BooleanField(_("visible para la ciudadanía"), default=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("persona"),
    )
    actor_label = models.CharField(_("realizado por"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("fecha"))
    # Where the crew worked when it made this change, as its phone measured it: staff-only, never in a public read.
    work_location = models.PointField(_("ubicación del trabajo"), srid=STORAGE_SRID, null=True, blank=True)
    work_location_accuracy_m = models.FloatField(_("precisión de la ubicación (m)"), null=True, blank=True)

    objects = ReportEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("evento")
        verbose_name_plural = _("eventos")
        ordering = ["created_at", "id"]
        # The alerts run counts each open report's citizen additions; they are few among millions of events.
        indexes = [models.Index(fields=["report"], condition=models.Q(kind="citizen_info"), name="event_citizen_info")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(work_location__isnull=True, work_location_accuracy_m__isnull=True)
                | models.Q(work_location__isnull=False, work_location_accuracy_m__isnull=False),
                name="event_work_location_with_accuracy",
            )
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.kind} {self.to_status}"

    def get_kind_display(self) -> str:
        return choice_label(self, "kind")

    @property
    def rerouted_to(self) -> str:
        """PUBLIC_REROUTING, of one event: the department's name it was sent to; empty for any other event."""
        return self.note if self.kind == EventKind.REROUTED and self.is_public else ""

    @property
    def reopened_by_citizen(self) -> bool:
        """CITIZEN_REOPENING, of one event: a closed request reopened by who filed or follows it."""
        return (
            all(getattr(self, field) == value for field, value in CITIZEN_REOPENING_FIELDS.items())
            and self.from_status in CLOSED
            and self.to_status in OPEN
        )

    def get_to_status_display(self) -> str:
        return choice_label(self, "to_status")


class EventPhoto(models.Model):
    """A crew's photo of a status change (several per change), re-encoded without metadata like a citizen's."""

    # The events table is partitioned by report (partitions.py), so an event is unique as (id, report) only: the
    # database's foreign key is that pair (migration 0033), and Django's on `event` alone is not created.
    event = models.ForeignKey(ReportEvent, on_delete=models.CASCADE, related_name="photos", db_constraint=False)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="+", verbose_name=_("solicitud"))
    image = models.FileField(_("foto"), upload_to="report-events/%Y/%m/")
    # The e-mail of the citizen who added it ("Agregar información"), as selectors.email_key writes it: a follower's
    # photo on someone else's report is theirs to erase (services.erasure).
    added_by = models.CharField(_("agregada por"), max_length=254, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("foto de un cambio de estado")
        verbose_name_plural = _("fotos de cambios de estado")
        ordering = ["id"]
        indexes = [
            # The photo view finds a file's row, and so who may see it, by the file's name.
            models.Index(fields=["image"], name="eventphoto_image"),
            models.Index(fields=["added_by"], name="eventphoto_added_by", condition=~models.Q(added_by="")),
        ]


class ReportPhoto(models.Model):
    """A citizen's photo, re-encoded without metadata by photos.process_photo, and its thumbnail for lists."""

    report = models.ForeignKey(Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(_("foto"), upload_to="reports/photos/%Y/%m/")
    thumbnail = models.FileField(_("miniatura"), upload_to="reports/thumbnails/%Y/%m/")
    content_type = models.CharField(_("tipo"), max_length=32)
    width = models.PositiveIntegerField(_("ancho"))
    height = models.PositiveIntegerField(_("alto"))
    created_at = models.DateTimeField(_("subida"))

    class Meta:
        verbose_name = _("foto")
        verbose_name_plural = _("fotos")
        ordering = ["created_at", "id"]
        # The photo view finds a file's row, and so who may see it, by the file's name.
        indexes = [
            models.Index(fields=["image"], name="reportphoto_image"),
            models.Index(fields=["thumbnail"], name="reportphoto_thumbnail"),
        ]


class ReportDocument(models.Model):
    """A PDF checked by reports.photos.process_document and kept as sent: its requester's, at filing or with added
    information, or the institution's, attached to an answer letter (`letter`: the information delivered). Private
    like a crew's photo: staff who see the request, and an answer's also whoever may read its letter, always as a
    download."""

    report = models.ForeignKey(Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="documents")
    file = models.FileField(_("archivo"), upload_to="reports/documents/%Y/%m/")
    name = models.CharField(_("nombre"), max_length=120)
    size = models.PositiveIntegerField(_("tamaño en bytes"))
    # The e-mail of the citizen who added it later, as selectors.email_key writes it (services.erasure); empty for
    # the requester's own at filing.
    added_by = models.CharField(_("agregado por"), max_length=254, blank=True, default="")
    # Set, the document is the institution's answer, not the requester's (services.information.report_answer).
    letter = models.ForeignKey(
        "AnswerLetter",
        verbose_name=_("carta de respuesta"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="documents",
    )
    created_at = models.DateTimeField(_("subido"))

    class Meta:
        verbose_name = _("documento")
        verbose_name_plural = _("documentos")
        ordering = ["created_at", "id"]
        # The document view finds a file's row, and so who may see it, by the file's name.
        indexes = [models.Index(fields=["file"], name="reportdocument_file")]


class Submission(models.Model):
    """The form token of a web submission, so a double click or a resubmitted form creates one report."""

    token = models.CharField(max_length=64)
    report = models.OneToOneField(
        Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="submission"
    )

    class Meta:
        # A constraint, not unique=True: tokens are only ever compared whole, and unique=True would add a LIKE index
        # PostgreSQL maintains on every web submission. services.submission_claim inserts ON CONFLICT against it.
        constraints = [models.UniqueConstraint(fields=["token"], name="submission_unique_token")]


class Follower(models.Model):
    """A citizen who chose to follow an existing report instead of filing a duplicate; gets its notifications."""

    report = models.ForeignKey(Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="followers")
    email = models.EmailField(_("correo"))
    language = models.CharField(_("idioma de las notificaciones"), max_length=8, default="es")
    created_at = models.DateTimeField(_("desde"))

    class Meta:
        verbose_name = _("seguidor")
        verbose_name_plural = _("seguidores")
        constraints = [models.UniqueConstraint(fields=["report", "email"], name="follower_unique_email")]


class SurveyResponse(models.Model):
    """The satisfaction survey linked from the closing message: one answer per report."""

    report = models.OneToOneField(Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="survey")
    resolution_rating = models.PositiveSmallIntegerField(_("evaluación de la solución"))
    service_rating = models.PositiveSmallIntegerField(_("evaluación de la atención"))
    comment = models.TextField(_("comentario"), blank=True)
    created_at = models.DateTimeField(_("respondida"))

    class Meta:
        verbose_name = _("encuesta de satisfacción")
        verbose_name_plural = _("encuestas de satisfacción")
        constraints = [
            models.CheckConstraint(condition=models.Q(resolution_rating__range=(1, 5)), name="survey_resolution_1_5"),
            models.CheckConstraint(condition=models.Q(service_rating__range=(1, 5)), name="survey_service_1_5"),
        ]


class ResponseTemplate(models.Model):
    """A "respuesta tipo": a citizen-visible text a crew or supervisor picks when answering or closing a report of
    its category, or of any category its department answers. The placeholders are responses.PLACEHOLDERS."""

    title = models.CharField(_("título"), max_length=120)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="response_templates",
        verbose_name=_("categoría"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="response_templates",
        verbose_name=_("dirección responsable"),
    )
    body = models.TextField(
        _("texto"),
        max_length=2000,
        validators=[validate_placeholders],
        help_text=_("Texto que recibe el vecino. Marcadores: {codigo} {categoria} {plazo} {cuadrilla}."),
    )
    is_active = models.BooleanField(_("activa"), default=True)

    class Meta:
        verbose_name = _("respuesta tipo")
        verbose_name_plural = _("respuestas tipo")
        ordering = ["title", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__isnull=False, department__isnull=True)
                | models.Q(category__isnull=True, department__isnull=False),
                name="response_template_one_scope",
                violation_error_message=_("Elija una categoría o una dirección (una de las dos)."),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class CrewAction(models.Model):
    """A crew's change sent by the offline app under the key the phone gave it, written in the same transaction as
    the change: a replay of the key answers `result` and applies nothing (docs/crews.md, "The offline app")."""

    class Kind(models.TextChoices):
        STATUS = "status", _("Cambio de estado")
        NOTE = "note", _("Nota")
        RETURN = "return", _("Devolución")

    key = models.UUIDField(_("clave"), unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("persona")
    )
    report = models.ForeignKey(
        Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="crew_actions"
    )
    kind = models.CharField(_("tipo"), max_length=16, choices=Kind.choices)
    result = models.JSONField(_("resultado"), default=dict)
    conflict = models.BooleanField(_("retenida por conflicto"), default=False)
    created_at = models.DateTimeField(_("recibida"))

    class Meta:
        verbose_name = _("acción de cuadrilla")
        verbose_name_plural = _("acciones de cuadrilla")

    def __str__(self) -> str:
        return f"{self.key} {self.kind}"


class Signatory(models.Model):
    """The title (cargo) a staff member signs formal answer letters with; the name is the account's full name."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signatory", verbose_name=_("usuario")
    )
    title = models.CharField(
        _("cargo"), max_length=200, help_text=_("Como va bajo la firma, p. ej. «Encargada de Transparencia».")
    )

    class Meta:
        verbose_name = _("firmante de cartas")
        verbose_name_plural = _("firmantes de cartas")

    def __str__(self) -> str:
        return f"{self.user.get_full_name() or self.user.get_username()}, {self.title}"


class AnswerLetter(models.Model):
    """A formal answer letter as it was sent (reports.letters): its text frozen at answering time in `content`, so
    a later rename of the officer, the comuna or the topic never changes a sent letter, and its PDF as sent. It
    names the requester: only the tracking page (with the code) and staff ever show it."""

    report = models.ForeignKey(Report, verbose_name=_("solicitud"), on_delete=models.CASCADE, related_name="letters")
    number = models.PositiveSmallIntegerField(_("número"))
    language = models.CharField(_("idioma"), max_length=8)
    content = models.JSONField(_("contenido"))
    pdf = models.BinaryField(_("PDF"))
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("firmada por"),
    )
    issued_at = models.DateTimeField(_("emitida"))

    class Meta:
        verbose_name = _("carta de respuesta")
        verbose_name_plural = _("cartas de respuesta")
        ordering = ["report", "number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="answer_letter_number_per_report")]

    def __str__(self) -> str:
        return f"{self.report.tracking_code} #{self.number}"
