"""The webhooks' refusals echo the payload's fault: as text/plain, so nothing echoed can be read as markup."""

from tests.test_messaging_channels import SMS_URL, WHATSAPP_URL, provider, sign, sms  # noqa: F401


def test_a_bad_whatsapp_payload_is_refused_as_plain_text(client, provider):  # noqa: F811
    body = b'{"entry": "<script>alert(1)</script>"}'
    response = client.post(WHATSAPP_URL, body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=sign(body))
    assert response.status_code == 400 and response["Content-Type"] == "text/plain; charset=utf-8"


def test_a_bad_sms_payload_is_refused_as_plain_text(client, provider):  # noqa: F811
    response = sms(client, "hola", "SM<b>1</b>", media={"NumMedia": "<b>x</b>"})
    assert response.status_code == 400 and response["Content-Type"] == "text/plain; charset=utf-8"
