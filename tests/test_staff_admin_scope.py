"""A comuna's administrator (staff, with the auth and alerts permissions through a group, no superuser) manages in
the admin only its own comuna's accounts and gives them only roles: issue #26, point 1 (docs/staff-accounts.md)."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.forms import MultiWidget
from django.test import Client
from django.urls import reverse

from geo_siac.alerts.models import DepartmentHead
from geo_siac.catalogue.models import Department
from geo_siac.testing import staff_account
from geo_siac.zones.models import CommuneMembership
from geo_siac.zones.roles import OPERATOR, ROLES, SUPERVISOR


@pytest.fixture
def scene(communes, django_user_model):
    penalolen, puente_alto = communes["13122"], communes["13201"]
    admins = Group.objects.create(name="Administración Puente Alto")
    # Granting comunas takes the membership permissions too, and the comuna autocomplete the right to view them.
    zones = Permission.objects.filter(content_type__model="communemembership") | Permission.objects.filter(
        codename="view_commune"
    )
    admins.permissions.set(Permission.objects.filter(content_type__app_label__in=["auth", "alerts"]) | zones)
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    ada = staff_account("ada-admin-pa", communes=[puente_alto], is_staff=True)
    ada.groups.add(admins)
    local = staff_account("luis-pa", communes=[puente_alto], is_staff=True)
    both = staff_account("sara-pa-pe", communes=[puente_alto, penalolen], is_staff=True)
    boss = django_user_model.objects.create_superuser("raiz", "raiz@example.cl", "x")
    bruno = staff_account("bruno-pe", communes=[penalolen])
    head_b = DepartmentHead.objects.create(
        commune=penalolen, department=Department.objects.create(name="Aseo Peñalolén"), user=bruno
    )
    head_a = DepartmentHead.objects.create(
        commune=puente_alto, department=Department.objects.create(name="Aseo Puente Alto"), user=local
    )
    client = Client()
    client.force_login(ada)
    return {
        "client": client,
        "ada": ada,
        "local": local,
        "both": both,
        "boss": boss,
        "head_b": head_b,
        "head_a": head_a,
        "penalolen": penalolen,
        "puente_alto": puente_alto,
        "admins": admins,
    }


def user_url(view: str, user) -> str:
    name = "password_change" if view == "password" else view
    return reverse(f"admin:auth_user_{name}", args=[user.pk])


def form_data(response) -> dict:
    """What the browser would post back unchanged: the change form's and every inline formset's current values."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            key, value = form.add_prefix(name), form[name].value()
            if isinstance(field.widget, MultiWidget):
                for i, (widget, part) in enumerate(zip(field.widget.widgets, field.widget.decompress(value))):
                    data[f"{key}_{i}"] = widget.format_value(part) or ""
            elif value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value not in (None, False):
                data[key] = str(value)
    return data


def test_a_superuser_and_an_account_also_of_another_comuna_answer_404_while_its_own_answer_200(scene):
    client = scene["client"]
    for user in (scene["boss"], scene["both"]):
        for view in ("change", "password", "delete"):
            assert client.get(user_url(view, user)).status_code == 404, (user.username, view)
        assert (
            client.post(
                user_url("password", user), {"password1": "Nueva-clave-1", "password2": "Nueva-clave-1"}
            ).status_code
            == 404
        )
        user.refresh_from_db()
        assert not user.has_usable_password() or user.username == "raiz"
    for view in ("change", "password", "delete"):
        assert client.get(user_url(view, scene["local"])).status_code == 200, view
    listed = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "luis-pa" in listed and "ada-admin-pa" in listed
    assert "sara-pa-pe" not in listed and "raiz" not in listed and "bruno-pe" not in listed


def test_the_password_of_its_own_comunas_account_can_be_set(scene):
    response = scene["client"].post(
        user_url("password", scene["local"]),
        {"password1": "Nueva-clave-1", "password2": "Nueva-clave-1", "usable_password": "true"},
    )
    assert response.status_code == 302
    scene["local"].refresh_from_db()
    assert scene["local"].check_password("Nueva-clave-1")


