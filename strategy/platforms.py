"""What each platform lets a post be: how long its text may be, and how that length is counted.

Counted the way the platform counts, so the count shown while typing is the one the platform applies:

- Mastodon: 500 characters unless the instance says otherwise (``ConnectorState.max_characters``, read from
  the instance by the connector); every web address counts as 23 characters and a mention as its local part
  (``@ana@example.social`` counts as ``@ana``).
- X: 280, every web address counts as 23 characters (t.co), and characters outside the Latin, punctuation and
  general-symbol ranges (CJK, emoji) count twice, as X's own counter does.
- Bluesky 300; the others their published limits (they can be long; the warning still applies).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from security.models import Platform

LIMITS = {
    Platform.MASTODON: 500,
    Platform.X: 280,
    Platform.BLUESKY: 300,
    Platform.FACEBOOK: 63206,
    Platform.INSTAGRAM: 2200,
    Platform.LINKEDIN: 3000,
    Platform.YOUTUBE: 5000,
    Platform.TIKTOK: 2200,
}
URL_LENGTH = 23  # what Mastodon and X count for any web address
MAX_MEDIA = {Platform.MASTODON: 4, Platform.X: 4, Platform.BLUESKY: 4, Platform.INSTAGRAM: 10}

_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_MASTODON_MENTION = re.compile(r"(?<![\w@])(@\w+)@[\w.-]+\w", re.UNICODE)


def _x_weight(char: str) -> int:
    """X's weighted length: Latin-1, general punctuation and the common symbol ranges weigh 1, the rest 2."""
    code = ord(char)
    light = (code <= 0x10FF or 0x2000 <= code <= 0x200D or 0x2010 <= code <= 0x201F or 0x2032 <= code <= 0x2037)
    return 1 if light else 2


def text_length(text: str, platform: str) -> int:
    """The length of ``text`` as ``platform`` counts it."""
    text = text or ""
    if platform in (Platform.MASTODON, Platform.X):
        urls = len(_URL.findall(text))
        text = _URL.sub("", text)
        if platform == Platform.MASTODON:
            text = _MASTODON_MENTION.sub(r"\1", text)
            return len(text) + urls * URL_LENGTH
        return sum(_x_weight(c) for c in text) + urls * URL_LENGTH
    return len(text)


def text_limit(account, *, instance_limits: dict[int, int] | None = None) -> int | None:
    """The longest text ``account`` takes: the instance's own limit for a Mastodon account whose connector read
    it (``instance_limits``: account id -> characters), else the platform's; None when unknown (Other)."""
    if instance_limits and instance_limits.get(account.pk):
        return instance_limits[account.pk]
    return LIMITS.get(account.platform)


def instance_limits_for(accounts) -> dict[int, int]:
    """Account id -> the limit its Mastodon instance reported, in one query."""
    from inbox.models import ConnectorState

    ids = [a.pk for a in accounts if a.platform == Platform.MASTODON]
    if not ids:
        return {}
    return dict(ConnectorState.objects.filter(account_id__in=ids, max_characters__isnull=False)
                .values_list("account_id", "max_characters"))


@dataclass(frozen=True)
class Fit:
    """How ``text`` fits one account: its length as the platform counts it, the limit, and whether it is over."""

    account: object
    length: int
    limit: int | None

    @property
    def over(self) -> bool:
        return self.limit is not None and self.length > self.limit

    @property
    def left(self) -> int | None:
        return None if self.limit is None else self.limit - self.length


def fits(text: str, accounts) -> list[Fit]:
    """One ``Fit`` per account (in the order given)."""
    accounts = list(accounts)
    limits = instance_limits_for(accounts)
    return [Fit(a, text_length(text, a.platform), text_limit(a, instance_limits=limits)) for a in accounts]
