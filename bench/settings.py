"""Settings for the inbox benchmark: the shared base settings on PostgreSQL,
production-like (DEBUG off, persistent connections), nothing written to var/.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/socialops_bench_x \
        .venv/bin/python bench/bench_inbox.py
"""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from socialops.settings.base import *  # noqa: F403
from socialops.settings.base import REST_FRAMEWORK, env

_url = env.str("DATABASE_URL", default="")
if not _url.startswith(("postgres://", "postgresql://", "pgsql://")):
    raise ImproperlyConfigured("The benchmark needs DATABASE_URL pointing at PostgreSQL "
                               "(e.g. postgres://postgres@127.0.0.1:5432/socialops_bench_x).")

DEBUG = False
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
SOCIALOPS_VAULT_KEYS = [Fernet.generate_key().decode()]
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = 600  # as behind gunicorn: one connection per worker, kept
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the demo people are created, not timed
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
Q_CLUSTER = {"name": "socialops-bench", "sync": True, "orm": "default", "timeout": 60, "retry": 120,
             "max_attempts": 1}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}}
