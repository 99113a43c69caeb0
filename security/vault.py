"""Encryption of credentials at rest with cryptography's MultiFernet.

Keys come from SOCIALOPS_VAULT_KEYS (newest first). Encryption always uses
the newest key; decryption tries each. ``rotate_credential_keys`` re-encrypts
everything under the newest key so old keys can be dropped."""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialDecryptError(Exception):
    """A secret could not be decrypted with any configured key."""


def _keys() -> tuple[str, ...]:
    keys = tuple(k for k in getattr(settings, "SOCIALOPS_VAULT_KEYS", ()) if k)
    if not keys:
        raise ImproperlyConfigured("SOCIALOPS_VAULT_KEYS is empty: the credential vault has no key.")
    return keys


@lru_cache(maxsize=4)
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("SOCIALOPS_VAULT_KEYS holds a malformed Fernet key.") from exc


def fernet() -> MultiFernet:
    return _fernet_for(_keys())


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str, *, label: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise CredentialDecryptError(
            f"Credential {label} cannot be decrypted with the configured vault keys."
        ) from None


def rotate(ciphertext: str, *, label: str) -> str:
    try:
        return fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise CredentialDecryptError(
            f"Credential {label} cannot be decrypted with the configured vault keys."
        ) from None


def generate_key() -> str:
    return Fernet.generate_key().decode()