def test_ticking_is_superuser_or_a_permission_on_itself_changes_nothing_but_its_roles_still_save(scene):
    client, ada = scene["client"], scene["ada"]
    page = client.get(user_url("change", ada))
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields and "user_permissions" not in form.fields
    assert len(page.context["inline_admin_formsets"]) == 1
    assert set(form.fields["groups"].queryset.values_list("name", flat=True)) == set(ROLES)
    data = form_data(page)
    anything = Permission.objects.get(codename="change_commune")
    data.update(
        is_superuser="on", user_permissions=[str(anything.pk)], groups=[str(Group.objects.get(name=OPERATOR).pk)]
    )
    response = client.post(user_url("change", ada), data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    ada.refresh_from_db()
    assert not ada.is_superuser
    assert not ada.user_permissions.exists()
    assert set(ada.groups.values_list("name", flat=True)) == {OPERATOR, "Administración Puente Alto"}


def test_groups_outside_the_roles_cannot_be_given(scene):
    client, local = scene["client"], scene["local"]
    page = client.get(user_url("change", local))
    data = form_data(page)
    data["groups"] = [str(scene["admins"].pk), str(Group.objects.get(name=SUPERVISOR).pk)]
    response = client.post(user_url("change", local), data)
    assert response.status_code == 200
    assert "groups" in response.context["adminform"].form.errors
    assert not local.groups.exists()


def test_a_membership_of_another_comuna_cannot_be_added_but_one_of_its_own_can(scene):
    client, local = scene["client"], scene["local"]
    page = client.get(user_url("change", local))
    data = form_data(page)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    new = int(data[f"{prefix}-TOTAL_FORMS"]) - 1
    assert int(data[f"{prefix}-INITIAL_FORMS"]) == new == 1
    data[f"{prefix}-{new}-commune"] = str(scene["penalolen"].pk)
    response = client.post(user_url("change", local), data)
    assert response.status_code == 200
    assert not CommuneMembership.objects.filter(user=local, commune=scene["penalolen"]).exists()
    # The same form with the membership it already has saves: the refusal above is about Peñalolén.
    del data[f"{prefix}-{new}-commune"]
    data["first_name"] = "Luis"
    assert client.post(user_url("change", local), data).status_code == 302
    local.refresh_from_db()
    assert local.first_name == "Luis"
    assert set(local.commune_memberships.values_list("commune", flat=True)) == {scene["puente_alto"].pk}


def test_department_heads_of_another_comuna_are_neither_listed_nor_deleted(scene):
    client, head_a, head_b = scene["client"], scene["head_a"], scene["head_b"]
    listed = client.get(reverse("admin:alerts_departmenthead_changelist")).content.decode()
    assert "Aseo Puente Alto" in listed and "Aseo Peñalolén" not in listed
    assert client.get(reverse("admin:alerts_departmenthead_change", args=[head_b.pk])).status_code == 404
    assert (
        client.post(reverse("admin:alerts_departmenthead_delete", args=[head_b.pk]), {"post": "yes"}).status_code == 404
    )
    bulk = {"action": "delete_selected", "_selected_action": [str(head_b.pk)], "post": "yes"}
    client.post(reverse("admin:alerts_departmenthead_changelist"), bulk)
    assert DepartmentHead.objects.filter(pk=head_b.pk).exists()
    assert client.get(reverse("admin:alerts_departmenthead_change", args=[head_a.pk])).status_code == 200
    choices = client.get(reverse("admin:alerts_departmenthead_add")).context["adminform"].form.fields["user"].queryset
    assert set(choices.values_list("username", flat=True)) == {"ada-admin-pa", "luis-pa"}
    response = client.post(reverse("admin:alerts_departmenthead_delete", args=[head_a.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not DepartmentHead.objects.filter(pk=head_a.pk).exists()


def test_alert_preferences_of_another_comunas_accounts_are_not_listed_or_chosen(scene):
    from geo_siac.alerts.models import StaffAlertPreference

    theirs = StaffAlertPreference.objects.create(user=scene["both"])
    ours = StaffAlertPreference.objects.create(user=scene["local"])
    client = scene["client"]
    change = "admin:alerts_staffalertpreference_change"
    assert client.get(reverse(change, args=[theirs.pk])).status_code == 404
    assert client.get(reverse(change, args=[ours.pk])).status_code == 200
    response = client.post(
        reverse("admin:alerts_staffalertpreference_add"),
        {"user": scene["both"].pk, "delivery": "immediate", "language": "es-cl"},
    )
    assert response.status_code == 200 and "user" in response.context["adminform"].form.errors


def test_a_superuser_still_manages_every_account(scene):
    client = Client()
    client.force_login(scene["boss"])
    for user in (scene["both"], scene["ada"]):
        page = client.get(user_url("change", user))
        assert page.status_code == 200
        assert "is_superuser" in page.context["adminform"].form.fields


def test_only_a_superuser_opens_the_role_groups(client, django_user_model):
    from django.contrib.auth.models import Group, Permission

    from geo_siac.zones.roles import OPERATOR

    role, _ = Group.objects.get_or_create(name=OPERATOR)
    admins = Group.objects.create(name="Administración de grupos")
    admins.permissions.set(Permission.objects.filter(content_type__app_label="auth", codename__endswith="_group"))
    editor = django_user_model.objects.create_user("editora-grupos", password="x", is_staff=True)
    editor.groups.add(admins)
    client.force_login(editor)
    assert client.get(f"/admin/auth/group/{role.pk}/change/").status_code in (403, 404)
    assert client.post(f"/admin/auth/group/{role.pk}/change/", {"name": "Operación total"}).status_code in (403, 404)
    assert Group.objects.filter(name=OPERATOR).exists()
    root = django_user_model.objects.create_superuser("raiz-grupos", password="x")
    client.force_login(root)
    assert client.get(f"/admin/auth/group/{role.pk}/change/").status_code == 200
