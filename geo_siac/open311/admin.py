from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from geo_siac.open311.models import ApiKey
from geo_siac.open311.services import api_key_create, api_key_revoke
from geo_siac.web.admin_site import NeutralMessagesAdmin
from geo_siac.zones.tenancy import TenantAdmin


@admin.register(ApiKey)
class ApiKeyAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    list_display = ("name", "commune", "prefix", "channel_label", "rate_limit_per_minute", "created_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "channel_label")
    fields = (
        "name",
        "commune",
        "channel_label",
        "rate_limit_per_minute",
        "contact_email",
        "prefix",
        "created_at",
        "revoked_at",
    )
    readonly_fields = ("prefix", "created_at", "revoked_at")
    actions = ["revoke"]

    def get_form(self, request, obj=None, **kwargs):
        # Only a superuser makes a key for the whole installation; a comuna's administrator, one for its comuna.
        form = super().get_form(request, obj, **kwargs)
        form.base_fields["commune"].required = not request.user.is_superuser
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created, raw = api_key_create(
            name=obj.name,
            commune=obj.commune,
            channel_label=obj.channel_label,
            rate_limit_per_minute=obj.rate_limit_per_minute,
            contact_email=obj.contact_email,
        )
        obj.pk, obj.prefix, obj.key_hash = created.pk, created.prefix, created.key_hash
        messages.warning(
            request,
            _("Clave para %(name)s: %(key)s — cópiela ahora, no se volverá a mostrar.")
            % {"name": created.name, "key": raw},
        )

    @admin.action(description=_("Revocar las claves seleccionadas"))
    def revoke(self, request, queryset):
        for key in queryset:
            api_key_revoke(key=key)
        messages.success(request, ngettext("%d clave revocada.", "%d claves revocadas.", len(queryset)) % len(queryset))
