"""What "Mis solicitudes" reads: a sign-in link by its token, and the reports a citizen filed or follows, by email."""

import hashlib
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from geo_siac.attention.selectors import appointments_of
from geo_siac.citizens.models import AreaAlert, SignInLink
from geo_siac.reports.models import Follower, Report
from geo_siac.reports.selectors import email_key, public_reports, reporter_data, reports_in_area, reports_near
from geo_siac.reports.tracking import normalize_tracking_code
from geo_siac.zones.models import Zone

# Reports listed in one summary; the rest are counted.
SUMMARY_LIMIT = 30


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def usable_sign_in_links(token: str) -> QuerySet[SignInLink]:
    """The link of `token` if it is unused and unexpired: the one rule the link page and its use both read."""
    return SignInLink.objects.filter(
        token_hash=token_hash(token or ""), used_at__isnull=True, expires_at__gt=timezone.now()
    )


def filed_reports(email: str) -> QuerySet[Report]:
    return Report.objects.filter(reporter_email__iexact=email).select_related("category").order_by("-created_at")


def followed_reports(email: str) -> QuerySet[Report]:
    return (
        Report.objects.filter(followers__email__iexact=email)
        .exclude(reporter_email__iexact=email)
        .select_related("category")
        .order_by("-created_at")
    )


def has_reports(email: str) -> bool:
    return filed_reports(email).exists() or Follower.objects.filter(email__iexact=email).exists()


def citizen_report(email: str, code: str) -> Report | None:
    """The report `code` (as a citizen types it: any case, spaces, no dashes; reports.tracking's one rule) if
    `email` filed or follows it; None otherwise, whether or not the code exists, and for what no code can be."""
    code = normalize_tracking_code(code)
    if not code:
        return None
    return (
        filed_reports(email).filter(tracking_code=code).first()
        or followed_reports(email).filter(tracking_code=code).first()
    )


def citizen_data(email: str = "", phone: str = "") -> dict:
    """Everything stored about one email, or one number for a person who gave only that (Ley 19.628 / 21.719 access
    request): what `reports` holds about them,
    their appointments and their area alerts; the page's download and `manage.py reporter_data --export`. The
    e-mail is matched without the spaces around it (reports.selectors.email_key)."""
    email = email_key(email)
    data = reporter_data(email=email, phone=phone)
    data["appointments"] = [
        {
            "code": a.code,
            "procedure": a.slot.offering.procedure.name,
            "service_point": a.slot.offering.service_point.name,
            "starts_at": a.slot.starts_at.isoformat(),
            "status": a.status,
            "name": a.name,
            "email": a.email,
            "phone": a.phone,
            "created_at": a.created_at.isoformat(),
        }
        for a in appointments_of(email=email, phone=phone)
    ]
    data["area_alerts"] = [
        {
            "zone": alert.zone_name or alert.zone_key or None,
            "radius_m": alert.radius_m,
            "latitude": alert.centre.y if alert.centre else None,
            "longitude": alert.centre.x if alert.centre else None,
            "created_at": alert.created_at.isoformat(),
            "confirmed_at": alert.confirmed_at.isoformat() if alert.confirmed_at else None,
        }
        for alert in (AreaAlert.objects.filter(email__iexact=email).order_by("created_at") if email else [])
    ]
    return data


def area_alert_zones() -> QuerySet[Zone]:
    """The crew zones a citizen may subscribe to: the current version of each, in the served comunas."""
    return (
        Zone.objects.current()
        .filter(commune__is_active=True)
        .select_related("commune")
        .defer("geometry", "commune__geometry")
        .order_by("commune__name", "name")
    )


def area_alert_reports(alert: AreaAlert, *, after: datetime, up_to: datetime) -> tuple[list[Report], int]:
    """The public reports received after `after` and up to `up_to` that the public pages place in the alert's
    area (reports.selectors: a public report by its point, another by its published cell's centre, a report with
    no published place nowhere), oldest first: the first SUMMARY_LIMIT and how many more."""
    reports = public_reports().filter(created_at__gt=after, created_at__lte=up_to)
    if alert.zone_commune_id:
        zone = Zone.objects.current().filter(commune_id=alert.zone_commune_id, key=alert.zone_key).first()
        if zone is None:
            return [], 0
        reports = reports_in_area(reports, area=zone.geometry)
    else:
        reports = reports_near(reports, lat=alert.centre.y, lng=alert.centre.x, radius_m=alert.radius_m)
    listed = list(reports.order_by("created_at", "id")[: SUMMARY_LIMIT + 1])
    more = reports.count() - SUMMARY_LIMIT if len(listed) > SUMMARY_LIMIT else 0
    return listed[:SUMMARY_LIMIT], more


def message_language(email: str) -> str:
    """The language of the citizen's messages ("es" or "en"), as their latest report or follow has it."""
    report = filed_reports(email).first()
    if report is not None:
        return report.language
    follow = Follower.objects.filter(email__iexact=email).order_by("-created_at").first()
    return follow.language if follow else "es"
