"""The procedures guide: search with accents optional, and a page an operator can send as a link."""

import pytest
from django.conf import settings

from geo_siac.attention.models import Procedure


@pytest.fixture
def guide(db):
    Procedure.objects.create(
        slug="permiso-de-circulacion",
        name="Permiso de circulación",
        requirements="Revisión técnica vigente\nSeguro obligatorio (SOAP)",
        cost="Según tasación fiscal",
        legal_deadline="En el acto",
        responsible="Dirección de Tránsito",
    )
    Procedure.objects.create(
        slug="registro-social-de-hogares",
        name="Registro Social de Hogares",
        summary="Actualización de la información del hogar en Peñalolén.",
        cost="Gratuito",
    )


def names(client, query: str) -> list[str]:
    page = client.get("/tramites/", {"q": query}).content.decode()
    return [name for name in ("Permiso de circulación", "Registro Social de Hogares") if name in page]


def test_search_without_accents_finds_the_accented_procedure(client, guide):
    assert names(client, "circulacion") == ["Permiso de circulación"]
    assert names(client, "REVISION TECNICA") == ["Permiso de circulación"]
    assert names(client, "penalolen") == ["Registro Social de Hogares"]


def test_search_with_accents_finds_the_same_procedures(client, guide):
    assert names(client, "circulación") == ["Permiso de circulación"]
    assert names(client, "informacion hogar") == ["Registro Social de Hogares"]


def test_search_without_a_match_says_so(client, guide):
    page = client.get("/tramites/", {"q": "licencia de pesca"}).content.decode()
    assert "Ningún trámite coincide con «licencia de pesca»." in page


def test_procedure_page_shows_requirements_cost_deadline_where_and_a_link_to_send(client, guide, make_offering):
    offering = make_offering(slug="permiso-de-circulacion")
    page = client.get("/tramites/permiso-de-circulacion/").content.decode()
    for text in (
        "Revisión técnica vigente",
        "Según tasación fiscal",
        "En el acto",
        "Dirección de Tránsito",
        offering.service_point.name,
        f"/citas/reservar/{offering.pk}/",
    ):
        assert text in page
    assert f'value="{settings.SITE_URL.rstrip("/")}/tramites/permiso-de-circulacion/"' in page
