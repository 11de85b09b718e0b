"""API keys: drawn with `secrets`, stored as SHA-256 (a 256-bit random key needs no slow hash)."""

import hashlib
import secrets
import time

from django.core.cache import cache

PREFIX_LENGTH = 8


def new_raw_key() -> str:
    return secrets.token_urlsafe(32)


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def within_rate_limit(key_id: int, per_minute: int) -> bool:
    """A fixed one-minute window per key, counted in the cache (set a shared CACHES backend with several workers)."""
    bucket = f"open311:rate:{key_id}:{int(time.time() // 60)}"
    cache.add(bucket, 0, timeout=120)
    return cache.incr(bucket) <= per_minute
