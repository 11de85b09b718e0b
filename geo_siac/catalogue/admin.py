from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from geo_siac.catalogue.models import SLUG_INVALID, Category, CategoryGroup, Department, Institution
from geo_siac.web.admin_site import NeutralMessagesAdmin


@admin.register(Department)
class DepartmentAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    search_fields = ("name",)


class CategoryGroupForm(forms.ModelForm):
    class Meta:
        model = CategoryGroup
        fields = "__all__"
        error_messages = {"code": {"invalid": SLUG_INVALID}}


@admin.register(CategoryGroup)
class CategoryGroupAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    form = CategoryGroupForm
    list_display = ("code", "name_es", "name_en", "order")


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = "__all__"
        error_messages = {
            "service_code": {"invalid": SLUG_INVALID},
            "attributes": {
                "invalid": _(
                    "No es un JSON válido. Se espera una lista de preguntas entre corchetes, con comillas dobles: "
                    '[{"code": "riesgo", "datatype": "string", "description": "¿Qué ocurre?"}], o [] sin preguntas.'
                )
            },
        }


@admin.register(Category)
class CategoryAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    form = CategoryForm
    list_display = ("service_code", "name_es", "group", "response_days", "department", "is_public", "is_active")
    list_filter = ("group", "department", "is_public", "is_active")
    list_select_related = ("group", "department")
    search_fields = ("service_code", "name_es", "name_en", "keywords")
    autocomplete_fields = ("department",)


@admin.register(Institution)
class InstitutionAdmin(NeutralMessagesAdmin, admin.ModelAdmin):
    list_display = ("name", "website", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "contact")
