"""gunicorn's access line written by geo_siac.web.logs.AccessLogger: byte for byte gunicorn's own, for the production
format and any other."""

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger

from geo_siac.web.logs import SIMPLE_ATOMS, AccessLogger

PRODUCTION_FORMAT = runpy.run_path(str(Path(__file__).parents[2] / "gunicorn.conf.py"))["access_log_format"]
REQUESTS = [
    # (method, raw URI, status, bytes sent, response time, request headers)
    ("POST", "/", "302 Found", 0, timedelta(microseconds=4_321), [("REFERER", "http://127.0.0.1/")]),
    ("GET", '/seguimiento/PA-"x"/?q=a b', "404 Not Found", 2_048, timedelta(seconds=2, microseconds=7), []),
    ("GET", "/transparencia/mapa/", 200, None, timedelta(microseconds=999_999), [("USER-AGENT", 'locust "2"')]),
]


def access_line(logger_class, access_log_format: str, tmp_path: Path, request) -> str:
    method, uri, status, sent, took, headers = request
    path = tmp_path / f"{logger_class.__name__}.log"
    config = Config()
    config.set("accesslog", str(path))
    config.set("access_log_format", access_log_format)
    log = logger_class(config)
    log.now = lambda: "[04/Dec/2026:16:00:00 +0000]"  # the same clock for both loggers
    environ = {
        "REQUEST_METHOD": method,
        "RAW_URI": uri,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "PATH_INFO": uri.split("?")[0],
        "QUERY_STRING": uri.partition("?")[2],
        "HTTP_AUTHORIZATION": "Basic dmVjaW5hOnNlY3JldGE=",
        **{f"HTTP_{name.replace('-', '_')}": value for name, value in headers},
    }
    response = SimpleNamespace(status=status, headers=[("Content-Type", "text/html; charset=utf-8")])
    if sent is not None:
        response.sent = sent
    log.access(response, SimpleNamespace(headers=headers), environ, took)
    for handler in log.access_log.handlers:
        handler.close()
    return path.read_text()


@pytest.mark.parametrize("request_index", range(len(REQUESTS)))
@pytest.mark.parametrize(
    "access_log_format",
    [
        PRODUCTION_FORMAT,
        Config().access_log_format,  # gunicorn's default (the combined log format)
        " ".join(f"%({name})s" for name in SIMPLE_ATOMS),
        '%(h)s "%({user-agent}i)s" %({content-type}o)s %({raw_uri}e)s %(missing)s',  # gunicorn's own atoms then
    ],
)
def test_the_access_line_is_gunicorns_own(tmp_path, access_log_format, request_index):
    request = REQUESTS[request_index]
    line = access_line(AccessLogger, access_log_format, tmp_path, request)
    assert line == access_line(Logger, access_log_format, tmp_path, request)
    assert line.count("\n") == 1 and "%(" not in line


def test_the_production_line_names_the_request(tmp_path):
    line = access_line(AccessLogger, PRODUCTION_FORMAT, tmp_path, REQUESTS[1])
    assert line == (
        '{"remote": "10.0.0.7", "request": "GET /seguimiento/PA-\\"x\\"/?q=a b HTTP/1.1", "status": 404, '
        '"bytes": "2048", "ms": 2000}\n'
    )
