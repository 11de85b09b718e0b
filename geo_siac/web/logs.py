"""One JSON object per log line in production, so journald/log shippers can index the fields; gunicorn's access line
written with only the atoms its format uses."""

import json
import logging
import os
import re
from datetime import UTC, datetime
from functools import lru_cache

from gunicorn.glogging import Logger


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        status = getattr(record, "status_code", None)
        if status is not None:
            entry["status"] = status
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class AccessLogger(Logger):
    """gunicorn's logger, with an access line's atoms worked out only for the names its format uses: gunicorn's own
    `atoms` builds every atom, every request and response header and every environ entry, and its SafeAtoms copies
    them all, for each request, about half the line's CPU (docs/performance.md). The values are gunicorn's, and a
    format naming a header or an environ entry (`%({name}i)s`) gets gunicorn's full set."""

    def atoms(self, resp, req, environ, request_time):
        names = format_names(self.cfg.access_log_format)
        if not names <= SIMPLE_ATOMS.keys():
            return super().atoms(resp, req, environ, request_time)
        return {name: SIMPLE_ATOMS[name](self, resp, environ, request_time) for name in names}


def _status(resp):
    status = resp.status
    return status.split(None, 1)[0] if isinstance(status, str) else status


# gunicorn 27's atoms (glogging.Logger.atoms) by name; geo_siac/web/tests/test_access_log.py holds each to gunicorn's.
SIMPLE_ATOMS = {
    "h": lambda log, resp, environ, took: environ.get("REMOTE_ADDR", "-"),
    "l": lambda log, resp, environ, took: "-",
    "u": lambda log, resp, environ, took: log._get_user(environ) or "-",
    "t": lambda log, resp, environ, took: log.now(),
    "r": lambda log, resp, environ, took: (
        f"{environ['REQUEST_METHOD']} {environ['RAW_URI']} {environ['SERVER_PROTOCOL']}"
    ),
    "s": lambda log, resp, environ, took: _status(resp),
    "m": lambda log, resp, environ, took: environ.get("REQUEST_METHOD"),
    "U": lambda log, resp, environ, took: environ.get("PATH_INFO"),
    "q": lambda log, resp, environ, took: environ.get("QUERY_STRING"),
    "H": lambda log, resp, environ, took: environ.get("SERVER_PROTOCOL"),
    "b": lambda log, resp, environ, took: getattr(resp, "sent", None) is not None and str(resp.sent) or "-",
    "B": lambda log, resp, environ, took: getattr(resp, "sent", None),
    "f": lambda log, resp, environ, took: environ.get("HTTP_REFERER", "-"),
    "a": lambda log, resp, environ, took: environ.get("HTTP_USER_AGENT", "-"),
    "T": lambda log, resp, environ, took: took.seconds,
    "D": lambda log, resp, environ, took: took.seconds * 1000000 + took.microseconds,
    "M": lambda log, resp, environ, took: took.seconds * 1000 + int(took.microseconds / 1000),
    "L": lambda log, resp, environ, took: f"{took.seconds:d}.{took.microseconds:06d}",
    "p": lambda log, resp, environ, took: f"<{os.getpid()}>",
}


@lru_cache(maxsize=8)
def format_names(access_log_format: str) -> frozenset[str]:
    """The atom names a %-format asks for, e.g. {"h", "r"} for '%(h)s "%(r)s"'."""
    return frozenset(re.findall(r"%\(([^)]*)\)", access_log_format))
