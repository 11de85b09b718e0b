"""/favicon.ico: browsers ask for it on every site, including pages without a <link rel="icon"> (the admin, the
folium maps); it points at the site's icon among the static files instead of logging a 404 each time."""

from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe


@require_safe
def favicon(request):
    # Not permanent: the static file's name carries a hash in production and changes with the icon.
    response = HttpResponseRedirect(static("geo_siac/favicon.svg"))
    patch_cache_control(response, public=True, max_age=86400)
    return response
