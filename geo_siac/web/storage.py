"""Where production serves its static files from."""

import weakref

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Every StaticFilesStorage of the process, so that a change of settings (a test's) empties their URLs.
MADE: weakref.WeakSet = weakref.WeakSet()


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """whitenoise's hashed, compressed files, each name's URL worked out once per DEBUG and base URL: the manifest is
    read when the storage is made (and again only by collectstatic's post-processing), and working the URL out again
    on every `{% static %}` (the name split, unquoted, looked up, quoted) was a share of every page's CPU
    (docs/performance.md)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.urls: dict[tuple, str] = {}
        MADE.add(self)

    def url(self, name, force=False):
        if force:
            return super().url(name, force)
        key = (name, settings.DEBUG, self.base_url)
        found = self.urls.get(key)
        if found is None:
            # A name the manifest lacks raises here every time, as it did.
            found = self.urls[key] = super().url(name)
        return found

    def post_process(self, *args, **kwargs):
        self.urls.clear()
        yield from super().post_process(*args, **kwargs)
        self.urls.clear()


@receiver(setting_changed)
def urls_forgotten(**kwargs) -> None:
    for storage in MADE:
        storage.urls.clear()
