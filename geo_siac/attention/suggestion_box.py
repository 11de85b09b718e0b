"""The suggestion box of each service point (docs/suggestion-box.md): a printable QR code that opens a short form
with the point already chosen. The request goes through report_create like every channel, with the point as
`received_at` and its own channel, so each box is counted per point and apart from the web page."""

import secrets

import segno
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from geo_siac.catalogue.kinds import RequestKind
from geo_siac.catalogue.models import Category
from geo_siac.reports.messages import absolute
from geo_siac.reports.ratelimit import counts_submissions
from geo_siac.reports.request_views import placeless_submit
from geo_siac.reports.selectors import category_by_code, public_categories
from geo_siac.reports.states import Channel
from geo_siac.web.access import staff_required
from geo_siac.zones.middleware import speak_for_points_commune
from geo_siac.zones.models import ServicePoint
from geo_siac.zones.selectors import municipality_name, served_service_point, served_service_points

# What a box takes (box_topics orders the form: kinds without a heading first, then this order); a place or an
# access-to-information request (which the law wants with the requester's identity) goes through the full forms.
BOX_KINDS = (RequestKind.SUGGESTION, RequestKind.COMPLAINT, RequestKind.COMPLIMENT, RequestKind.QUERY)
PAPERS = ("a4", "a5")


def box_point(pk: int) -> ServicePoint | None:
    """The point whose box `pk` names, or None when there is none or its comuna is no longer served."""
    return served_service_point(pk)


def box_url(point: ServicePoint) -> str:
    """What the QR code holds: built from SITE_URL and the point's id, so a printed code stays valid."""
    return absolute(reverse("attention:box", args=[point.pk]))


def box_qr(point: ServicePoint) -> segno.QRCode:
    # Level M survives a smudged or folded sheet on a wall and keeps the code small enough to scan from afar.
    return segno.make_qr(box_url(point), error="m", boost_error=False)


def box_qr_svg(point: ServicePoint) -> str:
    """The code as inline SVG without a fixed size, so the print CSS sizes it in millimetres."""
    return box_qr(point).svg_inline(scale=1, border=4, omitsize=True, title=_("Código QR del buzón"))


def box_topics() -> list[tuple[str, list[Category]]]:
    """(kind label, its public topics) for each kind a box takes that has a topic; the label is empty when the
    kind's one topic bears its name, which would otherwise read twice ("Sugerencia / Sugerencia"). Those come first:
    after a labelled kind, a topic without a label would read as one of that kind's."""
    by_kind = [(str(RequestKind(kind).label), list(public_categories(kind))) for kind in BOX_KINDS]
    topics = [
        ("" if len(topics) == 1 and topics[0].name.casefold() == label.casefold() else label, topics)
        for label, topics in by_kind
        if topics
    ]
    return sorted(topics, key=lambda kind: bool(kind[0]))


def render_box(request, point, *, values, errors=None, rate_limited=None, status=200):
    return render(
        request,
        "attention/box_form.html",
        {
            "point": point,
            "topics": box_topics(),
            "values": values,
            "errors": errors or {},
            "rate_limited": rate_limited,
        },
        status=status,
    )


def box_missing(request):
    return render(request, "attention/box_missing.html", status=404)


@require_http_methods(["GET", "HEAD", "POST"])
@counts_submissions
def box(request, pk: int):
    point = box_point(pk)
    if point is None:
        return box_missing(request)
    speak_for_points_commune(request, point)  # before the POST's answers too: its 429 page is the point's
    if request.method != "POST":
        return render_box(request, point, values={"token": secrets.token_urlsafe(24)})
    topic = category_by_code(request.POST.get("service_code"), among="public")
    if topic is None or topic.kind not in BOX_KINDS:
        errors = {"category": _("Elija si es una sugerencia, un reclamo, una felicitación o una consulta.")}
        return render_box(request, point, values=request.POST, errors=errors, status=400)
    return placeless_submit(
        request,
        lambda values, errors, status=400, **extra: render_box(
            request, point, values=values, errors=errors, status=status, **extra
        ),
        kind=topic.kind,
        category=topic,
        channel=Channel.SUGGESTION_BOX,
        received_at=point,
    )


@staff_required
@require_safe
def boxes(request):
    return render(
        request,
        "attention/boxes.html",
        {
            "points": [(point, box_url(point)) for point in served_service_points().for_staff(request.user)],
            "papers": PAPERS,
        },
    )


@staff_required
@require_safe
def box_print(request, pk: int):
    point = served_service_points().for_staff(request.user).filter(pk=pk).first()
    if point is None:
        return box_missing(request)
    paper = request.GET.get("papel", "a4")
    return render(
        request,
        "attention/box_print.html",
        {
            "point": point,
            "municipality": municipality_name(point.commune),
            "url": box_url(point),
            "qr_svg": box_qr_svg(point),
            "paper": paper if paper in PAPERS else "a4",
        },
    )
