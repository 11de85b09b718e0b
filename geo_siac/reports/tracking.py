"""Tracking codes: short, readable over the phone, unguessable. E.g. PA-7K3M-Q9XD.

The alphabet drops 0/O, 1/I/L and U, which are misheard or misread; 30^8 ≈ 6.6e11 codes per comuna prefix,
drawn with `secrets`, so a code cannot be guessed from another.
"""

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
_CLEAN = re.compile(r"[^A-Z0-9]")


def new_tracking_code(prefix: str) -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return f"{prefix}-{body[:4]}-{body[4:]}"


def normalize_tracking_code(raw: str) -> str:
    """Accepts what a citizen types or dictates: any case, spaces or missing dashes."""
    text = _CLEAN.sub("", (raw or "").upper())
    if len(text) <= LENGTH:
        return text
    prefix, body = text[:-LENGTH], text[-LENGTH:]
    return f"{prefix}-{body[:4]}-{body[4:]}"
