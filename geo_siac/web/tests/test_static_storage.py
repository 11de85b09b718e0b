"""Production's static files storage (geo_siac.web.storage): each URL worked out once, the same as whitenoise's."""

import json

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import FileSystemStorage
from django.template import engines
from whitenoise.storage import CompressedManifestStaticFilesStorage

from geo_siac.web.storage import StaticFilesStorage

NAMES = ["geo_siac/site.css", "geo_siac/favicon.svg", "fonts/icons.woff?#iefix", "geo_siac/a b.js"]


@pytest.fixture
def collected(tmp_path):
    paths = {
        "geo_siac/site.css": "geo_siac/site.0f1e2d3c4b5a.css",
        "geo_siac/favicon.svg": "geo_siac/favicon.9a8b7c6d5e4f.svg",
        "fonts/icons.woff": "fonts/icons.123456789abc.woff",
        "geo_siac/a b.js": "geo_siac/a b.abcdef012345.js",
    }
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": "x"}))
    return tmp_path


def test_each_url_is_whitenoises_and_is_worked_out_once(collected, settings):
    settings.DEBUG = False
    ours = StaticFilesStorage(location=collected, base_url="/static/")
    theirs = CompressedManifestStaticFilesStorage(location=collected, base_url="/static/")
    assert [ours.url(name) for name in NAMES] == [theirs.url(name) for name in NAMES]
    assert ours.url("geo_siac/site.css") == "/static/geo_siac/site.0f1e2d3c4b5a.css"
    assert ours.url("geo_siac/site.css", force=True) == theirs.url("geo_siac/site.css", force=True)
    ours.hashed_files.clear()  # the manifest is read once: a URL given is not worked out again
    assert [ours.url(name) for name in NAMES] == [theirs.url(name) for name in NAMES]
    with pytest.raises(ValueError):  # but force works it out anew
        ours.url("geo_siac/site.css", force=True)


def test_a_name_the_manifest_lacks_is_refused_every_time(collected, settings):
    settings.DEBUG = False
    ours = StaticFilesStorage(location=collected, base_url="/static/")
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            ours.url("geo_siac/missing.css")
    assert ours.urls == {}


def test_a_url_follows_debug_and_a_change_of_settings_forgets_the_urls(collected, settings):
    settings.DEBUG = False
    ours = StaticFilesStorage(location=collected, base_url="/static/")
    theirs = CompressedManifestStaticFilesStorage(location=collected, base_url="/static/")
    hashed = [ours.url(name) for name in NAMES]
    settings.DEBUG = True  # Django's storage then gives the names as they are
    assert ours.urls == {}
    assert [ours.url(name) for name in NAMES] == [theirs.url(name) for name in NAMES] != hashed
    settings.DEBUG = False
    assert [ours.url(name) for name in NAMES] == hashed


def test_static_tags_give_whitenoises_urls_under_each_static_url(collected, settings):
    """Through `{% static %}` with production's storage: a test's STATIC_URL makes Django a new storage, and the
    URLs are the new storage's."""
    settings.DEBUG = False
    settings.STATIC_ROOT = collected
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": "geo_siac.web.storage.StaticFilesStorage"}}
    template = engines["django"].from_string("{% load static %}" + "|".join(f"{{% static '{n}' %}}" for n in NAMES))
    for static_url in ("/static/", "/assets/v2/"):
        settings.STATIC_URL = static_url
        theirs = CompressedManifestStaticFilesStorage(location=collected, base_url=static_url)
        first, again = template.render({}).split("|"), template.render({}).split("|")
        assert isinstance(staticfiles_storage._wrapped, StaticFilesStorage)
        assert first == again == [theirs.url(name) for name in NAMES]
        assert first[0] == f"{static_url}geo_siac/site.0f1e2d3c4b5a.css"
        assert all(url.startswith(static_url) for url in first)


def test_collectstatic_post_processing_gives_the_new_files_urls(tmp_path, settings):
    """A storage that has given a URL and then post-processes (collectstatic) gives the new file's URL."""
    settings.DEBUG = False
    source, target = tmp_path / "source", tmp_path / "collected"
    (source / "geo_siac").mkdir(parents=True)
    (source / "geo_siac/site.css").write_text("body { color: black; }\n")
    target.mkdir()
    paths = {"geo_siac/site.css": "geo_siac/site.0f1e2d3c4b5a.css"}
    (target / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": "x"}))
    ours = StaticFilesStorage(location=target, base_url="/static/")
    assert ours.url("geo_siac/site.css") == "/static/geo_siac/site.0f1e2d3c4b5a.css"
    found = FileSystemStorage(location=source)
    with found.open("geo_siac/site.css") as original:
        ours.save("geo_siac/site.css", original)
    processed = list(ours.post_process({"geo_siac/site.css": (found, "geo_siac/site.css")}))
    assert [name for name, _, _ in processed] == ["geo_siac/site.css"]
    fresh = CompressedManifestStaticFilesStorage(location=target, base_url="/static/")
    assert ours.url("geo_siac/site.css") == fresh.url("geo_siac/site.css") != "/static/geo_siac/site.0f1e2d3c4b5a.css"
