"""The admin site refuses request parameters Django's own admin views cannot handle, before they reach them."""

import pytest


@pytest.mark.parametrize("page", ["change", "delete", "history"])
@pytest.mark.parametrize("model", ["auth/user", "zones/commune"])
def test_an_empty_to_field_is_a_400_on_every_admin_object_page(admin_client, admin_user, communes, model, page):
    pk = admin_user.pk if model == "auth/user" else communes["13201"].pk
    response = admin_client.get(f"/admin/{model}/{pk}/{page}/", {"_to_field": ""})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert "_to_field" in response.content.decode()


def test_an_empty_to_field_still_sends_a_visitor_to_the_login_first(client, admin_user):
    response = client.get(f"/admin/auth/user/{admin_user.pk}/change/", {"_to_field": ""})
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_every_admin_of_the_project_says_saved_without_djangos_gendered_message():
    """Django's Spanish "El categoría «…» fue agregado correctamente" gives every model a masculine article."""
    from django.contrib import admin

    from geo_siac.web.admin_site import NeutralMessagesAdmin

    ours = {model: model_admin for model, model_admin in admin.site._registry.items()}
    assert ours, "no admin registered"
    plain = [model.__name__ for model, model_admin in ours.items() if not isinstance(model_admin, NeutralMessagesAdmin)]
    assert plain == []


def test_the_saved_message_is_translated_through_the_projects_catalogue():
    from django.utils import translation

    from geo_siac.catalogue.models import Department
    from geo_siac.web.admin_site import saved_message

    works = Department(name="Dirección de Obras")
    assert saved_message(works) == "Se guardó «Dirección de Obras» (dirección municipal)."
    with translation.override("en"):
        assert saved_message(works) == "Saved «Dirección de Obras» (municipal department)."
