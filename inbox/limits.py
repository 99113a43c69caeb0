"""How long a reply may be on each platform.

The composer counts against these while the agent types, and the reply
service refuses a longer reply (400 on ``body``, naming the limit) instead
of letting the platform refuse it after approval. Characters are counted as
Unicode code points after the browser's CR LF line breaks are read as one
character, the way the composer's counter counts them; the platforms' own
weighting (X counts a link as 23) is not modelled.

Mastodon's 500 is the default of a stock server; an instance may allow more
(to be read from the instance's ``/api/v2/instance`` later)."""

from django.utils.translation import gettext as _

# The longest reply any platform takes: the bound for a channel whose platform has no known limit.
REPLY_HARD_MAX = 10_000

PLATFORM_REPLY_LIMITS: dict[str, int] = {
    "mastodon": 500,
    "x": 280,
    "bluesky": 300,
    "facebook": 8000,
    "instagram": 2200,
    "linkedin": 1250,   # comments
    "youtube": 10_000,
    "tiktok": 150,
}


def reply_limit(account) -> int:
    """The longest reply ``account``'s platform takes."""
    return min(PLATFORM_REPLY_LIMITS.get(account.platform, REPLY_HARD_MAX), REPLY_HARD_MAX)


def reply_length(text: str) -> int:
    """Characters as the composer counts them (and as the platforms do, near enough)."""
    return len((text or "").replace("\r\n", "\n").strip())


def reply_length_problem(account, text: str) -> str:
    """Why ``text`` is too long for ``account``'s platform, or ""."""
    limit, length = reply_limit(account), reply_length(text)
    if length <= limit:
        return ""
    return _("%(platform)s takes at most %(limit)s characters in a reply; this one has %(length)s "
             "(%(over)s too many).") % {"platform": account.get_platform_display(), "limit": limit,
                                         "length": length, "over": length - limit}
