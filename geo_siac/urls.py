from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from geo_siac.open311.views import index as open311_index
from geo_siac.web.favicon import favicon
from geo_siac.web.health import health
from geo_siac.web.staff import login
from geo_siac.web.tiles import tile
from geo_siac.workspace.photo_views import document, photo

urlpatterns = [
    # First, because Django tries the patterns in order and this is the busiest prefix; no other pattern can match a
    # path under open311/v2/, where Open311's own catch-all answers (docs/performance.md, Open311).
    path("open311/v2/", include("geo_siac.open311.urls")),
    path("open311/", open311_index, name="open311_index"),
    # Then the citizens' pages, the public map and the GeoJSON API, most of the other requests: each pattern tried before
    # a path's own costs its resolution time, and none of the patterns after these matches a path they match
    # (geo_siac/web/tests/test_urls.py resolves every route to its own view).
    path("", include("geo_siac.reports.urls")),
    path("transparencia/", include("geo_siac.transparency.urls")),
    path("api/", include("geo_siac.api_urls")),
    path("salud/", health, name="health"),
    path("favicon.ico", favicon, name="favicon"),
    path("teselas/<int:z>/<int:x>/<int:y>", tile, name="tile"),
    # Every photo link goes through the application, whatever the storage: MEDIA_URL is also what the local
    # storage's own .url() gives (the admin's file links).
    path(settings.MEDIA_URL.lstrip("/") + "<path:name>", photo, name="photo"),
    # A requester's PDF (Ley 20.285), private and always a download: its own view, never the photo's.
    path("documentos/<path:name>", document, name="document"),
    # Exempt: a cached public page reaches a first-time visitor with no CSRF cookie, and choosing a language changes
    # only how the site reads to them (set_language itself still keeps `next` on this host).
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("", include("geo_siac.zones.urls")),
    path("admin/", admin.site.urls),
    path("", include("geo_siac.maps.urls")),
    path("mensajeria/", include("geo_siac.messaging.urls")),
    path("cuenta/ingresar/", login, name="login"),
    path("cuenta/salir/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("geo_siac.alerts.urls")),
    path("", include("geo_siac.workspace.urls")),
    path("mis-solicitudes/", include("geo_siac.citizens.urls")),
    path("", include("geo_siac.attention.urls")),
]

handler403 = "geo_siac.web.access.permission_denied"
handler500 = "geo_siac.web.database.server_error"
