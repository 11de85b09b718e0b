import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geo_siac.settings")
application = get_wsgi_application()


def warm_up() -> None:
    """Import every view (Django imports the URLconf on a worker's first request) and leave no database
    connection open, so that gunicorn's `preload_app` forks workers that are ready to serve: otherwise each
    worker spends seconds of CPU importing PySAL and matplotlib on its first request, and again whenever it is
    recycled."""
    from django.db import connections
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (reading them imports every view)
    connections.close_all()
