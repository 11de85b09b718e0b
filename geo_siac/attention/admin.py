from django.contrib import admin

from geo_siac.attention.models import Appointment, Offering, Procedure
from geo_siac.web.admin_site import NeutralMessagesAdmin
from geo_siac.zones.tenancy import TenantAdmin


class OfferingInline(TenantAdmin, admin.TabularInline):
    model = Offering
    tenant_path = "service_point__commune"
    extra = 0
    autocomplete_fields = ["service_point"]


@admin.register(Procedure)
class ProcedureAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    list_display = ("name", "responsible", "cost", "legal_deadline")
    search_fields = ("name", "summary", "requirements")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OfferingInline]


@admin.register(Appointment)
class AppointmentAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """Read only: appointments change through the booking page, the signed link and the desk's agenda."""

    list_display = ("code", "slot", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("code",)
    readonly_fields = [f.name for f in Appointment._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
