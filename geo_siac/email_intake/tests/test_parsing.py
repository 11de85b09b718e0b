"""Reading a message: the text a reply adds, the codes it quotes, an HTML body, the key of a message without a
Message-ID, and what marks a machine's message."""

from email.message import EmailMessage

from geo_siac.email_intake.parsing import ParsedEmail, html_text, parse_email


def parsed(text="", subject=""):
    return ParsedEmail(message_id="<1@x>", sender_email="a@b.cl", sender_name="", subject=subject, text=text)


def raw(**headers) -> bytes:
    message = EmailMessage()
    message["From"] = "Rosa <rosa@example.cl>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hola")
    return message.as_bytes()


def test_reply_text_drops_the_quoted_message_and_its_attribution():
    text = "Sigue igual.\n\nOn Mon, 4 May 2026, GeoSIAC wrote:\n> Su solicitud PA-2345-6789\n> fue recibida."

    assert parsed(text).reply_text() == "Sigue igual."


def test_reply_text_stops_at_outlooks_original_message():
    assert parsed("Gracias.\n-----Mensaje original-----\nDe: GeoSIAC").reply_text() == "Gracias."


def test_tracking_codes_are_found_in_any_case_subject_first_each_once():
    found = parsed("ver pa-abcd-efgh y PE-2345-6789", subject="Re: PE-2345-6789").tracking_codes()

    assert found == ["PE-2345-6789", "PA-ABCD-EFGH"]


def test_tracking_codes_typed_with_spaces_or_no_dashes_are_found_in_quote_order():
    found = parsed("el código pe 2345 6789, antes PA7K3MQ9XD", subject="Re: su solicitud PA-7K3M-Q9XD").tracking_codes()

    assert found == ["PA-7K3M-Q9XD", "PE-2345-6789"]


def test_dmarc_pass_is_read_only_from_the_trusted_mtas_authentication_results():
    trusted = "mx.municipio.cl; spf=pass smtp.mailfrom=example.cl; dmarc=pass header.from=example.cl"
    forged = "mx.example.cl; dmarc=pass header.from=example.cl"
    failed = "mx.municipio.cl; dmarc=fail header.from=example.cl"

    assert parse_email(
        raw(Authentication_Results=trusted), envelope_sender="r@x", authserv_id="mx.municipio.cl"
    ).dmarc_pass
    assert not parse_email(
        raw(Authentication_Results=forged), envelope_sender="r@x", authserv_id="mx.municipio.cl"
    ).dmarc_pass
    assert not parse_email(
        raw(Authentication_Results=failed), envelope_sender="r@x", authserv_id="mx.municipio.cl"
    ).dmarc_pass
    assert not parse_email(raw(Authentication_Results=trusted), envelope_sender="r@x").dmarc_pass


def test_the_trusted_mtas_own_dmarc_result_on_top_decides_over_a_forged_one_below():
    message = EmailMessage()
    message["Authentication-Results"] = "mx.municipio.cl; dkim=none; dmarc=fail header.from=example.cl"
    message["Authentication-Results"] = "mx.municipio.cl; dmarc=pass header.from=example.cl"  # the sender's
    message["From"] = "rosa@example.cl"
    message.set_content("Hola")

    assert not parse_email(message.as_bytes(), envelope_sender="r@x", authserv_id="mx.municipio.cl").dmarc_pass


def test_html_body_is_read_as_its_text_without_scripts_or_styles():
    html = "<style>p{}</style><p>Hoyo&nbsp;en   la calle</p><div>Frente al 12</div><script>alert(1)</script>"

    assert html_text(html).split() == ["Hoyo", "en", "la", "calle", "Frente", "al", "12"]


def test_message_without_message_id_is_keyed_by_its_digest():
    first, again = parse_email(raw(), envelope_sender="rosa@example.cl"), parse_email(raw(), envelope_sender="x@y.cl")

    assert first.message_id.startswith("sha256:") and first.message_id == again.message_id


def test_automatic_messages_are_recognised():
    assert parse_email(raw(Auto_Submitted="auto-replied"), envelope_sender="rosa@example.cl").automatic
    assert parse_email(raw(Precedence="bulk"), envelope_sender="rosa@example.cl").automatic
    assert parse_email(raw(), envelope_sender="<>").automatic
    assert not parse_email(raw(Auto_Submitted="no"), envelope_sender="rosa@example.cl").automatic
