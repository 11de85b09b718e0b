from django import forms
from django.contrib.admin import EmptyFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.contrib.gis import admin
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from geo_siac.geo import STORAGE_SRID
from geo_siac.geo_admin import CommunePointWidget, GeoAdmin
from geo_siac.web.admin_site import NeutralMessagesAdmin
from geo_siac.zones.branding import processed_logo
from geo_siac.zones.models import (
    Commune,
    CommuneCategory,
    CommuneIdentity,
    CommuneMembership,
    Crew,
    ServicePoint,
    Zone,
    ZoneResponsibility,
)
from geo_siac.zones.roles import ROLE_DESCRIPTIONS, ROLES
from geo_siac.zones.selectors import active_communes_geojson, served_service_points
from geo_siac.zones.service_point_fields import ChannelsField, OpeningHoursField, ServicesField, json_fallback
from geo_siac.zones.tenancy import TenantAdmin


class CommuneMembershipInline(TenantAdmin, admin.TabularInline):
    """The comunas a staff account works for (zones.tenancy); a superuser needs none. A comuna's administrator
    grants only the comunas they work for themselves."""

    model = CommuneMembership
    tenant_path = "commune"
    extra = 1
    autocomplete_fields = ("commune",)


User = get_user_model()
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(NeutralMessagesAdmin, GroupAdmin):
    """The roles are one set of groups for every comuna: a comuna's administrator who could edit a role's
    permissions would change them for every comuna, and could put into a role she may assign what she was never
    given. Only a superuser edits groups."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


def roles_help():
    """The groups' help on the user form: what each role of roles.ROLES sees and does, and what else it needs."""
    return format_html(
        "{}<ul>{}</ul>{}",
        _("Cada rol vale solo en las comunas de la cuenta (abajo, «Comunas de la cuenta»):"),
        format_html_join("", "<li>{}</li>", ((ROLE_DESCRIPTIONS[role],) for role in ROLES)),
        _("Un rol no abre la Administración: la abren «Es staff» junto con permisos sobre sus modelos."),
    )


@admin.register(User)
class StaffUserAdmin(NeutralMessagesAdmin, TenantAdmin, UserAdmin):
    """A comuna's administrator manages its own staff (`tenancy.managed_accounts`: any other account, a superuser
    or one also of another comuna, answers 404 on its change, password and delete pages) and gives them only the
    roles of `roles.ROLES`; superuser status and single permissions stay with a superuser."""

    account_path = "pk"
    inlines = [*UserAdmin.inlines, CommuneMembershipInline]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        # is_staff stays editable: it opens the admin, but what it shows comes from the role groups, in the comunas.
        return (*fields, "is_superuser", "user_permissions")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups":
            field.help_text = roles_help()
            if not request.user.is_superuser:
                field.queryset = field.queryset.filter(name__in=ROLES)
        return field

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "is_staff" and field is not None:
            field.help_text = _(
                "Abre las páginas del personal que no piden un rol y, con permisos sobre sus modelos, la "
                "Administración. Las de cuadrilla las abre ser miembro de una; las de Supervisión y Operación, el "
                "rol (grupo); con o sin esta marca."
            )
        return field

    def save_related(self, request, form, formsets, change):
        """Groups outside the roles (an administrators' group) are not offered to a comuna's administrator, so
        saving the form must not take them away."""
        kept = [] if request.user.is_superuser else list(form.instance.groups.exclude(name__in=ROLES))
        super().save_related(request, form, formsets, change)
        form.instance.groups.add(*kept)


@admin.register(Commune)
class CommuneAdmin(TenantAdmin, GeoAdmin):
    list_display = ("cut", "name", "province", "jurisdiction_id", "tracking_prefix", "is_active")
    list_filter = ("is_active", "region")
    search_fields = ("cut", "name")
    readonly_fields = ("updated_at", "source")


@admin.register(CommuneCategory)
class CommuneCategoryAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """A comuna's administrator chooses, for her comunas only, which categories they take, in how many business
    days and which department answers; a category without a row is offered as the catalogue says."""

    list_display = ("commune", "category", "enabled", "response_days", "department")
    list_filter = (("commune", RelatedOnlyFieldListFilter), "enabled")
    list_select_related = ("commune", "category", "department")
    search_fields = ("category__name_es", "category__service_code")
    autocomplete_fields = ("department",)

    def get_queryset(self, request):
        # The list names each row's comuna; its boundary (tens of kilobytes) is not needed for that.
        return super().get_queryset(request).defer("commune__geometry")


