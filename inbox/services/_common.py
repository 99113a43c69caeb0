"""What the inbox services share: history events with their audit row, row locks."""


import logging
import re

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from security.audit import audit_write

from ..models import (
    Conversation,
    ConversationEvent,
)
from ..permissions import can_work_conversation

logger = logging.getLogger(__name__)
MAX_SEND_ATTEMPTS = 5
# How long a worker holds a reply while sending it: longer than the connector's timeout (10 s per request,
# 60 s for a whole django-q task), shorter than anyone would wait for a reply that never leaves.
DEFAULT_REPLY_LEASE_SECONDS = 120


def reply_lease_seconds() -> int:
    """``SOCIALOPS_REPLY_LEASE_SECONDS`` when set (read on each call, so a test can override it)."""
    return int(getattr(settings, "SOCIALOPS_REPLY_LEASE_SECONDS", DEFAULT_REPLY_LEASE_SECONDS))


_MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


def _event(conversation, kind, actor=None, **data):
    ConversationEvent.objects.create(conversation=conversation, kind=kind, actor=actor, data=data)
    audit_write(actor=actor, action=f"conversation.{kind}", target_type="inbox.conversation",
                target_id=str(conversation.pk), target_repr=f"conversation #{conversation.pk}",
                account_id=conversation.account_id, after=data)


SLA_FIELDS = [
    "opened_at", "first_response_due_at", "first_response_warn_at", "first_response_at",
    "first_response_service_minutes", "first_response_breached", "resolution_due_at", "resolution_warn_at",
    "resolved_at", "resolution_service_minutes", "sla_paused_at", "sla_warned", "sla_breached", "sla_next_check_at",
]


def _locked(conversation: Conversation) -> Conversation:
    """The row as it is now, locked until the transaction ends: an ingest
    running at the same time cannot be overwritten by a stale copy."""
    return Conversation.objects.select_for_update(of=("self",)).select_related("account", "author").get(
        pk=conversation.pk)


def _require_work(actor, conversation):
    if not can_work_conversation(actor, conversation):
        raise PermissionDenied(_("You may not work on this conversation."))
