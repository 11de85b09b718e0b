"""Walks the URL table of docs/security.md for every role and checks each answer; every named URL of the project
(outside the admin) must have a row."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from geo_siac.reports.messages import survey_token
from geo_siac.testing import PROJECT_ROOT, WEST_POINT

ROLES = ["anonymous", "citizen", "crew_other", "crew", "operator", "supervisor", "admin"]
ROW = re.compile(r"^\| (GET|POST) \| `([^`]+)`[^|]* \|(.+)\|$")


def table() -> list[tuple[str, str, dict[str, str]]]:
    rows = []
    for line in (PROJECT_ROOT / "docs" / "security.md").read_text().splitlines():
        if match := ROW.match(line.strip()):
            method, url, cells = match.groups()
            rows.append((method, url, dict(zip(ROLES, (c.strip() for c in cells.split("|")), strict=True))))
    return rows


def user_for(role: str, crews: dict):
    """The `crews` fixture's people as an administrator makes them: operators and supervisors are staff accounts
    in their group, with only the permissions the group carries (none granted by hand, or the table could promise
    what a real account does not get)."""
    if role in ("operator", "supervisor"):
        user = crews[role]
        user.is_staff = True
        user.save()
        assert not user.user_permissions.exists()
        return user
    return {"crew_other": crews["member_b"], "crew": crews["member_a"], "admin": crews["admin"]}.get(role)


def client_for(role: str, crews: dict) -> Client:
    client = Client()
    if (user := user_for(role, crews)) is not None:
        client.force_login(get_user_model().objects.get(pk=user.pk))
    return client


def named_views(patterns, namespace: str = "") -> set[str]:
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            if inner != "admin:":
                names |= named_views(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


def test_the_table_has_a_row_for_every_named_url_outside_the_admin():
    documented = {
        resolve(url.format(code="PA-XXXX-XXXX", id=1, token="t").split("?")[0]).view_name for _, url, _ in table()
    }
    # POST-only endpoints are covered by their own tests (crew status changes, follows, Open311 writes).
    post_only = {"crew:status", "crew:hand_back", "crew:reroute", "crew:extend", "crew:kind_step"}
    assert named_views(get_resolver().url_patterns) - documented - post_only == set()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_the_documented_answer_for_every_url(role, make_report, crews, settings, tmp_path):
    settings.GEO_SIAC_SUBMISSIONS_PER_WINDOW = 10_000
    from geo_siac.transparency.services import indicator_snapshots_refresh

    report = make_report(point=WEST_POINT, public_visibility=True)
    assert report.crew == crews["A"]
    indicator_snapshots_refresh()  # as refresh_indicators' timer keeps them: the exports answer 503 before
    call_command("publish_open_data", stdout=io.StringIO())  # likewise the open-data downloads
    real = role != "anonymous"
    values = {
        "code": report.tracking_code if real else "ZZZZ9999",
        "id": report.pk,
        "token": survey_token(report) if real else "no-es-un-token",
    }
    client = client_for(role, crews)
    wrong = []
    for method, url, expected in table():
        path = url.format(**values)
        if method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, {"email": "vecina@example.cl", "language": "es", "next": "/"})
        if str(response.status_code) != expected[role]:
            wrong.append(f"{method} {path}: {response.status_code}, documented {expected[role]}")
    assert wrong == []
