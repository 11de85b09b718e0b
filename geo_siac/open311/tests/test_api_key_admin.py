from geo_siac.open311.keys import hash_key
from geo_siac.open311.models import ApiKey


def test_admin_creates_a_key_shows_it_once_and_stores_only_its_hash(admin_client, communes):
    response = admin_client.post(
        "/admin/open311/apikey/add/",
        {"name": "App Barrio", "channel_label": "App Barrio", "rate_limit_per_minute": 5, "contact_email": ""},
        follow=True,
    )
    key = ApiKey.objects.get()
    shown = next(str(m) for m in response.context["messages"] if "App Barrio:" in str(m))
    raw = shown.split(": ", 1)[1].split(" ")[0]
    assert key.key_hash == hash_key(raw) and key.prefix == raw[:8]
    assert raw not in admin_client.get(f"/admin/open311/apikey/{key.pk}/change/").content.decode()


def test_admin_action_revokes_keys(admin_client, communes):
    admin_client.post(
        "/admin/open311/apikey/add/", {"name": "Vieja", "channel_label": "Vieja", "rate_limit_per_minute": 5}
    )
    key = ApiKey.objects.get()
    admin_client.post("/admin/open311/apikey/", {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None and not ApiKey.objects.usable().exists()
