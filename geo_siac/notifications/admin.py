from django.contrib import admin

from geo_siac.notifications.models import Notification
from geo_siac.web.admin_site import NeutralMessagesAdmin


@admin.register(Notification)
class NotificationAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    """The outbox, read only: the worker is the one writer after enqueueing."""

    list_display = ("created_at", "report", "medium", "recipient", "subject", "delivery", "attempts", "next_attempt_at")
    list_filter = ("delivery", "medium", "language")
    search_fields = ("recipient", "report__tracking_code", "subject")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    # Every comuna's recipients are here, and this plumbing sits below the comunas' scoping rule (zones.tenancy):
    # only a superuser, who sees every comuna anyway, reads the outbox.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return False
