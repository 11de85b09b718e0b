"""API keys: drawn with `secrets`, stored as SHA-256 (a 256-bit random key needs no slow hash)."""

import hashlib
import secrets

from geo_siac.web.ratelimit import count_attempt

PREFIX_LENGTH = 8


def new_raw_key() -> str:
    return secrets.token_urlsafe(32)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def within_rate_limit(key_id: int, per_minute: int) -> bool:
    """A one-minute window per key, from its first request (geo_siac.web.ratelimit, shared by every worker)."""
    return count_attempt(f"open311:{key_id}", 60) <= per_minute
