from django.contrib.admin import EmptyFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.gis import admin

from geo_siac.geo_admin import GeoAdmin
from geo_siac.zones.models import Commune, CommuneMembership, Crew, ServicePoint, Zone, ZoneResponsibility
from geo_siac.zones.tenancy import USER_PATH, TenantAdmin


class CommuneMembershipInline(TenantAdmin, admin.TabularInline):
    """The comunas a staff account works for (zones.tenancy); a superuser needs none. A comuna's administrator
    grants only the comunas they work for themselves."""

    model = CommuneMembership
    tenant_path = "commune"
    extra = 1
    autocomplete_fields = ("commune",)


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(TenantAdmin, UserAdmin):
    """A comuna's administrator manages its own staff: the accounts sharing one of its comunas."""

    tenant_path = USER_PATH
    inlines = [*UserAdmin.inlines, CommuneMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()


@admin.register(Commune)
class CommuneAdmin(TenantAdmin, GeoAdmin):
    list_display = ("cut", "name", "province", "jurisdiction_id", "tracking_prefix", "is_active")
    list_filter = ("is_active", "region")
    search_fields = ("cut", "name")
    readonly_fields = ("updated_at", "source")


@admin.register(ServicePoint)
class ServicePointAdmin(TenantAdmin, GeoAdmin):
    list_display = ("name", "kind", "commune", "capacity_per_day", "source")
    list_filter = ("kind", ("commune", RelatedOnlyFieldListFilter), "source")
    search_fields = ("name", "address", "source_id")
    readonly_fields = ("updated_at", "source", "source_id")


@admin.register(Crew)
class CrewAdmin(TenantAdmin, admin.ModelAdmin):
    list_display = ("name", "commune", "department", "daily_capacity")
    search_fields = ("name",)
    list_filter = (("commune", RelatedOnlyFieldListFilter), "department")
    filter_horizontal = ("members",)


class ZoneResponsibilityInline(TenantAdmin, admin.TabularInline):
    model = ZoneResponsibility
    extra = 1
    autocomplete_fields = ("crew",)


@admin.register(Zone)
class ZoneAdmin(TenantAdmin, GeoAdmin):
    """Polygons are loaded with `load_zones`/`generate_zones`, which keep every version: not edited here."""

    list_display = ("name", "key", "version", "commune", "created_at", "retired_at")
    list_filter = (("commune", RelatedOnlyFieldListFilter), ("retired_at", EmptyFieldListFilter))
    search_fields = ("name", "key")
    readonly_fields = ("commune", "key", "version", "geometry", "created_at", "retired_at", "source")
    inlines = [ZoneResponsibilityInline]

    def has_add_permission(self, request):
        return False
