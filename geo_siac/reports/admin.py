from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from geo_siac.geo_admin import GeoAdmin
from geo_siac.reports.events import event_html, event_title
from geo_siac.reports.models import (
    AnswerLetter,
    Follower,
    Report,
    ReportEvent,
    ReportPhoto,
    ResponseTemplate,
    Signatory,
    SurveyResponse,
)
from geo_siac.reports.services import closed_day_save, closed_days_delete
from geo_siac.reports.states import is_open
from geo_siac.web.admin_site import NeutralMessagesAdmin
from geo_siac.zones.models import ClosedDay
from geo_siac.zones.tenancy import USER_PATH, TenantAdmin


class ReportEventInline(admin.TabularInline):
    model = ReportEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "title", "from_status", "to_status", "line", "actor", "actor_label", "is_public")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    # The history as every page words it (reports.events), in the staff member's language.
    @admin.display(description=_("tipo"))
    def title(self, event: ReportEvent) -> str:
        return event_title(event, get_language())

    @admin.display(description=_("nota"))
    def line(self, event: ReportEvent) -> str:
        return event_html(event, get_language())


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReportPhotoInline(ReadOnlyInline):
    model = ReportPhoto
    fields = ("created_at", "thumbnail", "image", "content_type", "width", "height")


class FollowerInline(ReadOnlyInline):
    model = Follower
    fields = ("created_at", "email", "language")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    tenant_path = "report__commune"
    list_display = ("report", "resolution_rating", "service_rating", "created_at")
    list_filter = ("resolution_rating", "service_rating")
    readonly_fields = ("report", "resolution_rating", "service_rating", "comment", "created_at")

    def has_add_permission(self, request):
        return False


@admin.register(Report)
class ReportAdmin(TenantAdmin, GeoAdmin):
    """Reports are created and moved only through services; the admin reads them."""

    list_display = (
        "tracking_code",
        "category",
        "commune",
        "status",
        "channel",
        "crew",
        "created_at",
        "expected_at",
        "overdue",
    )
    list_filter = (
        "status",
        "channel",
        ("commune", RelatedOnlyFieldListFilter),
        ("crew", RelatedOnlyFieldListFilter),
        "category__group",
        "category",
    )
    search_fields = ("tracking_code", "description", "address", "source_id")
    date_hierarchy = "created_at"
    inlines = [ReportEventInline, ReportPhotoInline, FollowerInline]
    list_select_related = ("category", "commune", "crew")

    @admin.display(boolean=True, description=_("Vencida"))
    def overdue(self, obj) -> bool:
        return is_open(obj.status) and obj.expected_at < timezone.now()

    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Report._meta.fields if f.name != "location"]

    def get_form(self, request, obj=None, **kwargs):
        # The location is shown on the map but cannot be dragged: moving a report changes its comuna and cells.
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["location"].disabled = True
        return form

    def save_model(self, request, obj, form, change):
        """Nothing here is editable; changes go through the crew workspace and services."""


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    list_display = ("title", "category", "department", "is_active")
    list_filter = ("is_active", "department", "category")
    search_fields = ("title", "body")


# Registered here, not in zones: a closed day rewrites the reports' business calendar (closed_day_save), and zones
# sits below reports (docs/architecture.md, "Layers").
@admin.register(ClosedDay)
class ClosedDayAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    list_display = ("day", "reason")

    def save_model(self, request, obj, form, change):
        closed_day_save(closed_day=obj)

    def delete_model(self, request, obj):
        closed_days_delete(days=ClosedDay.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        closed_days_delete(days=queryset)


@admin.register(Signatory)
class SignatoryAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """Scoped as the accounts are: a comuna's admin names the titles of its own staff, never another comuna's."""

    tenant_path = f"user__{USER_PATH}"
    list_display = ("user", "title")
    search_fields = ("user__username", "user__first_name", "user__last_name", "title")
    autocomplete_fields = ("user",)

    def get_queryset(self, request):
        # An account of two comunas is reached through both memberships.
        return super().get_queryset(request).distinct()


@admin.register(AnswerLetter)
class AnswerLetterAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """Sent letters, for the record: read only, as sent, and only those of the person's comunas' requests."""

    tenant_path = "report__commune"
    list_display = ("report", "number", "signed_by", "issued_at")
    search_fields = ("report__tracking_code",)
    fields = ("report", "number", "language", "signed_by", "issued_at", "content")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
