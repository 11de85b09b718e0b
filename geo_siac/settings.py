"""GeoSIAC settings: one module, read from environment variables (documented in .env.example).

The defaults run locally with no edits; GEO_SIAC_PRODUCTION=1 switches production hardening on.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def default_database_url() -> str:
    return "postgis://{user}:{password}@{host}:{port}/{name}".format(
        user=env("PGUSER", "geo_siac"),
        password=env("PGPASSWORD", "geo_siac"),
        host=env("PGHOST", "127.0.0.1"),
        port=env("PGPORT", "5432"),
        name=env("PGDATABASE", "geo_siac"),
    )


# The development default, which .env.example shows too: public, so production refuses any key that contains it.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-change-me"
MAKE_SECRET_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def production_secret_key_problem(key: str) -> str:
    """What makes `key` unfit to sign production sessions and links, or "" (Django's own bar, security.W009: at
    least 50 characters, at least 5 different ones)."""
    if not key:
        return "SECRET_KEY must be set when GEO_SIAC_PRODUCTION=1"
    if DEVELOPMENT_SECRET_KEY in key:
        return "SECRET_KEY is (or contains) the public example from .env.example"
    if len(key) < 50 or len(set(key)) < 5:
        return f"SECRET_KEY has {len(key)} characters, {len(set(key))} of them different; it needs at least 50 and 5"
    return ""


def trusted_proxies(name: str) -> list[str]:
    """The addresses or networks of name's comma-separated list, each checked so that a typo stops the start."""
    proxies = env_list(name)
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {proxy!r} is not an IP address or network") from None
    return proxies


PRODUCTION = env_bool("GEO_SIAC_PRODUCTION")
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env("SECRET_KEY", "" if PRODUCTION else DEVELOPMENT_SECRET_KEY)
if PRODUCTION and (problem := production_secret_key_problem(SECRET_KEY)):
    raise ImproperlyConfigured(f"{problem}. Make one with: {MAKE_SECRET_KEY}")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000")
# The name the public pages carry on the installation's shared host when no comuna is chosen (docs/deployment.md,
# "Una instalación, muchas comunas"); a comuna's own host or /comuna/<id>/ path shows the comuna's identity.
GEO_SIAC_INSTALLATION_NAME = env("GEO_SIAC_INSTALLATION_NAME", "GeoSIAC")

INSTALLED_APPS = [
    "geo_siac.web.admin_site.GeoSiacAdminConfig",  # django.contrib.admin with its site (web/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "geo_siac.catalogue",
    "geo_siac.zones",
    "geo_siac.geocoding",
    "geo_siac.reports",
    "geo_siac.maps",
    "geo_siac.open311",
    "geo_siac.attention",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "geo_siac.notifications",
    "geo_siac.workspace",
    "geo_siac.alerts",
    "geo_siac.citizens",
    "geo_siac.webhooks",
    "geo_siac.messaging",
    "geo_siac.email_intake",
    "geo_siac.transparency",
    "geo_siac.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "geo_siac.web.csp.SecurityHeadersMiddleware",
    # Production serves static files from the process (collectstatic output); runserver serves them in dev.
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if PRODUCTION else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "geo_siac.zones.middleware.PublicIdentityMiddleware",  # which comuna a public page shows (docs/deployment.md)
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "geo_siac.web.staff.StaffSessionExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "geo_siac.web.database.DatabaseUnavailableMiddleware",
    "geo_siac.db_router.ReplicaReadsMiddleware",  # after the 503 answer: it retries a lost replica on the primary
]

