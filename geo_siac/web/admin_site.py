"""The project's admin site: Django's, with the request checks every admin view needs before it runs."""

from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import TO_FIELD_VAR
from django.utils.translation import gettext as _

from geo_siac.web.login_throttle import login_throttled, old_password_right, signed_in_username
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

    def login(self, request, extra_context=None):
        """Throttled as every login (web.login_throttle)."""
        return login_throttled(super().login)(request, extra_context)

    def password_change(self, request, extra_context=None):
        """Counted as a login (web.login_throttle): it checks the account's password, which a borrowed session could
        guess."""
        view = login_throttled(super().password_change, account=signed_in_username, succeeded=old_password_right)
        return view(request, extra_context)


class GeoSiacAdminConfig(AdminConfig):
    default_site = "geo_siac.web.admin_site.GeoSiacAdminSite"


class NeutralMessagesAdmin:
    """A mixin for every ModelAdmin of the project: Django's Spanish success messages give each model a masculine
    article ("El categoría «…» fue agregado correctamente"); ours name the object first and its model after it."""

    def response_add(self, request, obj, post_url_continue=None):
        return self._told(request, saved_message(obj), super().response_add, request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._told(request, saved_message(obj), super().response_change, request, obj)

    def response_delete(self, request, obj_display, obj_id):
        text = _("Se eliminó «%(obj)s» (%(name)s).") % {"obj": obj_display, "name": self.opts.verbose_name}
        return self._told(request, text, super().response_delete, request, obj_display, obj_id)

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        replacement = getattr(request, "_geo_siac_success", None)
        if replacement is not None and level == messages.SUCCESS:
            message = replacement
        super().message_user(request, message, level, *args, **kwargs)

    @staticmethod
    def _told(request, text, respond, *args):
        # Django writes its success message inside the response; message_user swaps it for ours meanwhile.
        request._geo_siac_success = text
        try:
            return respond(*args)
        finally:
            del request._geo_siac_success


def saved_message(obj) -> str:
    return _("Se guardó «%(obj)s» (%(name)s).") % {"obj": obj, "name": obj._meta.verbose_name}
