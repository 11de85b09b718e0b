from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from geo_siac.reports.models import EventKind
from geo_siac.web.admin_site import NeutralMessagesAdmin
from geo_siac.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    # A URL typed without its scheme is read as https: a receiver outside the network must not get plain http.
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_kinds = forms.MultipleChoiceField(
        label=_("tipos de evento"),
        choices=EventKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ninguno marcado: todos."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["description", "url", "is_active", "is_internal", "event_kinds", "secret"]


class InstallationAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    """An endpoint receives every comuna's events: the installation's superusers manage webhooks, not a comuna's
    staff (zones.tenancy)."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(InstallationAdmin):
    form = WebhookEndpointForm
    list_display = ("description", "url", "is_active", "is_internal", "log_link")
    list_filter = ("is_active", "is_internal")
    readonly_fields = ("created_at", "log_link")

    @admin.display(description=_("registro"))
    def log_link(self, endpoint):
        if endpoint.pk is None:
            return "—"
        url = reverse("admin:webhooks_webhookattempt_changelist") + f"?endpoint__id__exact={endpoint.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Ver intentos"))


class ReadOnlyAdmin(InstallationAdmin):
    """Written only by the worker and the trigger."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ("attempted_at", "endpoint", "event_id", "status_code", "latency_ms", "error", "response_excerpt")
    list_filter = ("endpoint", "status_code")
    list_select_related = ("endpoint", "delivery")
    readonly_fields = [f.name for f in WebhookAttempt._meta.fields]

    @admin.display(description=_("evento"))
    def event_id(self, attempt):
        return attempt.delivery.event_id


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "endpoint", "event_id", "state", "attempts", "next_attempt_at", "delivered_at")
    list_filter = ("state", "endpoint")
    list_select_related = ("endpoint",)
    raw_id_fields = ("event",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
