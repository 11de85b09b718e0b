"""`{% fixed_url %}`: a route without arguments reversed once per script prefix, the same path `{% url %}` gives."""

import pytest
from django.http import HttpResponse
from django.template import engines
from django.test import RequestFactory
from django.urls import include, path, resolve, set_script_prefix

from geo_siac.web.templatetags.fixed_url import PATHS

NAMES = ["reports:home", "set_language", "reports:tracking_lookup", "citizens:sign_in_request", "attention:points"]


def page(request):
    return HttpResponse()


# A URLconf for the tests below (ROOT_URLCONF = this module): one application mounted twice, under two instance
# namespaces, as Django's admin sites can be, and a home of its own.
REPEATED = ([path("pagina/", page, name="page")], "app")
urlpatterns = [
    path("uno/", include(REPEATED, namespace="uno")),
    path("dos/", include(REPEATED, namespace="dos")),
    path("otra/", include(([path("", page, name="home")], "reports"))),
]


def rendered(tag: str, names=NAMES, request=None) -> list[str]:
    request = request or RequestFactory().get("/")
    template = engines["django"].from_string("{% load fixed_url %}" + "|".join(f"{{% {tag} '{n}' %}}" for n in names))
    return template.render({}, request).split("|")


@pytest.mark.parametrize("prefix", ["/", "/comuna/penalolen/", "/sub/comuna/puente-alto/"])
def test_each_path_is_urls_own_under_each_script_prefix(prefix):
    set_script_prefix(prefix)
    try:
        first, again, theirs = rendered("fixed_url"), rendered("fixed_url"), rendered("url")
    finally:
        set_script_prefix("/")
    assert first == again == theirs
    assert all(path.startswith(prefix) for path in first)
    assert {key[0] for key in PATHS} >= {prefix}


def test_a_comunas_pages_link_under_its_prefix_and_the_others_do_not(client, communes):
    """The tracking lookup's page under a comuna's path links home under that path; the plain one at the root."""
    own = client.get("/comuna/penalolen/seguimiento/").content.decode()
    plain = client.get("/seguimiento/").content.decode()
    assert 'class="brand" href="/comuna/penalolen/"' in own
    assert 'class="brand" href="/"' in plain


def test_the_current_application_chooses_the_instance_as_url_does(settings):
    """An application namespace mounted twice: the request's current_app, else its resolved namespace, chooses the
    instance, as for `{% url %}`; without either, the last one mounted (Django's default instance)."""
    settings.ROOT_URLCONF = __name__
    factory = RequestFactory()
    chosen = factory.get("/")
    chosen.current_app = "uno"
    resolved = factory.get("/dos/pagina/")
    resolved.resolver_match = resolve("/dos/pagina/")
    answers = {}
    for label, request in (("chosen", chosen), ("resolved", resolved), ("neither", factory.get("/"))):
        ours = rendered("fixed_url", ["app:page"], request)
        assert ours == rendered("fixed_url", ["app:page"], request) == rendered("url", ["app:page"], request)
        answers[label] = ours
    assert answers == {"chosen": ["/uno/pagina/"], "resolved": ["/dos/pagina/"], "neither": ["/dos/pagina/"]}


def test_a_change_of_urlconf_forgets_the_paths(settings):
    assert rendered("fixed_url", ["reports:home"]) == ["/"]
    settings.ROOT_URLCONF = __name__
    assert rendered("fixed_url", ["reports:home"]) == rendered("url", ["reports:home"]) == ["/otra/"]
