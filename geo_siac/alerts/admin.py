from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.utils.translation import gettext_lazy as _

from geo_siac.alerts.models import Alert, DepartmentHead, EscalationRule, Recipient, StaffAlertPreference
from geo_siac.web.admin_site import NeutralMessagesAdmin
from geo_siac.zones.tenancy import TenantAdmin


class EscalationRuleForm(forms.ModelForm):
    recipients = forms.TypedMultipleChoiceField(
        choices=Recipient.choices, widget=forms.CheckboxSelectMultiple, label=_("Avisar a")
    )

    class Meta:
        model = EscalationRule
        fields = ["commune", "department", "level", "threshold_business_days", "recipients"]


@admin.register(EscalationRule)
class EscalationRuleAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """Each comuna's escalation levels per department, edited by that comuna's administrator (docs/escalation.md)."""

    form = EscalationRuleForm
    list_display = ("commune", "department", "level", "threshold_business_days", "recipients")
    list_filter = (("commune", RelatedOnlyFieldListFilter), ("department", RelatedOnlyFieldListFilter))

    def get_queryset(self, request):
        # The list names each rule's comuna; its boundary (tens of kilobytes) is not needed for that.
        return super().get_queryset(request).select_related("commune", "department").defer("commune__geometry")


@admin.register(DepartmentHead)
class DepartmentHeadAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """A comuna's administrator sees, names and removes only heads of her comunas, among the accounts it manages."""

    account_path = "user"
    list_display = ("commune", "department", "user")
    list_filter = (("commune", RelatedOnlyFieldListFilter), ("department", RelatedOnlyFieldListFilter))
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        heads = super().get_queryset(request).for_staff(request.user)
        return heads.select_related("commune", "department", "user").defer("commune__geometry")


@admin.register(StaffAlertPreference)
class StaffAlertPreferenceAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    account_path = "user"

    list_display = ("user", "delivery", "language")
    list_filter = ("delivery",)
    autocomplete_fields = ["user"]


@admin.register(Alert)
class AlertAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """What fired, read only: only manage.py escalate writes here."""

    list_display = ("fired_at", "report", "kind", "level", "silent")
    list_filter = ("kind", "silent")
    search_fields = ("report__tracking_code",)
    readonly_fields = ("report", "kind", "level", "fired_at", "silent", "passed_levels", "passed_recipients")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
