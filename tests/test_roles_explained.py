"""Roles as the walk of issue adm24 met them: the user form says what each role sees and does and what else it needs,
the navigation bar offers the admin only to whom it shows something, and a 403 names the role the page needs."""

import pytest
from django.contrib.auth.models import Group, Permission

from geo_siac.testing import staff_account
from geo_siac.zones.roles import ROLES, SUPERVISOR


def nav_has_admin(client) -> bool:
    page = client.get("/cuadrilla/supervision/").content.decode()
    nav = page.split("<nav", 1)[1].split("</nav>", 1)[0]
    return 'href="/admin/"' in nav


def test_a_staff_supervisor_with_nothing_to_open_in_the_admin_is_not_offered_it(client, crews, communes):
    supervisor = staff_account("silvia", communes=[communes["13201"]], is_staff=True)
    supervisor.groups.add(Group.objects.get_or_create(name=SUPERVISOR)[0])
    client.force_login(supervisor)
    assert not nav_has_admin(client)

    supervisor.user_permissions.add(Permission.objects.get(codename="view_servicepoint"))
    client.force_login(supervisor)
    assert nav_has_admin(client)
    assert client.get("/admin/").status_code == 200


def test_the_403_page_names_the_role_the_page_needs(client, crews):
    client.force_login(crews["operator"])
    response = client.get("/cuadrilla/supervision/")
    assert response.status_code == 403
    assert "Para abrir esta página, su cuenta necesita el rol Supervisión." in response.content.decode()
    client.force_login(crews["supervisor"])
    assert "necesita el rol Operación" in client.get("/operador/").content.decode()
    client.force_login(crews["member_a"])
    assert "la marca «Es staff»" in client.get("/mapas/cobertura/").content.decode()
    response = client.get("/cuadrilla/plazos/")
    assert response.status_code == 403
    assert "necesita el rol Supervisión, o una jefatura de dirección." in response.content.decode()


@pytest.mark.parametrize("superuser", [True, False])
def test_the_user_form_explains_each_role_the_staff_flag_and_the_signature(client, crews, communes, superuser):
    if superuser:
        manager = crews["admin"]
    else:
        manager = staff_account("ada", communes=[communes["13201"]], is_staff=True)
        manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="auth"))
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    client.force_login(manager)
    page = client.get(f"/admin/auth/user/{crews['operator'].pk}/change/").content.decode()
    assert "la abre ser miembro de una (Administración › Territorio › Cuadrillas), con o sin este grupo" in page
    assert "Supervisión: ve todas las solicitudes de sus comunas" in page
    assert "Solicitudes ciudadanas › Firmantes de cartas" in page
    assert "Operación: registra en la «Consola de operación»" in page
    assert "con permisos sobre sus modelos, la Administración" in page
    assert "el mapa de calor" not in page  # the pages is_staff opens are workspace.access's to list, not this text
    assert "Un usuario tendrá todos los permisos" not in page  # Django's stock help


def test_a_crew_member_without_the_cuadrilla_group_opens_the_crew_queue_as_the_form_says(client, crews):
    member = crews["member_a"]
    member.groups.clear()
    client.force_login(member)
    assert client.get("/cuadrilla/").status_code == 200


def test_the_403_page_shows_a_missing_role_but_no_other_refusals_message(rf, db):
    from django.core.exceptions import PermissionDenied

    from geo_siac.web.access import RoleMissing, permission_denied

    request = rf.get("/")
    hidden = permission_denied(request, PermissionDenied("Detalle interno de un permiso")).content.decode()
    assert "Detalle interno de un permiso" not in hidden and 'id="missing-role"' not in hidden
    shown = permission_denied(request, RoleMissing("Para abrir esta página, su cuenta necesita X.")).content.decode()
    assert "Para abrir esta página, su cuenta necesita X." in shown
