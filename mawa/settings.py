"""Mawa settings.

Configuration comes from the environment so that one build serves every site:

- ``MAWA_VAR_DIR``      embedded database, keys and generated files (default ``./var``)
- ``DATABASE_URL``      ``postgres://user:pass@host:port/db`` switches from SQLite to PostgreSQL
- ``MAWA_SECRET_KEY``   Django secret; generated once into ``var/secret_key`` when unset
- ``MAWA_HTTPS=1``      the service is behind TLS: secure cookies, HSTS
- ``MAWA_ALLOWED_HOSTS`` comma-separated host names (default ``127.0.0.1,localhost``)
- ``MAWA_DEBUG=1``      development only
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("MAWA_VAR_DIR", Path.cwd() / "var")).resolve()
KEY_DIR = Path(os.environ.get("MAWA_KEY_DIR", VAR_DIR / "keys"))


def _secret_key() -> str:
    if os.environ.get("MAWA_SECRET_KEY"):
        return os.environ["MAWA_SECRET_KEY"]
    path = VAR_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("MAWA_DEBUG") == "1"
HTTPS = os.environ.get("MAWA_HTTPS") == "1"
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("MAWA_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "mawa.core",
    "mawa.accounts",
    "mawa.reception",
    "mawa.custody",
    "mawa.camp",
    "mawa.matching",
    "mawa.accountability",
    "mawa.reports",
    "mawa.protection",
    "mawa.sync",
    "mawa.demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "mawa.core.middleware.RequestContextMiddleware",
    "mawa.core.middleware.DatabaseErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "mawa.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "mawa.core.middleware.ArabicFirstLocaleMiddleware",
    "mawa.accounts.hidden.CommonMiddleware",  # Django's, no slash redirect to a hidden route
    "mawa.accounts.hidden.HiddenRoutesMiddleware",  # before the CSRF check: see its module
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "mawa.core.middleware.RefuseNulMiddleware",
    "mawa.accounts.middleware.SessionSecurityMiddleware",
    "mawa.accounts.middleware.SiteScopeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mawa.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "mawa.urls"
WSGI_APPLICATION = "mawa.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mawa.accounts.context_processors.navigation",
            ],
        },
    },
]

# --- database ---------------------------------------------------------------
SQLITE_PATH = VAR_DIR / "mawa.sqlite3"
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
else:
    # SQLite encrypted with SQLCipher when a database key is configured (protection.md R10);
    # plain SQLite otherwise. The key file (64 hex digits) travels in the key escrow only.
    _DB_KEY_FILE = os.environ.get("MAWA_DB_KEY_FILE") or (
        str(KEY_DIR / "database.key") if (KEY_DIR / "database.key").exists() else "")
    DATABASES = {
        "default": {
            "ENGINE": "mawa.core.db.sqlcipher" if _DB_KEY_FILE else "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # IMMEDIATE: a write transaction takes the write lock at BEGIN, so two writers
                # never deadlock upgrading a read lock; the busy timeout makes them queue.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
                **({"key_file": _DB_KEY_FILE} if _DB_KEY_FILE else {}),
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- background jobs (core.jobs) ---------------------------------------------------------------
# The queue is a table of the database above (django-tasks-db): nothing else to run but
# ``mawa worker`` (``make run`` starts one beside the web server).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- accounts ---------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    # Django's Argon2 hasher uses the Argon2id variant.
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Idle timeout: the cookie lives 30 minutes and is renewed on every request.
SESSION_COOKIE_AGE = int(os.environ.get("MAWA_IDLE_TIMEOUT_SECONDS", 30 * 60))
SESSION_SAVE_EVERY_REQUEST = True
# Absolute lifetime of a session whatever the activity (protection.md R14).
MAWA_ABSOLUTE_SESSION_SECONDS = int(os.environ.get("MAWA_ABSOLUTE_SESSION_SECONDS", 12 * 3600))
# The client address (sign-in throttling, audit): read from MAWA_CLIENT_IP_HEADER only when the
# request comes from one of MAWA_TRUSTED_PROXIES (comma-separated addresses or networks, e.g.
# "127.0.0.1,10.0.0.0/24"); from anyone else the header is ignored (it can be forged).
MAWA_TRUSTED_PROXIES = [
    p.strip() for p in os.environ.get("MAWA_TRUSTED_PROXIES", "").split(",") if p.strip()]
MAWA_CLIENT_IP_HEADER = os.environ.get("MAWA_CLIENT_IP_HEADER", "X-Forwarded-For")
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
SESSION_COOKIE_NAME = "mawa_session"
CSRF_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "mawa.core.views.csrf_failure"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- languages --------------------------------------------------------------
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("Arabic")), ("en", _("English"))]
USE_I18N = True
FORMAT_MODULE_PATH = ["mawa.core.formats"]  # one date format per language
TIME_ZONE = "UTC"
USE_TZ = True

# --- static -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "files"
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- logging: one JSON object per line on stderr ----------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "mawa.core.logging.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("MAWA_LOG_LEVEL", "INFO")},
    # WeasyPrint narrates every layout step of every page at INFO: a card batch or the demo's
    # reports would bury the server's own lines
    "loggers": {"django.db.backends": {"level": "WARNING"},
                "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}

# --- Mawa -------------------------------------------------------------------
MAWA_DEMO_ACCOUNTS_FILE = VAR_DIR / "demo-accounts.json"
# an uploaded import file (var/imports) is kept this long at most, then ``mawa purge`` removes
# it: as long as the longest session that could have uploaded it (docs/imports.md)
MAWA_IMPORT_FILE_SECONDS = int(os.environ.get("MAWA_IMPORT_FILE_SECONDS",
                                              MAWA_ABSOLUTE_SESSION_SECONDS))
MAWA_CHECKPOINT_EVERY = 500  # sign a checkpoint of a stream every N entries
# worker processes that turn the chunks of a long PDF (a group's ID cards) into PDF at once
# (core.pdf.render_pdf_chunked); 1 renders in the calling process
MAWA_PDF_PROCESSES = int(os.environ.get("MAWA_PDF_PROCESSES", os.cpu_count() or 1))
# the worker signs a checkpoint of every stream that moved this often (0: only cron's
# ``mawa checkpoint``): entries are unprotected for minutes at most
MAWA_CHECKPOINT_SECONDS = int(os.environ.get("MAWA_CHECKPOINT_SECONDS", 300))
# finished jobs (and their queue entries) are deleted this many days after they ended, by
# ``mawa purge`` (core.jobs.jobs_prune); their files expire with core.exports' own rule
MAWA_JOB_KEEP_DAYS = int(os.environ.get("MAWA_JOB_KEEP_DAYS", 30))
