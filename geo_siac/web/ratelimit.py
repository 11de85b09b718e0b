"""Rate limits count attempts in PostgreSQL (web.RateCounter), shared by every worker: one upsert per attempt, one
statement for all the keys a request counts.

Not in Django's cache: FileBasedCache's incr is a get then a set, so concurrent workers lost each other's
increments (and the login throttle leaked), and it cost more than the upsert (docs/performance.md). LocMemCache,
the development default, is per process.

A key's window opens at its first attempt and lasts window_seconds, as the cache's add-with-timeout did; the first
attempt after it opens the next one. Windows that are over are deleted now and then by count_attempt itself.

The views that count run in autocommit (ATOMIC_REQUESTS is off), so each count commits at once, a refused attempt
included. Inside a transaction the row would stay locked until it ends, and a rollback would take the count along.
"""

from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network
from random import random
from time import time

from django.conf import settings
from django.db import connection

PURGE_ONE_CALL_IN = 1000

# Sorted by key, so that two requests counting the same keys lock their rows in the same order (no deadlock).
COUNT = """
INSERT INTO web_ratecounter AS counter (key, window_end, count)
SELECT key, %(now)s + seconds, 1 FROM unnest(%(keys)s::text[], %(seconds)s::integer[]) AS asked (key, seconds)
ORDER BY key
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counter.window_end > %(now)s THEN counter.count + 1 ELSE 1 END,
    window_end = CASE WHEN counter.window_end > %(now)s THEN counter.window_end ELSE EXCLUDED.window_end END
RETURNING key, count, window_end
"""

# SKIP LOCKED: a row another request is counting on right now is left alone (it is being renewed), so the purge
# never waits for a request nor deadlocks with one. The table holds one row per recent client, so the scan is small.
PURGE = """
DELETE FROM web_ratecounter WHERE key IN (
    SELECT key FROM web_ratecounter WHERE window_end <= %s FOR UPDATE SKIP LOCKED
)
"""


@lru_cache(maxsize=8)
def networks(proxies: tuple[str, ...]) -> tuple[IPv4Network | IPv6Network, ...]:
    return tuple(ip_network(proxy, strict=False) for proxy in proxies)


def is_trusted_proxy(address: str) -> bool:
    try:
        peer = ip_address(address)
    except ValueError:
        return False
    return any(peer in network for network in networks(tuple(settings.GEO_SIAC_TRUSTED_PROXIES)))


def client_key(request) -> str:
    """The client every per-client limit counts, as a key, not an address: an IPv4 address, an IPv6 client's /64
    ("2001:db8:1:2::/64", `client_network`). Read from REMOTE_ADDR, unless it is a proxy of
    GEO_SIAC_TRUSTED_PROXIES: then the address that proxy appended to X-Forwarded-For, and so on back through each
    trusted proxy. Whatever stands left of the first untrusted hop was written by the client itself, and is never
    read."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    while hops and is_trusted_proxy(address):
        address = hops.pop()
    return client_network(address)


# One LAN is a /64 (RFC 4291); sites get a /56 or /48 (RFC 6177), each /64 of it a budget (docs/security.md).
IPV6_CLIENT_PREFIX = 64


def client_network(address: str) -> str:
    """The client an address stands for: an IPv4 address itself (also written as IPv6, ::ffff:a.b.c.d), an IPv6
    address its /64; anything else as it is."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))


def count_attempt(key: str, window_seconds: int) -> int:
    """Counts one attempt under `key` and returns the attempts of its current window, this one included. One
    statement: concurrent attempts from any number of processes each get their own number."""
    return count_in_window(key, window_seconds)[0]


def count_in_window(key: str, window_seconds: int) -> tuple[int, int]:
    """count_attempt, and when its window ends (epoch seconds), from the same statement."""
    return count_in_windows([(key, window_seconds)])[0]


def count_in_windows(limits: list[tuple[str, int]]) -> list[tuple[int, int]]:
    """count_in_window of each distinct (key, window_seconds), in one statement: (count, window end) in their
    order."""
    keys = [key for key, _seconds in limits]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key counted twice in one statement: {keys}")
    now = int(time())
    with connection.cursor() as cursor:
        cursor.execute(COUNT, {"keys": keys, "seconds": [seconds for _key, seconds in limits], "now": now})
        counted = {key: (count, window_end) for key, count, window_end in cursor.fetchall()}
        if random() * PURGE_ONE_CALL_IN < 1:
            cursor.execute(PURGE, [now])
    return [counted[key] for key in keys]


def seconds_until(window_end: int) -> int:
    """Seconds from now until `window_end` (count_in_window's), when that window's attempts start again from none."""
    return max(0, window_end - int(time()))


def uncount_attempt(key: str, window_end: int | None = None) -> None:
    """Takes back one attempt counted under `key` in its current window (one that turned out not to count). Given
    the `window_end` it was counted in, only in that window: one opened since by another attempt keeps its count."""
    window = "" if window_end is None else " AND window_end = %s"
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE web_ratecounter SET count = count - 1 WHERE key = %s AND window_end > %s AND count > 0" + window,
            [key, int(time()), *([] if window_end is None else [window_end])],
        )


def attempts(key: str) -> int:
    """The attempts counted under `key` in its current window; 0 when it has none or its window is over."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count FROM web_ratecounter WHERE key = %s AND window_end > %s", [key, int(time())])
        row = cursor.fetchone()
    return row[0] if row else 0
