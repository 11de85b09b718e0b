"""Error answers built from a message: sent as plain text, so nothing in the message (an echoed parameter, a name
from the database) can ever be read as markup by the browser."""

from django.http import HttpResponse


def text_error(message: str, status: int = 400) -> HttpResponse:
    """`message` as the whole body, text/plain (SecurityMiddleware adds nosniff, so no browser sniffs it as HTML)."""
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
