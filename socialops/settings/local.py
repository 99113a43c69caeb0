"""The embedded default: SQLite under var/, django-q2's ORM broker, a
secret key generated into var/ on first run (never committed)."""

import secrets

from .base import *  # noqa: F403
from .base import VAR_DIR, env

VAR_DIR.mkdir(parents=True, exist_ok=True)


def _generated_secret_key() -> str:
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def _generated_vault_key() -> list[str]:
    from cryptography.fernet import Fernet

    path = VAR_DIR / "vault.key"
    if not path.exists():
        path.write_text(Fernet.generate_key().decode())
        path.chmod(0o600)
    return [path.read_text().strip()]


DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or _generated_secret_key()
SOCIALOPS_VAULT_KEYS = env.list("SOCIALOPS_VAULT_KEYS", default=[]) or _generated_vault_key()
# Serve static files straight from the apps while developing.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
