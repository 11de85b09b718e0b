"""Walks the URL table of docs/security.md for every role that exists today and checks each answer."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from geo_siac.reports.messages import survey_token
from geo_siac.testing import PROJECT_ROOT

ROLES = ["anonymous", "citizen", "operator", "supervisor", "admin"]
ROW = re.compile(r"^\| (GET|POST) \| `([^`]+)`[^|]* \|(.+)\|$")
SUPERVISOR_MODELS = ["report", "category", "commune", "servicepoint"]


def table() -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for line in (PROJECT_ROOT / "docs" / "security.md").read_text().splitlines():
        if match := ROW.match(line.strip()):
            method, url, cells = match.groups()
            rows.append((method, url, dict(zip(ROLES, (c.strip() for c in cells.split("|")), strict=True))))
    return rows


def client_for(role: str) -> Client:
    client = Client()
    users = get_user_model().objects
    if role == "operator":
        client.force_login(users.create_user("operador", is_staff=True))
    elif role == "supervisor":
        user = users.create_user("supervisora", is_staff=True)
        user.user_permissions.set(Permission.objects.filter(content_type__model__in=SUPERVISOR_MODELS))
        client.force_login(user)
    elif role == "admin":
        client.force_login(users.create_superuser("admin", "admin@example.cl", "x"))
    return client


def test_the_table_lists_every_url_pattern():
    documented = {url for _, url, _ in table()}
    for prefix in ("/", "/enviada/", "/seguimiento/", "/encuesta/", "/api/duplicados/", "/salud/", "/i18n/setlang/",
                   "/api/schema/", "/api/docs/", "/api/reports/", "/mapas/cobertura/", "/admin/", "/open311/v2/"):
        assert any(url.startswith(prefix) for url in documented), prefix


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_documented_answer_for_every_url(role, make_report, settings, tmp_path):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 10_000
    report = make_report(public_visibility=True)
    real = role != "anonymous"
    values = {"code": report.tracking_code if real else "ZZZZ9999", "id": report.pk,
              "token": survey_token(report) if real else "no-es-un-token"}
    client = client_for(role)
    wrong = []
    for method, url, expected in table():
        if expected[role].startswith("issue"):
            continue
        path = url.format(**values)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, {"email": "vecina@example.cl", "language": "es", "next": "/"})
        if str(response.status_code) != expected[role]:
            wrong.append(f"{method} {path}: {response.status_code}, documented {expected[role]}")
    assert wrong == []
