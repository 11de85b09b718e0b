from django.contrib import admin

from geo_siac.transparency.models import CommitmentCharter
from geo_siac.web.admin_site import NeutralMessagesAdmin
from geo_siac.zones.tenancy import TenantAdmin


@admin.register(CommitmentCharter)
class CommitmentCharterAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """A comuna's administrator writes her comuna's charter; the comuna choice holds only hers (TenantAdmin)."""

    list_display = ("commune", "published_on", "signed_by", "updated_at")
    readonly_fields = ("updated_at",)

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "commune") if obj is not None else self.readonly_fields