ROOT_URLCONF = "geo_siac.urls"
WSGI_APPLICATION = "geo_siac.wsgi.application"
ASGI_APPLICATION = "geo_siac.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "geo_siac" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "geo_siac.zones.middleware.identity",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", default_database_url()),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        engine="django.contrib.gis.db.backends.postgis",
    )
}
# PostgreSQL's JIT compiles any plan whose estimated cost passes jit_above_cost; for this application's queries
# (index scans, GROUP BY over covering indexes) compiling took longer than running (docs/performance.md).
# Parallel query is off too: under a load of many small requests on few cores, the worker processes PostgreSQL
# starts for the bigger ones took the CPU the others needed. The analytical reads that gain from it (heat-map counts over millions
# of reports, the indicator refresh) ask for it back: geo_siac.db.parallel_query. PG_SESSION_OPTIONS replaces
# these libpq options.
DATABASES["default"].setdefault("OPTIONS", {})["options"] = env(
    "PG_SESSION_OPTIONS", "-c jit=off -c max_parallel_workers_per_gather=0"
)
# A streaming replica for the public reads (geo_siac.db_router, docs/deployment.md "A replica for public reads"):
# unset, everything reads from the primary. A replica that does not answer within the connect timeout is left alone
# for the retry seconds; one further behind than the lag limit is not read; its state is checked at most every check
# seconds per process. The test runner points it at the primary's test database (MIRROR).
GEO_SIAC_REPLICA_MAX_LAG_SECONDS = env_int("GEO_SIAC_REPLICA_MAX_LAG_SECONDS", 30)
GEO_SIAC_REPLICA_CHECK_SECONDS = float(env("GEO_SIAC_REPLICA_CHECK_SECONDS", "2"))
GEO_SIAC_REPLICA_RETRY_SECONDS = float(env("GEO_SIAC_REPLICA_RETRY_SECONDS", "10"))
if env("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        env("DATABASE_REPLICA_URL"),
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        engine="django.contrib.gis.db.backends.postgis",
    )
    DATABASES["replica"].setdefault("OPTIONS", {}).update(
        options=DATABASES["default"]["OPTIONS"]["options"],
        connect_timeout=env_int("GEO_SIAC_REPLICA_CONNECT_TIMEOUT", 2),
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["geo_siac.db_router.PublicReadRouter"]
# Parallel workers per query inside geo_siac.db.parallel_query (PostgreSQL's own default is 2).
GEO_SIAC_PARALLEL_WORKERS = env_int("GEO_SIAC_PARALLEL_WORKERS", 2)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "es-cl"
# Each language is named in itself, so a reader finds their own whatever the page's language.
LANGUAGES = [("es-cl", "Español (Chile)"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "geo_siac" / "locale"]
FORMAT_MODULE_PATH = ["geo_siac.formats"]
TIME_ZONE = "America/Santiago"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # each person's own workspace (workspace.access.landing_page)
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "geo_siac" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed names need `collectstatic` first, so only production uses them.
    "staticfiles": {
        "BACKEND": "geo_siac.web.storage.StaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "GeoSIAC <no-responder@geosiac.localhost>")
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)

# Domain settings. The tracking code's length (reports/tracking.py), the H3 resolutions and the SRIDs (geo.py) are
# constants of the code, not settings: the stored columns and codes depend on them.
GEO_SIAC_MAX_DESCRIPTION = 4000

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # GEO_SIAC_INSECURE_COOKIES=1 only for trying production mode over plain HTTP on 127.0.0.1 (serve.sh).
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not env_bool("GEO_SIAC_INSECURE_COOKIES")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "geo_siac.web.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            **({"formatter": "json"} if env_bool("LOG_JSON", PRODUCTION) else {}),
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # fpdf2's font subsetting (answer letters) logs every glyph table at INFO: dozens of lines per letter.
    "loggers": {"fontTools": {"level": "WARNING"}},
}

SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Request bodies: a form field over the memory limit is a 400, not a worker holding megabytes. Photos are
# files and have their own limit (GEO_SIAC_PHOTO_MAX_BYTES); files above FILE_UPLOAD_MAX_MEMORY_SIZE spool to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "GeoSIAC API",
    "DESCRIPTION": "GeoJSON API of public report fields and categories, and the Open311 GeoReport v2 server.",
    "VERSION": "1.0.0",
    # Open311 answers errors as a list of code + description.
    "ENABLE_LIST_MECHANICS_ON_NON_2XX": True,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": STATIC_URL + "vendor/swagger-ui-dist/5.35.0",
    "SWAGGER_UI_FAVICON_HREF": STATIC_URL + "vendor/swagger-ui-dist/5.35.0/favicon-32x32.png",
}

