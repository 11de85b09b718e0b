"""The area alerts' messages, in the recipient's language, and their signed links: confirming a subscription
(valid AREA_ALERT_CONFIRM_DAYS) and unsubscribing (valid while the subscription exists)."""

from django.core import signing
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from geo_siac.citizens.models import AreaAlert
from geo_siac.reports.messages import absolute
from geo_siac.reports.models import Report
from geo_siac.reports.selectors import public_point
from geo_siac.reports.states import status_names
from geo_siac.zones.selectors import commune_public_host

CONFIRM_SALT = "geo_siac.citizens.area_alert.confirm"
UNSUBSCRIBE_SALT = "geo_siac.citizens.area_alert.unsubscribe"
AREA_ALERT_CONFIRM_DAYS = 7
DESCRIPTION_CHARS = 160


def alert_host(alert: AreaAlert) -> str | None:
    """A crew zone's alert links to its comuna's own host, if it has one; a circle may span comunas: the site's."""
    return commune_public_host(alert.zone_commune_id) if alert.zone_commune_id else None


def confirm_url(alert: AreaAlert) -> str:
    token = signing.dumps(alert.pk, salt=CONFIRM_SALT)
    return absolute(reverse("citizens:area_alert_confirm", args=[token]), alert_host(alert))


def unsubscribe_url(alert: AreaAlert) -> str:
    token = signing.dumps(alert.pk, salt=UNSUBSCRIBE_SALT)
    return absolute(reverse("citizens:area_alert_unsubscribe", args=[token]), alert_host(alert))


def alert_id_from_confirm_token(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=CONFIRM_SALT, max_age=AREA_ALERT_CONFIRM_DAYS * 86400))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def alert_id_from_unsubscribe_token(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def area_text(alert: AreaAlert) -> str:
    if alert.zone_commune_id:
        return _("la zona %(zone)s") % {"zone": alert.zone_name or alert.zone_key}
    return _("%(radius)s m alrededor de %(lat).5f, %(lng).5f") % {
        "radius": alert.radius_m,
        "lat": alert.centre.y,
        "lng": alert.centre.x,
    }


def confirmation_message(alert: AreaAlert) -> tuple[str, str]:
    with translation.override(alert.language):
        subject = _("Confirme su aviso de solicitudes en %(area)s") % {"area": area_text(alert)}
        body = _(
            "Pidió recibir cada semana las nuevas solicitudes públicas en %(area)s. Para activarlo, abra este "
            "enlace dentro de %(days)d días:\n%(link)s\nSi usted no lo pidió, ignore este mensaje: sin "
            "confirmar, no le enviaremos nada."
        ) % {"area": area_text(alert), "days": AREA_ALERT_CONFIRM_DAYS, "link": confirm_url(alert)}
    return subject, body


def report_line(report: Report, statuses: dict[str, str]) -> str:
    """A report as the public pages show it: a public one by its address (or point) and description, any other
    only by the centre of its published cell, never its point, address or description."""
    lat, lng = public_point(report)
    day = date_format(timezone.localtime(report.created_at), "SHORT_DATE_FORMAT")
    head = f"• {day} · {report.category.name} · {statuses[report.status]}"
    if not report.public_visibility:
        return (
            head
            + "\n  "
            + _("Lugar aproximado (zona de la publicación): cerca de %(lat).4f, %(lng).4f") % {"lat": lat, "lng": lng}
        )
    place = report.address or f"{lat:.5f}, {lng:.5f}"
    description = report.description
    if len(description) > DESCRIPTION_CHARS:
        description = description[:DESCRIPTION_CHARS] + "…"
    return head + f"\n  {place}" + (f"\n  {description}" if description else "")


def summary_message(alert: AreaAlert, reports: list[Report], more: int) -> tuple[str, str]:
    with translation.override(alert.language):
        statuses = status_names()
        subject = _("Nuevas solicitudes en %(area)s") % {"area": area_text(alert)}
        lines = [
            _("Nuevas solicitudes públicas en %(area)s desde el último resumen:") % {"area": area_text(alert)},
            "",
            *[report_line(report, statuses) for report in reports],
        ]
        if more:
            lines.append(_("… y %(count)d más en el mapa de transparencia.") % {"count": more})
        lines += ["", _("Para dejar de recibir este aviso: %(link)s") % {"link": unsubscribe_url(alert)}]
    return subject, "\n".join(lines)
