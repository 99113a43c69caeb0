"""Settings shared by every environment.

Values come from the environment (django-environ). The per-environment
modules (local, production, test) import this one and override what differs.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("SOCIALOPS_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "guardian",
    "django_q",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    "simple_history",
    # ours, lowest layer first
    "socialops",
    "accounts",
    "security",
    "inbox",
    "strategy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "socialops.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "socialops.middleware.AbsoluteSessionExpiryMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    "accounts.authz_audit.AuthzDeniedAuditMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "socialops.middleware.UserTimezoneMiddleware",
    # axes must be last
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "socialops.urls"
WSGI_APPLICATION = "socialops.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "socialops" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "socialops.context_processors.navigation_entries",
                "socialops.context_processors.unread_notifications",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
# With persistent connections (CONN_MAX_AGE > 0), check a reused connection
# once per request before using it, so that a database restart or a dropped
# connection costs a reconnect, not one 500 per worker.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", env.bool("DJANGO_CONN_HEALTH_CHECKS", default=True))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # axes first: it refuses locked-out credentials before any other backend runs
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.RoleBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
PASSWORD_RESET_TIMEOUT = env.int("SOCIALOPS_PASSWORD_RESET_SECONDS", default=60 * 60)
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Sessions: an idle timeout (refreshed on every request) and an absolute
# lifetime counted from login, whichever comes first.
SESSION_COOKIE_AGE = env.int("SOCIALOPS_SESSION_IDLE_SECONDS", default=30 * 60)
# The idle timeout slides: socialops.middleware.AbsoluteSessionExpiryMiddleware
# touches the session once a minute, so it is not written on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
SOCIALOPS_SESSION_ABSOLUTE_SECONDS = env.int("SOCIALOPS_SESSION_ABSOLUTE_SECONDS", default=12 * 60 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# django-axes: lock a username+IP pair after 5 failures.
AXES_FAILURE_LIMIT = env.int("SOCIALOPS_LOGIN_FAILURE_LIMIT", default=5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(hours=env.int("SOCIALOPS_LOCKOUT_HOURS", default=1))
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("ro", "Română"), ("id", "Bahasa Indonesia"), ("da", "Dansk")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Uploaded post images: stored through the storage API under var/media, never served as static files (the
# portal streams them to people who may see the post: strategy.views_posts).
MEDIA_ROOT = env.path("SOCIALOPS_MEDIA_ROOT", default=VAR_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Content Security Policy: no inline script anywhere, everything from self.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [SELF],
        "object-src": [NONE],
    },
}

# Request bodies: the bulk ingest takes at most 5,000 messages per batch
# (inbox.ingest.MAX_BATCH, README). A message with 280 characters of text,
# author, thread, language and URL is about 1 KiB of JSON, and under 4 KiB
# even when every character is an emoji sent as \uXXXX escapes: 4 KiB per
# message, so a full batch of ordinary messages fits (about 19.5 MiB).
# A larger body is a JSON 413 naming the limit (socialops.parsers).
SOCIALOPS_BULK_MAX_MESSAGES = 5_000
SOCIALOPS_BULK_BYTES_PER_MESSAGE = 4 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("SOCIALOPS_MAX_REQUEST_BYTES",
                                      default=SOCIALOPS_BULK_MAX_MESSAGES * SOCIALOPS_BULK_BYTES_PER_MESSAGE)
# JSON bodies nested deeper than this are a 400 (socialops.parsers); the
# ingest format needs 4 levels.
SOCIALOPS_JSON_MAX_DEPTH = env.int("SOCIALOPS_JSON_MAX_DEPTH", default=64)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header makes anonymous calls a 401.
        "accounts.api.auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "socialops.api.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        # One JSON parser for the whole API, with the depth limit; forms as DRF's defaults.
        "socialops.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        # DRF's, allowing the request when the cache (Redis) is down.
        "socialops.throttling.AnonRateThrottle",
        "socialops.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("SOCIALOPS_THROTTLE_ANON", default="60/min"),
        "user": env.str("SOCIALOPS_THROTTLE_USER", default="1200/min"),
    },
    "EXCEPTION_HANDLER": "socialops.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SocialOps Portal API",
    "DESCRIPTION": "The cross-department social operations portal.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SocialAccountStatusEnum": "security.models.SocialAccount.Status",
        "RevealRequestStatusEnum": "security.models.RevealRequest.Status",
        "ConversationStatusEnum": "inbox.models.Conversation.Status",
        "ReplyStatusEnum": "inbox.models.Reply.Status",
        "StrategyStatusEnum": "strategy.models.Strategy.Status",
        "PostStateEnum": "strategy.models.Post.State",
        "PostTargetStateEnum": "strategy.models.PostTarget.State",
    },
}

# django-guardian: no anonymous user row, permissions checked explicitly.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    # Answers like a miss while Redis is down (socialops.cache), with short
    # timeouts so that an unreachable Redis does not hold requests up.
    CACHES = {"default": {"BACKEND": "socialops.cache.FailSoftRedisCache", "LOCATION": REDIS_URL,
                          "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2}}}
    Q_BROKER = {"redis": REDIS_URL}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    Q_BROKER = {"orm": "default"}

# django-q2: retry must exceed timeout, and attempts are bounded.
Q_CLUSTER = {
    "name": "socialops",
    "workers": env.int("SOCIALOPS_Q_WORKERS", default=2),
    "timeout": 60,
    "retry": 120,
    "max_attempts": 5,
    "queue_limit": 100,
    "bulk": 10,
    "catch_up": False,
    **Q_BROKER,
}

EMAIL_BACKEND = env.str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="socialops@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "socialops.middleware.RequestIdLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # weasyprint.progress logs each PDF layout step at INFO.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "weasyprint.progress": {"level": "WARNING"}},
}

# The organisation that owns every social account.
SOCIALOPS_ORGANISATION_NAME = env.str("SOCIALOPS_ORGANISATION_NAME", default="Demo Organisation")
# Credential vault keys (Fernet), newest first. local.py generates one into var/.
SOCIALOPS_VAULT_KEYS = env.list("SOCIALOPS_VAULT_KEYS", default=[])
# Publishing policy defaults (an admin changes per-account values on the account).
SOCIALOPS_TRAINING_VALIDITY_DAYS = env.int("SOCIALOPS_TRAINING_VALIDITY_DAYS", default=365)
SOCIALOPS_REVEAL_VISIBLE_MINUTES = env.int("SOCIALOPS_REVEAL_VISIBLE_MINUTES", default=15)
SOCIALOPS_REVEAL_APPROVAL_VALID_HOURS = env.int("SOCIALOPS_REVEAL_APPROVAL_VALID_HOURS", default=24)
SOCIALOPS_OFFBOARD_REVEAL_LOOKBACK_DAYS = env.int("SOCIALOPS_OFFBOARD_REVEAL_LOOKBACK_DAYS", default=90)
# How many of an account's newest Mastodon mentions the first poll takes
# (spread over as many polls as it needs); older history is for import_messages.
SOCIALOPS_MASTODON_BACKFILL = env.int("SOCIALOPS_MASTODON_BACKFILL", default=400)
OTP_TOTP_ISSUER = "SocialOps Portal"

# API tokens (django-rest-knox): stored as SHA-512 digests, always with an expiry.
KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's own migrations create its default token table even when the model is
# swapped (and a table nobody uses, with a key to users, breaks TRUNCATE-based
# flushes): knox is left unmigrated, so only accounts.ApiToken exists.
MIGRATION_MODULES = {"knox": None}
SOCIALOPS_TOKEN_DEFAULT_DAYS = env.int("SOCIALOPS_TOKEN_DEFAULT_DAYS", default=90)
SOCIALOPS_TOKEN_MAX_DAYS = env.int("SOCIALOPS_TOKEN_MAX_DAYS", default=365)
REST_KNOX = {
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
    "TOKEN_TTL": timedelta(days=SOCIALOPS_TOKEN_DEFAULT_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_PREFIX": "sop_",
}
# Second factor and re-authentication ("sudo mode") before the most sensitive actions.
SOCIALOPS_REAUTH_SECONDS = env.int("SOCIALOPS_REAUTH_SECONDS", default=5 * 60)
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
SOCIALOPS_SECOND_FACTOR_SETUP_URL_NAME = "security:totp"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