# Open311 discovery: who to contact, and how client applications get an api_key.
GEO_SIAC_OPEN311_CONTACT = env("GEO_SIAC_OPEN311_CONTACT", "OIRS municipal, oirs@geosiac.localhost")
GEO_SIAC_OPEN311_KEY_SERVICE = env(
    "GEO_SIAC_OPEN311_KEY_SERVICE", "Solicite una api_key a la OIRS municipal: oirs@geosiac.localhost"
)
# The same in English, for a client asking in English (Accept-Language); empty: the Spanish text to every client.
GEO_SIAC_OPEN311_KEY_SERVICE_EN = env("GEO_SIAC_OPEN311_KEY_SERVICE_EN")

# Base map tiles: a URL template, or empty for no base layer (maps still work on an offline intranet).
# The public data the tests, benchmarks and notebooks read (../shared/data next to the checkout by default).
GEO_SIAC_SHARED_DATA = Path(env("GEO_SIAC_SHARED_DATA", str(BASE_DIR.parent / "shared" / "data")))
# Open reports per page of a crew's queue (/cuadrilla/), list and map.
GEO_SIAC_CREW_QUEUE_PAGE_SIZE = env_int("GEO_SIAC_CREW_QUEUE_PAGE_SIZE", 50)
# Base map tiles the application serves itself at /teselas/{z}/{x}/{y} (an intranet with no tile server): an XYZ
# directory ({z}/{x}/{y}.png, .jpg or .webp) or an MBTiles file of raster tiles (geo_siac/web/tiles.py). Once set,
# it is what GEO_SIAC_TILE_URL defaults to.
GEO_SIAC_TILES_PATH = env("GEO_SIAC_TILES_PATH", "")
if GEO_SIAC_TILES_PATH and not Path(GEO_SIAC_TILES_PATH).exists():
    raise ImproperlyConfigured(f"GEO_SIAC_TILES_PATH names {GEO_SIAC_TILES_PATH}, which does not exist")
GEO_SIAC_TILE_URL = env(
    "GEO_SIAC_TILE_URL",
    "/teselas/{z}/{x}/{y}" if GEO_SIAC_TILES_PATH else "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
)

