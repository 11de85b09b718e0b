from django.contrib.admin import EmptyFieldListFilter
from django.contrib.gis import admin

from geo_siac.geo_admin import GeoAdmin
from geo_siac.zones.models import Commune, Crew, ServicePoint, Zone, ZoneResponsibility


@admin.register(Commune)
class CommuneAdmin(GeoAdmin):
    list_display = ("cut", "name", "province", "jurisdiction_id", "tracking_prefix", "is_active")
    list_filter = ("is_active", "region")
    search_fields = ("cut", "name")
    readonly_fields = ("updated_at", "source")


@admin.register(ServicePoint)
class ServicePointAdmin(GeoAdmin):
    list_display = ("name", "kind", "commune", "capacity_per_day", "source")
    list_filter = ("kind", "commune", "source")
    search_fields = ("name", "address", "source_id")
    readonly_fields = ("updated_at", "source", "source_id")


@admin.register(Crew)
class CrewAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "daily_capacity")
    search_fields = ("name",)
    list_filter = ("department",)
    filter_horizontal = ("members",)


class ZoneResponsibilityInline(admin.TabularInline):
    model = ZoneResponsibility
    extra = 1
    autocomplete_fields = ("crew",)


@admin.register(Zone)
class ZoneAdmin(GeoAdmin):
    """Polygons are loaded with `load_zones`/`generate_zones`, which keep every version: not edited here."""

    list_display = ("name", "key", "version", "commune", "created_at", "retired_at")
    list_filter = ("commune", ("retired_at", EmptyFieldListFilter))
    search_fields = ("name", "key")
    readonly_fields = ("commune", "key", "version", "geometry", "created_at", "retired_at", "source")
    inlines = [ZoneResponsibilityInline]

    def has_add_permission(self, request):
        return False
