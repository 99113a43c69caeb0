"""Unread state: when a person last saw a conversation."""

from django.db import transaction

from accounts.models import User

from ..models import Conversation, ConversationSeen


@transaction.atomic
def conversation_mark_seen(*, user: User, conversation: Conversation) -> None:
    """Records that ``user`` has seen ``conversation`` up to its latest
    message as loaded by the caller (the page they were shown), so a message
    that arrives while the page renders stays unread.

    Safe under concurrency and never moves backwards: the insert ignores the
    row another request created a moment ago, then a conditional UPDATE only
    ever raises ``seen_at``. Two queries, no lock held; not audited (a
    person's own reading state, not a change to shared work)."""
    if not (user.is_authenticated and user.pk):
        return
    seen_up_to = conversation.last_message_at
    ConversationSeen.objects.bulk_create(
        [ConversationSeen(user_id=user.pk, conversation_id=conversation.pk, seen_at=seen_up_to)],
        ignore_conflicts=True)
    ConversationSeen.objects.filter(user_id=user.pk, conversation_id=conversation.pk,
                                    seen_at__lt=seen_up_to).update(seen_at=seen_up_to)
