"""Two production application servers behind one nginx on loopback (issue #26, point 4): a session, a CSRF token,
a rate limit, the cache and a photo made on one server are good on the other (docs/deployment.md, "Several
application servers")."""

import io
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from string import Template

import pytest
import requests
from PIL import Image

from geo_siac.testing import (
    BROWSER_PASSWORD,
    PROJECT_ROOT,
    PUENTE_ALTO_CENTRE,
    ProductionServer,
    browser_user,
    die_with_parent,
    free_port,
)

NGINX = Path("/usr/sbin/nginx")
CACHE_TABLE = "geo_siac_cache"
GEOCODE_LIMIT = 6
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORWARDED = {"X-Forwarded-For": "203.0.113.7"}  # as nginx would write it for a client; 127.0.0.1 is trusted


class AppServer(ProductionServer):
    """One of the two servers: each its own port, static files and log, as on two machines; the database (sessions,
    rate counters, cache table), the secret key and the photo storage shared, as the deployment docs say."""

    def __init__(self, root: Path, database: dict, *, shared: Path, secret_key: str, site_url: str):
        super().__init__(root, database)
        self.shared, self.secret_key, self.site_url = shared, secret_key, site_url

    def environment(self) -> dict:
        return {
            **super().environment(),
            "SITE_URL": self.site_url,
            "MEDIA_ROOT": str(self.shared / "media"),
            "CACHE_BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "CACHE_LOCATION": CACHE_TABLE,
            "GEO_SIAC_TRUSTED_PROXIES": "127.0.0.1",
            "GEO_SIAC_GEOCODE_REQUESTS_PER_WINDOW": str(GEOCODE_LIMIT),
        }

    def manage(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT_ROOT,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-4000:]


class Nginx:
    """nginx from deploy/nginx.conf.template, unprivileged, with its own prefix, pid, logs and temp files."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = root / "nginx.conf"
        self.process = None

    def start(self, upstreams: list[str]) -> None:
        template = Template((PROJECT_ROOT / "deploy" / "nginx.conf.template").read_text())
        values = {
            "GEO_SIAC_NGINX_DIR": str(self.root),
            "GEO_SIAC_LISTEN": f"127.0.0.1:{self.port}",
            "GEO_SIAC_UPSTREAMS": " ".join(f"server {upstream};" for upstream in upstreams),
            "GEO_SIAC_BODY_MAX": "42m",
        }
        self.config.write_text(template.safe_substitute(values))  # nginx's own $variables are left as they are
        # Run as root (a container), nginx's workers would switch to nobody, who cannot write under tmp_path.
        directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
        command = [str(NGINX), "-p", str(self.root), "-c", str(self.config), "-e", str(self.root / "error.log")]
        self.process = subprocess.Popen([*command, "-g", directives], preexec_fn=die_with_parent)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/salud/", timeout=10):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not answer on {self.url}:\n{(self.root / 'error.log').read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def fleet(django_db_setup, tmp_path_factory):
    """Servers a and b, and nginx in front of them, for this module's tests."""
    if not NGINX.exists():
        reason = f"{NGINX} is missing: install nginx-light (scripts/setup.sh with GEO_SIAC_WITH_NGINX=1)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from django.db import connection

    root = tmp_path_factory.mktemp("two-servers")
    for name in ("a", "b", "nginx"):
        (root / name).mkdir()
    nginx = Nginx(root / "nginx")
    secret_key = secrets.token_urlsafe(64)
    a, b = (
        AppServer(root / name, connection.settings_dict, shared=root, secret_key=secret_key, site_url=nginx.url)
        for name in ("a", "b")
    )
    started = []
    try:
        for server in (a, b):
            server.collect_static()  # each its own, as each machine runs collectstatic on the same code
        a.manage("createcachetable")
        for server in (a, b):
            server.start()
            started.append(server)
        nginx.start([a.url.removeprefix("http://"), b.url.removeprefix("http://")])
        started.append(nginx)
        yield a, b, nginx
    finally:
        for process in reversed(started):
            process.stop()


