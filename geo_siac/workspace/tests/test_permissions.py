"""Who may open each crew and operator URL: anonymous, crew A member, crew B member, supervisor, operator, admin.

The report used is crew A's (in the west zone). "login" = redirected to the login page; "done" = the action
succeeded and redirected back."""

import pytest
from django.urls import reverse

from geo_siac.testing import WEST_POINT

ROLES = ("anonymous", "member_a", "member_b", "supervisor", "operator", "admin")

# url name, method, data, expected per role (in ROLES order)
MATRIX = [
    ("crew:home", "get", None, ["login", 200, 200, 200, 403, 200]),
    ("crew:supervision", "get", None, ["login", 403, 403, 200, 403, 200]),
    ("crew:supervision", "post", "bulk", ["login", 403, 403, "done", 403, "done"]),
    ("crew:report", "get", None, ["login", 200, 404, 200, 403, 200]),
    ("crew:status", "post", {"status": "acknowledged", "note": "Vamos"}, ["login", "done", 404, "done", 403, "done"]),
    ("crew:hand_back", "post", {"reason": "No es nuestro"}, ["login", "done", 404, "done", 403, "done"]),
    ("crew:reroute", "post", "reroute", ["login", 403, 403, "done", 403, "done"]),
    ("crew:extend", "post", {"business_days": 2, "reason": "Lluvia"}, ["login", 403, 403, "done", 403, "done"]),
    ("operator:new", "get", None, ["login", 403, 403, 403, 200, 200]),
    ("operator:new", "post", "citizen", ["login", 403, 403, 403, "done", "done"]),
    ("operator:nearby", "get", "nearby", ["login", 403, 403, 403, 200, 200]),
    ("operator:filed", "get", None, ["login", 403, 403, 403, 200, 200]),
]


def request_data(data, report, crews):
    """Valid input for each action, so any refusal comes from the permissions alone."""
    if data == "bulk":
        return {"reports": [report.tracking_code], "status": "acknowledged"}
    if data == "reroute":
        return {"crew": crews["B"].pk, "reason": "Oriente"}
    if data == "citizen":
        return {
            "channel": "phone",
            "category": "retiro-escombros",
            "latitude": WEST_POINT[0],
            "longitude": WEST_POINT[1],
            "description": "Llamó una vecina",
        }
    if data == "nearby":
        return {"lat": WEST_POINT[0], "lng": WEST_POINT[1], "category": "retiro-escombros"}
    return data


def outcome(response) -> int | str:
    if response.status_code == 302:
        return "login" if response["Location"].startswith(reverse("login")) else "done"
    return response.status_code


@pytest.mark.parametrize(("name", "method", "data", "expected"), MATRIX, ids=[f"{m[0]}-{m[1]}" for m in MATRIX])
def test_permissions_matrix(client, make_report, crews, name, method, data, expected):
    seen = []
    for role in ROLES:
        report = make_report(point=WEST_POINT)  # a fresh report of crew A for each role, as POSTs change it
        client.logout()
        if role != "anonymous":
            client.force_login(crews[role])
        args = (
            []
            if name in ("crew:home", "crew:supervision", "operator:new", "operator:nearby")
            else [report.tracking_code]
        )
        response = getattr(client, method)(reverse(name, args=args), request_data(data, report, crews) or {})
        seen.append(outcome(response))
    assert dict(zip(ROLES, seen)) == dict(zip(ROLES, expected))
