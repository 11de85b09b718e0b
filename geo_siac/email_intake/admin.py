from django.contrib import admin

from geo_siac.email_intake.models import InboundEmail
from geo_siac.web.admin_site import NeutralMessagesAdmin
from geo_siac.zones.tenancy import TenantAdmin


@admin.register(InboundEmail)
class InboundEmailAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """What the receiver applied, to answer "did my email arrive?": read only, the receiver is its one writer. A
    comuna's staff see the messages applied to its requests; one whose request was deleted, only a superuser."""

    tenant_path = "report__commune"

    list_display = ("received_at", "outcome", "report", "message_id")
    list_filter = ("outcome",)
    search_fields = ("message_id", "report__tracking_code")
    list_select_related = ("report",)
    date_hierarchy = "received_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
