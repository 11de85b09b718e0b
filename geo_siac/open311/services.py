"""Writes for Open311: API keys, and service requests through the one write path, reports.report_create."""

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from geo_siac.catalogue.models import Category
from geo_siac.open311.keys import PREFIX_LENGTH, hash_key, new_raw_key
from geo_siac.open311.models import ApiKey
from geo_siac.reports.models import Report
from geo_siac.reports.services import report_create
from geo_siac.reports.states import Channel
from geo_siac.zones.models import Commune


def api_key_create(
    *,
    name: str,
    channel_label: str = "",
    rate_limit_per_minute: int = 30,
    contact_email: str = "",
    commune: Commune | None = None,
) -> tuple[ApiKey, str]:
    """The stored key and the raw key, which is never stored and must be handed to the client now. A key of a
    `commune` files requests only into it."""
    raw = new_raw_key()
    key = ApiKey.objects.create(
        name=name,
        commune=commune,
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
    A key of one comuna files only into it: a jurisdiction_id naming another is refused, and without one the point
    must be in the key's comuna. `media_url` is kept as given; an uploaded `media` file goes through report_create's
    one photo path."""
    if api_key.commune_id is not None:
        if jurisdiction is not None and jurisdiction.pk != api_key.commune_id:
            raise ValidationError(
                {"jurisdiction_id": _("esta api_key es de %(name)s.") % {"name": api_key.commune.name}}
            )
        jurisdiction = api_key.commune
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
