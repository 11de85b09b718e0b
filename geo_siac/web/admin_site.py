"""The project's admin site: Django's, with the request checks every admin view needs before it runs."""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import TO_FIELD_VAR
from django.utils.translation import gettext as _

from geo_siac.web.responses import text_error


class GeoSiacAdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        """An empty `_to_field` is refused: Django's change, delete and history views skip their check of an empty
        value and then look up a field named '' (a 500 on every model, Django's own User and Group included)."""

        @wraps(view)
        def checked(request, *args, **kwargs):
            for data in (request.GET, request.POST if request.method == "POST" else {}):
                if TO_FIELD_VAR in data and not data[TO_FIELD_VAR]:
                    return text_error(_("El parámetro %(name)s no puede estar vacío.") % {"name": TO_FIELD_VAR})
            return view(request, *args, **kwargs)

        return super().admin_view(checked, cacheable)  # the login and permission checks still come first


class GeoSiacAdminConfig(AdminConfig):
    default_site = "geo_siac.web.admin_site.GeoSiacAdminSite"
