"""Keel's one settings module, driven by environment variables (see docker/.env.example)."""

import importlib.util
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

from backend.common.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KEEL_VAR_DIR", str(BASE_DIR / ".var")))

# "production", "demo", "development" or "test". Production refuses unsafe defaults.
KEEL_ENV = env_str("KEEL_ENV", "development")
PRODUCTION = KEEL_ENV == "production"
DEBUG = env_bool("DJANGO_DEBUG", False)

_DEV_SECRET = "insecure-development-key-change-me"  # noqa: S105 - refused in production below
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
SECRET_KEY_FALLBACKS = env_list("DJANGO_SECRET_KEY_FALLBACKS")
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET or DEBUG):
    raise RuntimeError("Production needs DJANGO_SECRET_KEY set and DJANGO_DEBUG off.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "backend.organisation.admin_config.KeelAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "backend.common",
    "backend.organisation",
    "backend.audit",
    "backend.consent",
    "backend.policies",
    "backend.exposure",
    "backend.checkins",
    "backend.privacy",
    "pgtrigger",
    "backend.alerts",
    "backend.ops",
    "backend.demo",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "backend.common.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "backend.organisation.middleware.SessionLimitsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "backend.common.middleware.NoStoreForAuthenticatedMiddleware",
    "backend.common.middleware.ErrorBodyMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
AUTH_USER_MODEL = "organisation.Person"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "frontend.context_processors.keel",
            ],
        },
    },
]

# Database. SQLite (the demo and a fresh machine) runs in WAL mode with a busy timeout,
# because web, worker and beat all write to it.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'keel.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not memory, so that a worker process started by a test shares the test database
    # (the test passes its path on); one per test run, so runs side by side do not collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
else:
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"  # storage and logs; the organisation's own zone decides local days
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS: list[Path | tuple[str, Path]] = []  # frontend/static is found as the frontend app's
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("KEEL_MANIFEST_STATIC", PRODUCTION or KEEL_ENV == "demo")
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
KEEL_IMPORT_MAX_BYTES = env_int("KEEL_IMPORT_MAX_BYTES", 200 * 1024 * 1024)
KEEL_IMPORT_DIR = Path(env_str("KEEL_IMPORT_DIR", str(VAR_DIR / "imports")))
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("KEEL_MAX_BODY_BYTES", 2 * 1024 * 1024)

# Sessions: idle 15 minutes, absolute 10 hours (enforced by SessionLimitsMiddleware).
SESSION_IDLE_TIMEOUT = timedelta(minutes=env_int("KEEL_SESSION_IDLE_MINUTES", 15))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env_int("KEEL_SESSION_ABSOLUTE_HOURS", 10))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("KEEL_SECURE_COOKIES", PRODUCTION)

# Secure headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("KEEL_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("KEEL_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("KEEL_HSTS_PRELOAD", True)
    if env_bool("KEEL_BEHIND_TLS_PROXY", True):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content Security Policy: no inline script, no eval, nothing from elsewhere. style-src allows
# 'unsafe-inline' only because plotly.js injects one stylesheet (plotly.js issue #7543).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# API
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "backend.organisation.authentication.TokenAuthentication",
        "backend.organisation.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "backend.organisation.authentication.TokenScopePermission",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("KEEL_THROTTLE_ANON", "60/min"),
        "user": env_str("KEEL_THROTTLE_USER", "1200/min"),
    },
    "EXCEPTION_HANDLER": "backend.common.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "backend.common.schema.KeelAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Keel API",
    "DESCRIPTION": "Exposure logging, welfare check-ins and consent-scoped reporting.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    # Never send the schema to an outside validator: police networks are often closed.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RecordKindEnum": "backend.exposure.models.RecordKind",
        "NotificationKindEnum": "backend.alerts.models.NotificationKind",
        "AlertEventKindEnum": "backend.alerts.models.AlertEventKind",
    },
}

# Cache: local memory. Nothing about permissions or choices is ever cached.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. JSON only; late acks so a killed worker's task is delivered again; time limits well
# below the broker's visibility timeout; periodic tasks expire rather than pile up.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # A hung broker must not hold a request: the on-commit kick gives up fast and beat's relay catches up.
    CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_timeout": 2, "socket_connect_timeout": 2})
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "data_folder_in": str(CELERY_BROKER_DIR / "data"),
            "data_folder_out": str(CELERY_BROKER_DIR / "data"),
            "processed_folder": str(CELERY_BROKER_DIR / "processed"),
            "control_folder": str(CELERY_BROKER_DIR / "control"),
            "store_processed": False,
        }
    )
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "backend.ops.beat:HeartbeatScheduler"
CELERY_BEAT_SCHEDULE = {
    "notify-due-check-ins": {
        "task": "backend.checkins.tasks.notify_due_check_ins",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "relay-outbox": {"task": "backend.alerts.tasks.relay_outbox", "schedule": 5.0, "options": {"expires": 4}},
    "tenure-reviews": {
        "task": "backend.alerts.tasks.fire_tenure_reviews",
        "schedule": 3600.0,
        "options": {"expires": 3000},
    },
    "escalate-alerts": {"task": "backend.alerts.tasks.escalate_alerts", "schedule": 60.0, "options": {"expires": 50}},
    "close-overdue-timers": {
        "task": "backend.exposure.tasks.close_overdue_timers",
        "schedule": 300.0,
        "options": {"expires": 240},
    },
    "worker-heartbeat": {
        "task": "backend.ops.tasks.worker_heartbeat",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
}

# Logging: one line per record on stderr; request ids, never personal data.
# The audit stream: one JSON object per line, to stdout or KEEL_AUDIT_LOG_FILE, for shipping elsewhere.
KEEL_AUDIT_LOG_FILE = env_str("KEEL_AUDIT_LOG_FILE", "")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "message": {"format": "%(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "audit": (
            {"class": "logging.handlers.WatchedFileHandler", "filename": KEEL_AUDIT_LOG_FILE, "formatter": "message"}
            if KEEL_AUDIT_LOG_FILE
            else {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "message"}
        ),
    },
    "root": {"handlers": ["console"], "level": env_str("KEEL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.security.DisallowedHost": {"level": "ERROR"},
        "keel.audit": {"handlers": ["audit"], "level": "INFO", "propagate": False},
    },
}

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25)
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = env_str("DJANGO_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
KEEL_BASE_URL = env_str("KEEL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
KEEL_MESSAGE_ID_DOMAIN = env_str("KEEL_MESSAGE_ID_DOMAIN", "keel.invalid")
# A signed webhook for paging systems (urgent alerts); empty means none.
KEEL_PAGING_WEBHOOK_URL = env_str("KEEL_PAGING_WEBHOOK_URL", "")
KEEL_PAGING_WEBHOOK_SECRET = env_str("KEEL_PAGING_WEBHOOK_SECRET", "")
DEFAULT_FROM_EMAIL = env_str("KEEL_FROM_EMAIL", "keel@localhost")

# Demo only: the login page lists the demo personas. Refused in production.
KEEL_DEMO = env_bool("KEEL_DEMO", KEEL_ENV == "demo")
if PRODUCTION and KEEL_DEMO:
    raise RuntimeError("KEEL_DEMO cannot be switched on in production.")

CSRF_FAILURE_VIEW = "frontend.views.csrf_failure"
# plotly.min.js ships inside the plotly package; serve it from here, never from a CDN.
_plotly_spec = importlib.util.find_spec("plotly")
if _plotly_spec and _plotly_spec.submodule_search_locations:
    STATICFILES_DIRS.append(("plotly", Path(_plotly_spec.submodule_search_locations[0]) / "package_data"))
