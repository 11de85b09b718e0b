from django import template
from django.urls import reverse

from geo_siac.alerts.selectors import unread_count
from geo_siac.workspace.access import staff_pages

register = template.Library()


@register.inclusion_tag("workspace/_staff_nav.html", takes_context=True)
def staff_nav(context):
    """The navigation bar of the staff pages: the pages the person may use, their name and a logout."""
    request = context["request"]
    links = [{"url": reverse(name), "label": label} for name, label in staff_pages(request.user)]
    inbox = reverse("alerts:inbox")
    for link in links:
        link["current"] = request.path == link["url"]
        link["unread"] = unread_count(request.user) if link["url"] == inbox else 0
    return {"links": links, "user": request.user, "request": request, "csrf_token": context.get("csrf_token")}
