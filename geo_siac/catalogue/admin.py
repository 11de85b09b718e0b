from django.contrib import admin

from geo_siac.catalogue.models import Category, CategoryGroup, Department, Institution


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(CategoryGroup)
class CategoryGroupAdmin(admin.ModelAdmin):
    list_display = ("code", "name_es", "name_en", "order")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("service_code", "name_es", "group", "response_days", "department", "is_public", "is_active")
    list_filter = ("group", "department", "is_public", "is_active")
    list_select_related = ("group", "department")
    search_fields = ("service_code", "name_es", "name_en", "keywords")
    autocomplete_fields = ("department",)


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ("name", "website", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "contact")
