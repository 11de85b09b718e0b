"""Writes for Open311: API keys, and service requests through the one write path, reports.report_create."""

from django.utils import timezone

from geo_siac.catalogue.models import Category
from geo_siac.open311.keys import PREFIX_LENGTH, hash_key, new_raw_key
from geo_siac.open311.models import ApiKey
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create
from geo_siac.reports.states import Channel
from geo_siac.zones.models import Commune


def api_key_create(
    *, name: str, channel_label: str = "", rate_limit_per_minute: int = 30, contact_email: str = ""
) -> tuple[ApiKey, str]:
    """The stored key and the raw key, which is never stored and must be handed to the client now."""
    raw = new_raw_key()
    key = ApiKey.objects.create(
        name=name,
        prefix=raw[:PREFIX_LENGTH],
        key_hash=hash_key(raw),
        channel_label=channel_label or name,
        rate_limit_per_minute=rate_limit_per_minute,
        contact_email=contact_email,
    )
    return key, raw


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def service_request_create(
    *,
    api_key: ApiKey,
    jurisdiction: Commune | None,
    service: Category | str,
    lat,
    long,
    attributes: dict,
    description: str = "",
    address: str = "",
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    media_url: str = "",
    media=None,
) -> Report:
    """A GeoReport v2 POST: report_create on the open311 channel, the point checked against the jurisdiction.
    `media_url` is kept as given; an uploaded `media` file goes through report_create's one photo path."""
    return report_create(
        category=service,
        latitude=lat,
        longitude=long,
        channel=Channel.OPEN311,
        description=description,
        address=address,
        attributes=attributes,
        reporter_name=f"{first_name} {last_name}".strip(),
        reporter_email=email,
        reporter_phone=phone,
        within=jurisdiction,
        media_url=media_url,
        photo=media,
        actor_label=f"{Channel.OPEN311.label}: {api_key.channel_label}"[:100],
    )