@pytest.fixture
def servers(fleet, transactional_db, settings):
    """The fleet for one test, with an empty cache table and the servers' key (so the test's own signing agrees).
    Fails on any server error either server logged meanwhile."""
    from django.db import connection

    a, b, nginx = fleet
    settings.SECRET_KEY = a.secret_key
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CACHE_TABLE}")
    starts = [server.log_size() for server in (a, b)]
    yield a, b, nginx
    for server, start in zip((a, b), starts, strict=True):
        # A photo refused is a 404 by design; the check is for missing static files and server errors.
        failed = [line for line in server.failed_requests(start) if not line.startswith("404 GET /media/")]
        assert not failed, "\n".join(failed) + "\n" + server.log_text(start)[-6000:]


def csrf_token(session: requests.Session, url: str) -> str:
    response = session.get(url, timeout=30)
    assert response.status_code == 200, response.text[:2000]
    return CSRF.search(response.text).group(1)


def png_upload() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 140, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_staff_session_and_its_csrf_token_made_on_one_server_are_good_on_the_other(servers, crews):
    a, b, nginx = servers
    browser_user(crews["supervisor"])
    browser = requests.Session()
    token = csrf_token(browser, nginx.url + "/cuenta/ingresar/")
    response = browser.post(
        nginx.url + "/cuenta/ingresar/",
        data={"username": "sofia", "password": BROWSER_PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Origin": nginx.url},  # as a browser sends it: the CSRF check compares it with the Host nginx passed
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, response.text[:2000]
    cookies = browser.cookies.get_dict()
    assert "sessionid" in cookies
    # Through nginx (round-robin: both servers answer) and straight at each server, the same signed-in page.
    shown = crews["supervisor"].get_full_name() or "sofia"  # the header names the signed-in person
    for url in [nginx.url] * 4 + [a.url, b.url]:
        page = requests.get(url + "/cuadrilla/supervision/", cookies=cookies, allow_redirects=False, timeout=30)
        assert page.status_code == 200 and shown in page.text, (url, page.status_code)
    # A form from server a posted to server b, as nginx passes it on: the CSRF cookie and token fit any server.
    page = requests.get(a.url + "/cuadrilla/supervision/", cookies=cookies, timeout=30)
    logout = requests.post(
        b.url + "/cuenta/salir/",
        data={"csrfmiddlewaretoken": CSRF.search(page.text).group(1)},
        cookies={**cookies, **page.cookies.get_dict()},
        headers={"Origin": nginx.url, "Host": nginx.url.removeprefix("http://"), **FORWARDED},
        allow_redirects=False,
        timeout=30,
    )
    assert logout.status_code == 302, logout.text[:2000]
    # Signed out on b, signed out on a too: the session was a row, not a server's memory.
    for url in (a.url, b.url):
        page = requests.get(url + "/cuadrilla/supervision/", cookies=cookies, allow_redirects=False, timeout=30)
        assert page.status_code == 302 and "/cuenta/ingresar/" in page.headers["Location"], url


def test_a_photo_filed_on_one_server_is_served_by_the_other_and_a_private_one_only_to_staff(servers, crews):
    a, b, nginx = servers
    browser = requests.Session()
    token = csrf_token(browser, a.url + "/")
    lat, lng = PUENTE_ALTO_CENTRE
    form = {"service_code": "retiro-escombros", "lat": lat, "long": lng, "description": "Escombros con foto."}
    codes = []
    for public in (True, False):
        response = browser.post(
            a.url + "/",
            data={
                **form,
                "token": f"dos-servidores-{public}",
                "csrfmiddlewaretoken": token,
                **({"public_visibility": "on"} if public else {}),
            },
            files={"photo": ("escombros.png", png_upload(), "image/png")},
            headers={"Origin": nginx.url, "Host": nginx.url.removeprefix("http://"), **FORWARDED},
            allow_redirects=False,
            timeout=60,
        )
        assert response.status_code == 302, response.text[:3000]
        codes.append(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    public_code, private_code = codes
    page = requests.get(f"{b.url}/seguimiento/{public_code}/", timeout=30).text
    [thumbnail] = re.findall(r'<img src="(/media/reports/thumbnails/[^"]+)"', page)
    for url in (a.url, b.url, nginx.url):
        photo = requests.get(url + thumbnail, timeout=30)
        assert photo.status_code == 200 and photo.headers["Content-Type"] == "image/png", url
        with Image.open(io.BytesIO(photo.content)) as shown:
            assert shown.size[0] <= 80 and shown.getpixel((0, 0)) == (30, 140, 60)
    from geo_siac.reports.models import Report

    private = Report.objects.get(tracking_code=private_code).photos.get().image.name
    assert requests.get(f"{b.url}/media/{private}", timeout=30).status_code == 404
    browser_user(crews["admin"])
    staff = requests.Session()
    staff.post(
        nginx.url + "/cuenta/ingresar/",
        data={
            "username": "admin",
            "password": BROWSER_PASSWORD,
            "csrfmiddlewaretoken": csrf_token(staff, nginx.url + "/cuenta/ingresar/"),
        },
        headers={"Origin": nginx.url},
        timeout=30,
    )
    for url in (a.url, b.url):
        photo = staff.get(f"{url}/media/{private}", timeout=30)
        assert photo.status_code == 200 and photo.content.startswith(b"\x89PNG"), url


def test_a_per_client_limit_counts_the_requests_of_both_servers_together(servers):
    a, b, nginx = servers
    statuses = [
        requests.get(server.url + "/api/geocode/?q=plaza", headers=FORWARDED, timeout=30).status_code
        for server in [a, b] * GEOCODE_LIMIT
    ]
    assert statuses == [200] * GEOCODE_LIMIT + [429] * GEOCODE_LIMIT
    other = {"X-Forwarded-For": "203.0.113.8"}
    assert requests.get(b.url + "/api/geocode/?q=plaza", headers=other, timeout=30).status_code == 200
    # nginx replaces whatever X-Forwarded-For a client sends, so a client cannot step around its count.
    through = [
        requests.get(nginx.url + "/api/geocode/?q=plaza", headers=FORWARDED, timeout=30).status_code
        for _ in range(GEOCODE_LIMIT + 1)
    ]
    assert through == [200] * GEOCODE_LIMIT + [429]


def test_a_page_cached_by_one_server_is_what_the_other_serves(servers, communes):
    from django.db import connection

    from geo_siac.catalogue.models import Category
    from geo_siac.transparency.services import indicator_snapshots_refresh

    a, b, nginx = servers
    category = Category.objects.public().order_by("id").first()
    indicator_snapshots_refresh()  # the page is cached only when it has figures (never while they are prepared)
    browser = requests.Session()
    # As nginx passes them on (Host: the site's, which is in the cache key). The page carries no CSRF token (the
    # language switch is exempt), so one copy serves every visitor; the first visit stores it.
    headers = {"Host": nginx.url.removeprefix("http://"), **FORWARDED}
    browser.get(a.url + "/transparencia/compromisos/", headers=headers, timeout=60)
    first = browser.get(a.url + "/transparencia/compromisos/", headers=headers, timeout=60)
    assert first.status_code == 200 and category.name in first.text
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {CACHE_TABLE}")
        assert cursor.fetchone()[0] > 0
    Category.objects.filter(pk=category.pk).update(name_es="Nombre cambiado después de guardar la página")
    second = browser.get(b.url + "/transparencia/compromisos/", headers=headers, timeout=60)
    assert second.status_code == 200 and second.text == first.text


def test_both_servers_give_the_same_static_names_and_crew_service_worker(servers):
    a, b, _nginx = servers
    pages = [requests.get(server.url + "/", timeout=30).text for server in (a, b)]
    static = [sorted(set(re.findall(r'/static/[^"]+', page))) for page in pages]
    assert static[0] and static[0] == static[1]
    for name in static[0]:
        assert requests.get(b.url + name, timeout=30).status_code == 200, name
    workers = [requests.get(server.url + "/cuadrilla/sw.js", timeout=30) for server in (a, b)]
    assert workers[0].status_code == 200 and workers[0].text == workers[1].text
