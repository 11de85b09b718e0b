"""Reads of the email channel: which request a reply belongs to, which comuna an address serves."""

from django.conf import settings

from geo_siac.reports.models import Report
from geo_siac.reports.services.citizen import concerns
from geo_siac.reports.states import is_open
from geo_siac.zones.models import Commune

# Codes looked up per message: a long text can hold words shaped like codes; the real ones come first (subject).
MAX_CODES = 20


def reply_target(codes: list[str], sender: str) -> Report | None:
    """The first quoted request that is open and the sender's (they filed or follow it): the one a reply adds
    information to. A code of somebody else's request is passed over, so a stranger who knows or guesses a code
    cannot write into it (and learns nothing of whether it exists). Codes are tried in the order the message
    quotes them (the subject's first); prose that looks like a code finds nothing."""
    candidates = codes[:MAX_CODES]
    found = {report.tracking_code: report for report in Report.objects.filter(tracking_code__in=candidates)}
    for code in candidates:
        report = found.get(code)
        if report is not None and is_open(report.status) and concerns(report, sender):
            return report
    return None


def recipient_served(address: str) -> bool:
    """Whether the receiver takes mail for `address`: any address when no map is set (the MTA chooses what it
    relays), else only the mapped ones."""
    mapped = settings.GEO_SIAC_EMAIL_COMMUNES
    return not mapped or address.strip("<> ").lower() in mapped


def recipient_commune(recipients: list[str]) -> Commune | None:
    """The comuna of the first mapped recipient, or None to let report_create take the only comuna served."""
    for address in recipients:
        cut = settings.GEO_SIAC_EMAIL_COMMUNES.get(address.strip("<> ").lower())
        if cut:
            return Commune.objects.active().filter(cut=cut).defer("geometry").first()
    return None
