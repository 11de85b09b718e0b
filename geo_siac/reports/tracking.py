"""Tracking codes: short, readable over the phone, unguessable. E.g. PA-7K3M-Q9XD.

The alphabet drops 0/O, 1/I/L and U, which are misheard or misread; 30^8 ≈ 6.6e11 codes per comuna prefix,
drawn from os.urandom (as `secrets` does), so a code cannot be guessed from another. One generator for the single
report (report_create) and for a chunk of the bulk importer.
"""

import os
import re
from collections.abc import Sequence

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8
_CLEAN = re.compile(r"[^A-Z0-9]")
# A code as citizens write it in a message: any case, its dashes typed, spaced or left out (PA-7K3M-Q9XD, pa 7k3m
# q9xd, PA7K3MQ9XD). Prose can match too (a word of 9-11 such letters); the lookup of the codes sorts it out.
_CODE_IN_TEXT = re.compile(rf"\b[A-Z0-9]{{1,3}}[- ]?[{ALPHABET}]{{4}}[- ]?[{ALPHABET}]{{4}}\b", re.IGNORECASE)
# A random byte below 240 (8 x 30) picks a letter uniformly; the bytes above are dropped (rejection sampling).
_USABLE = 256 - 256 % len(ALPHABET)
_LETTER_OF_BYTE = bytes(ord(ALPHABET[b % len(ALPHABET)]) if b < _USABLE else 0 for b in range(256))
_DROPPED = bytes(range(_USABLE, 256))


def draw_codes(prefixes: Sequence[str]) -> list[str]:
    """A random code for each prefix; two may repeat (tracking_codes makes them distinct)."""
    needed = len(prefixes) * LENGTH
    letters = b""
    while len(letters) < needed:
        letters += os.urandom(needed - len(letters) + needed // 8 + 8).translate(_LETTER_OF_BYTE, _DROPPED)
    text = letters[:needed].decode("ascii")
    return [
        f"{prefix}-{text[i : i + 4]}-{text[i + 4 : i + LENGTH]}"
        for prefix, i in zip(prefixes, range(0, needed, LENGTH), strict=True)
    ]


def tracking_codes(prefixes: Sequence[str]) -> list[str]:
    """A distinct code for each prefix (those already stored are PostgreSQL's unique index to refuse)."""
    codes = draw_codes(prefixes)
    while True:
        seen: set[str] = set()
        repeated = []
        for i, code in enumerate(codes):
            if code in seen:
                repeated.append(i)
            seen.add(code)
        if not repeated:
            return codes
        for i, code in zip(repeated, draw_codes([prefixes[i] for i in repeated]), strict=True):
            codes[i] = code


def new_tracking_code(prefix: str) -> str:
    return tracking_codes([prefix])[0]


def normalize_tracking_code(raw: str) -> str:
    """Accepts what a citizen types or dictates: any case, spaces or missing dashes."""
    text = _CLEAN.sub("", (raw or "").upper())
    if len(text) <= LENGTH:
        return text
    prefix, body = text[:-LENGTH], text[-LENGTH:]
    return f"{prefix}-{body[:4]}-{body[4:]}"


def find_tracking_codes(text: str) -> list[str]:
    """The codes written in `text`, normalized, in the order they appear, each once."""
    found = (normalize_tracking_code(match.group(0)) for match in _CODE_IN_TEXT.finditer(text or ""))
    return list(dict.fromkeys(found))