class CoordinateField(forms.FloatField):
    """Decimal degrees, with a point or (as Chile writes them) a comma."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 14})

    def to_python(self, value):
        return super().to_python(value.replace(",", ".") if isinstance(value, str) else value)


class ServicePointForm(forms.ModelForm):
    """The place is either clicked on the map or typed as latitude and longitude (typed coordinates win: the map's
    script keeps both in step); ServicePoint.clean refuses a place outside the chosen comuna."""

    latitude = CoordinateField(
        label=capfirst(_("latitud")),
        required=False,
        min_value=-90,
        max_value=90,
        help_text=_("Grados decimales, negativa al sur del ecuador: p. ej. -33.6117."),
    )
    longitude = CoordinateField(
        label=capfirst(_("longitud")),
        required=False,
        min_value=-180,
        max_value=180,
        help_text=_("Grados decimales, negativa al oeste de Greenwich: p. ej. -70.5758."),
    )
    services = ServicesField()
    channels = ChannelsField()
    opening_hours = OpeningHoursField()

    class Meta:
        model = ServicePoint
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["point"].required = False
        self.fields["point"].help_text = _(
            "Haga clic en el mapa dentro de la comuna, o escriba la latitud y la longitud. Los contornos se dibujan "
            "simplificados (unos 10 m): cerca del límite, vale la comuna guardada, no el dibujo."
        )
        self.fields["point"].widget.outlines = active_communes_geojson
        for name in ("services", "channels"):
            if self.instance.pk and not self.fields[name].expresses(getattr(self.instance, name)):
                self.fields[name] = json_fallback(self.fields[name])
        point = self.instance.point
        if point is not None:
            self.initial.setdefault("latitude", round(point.y, 6))
            self.initial.setdefault("longitude", round(point.x, 6))

    def clean(self):
        cleaned = super().clean()
        lat, lng = cleaned.get("latitude"), cleaned.get("longitude")
        if "latitude" in self.errors or "longitude" in self.errors:
            return cleaned
        if lat is not None and lng is not None:
            # Untouched, the rounded coordinates would move a stored point by centimetres on every save.
            if {"latitude", "longitude"} & set(self.changed_data) or cleaned.get("point") is None:
                cleaned["point"] = Point(lng, lat, srid=STORAGE_SRID)
        elif lat is not None or lng is not None:
            missing = "longitude" if lng is None else "latitude"
            self.add_error(missing, _("Escriba la latitud y la longitud, o ninguna de las dos y marque el mapa."))
        elif cleaned.get("point") is None and "point" not in self.errors:
            self.add_error("point", _("Marque la ubicación en el mapa o escriba su latitud y longitud."))
        return cleaned


@admin.register(ServicePoint)
class ServicePointAdmin(TenantAdmin, GeoAdmin):
    form = ServicePointForm
    gis_widget = CommunePointWidget
    list_display = ("name", "kind", "commune", "capacity_per_day", "source")
    list_filter = ("kind", ("commune", RelatedOnlyFieldListFilter), "source")
    search_fields = ("name", "address", "source_id")
    readonly_fields = ("box_sheet", "updated_at", "source", "source_id")
    fieldsets = (
        (None, {"fields": ("name", "kind", "commune", "address")}),
        (_("Ubicación"), {"fields": ("point", ("latitude", "longitude"))}),
        (
            _("Atención"),
            {"fields": ("opening_hours", "services", "channels", "accessibility", "capacity_per_day", "box_sheet")},
        ),
        (_("Importación"), {"fields": ("source", "source_id", "updated_at")}),
    )

    @admin.display(description=_("buzón de sugerencias"))
    def box_sheet(self, obj):
        # The QR sheet is of the served municipal points only (attention.suggestion_box), as the staff list is.
        if obj is None or obj.pk is None or not served_service_points().filter(pk=obj.pk).exists():
            return _("Sin buzón: solo los puntos municipales de una comuna atendida tienen hoja con código QR.")
        return format_html(
            '<a href="{}" id="box-sheet-link">{}</a>',
            reverse("attention:box_print", args=[obj.pk]),
            _("Imprimir la hoja con el código QR del buzón"),
        )


@admin.register(Crew)
class CrewAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
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


class CommuneIdentityForm(forms.ModelForm):
    class Meta:
        model = CommuneIdentity
        fields = "__all__"

    def clean_logo(self):
        """A new upload is checked and re-encoded (zones.branding) before the storage sees it."""
        logo = self.cleaned_data.get("logo")
        if not logo or logo == self.initial.get("logo"):
            return logo
        content, name = processed_logo(logo)
        return ContentFile(content, name=name)


@admin.register(CommuneIdentity)
class CommuneIdentityAdmin(NeutralMessagesAdmin, TenantAdmin, admin.ModelAdmin):
    """A comuna's administrator edits her comuna's name, logo, colours and contact line; the host name it is served
    at is configuration (DNS, certificate, ALLOWED_HOSTS), so only a superuser sets it."""

    form = CommuneIdentityForm
    list_display = ("display_name", "commune", "public_host", "primary_colour", "accent_colour", "updated_at")
    search_fields = ("display_name", "commune__name")

    def get_readonly_fields(self, request, obj=None):
        fields = ("updated_at",)
        if obj is not None:
            fields += ("commune",)
        return fields if request.user.is_superuser else (*fields, "public_host")

    def save_model(self, request, obj, form, change):
        replaced = form.initial.get("logo") if "logo" in form.changed_data else None
        super().save_model(request, obj, form, change)
        if replaced:
            # The old name is never reused; its file goes once the new one is committed.
            transaction.on_commit(lambda: obj.logo.storage.delete(replaced.name))
