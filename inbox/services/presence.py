"""Who is viewing or replying to a conversation right now."""



from django.core.cache import cache
from django.utils import timezone

from accounts.models import User

from ..models import (
    Conversation,
)

# --- presence (who is viewing / replying now) ----------------------------

PRESENCE_SECONDS = 30


def presence_touch(*, user: User, conversation: Conversation, state: str = "viewing") -> None:
    key = f"presence:{conversation.pk}"
    present = cache.get(key) or {}
    now = timezone.now().timestamp()
    present = {uid: v for uid, v in present.items() if now - v[2] < PRESENCE_SECONDS}
    present[user.pk] = (str(user), state if state in ("viewing", "replying") else "viewing", now)
    cache.set(key, present, PRESENCE_SECONDS * 2)


def presence_others(*, user: User, conversation: Conversation) -> list[tuple[str, str]]:
    now = timezone.now().timestamp()
    present = cache.get(f"presence:{conversation.pk}") or {}
    return sorted((name, state) for uid, (name, state, at) in present.items()
                  if uid != user.pk and now - at < PRESENCE_SECONDS)
