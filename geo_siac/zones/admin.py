from django.contrib.gis import admin

from geo_siac.geo_admin import GeoAdmin
from geo_siac.zones.models import Commune


@admin.register(Commune)
class CommuneAdmin(GeoAdmin):
    list_display = ("cut", "name", "province", "jurisdiction_id", "tracking_prefix", "is_active")
    list_filter = ("is_active", "region")
    search_fields = ("cut", "name")
    readonly_fields = ("updated_at", "source")
