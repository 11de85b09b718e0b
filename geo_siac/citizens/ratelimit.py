"""Requests that email a link (a sign-in link, an area alert's confirmation), counted per email
(geo_siac.web.ratelimit), each purpose apart: nobody can bury one person's inbox in links from many clients. Per
client they count with every citizen's form (reports.ratelimit.submission_refusal, purposes "sign-in" and
"area-alert"), so a client cannot flood the outbox."""

import hashlib

from django.conf import settings

from geo_siac.web.ratelimit import count_attempt


def link_request_allowed_for_email(email: str, purpose: str = "sign-in") -> bool:
    # Hashed: the counter table then holds no address.
    key = f"{purpose}:email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    count = count_attempt(key, settings.GEO_SIAC_SIGN_IN_LINKS_WINDOW_SECONDS)
    return count <= settings.GEO_SIAC_SIGN_IN_LINKS_PER_EMAIL
