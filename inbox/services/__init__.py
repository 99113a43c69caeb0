"""Every write of the inbox after ingest: assignment, status, intent
corrections, routing by hand, notes, tags, saved replies, replies and their
approval and sending, and the SLA sweep.

Each checks permission, changes what it must in one transaction, records a
ConversationEvent (the conversation's history) and an AuditEvent.

Split by domain; import from here: ``from inbox import services``.
"""

from .conversations import (  # noqa: F401
    ConversationHeldError,
    ReplyOutstandingError,
    assign_round_robin,
    conversation_assign,
    conversation_claim,
    conversation_route,
    conversation_set_intent,
    conversation_set_status,
    note_add,
    outstanding_replies,
    saved_reply_create,
    tag_add,
    tag_remove,
)
from .presence import PRESENCE_SECONDS, presence_others, presence_touch  # noqa: F401
from .replies import (  # noqa: F401
    reply_approve,
    reply_mark_sent_by_hand,
    reply_retry,
    reply_return,
    reply_send,
    reply_submit,
    retry_due_replies,  # noqa: F401  (the lease-based sweep)
)
from .seen import conversation_mark_seen  # noqa: F401
from .sweep import offboarding_release_work, sla_sweep  # noqa: F401
