from django.contrib import admin

from geo_siac.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """The outbox, read only: the worker is the one writer after enqueueing."""

    list_display = ("created_at", "report", "medium", "recipient", "subject", "delivery", "attempts", "next_attempt_at")
    list_filter = ("delivery", "medium", "language")
    search_fields = ("recipient", "report__tracking_code", "subject")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
