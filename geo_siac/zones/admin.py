from django.contrib.gis import admin

from geo_siac.geo_admin import GeoAdmin
from geo_siac.zones.models import Commune, ServicePoint


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