# GDAL < 3.9 (Debian 12 ships 3.6) cannot block file/network access from crafted spatial references. GeoSIAC
# never hands user-supplied SRS strings to GDAL: boundary files come from staff through management commands.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Citizen reporting.
GEO_SIAC_PHOTO_MAX_BYTES = env_int("GEO_SIAC_PHOTO_MAX_BYTES", 10 * 1024 * 1024)
# A PDF a requester attaches where the request's kind takes documents (catalogue.kinds), kept as sent.
GEO_SIAC_DOCUMENT_MAX_BYTES = env_int("GEO_SIAC_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
# All the PDFs of one submission together: with its photo, under the proxy's body limit (GEO_SIAC_BODY_MAX, 42m).
GEO_SIAC_DOCUMENTS_TOTAL_MAX_BYTES = env_int("GEO_SIAC_DOCUMENTS_TOTAL_MAX_BYTES", 20 * 1024 * 1024)
# Anonymous new requests accepted per client IP and window (from the client's first one). Counted in PostgreSQL
# (geo_siac.web.ratelimit), like the Open311 key limits and the admin login lockout, so every worker shares them.
GEO_SIAC_SUBMISSIONS_PER_WINDOW = env_int("GEO_SIAC_SUBMISSIONS_PER_WINDOW", 10)
GEO_SIAC_SUBMISSION_WINDOW_SECONDS = env_int("GEO_SIAC_SUBMISSION_WINDOW_SECONDS", 3600)
# Every anonymous POST of a citizen's form per client IP and that window, accepted or not, never given back: the
# server still reads (and decodes photos of) the forms its validation refuses.
GEO_SIAC_FORM_POSTS_PER_WINDOW = env_int("GEO_SIAC_FORM_POSTS_PER_WINDOW", 60)
# Actions on an existing request (reopen, add information, follow), apart from new requests: per client IP over
# every request, and per client IP on one request (geo_siac.reports.ratelimit).
GEO_SIAC_ACTIONS_PER_WINDOW = env_int("GEO_SIAC_ACTIONS_PER_WINDOW", 30)
GEO_SIAC_ACTIONS_PER_REPORT = env_int("GEO_SIAC_ACTIONS_PER_REPORT", 5)
GEO_SIAC_ACTION_WINDOW_SECONDS = env_int("GEO_SIAC_ACTION_WINDOW_SECONDS", 3600)
GEO_SIAC_NOTIFICATION_MAX_ATTEMPTS = env_int("GEO_SIAC_NOTIFICATION_MAX_ATTEMPTS", 8)
GEO_SIAC_NOTIFICATION_RETRY_BASE_SECONDS = env_int("GEO_SIAC_NOTIFICATION_RETRY_BASE_SECONDS", 60)
GEO_SIAC_NOTIFICATION_RETRY_MAX_SECONDS = env_int("GEO_SIAC_NOTIFICATION_RETRY_MAX_SECONDS", 6 * 3600)
# Webhooks to back-office systems (docs/webhooks.md): how long a receiver may take to answer, and the retries with
# the outbox's backoff (base, 2 x base, 4 x base... capped) before a delivery is given up.
GEO_SIAC_WEBHOOK_TIMEOUT_SECONDS = env_int("GEO_SIAC_WEBHOOK_TIMEOUT_SECONDS", 10)
GEO_SIAC_WEBHOOK_MAX_ATTEMPTS = env_int("GEO_SIAC_WEBHOOK_MAX_ATTEMPTS", 12)
GEO_SIAC_WEBHOOK_RETRY_BASE_SECONDS = env_int("GEO_SIAC_WEBHOOK_RETRY_BASE_SECONDS", 60)
GEO_SIAC_WEBHOOK_RETRY_MAX_SECONDS = env_int("GEO_SIAC_WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600)
# An open request is "due soon" when its due day is at most this many business days away (0: due today): the crew's
# queue, the supervision list, the board and the staff alert all read it through reports.deadlines.due_soon_before.
GEO_SIAC_DUE_SOON_BUSINESS_DAYS = env_int("GEO_SIAC_DUE_SOON_BUSINESS_DAYS", 2)
# Staff alerts and escalation (manage.py escalate, docs/escalation.md): a request waits in triage this long before
# supervisors hear of it, an assignment is announced when it is at most this recent (so the first run does not
# announce every old assignment), reports per transaction.
GEO_SIAC_ALERT_TRIAGE_HOURS = env_int("GEO_SIAC_ALERT_TRIAGE_HOURS", 24)
GEO_SIAC_ALERT_ASSIGNED_LOOKBACK_HOURS = env_int("GEO_SIAC_ALERT_ASSIGNED_LOOKBACK_HOURS", 48)
GEO_SIAC_ESCALATE_BATCH = env_int("GEO_SIAC_ESCALATE_BATCH", 2000)
# WhatsApp and SMS intake and replies (docs/messaging.md). A channel whose secrets are missing answers 404 at its
# webhook. Credentials come only from the environment; the API URLs change only for a test's provider on loopback.
GEO_SIAC_WHATSAPP_APP_SECRET = env("GEO_SIAC_WHATSAPP_APP_SECRET", "")
GEO_SIAC_WHATSAPP_VERIFY_TOKEN = env("GEO_SIAC_WHATSAPP_VERIFY_TOKEN", "")
GEO_SIAC_WHATSAPP_ACCESS_TOKEN = env("GEO_SIAC_WHATSAPP_ACCESS_TOKEN", "")
GEO_SIAC_WHATSAPP_PHONE_NUMBER_ID = env("GEO_SIAC_WHATSAPP_PHONE_NUMBER_ID", "")
GEO_SIAC_WHATSAPP_API_URL = env("GEO_SIAC_WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
# The hosts a photo's media URL (from the Graph API) may point to before the access token is sent there; "*.x" is
# any subdomain of x. Plain http only to a loopback address listed here (a test's provider).
GEO_SIAC_WHATSAPP_MEDIA_HOSTS = env_list(
    "GEO_SIAC_WHATSAPP_MEDIA_HOSTS", "lookaside.fbsbx.com,*.fbsbx.com,*.whatsapp.net"
)
# An approved message template with one body parameter, for status messages sent after Meta's 24-hour window.
GEO_SIAC_WHATSAPP_TEMPLATE = env("GEO_SIAC_WHATSAPP_TEMPLATE", "")
GEO_SIAC_WHATSAPP_TEMPLATE_LANGUAGE = env("GEO_SIAC_WHATSAPP_TEMPLATE_LANGUAGE", "es")
GEO_SIAC_WHATSAPP_BACKEND = env("GEO_SIAC_WHATSAPP_BACKEND", "geo_siac.notifications.sms.WhatsAppCloudBackend")
GEO_SIAC_TWILIO_ACCOUNT_SID = env("GEO_SIAC_TWILIO_ACCOUNT_SID", "")
GEO_SIAC_TWILIO_AUTH_TOKEN = env("GEO_SIAC_TWILIO_AUTH_TOKEN", "")
GEO_SIAC_TWILIO_FROM = env("GEO_SIAC_TWILIO_FROM", "")
GEO_SIAC_TWILIO_API_URL = env("GEO_SIAC_TWILIO_API_URL", "https://api.twilio.com")
# The hosts Twilio's media URL may redirect an MMS photo to (its media CDN), fetched without credentials; "*.x" is
# any subdomain of x. Photos kept per SMS request, like GEO_SIAC_EMAIL_MAX_PHOTOS per email.
# s3-external-1.amazonaws.com: where Twilio redirects on an account without "Enforce HTTP Auth on Media URLs"
# (that host only, never all of amazonaws.com).
GEO_SIAC_TWILIO_MEDIA_HOSTS = env_list("GEO_SIAC_TWILIO_MEDIA_HOSTS", "*.twiliocdn.com,s3-external-1.amazonaws.com")
# All the downloads of one MMS's media share this many seconds, so the webhook answers within Twilio's ~15 s.
GEO_SIAC_TWILIO_MEDIA_BUDGET_SECONDS = env_int("GEO_SIAC_TWILIO_MEDIA_BUDGET_SECONDS", 10)
GEO_SIAC_SMS_MAX_PHOTOS = env_int("GEO_SIAC_SMS_MAX_PHOTOS", 4)
GEO_SIAC_MESSAGING_TIMEOUT_SECONDS = env_int("GEO_SIAC_MESSAGING_TIMEOUT_SECONDS", 10)
# A conversation left this long starts again from the menu; messages one number may send in a window (each
# provider posts from its own addresses, so the limit counts the citizen's number, not the client IP).
GEO_SIAC_CONVERSATION_MINUTES = env_int("GEO_SIAC_CONVERSATION_MINUTES", 120)
GEO_SIAC_MESSAGES_PER_NUMBER = env_int("GEO_SIAC_MESSAGES_PER_NUMBER", 60)
GEO_SIAC_MESSAGES_WINDOW_SECONDS = env_int("GEO_SIAC_MESSAGES_WINDOW_SECONDS", 3600)
# manage.py purge_messages deletes the conversation replies sent (or failed) and the received message ids older
# than this; longer than Meta's 7 days of webhook retries, so a late retry is still recognised.
GEO_SIAC_MESSAGES_KEEP_DAYS = env_int("GEO_SIAC_MESSAGES_KEEP_DAYS", 30)
GEO_SIAC_SMS_BACKEND = env(
    "GEO_SIAC_SMS_BACKEND",
    "geo_siac.notifications.sms.TwilioSmsBackend"
    if GEO_SIAC_TWILIO_ACCOUNT_SID
    else "geo_siac.notifications.sms.LoggingSmsBackend",
)
# The email channel (manage.py receive_email, docs/email-intake.md): the largest message the SMTP receiver takes
# (base64 makes a 10 MB photo 13.5 MB), the topic a new request by email is filed under (its kind follows), and
# which comuna each receiving address serves ("oirs@municipio.cl=13201,..."; may stay empty with one comuna served).
GEO_SIAC_EMAIL_MAX_BYTES = env_int("GEO_SIAC_EMAIL_MAX_BYTES", 40 * 1024 * 1024)
GEO_SIAC_EMAIL_TOPIC = env("GEO_SIAC_EMAIL_TOPIC", "consulta-tramites")
GEO_SIAC_EMAIL_COMMUNES = dict(
    (address.strip().lower(), cut.strip())
    for address, _, cut in (item.partition("=") for item in env_list("GEO_SIAC_EMAIL_COMMUNES"))
)
# Photos kept from one message (the rest are named to the sender as not saved); messages filed per sender address
# in a window (more are answered 450, so the MTA retries later); whether a reply is written into an existing
# request only when the MTA whose Authentication-Results authserv-id is GEO_SIAC_EMAIL_AUTHSERV_ID found dmarc=pass
# (on in production: without it a forged From could write into anybody's request).
GEO_SIAC_EMAIL_MAX_PHOTOS = env_int("GEO_SIAC_EMAIL_MAX_PHOTOS", 4)
GEO_SIAC_EMAIL_PER_SENDER = env_int("GEO_SIAC_EMAIL_PER_SENDER", 10)
GEO_SIAC_EMAIL_SENDER_WINDOW_SECONDS = env_int("GEO_SIAC_EMAIL_SENDER_WINDOW_SECONDS", 3600)
GEO_SIAC_EMAIL_REQUIRE_DMARC = env_bool("GEO_SIAC_EMAIL_REQUIRE_DMARC", PRODUCTION)
GEO_SIAC_EMAIL_AUTHSERV_ID = env("GEO_SIAC_EMAIL_AUTHSERV_ID")
GEO_SIAC_SURVEY_MAX_AGE_DAYS = env_int("GEO_SIAC_SURVEY_MAX_AGE_DAYS", 90)
# An answer letter's link sent to its requester opens it for this many days (docs/security.md, "Answer letter
# links"); fresh links asked from the tracking page, per request and per client, each in its window (seconds).
GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS = env_int("GEO_SIAC_LETTER_LINK_MAX_AGE_DAYS", 90)
GEO_SIAC_LETTER_LINKS_PER_REQUEST = env_int("GEO_SIAC_LETTER_LINKS_PER_REQUEST", 3)
GEO_SIAC_LETTER_LINKS_REQUEST_WINDOW_SECONDS = env_int("GEO_SIAC_LETTER_LINKS_REQUEST_WINDOW_SECONDS", 86400)
GEO_SIAC_LETTER_LINKS_PER_CLIENT = env_int("GEO_SIAC_LETTER_LINKS_PER_CLIENT", 10)
GEO_SIAC_LETTER_LINKS_CLIENT_WINDOW_SECONDS = env_int("GEO_SIAC_LETTER_LINKS_CLIENT_WINDOW_SECONDS", 3600)
# "Mis solicitudes" (docs/citizen-accounts.md): a closed report can be reopened by its citizen for this many
# business days; a sign-in link lasts this many minutes and is used once; link requests allowed per client and per
# email in a window; a citizen session lasts this long.
GEO_SIAC_REOPEN_BUSINESS_DAYS = env_int("GEO_SIAC_REOPEN_BUSINESS_DAYS", 10)
GEO_SIAC_SIGN_IN_LINK_MINUTES = env_int("GEO_SIAC_SIGN_IN_LINK_MINUTES", 20)
GEO_SIAC_SIGN_IN_LINKS_PER_CLIENT = env_int("GEO_SIAC_SIGN_IN_LINKS_PER_CLIENT", 10)
GEO_SIAC_SIGN_IN_LINKS_PER_EMAIL = env_int("GEO_SIAC_SIGN_IN_LINKS_PER_EMAIL", 3)
GEO_SIAC_SIGN_IN_LINKS_WINDOW_SECONDS = env_int("GEO_SIAC_SIGN_IN_LINKS_WINDOW_SECONDS", 3600)
GEO_SIAC_CITIZEN_SESSION_SECONDS = env_int("GEO_SIAC_CITIZEN_SESSION_SECONDS", 2 * 3600)
# Optional sign-in to "Mis solicitudes" through an OpenID Connect provider (ClaveÚnica or another), found by its
# issuer's discovery document; no button without an issuer and a client id. The name is shown on the button.
GEO_SIAC_OIDC_ISSUER = env("GEO_SIAC_OIDC_ISSUER", "").rstrip("/")
GEO_SIAC_OIDC_CLIENT_ID = env("GEO_SIAC_OIDC_CLIENT_ID", "")
GEO_SIAC_OIDC_CLIENT_SECRET = env("GEO_SIAC_OIDC_CLIENT_SECRET", "")
GEO_SIAC_OIDC_SCOPES = env("GEO_SIAC_OIDC_SCOPES", "openid email")
GEO_SIAC_OIDC_NAME = env("GEO_SIAC_OIDC_NAME", "")
GEO_SIAC_OIDC_TIMEOUT_SECONDS = float(env("GEO_SIAC_OIDC_TIMEOUT_SECONDS", "5"))
# The public map never shows a cell holding fewer reports than this (smaller ones merge into their parent).
GEO_SIAC_PUBLIC_MIN_CELL_COUNT = env_int("GEO_SIAC_PUBLIC_MIN_CELL_COUNT", 5)
# The public indicators come from the snapshots `manage.py refresh_indicators` stores (run it on a timer, more
# often than this); an older or missing snapshot is computed on request instead (docs/indicators.md).
GEO_SIAC_INDICATORS_MAX_AGE_MINUTES = env_int("GEO_SIAC_INDICATORS_MAX_AGE_MINUTES", 60)
# The open-data report files (manage.py publish_open_data, on a timer) and how old they may be before the
# application logs that the timer is not running. Without the files the downloads are generated per request.
GEO_SIAC_OPEN_DATA_DIR = Path(env("GEO_SIAC_OPEN_DATA_DIR", str(BASE_DIR / "var" / "open-data")))
GEO_SIAC_OPEN_DATA_MAX_AGE_MINUTES = env_int("GEO_SIAC_OPEN_DATA_MAX_AGE_MINUTES", 180)
# The cached public pages live in this cache (the rate limits do not: they count in PostgreSQL). In production
# the default is a directory every gunicorn worker of the machine shares (a per-process cache would compute each
# public page once per worker); CACHE_BACKEND/CACHE_LOCATION replace it.
CACHES = {
    "default": {
        "BACKEND": env(
            "CACHE_BACKEND",
            "django.core.cache.backends.filebased.FileBasedCache"
            if PRODUCTION
            else "django.core.cache.backends.locmem.LocMemCache",
        ),
        "LOCATION": env("CACHE_LOCATION", str(BASE_DIR / "var" / "cache") if PRODUCTION else "geo-siac"),
        "OPTIONS": {"MAX_ENTRIES": env_int("CACHE_MAX_ENTRIES", 20_000)},
    }
}

# Content-Security-Policy for every response; a view widens it only with geo_siac.web.csp.csp_allow.
# A tile URL on this site ("/teselas/...") needs nothing beyond 'self'.
GEO_SIAC_TILE_ORIGIN = (
    "/".join(GEO_SIAC_TILE_URL.split("/")[:3]).replace("{s}.", "*.")
    if GEO_SIAC_TILE_URL.startswith(("http://", "https://"))
    else ""
)
GEO_SIAC_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": f"'self' data: blob: {GEO_SIAC_TILE_ORIGIN}".strip(),
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# GeoDjango's admin map widget (Django 5.2) initialises OpenLayers in an inline <script>; the admin is staff-only.
GEO_SIAC_CSP_PATH_EXTRA = {"/admin/": {"script_src": "'unsafe-inline'"}}
GEO_SIAC_CSP_REPORT_ONLY = env_bool("GEO_SIAC_CSP_REPORT_ONLY")
# Who may frame the public embeddable map (/transparencia/mapa/): e.g. "https://www.mpuentealto.cl"; any site by
# default.
GEO_SIAC_EMBED_FRAME_ANCESTORS = env("GEO_SIAC_EMBED_FRAME_ANCESTORS", "*")
# The report page offers "use my location"; nothing uses the camera, microphone or payments.
GEO_SIAC_PERMISSIONS_POLICY = "geolocation=(self), camera=(), microphone=(), payment=(), usb=()"

# The reverse proxies (addresses or networks, e.g. "127.0.0.1,::1" for nginx on the same machine) whose
# X-Forwarded-For is believed: every per-client limit counts the address the first untrusted hop had
# (geo_siac.web.ratelimit.client_ip). Empty by default: the header is then ignored and REMOTE_ADDR is the client.
GEO_SIAC_TRUSTED_PROXIES = trusted_proxies("GEO_SIAC_TRUSTED_PROXIES")
# Behind such a proxy its X-Forwarded-Proto says whether the browser came over HTTPS (the SSL redirect and secure
# cookies read it); with no proxy declared the header is the client's own word, so it is not read.
if PRODUCTION and GEO_SIAC_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Tracking codes: lookups of an unknown code (/seguimiento/, /enviada/, ?codigo=, Open311 tokens/) allowed per
# client and window; past them every lookup from that client is refused until the window ends.
GEO_SIAC_TRACKING_FAILURES_ALLOWED = env_int("GEO_SIAC_TRACKING_FAILURES_ALLOWED", 20)
GEO_SIAC_TRACKING_FAILURES_WINDOW_SECONDS = env_int("GEO_SIAC_TRACKING_FAILURES_WINDOW_SECONDS", 3600)

# manage.py archive_year: how long each lock it takes (the year's reports, each detach) may be waited for before
# the archive is given up whole, naming the lock (docs/deployment.md, "Archiving a year").
GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS = env_int("GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS", 5)
if GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS < 1:
    # PostgreSQL reads a lock_timeout of 0 as no limit at all, and refuses a negative one.
    raise ImproperlyConfigured(
        f"GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS is {GEO_SIAC_ARCHIVE_LOCK_TIMEOUT_SECONDS}: it must be at least 1 "
        "(seconds); 0 would let the archive wait for a lock for ever"
    )

# Staff accounts: login failures allowed for one account from one client, and from one client for all accounts,
# before that client is locked out (docs/security.md, "Staff accounts"); the lockout ends this many seconds after
# the first failure. Staff sessions end after this long without a request (citizens have no sessions worth
# keeping).
GEO_SIAC_LOGIN_FAILURES_ALLOWED = env_int("GEO_SIAC_LOGIN_FAILURES_ALLOWED", 5)
GEO_SIAC_LOGIN_FAILURES_PER_CLIENT = env_int("GEO_SIAC_LOGIN_FAILURES_PER_CLIENT", 20)
GEO_SIAC_LOGIN_LOCKOUT_SECONDS = env_int("GEO_SIAC_LOGIN_LOCKOUT_SECONDS", 900)
GEO_SIAC_STAFF_SESSION_IDLE_SECONDS = env_int("GEO_SIAC_STAFF_SESSION_IDLE_SECONDS", 30 * 60)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)

# Geocoding (docs/geocoding.md). An optional remote geocoder (a Nominatim /search and /reverse base URL, e.g.
# "https://nominatim.example.cl"); empty: only the local gazetteer answers. A remote that fails or is slower than
# the timeout is answered by the gazetteer.
GEO_SIAC_GEOCODER_URL = env("GEO_SIAC_GEOCODER_URL", "")
GEO_SIAC_GEOCODER_TIMEOUT_SECONDS = float(env("GEO_SIAC_GEOCODER_TIMEOUT_SECONDS", "2"))
# A dropped pin is described by the nearest gazetteer entry within this distance ("cerca de ...").
GEO_SIAC_REVERSE_MAX_METRES = env_int("GEO_SIAC_REVERSE_MAX_METRES", 250)
# Requests to /api/geocode/ and /api/geocode/reverse/ per client and window (a search box asks once per pause in
# typing).
GEO_SIAC_GEOCODE_REQUESTS_PER_WINDOW = env_int("GEO_SIAC_GEOCODE_REQUESTS_PER_WINDOW", 120)
GEO_SIAC_GEOCODE_WINDOW_SECONDS = env_int("GEO_SIAC_GEOCODE_WINDOW_SECONDS", 60)
