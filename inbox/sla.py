"""SLA policies applied to conversations: due and warning instants in
service time, pause while waiting on the customer, first response, the
next instant the sweep must look at."""

from datetime import datetime

from django.conf import settings

from .clock import (
    NeverOpenError,
    WindowSpec,
    add_service_minutes,
    add_service_minutes_many,
    service_minutes_between,
    spec_for_account,
)
from .models import Conversation, Intent, SlaPolicy

# Defaults from the domain notes; admins change them as SlaPolicy rows.
DEFAULT_TARGETS = {
    Intent.SIMPLE_QUERY: (30, 8 * 60),
    Intent.INQUIRY: (48 * 60, 5 * 24 * 60),
    Intent.COMPLAINT: (48 * 60, 5 * 24 * 60),
}
OTHER_TARGETS = (4 * 60, 48 * 60)


def warn_fraction() -> float:
    return getattr(settings, "SOCIALOPS_SLA_WARN_FRACTION", 0.8)


class PolicyBook:
    """All SLA policies, loaded once (per batch or per sweep)."""

    def __init__(self):
        self.by_key = {(p.intent, p.account_id): p for p in SlaPolicy.objects.all()}

    def targets(self, intent: str, account_id: int | None) -> tuple[int, int]:
        policy = self.by_key.get((intent, account_id)) or self.by_key.get((intent, None))
        if policy is not None:
            return policy.first_response_minutes, policy.resolution_minutes
        return DEFAULT_TARGETS.get(intent, OTHER_TARGETS)


def _due(spec: WindowSpec, at: datetime, minutes: float):
    """None when the window never opens within the horizon (a channel with
    no hours left): the conversation is still stored, without a deadline."""
    try:
        return add_service_minutes(spec, at, minutes)
    except NeverOpenError:
        return None


def _set_targets(conversation: Conversation, *, spec: WindowSpec, book: PolicyBook) -> None:
    first_minutes, resolution_minutes = book.targets(conversation.intent, conversation.account_id)
    targets = [first_minutes, first_minutes * warn_fraction(), resolution_minutes,
               resolution_minutes * warn_fraction()]
    try:
        due = add_service_minutes_many(spec, conversation.opened_at, targets)
    except NeverOpenError:
        # Past the horizon: each deadline that exists is still set, the others stay empty.
        due = [_due(spec, conversation.opened_at, minutes) for minutes in targets]
    (conversation.first_response_due_at, conversation.first_response_warn_at,
     conversation.resolution_due_at, conversation.resolution_warn_at) = due


def start_clocks(conversation: Conversation, *, at: datetime, spec: WindowSpec, book: PolicyBook) -> None:
    """Starts a new SLA cycle at ``at`` (a new conversation or a reopened one)."""
    conversation.opened_at = at
    conversation.first_response_at = None
    conversation.first_response_service_minutes = None
    conversation.first_response_breached = False
    _set_targets(conversation, spec=spec, book=book)
    conversation.resolved_at = None
    conversation.resolution_service_minutes = None
    conversation.sla_paused_at = None
    conversation.sla_warned = False
    conversation.sla_breached = False
    set_next_check(conversation)


def retarget(conversation: Conversation, *, spec: WindowSpec, book: PolicyBook) -> None:
    """The intent changed: recompute the due and warning instants from the
    cycle's start. Everything else (pause, resolution, a late first
    response, a breach already escalated) stays as it is."""
    _set_targets(conversation, spec=spec, book=book)
    if conversation.first_response_at and conversation.first_response_due_at:
        conversation.first_response_breached = (conversation.first_response_breached
                                                or conversation.first_response_at > conversation.first_response_due_at)
    set_next_check(conversation)


def record_first_response(conversation: Conversation, *, at: datetime, spec: WindowSpec) -> None:
    """The first response closes the first clock (kept as late or on time
    for the reports) and hands over to the resolution clock."""
    if conversation.first_response_at is None:
        conversation.first_response_at = at
        conversation.first_response_service_minutes = service_minutes_between(spec, conversation.opened_at, at)
        conversation.first_response_breached = conversation.sla_breached or (
            conversation.first_response_due_at is not None and at > conversation.first_response_due_at)
        conversation.sla_warned = False
        conversation.sla_breached = False
        set_next_check(conversation)


def record_resolution(conversation: Conversation, *, at: datetime, spec: WindowSpec) -> None:
    """Resolving closes the cycle: when (the first time only) and how long it
    took in service time from the cycle's start, waiting on the customer
    included, kept as a column for the reports."""
    if conversation.resolved_at is None:
        conversation.resolved_at = at
        conversation.resolution_service_minutes = service_minutes_between(spec, conversation.opened_at, at)


def pause(conversation: Conversation, *, at: datetime) -> None:
    if conversation.sla_paused_at is None:
        conversation.sla_paused_at = at
        conversation.sla_next_check_at = None


def resume(conversation: Conversation, *, at: datetime, spec: WindowSpec) -> None:
    """Moves the resolution deadline by the service time spent waiting."""
    if conversation.sla_paused_at is None:
        return
    paused = conversation.sla_paused_at
    if conversation.resolution_due_at and conversation.resolution_warn_at and not conversation.sla_breached:
        remaining = service_minutes_between(spec, paused, conversation.resolution_due_at)
        warn_remaining = service_minutes_between(spec, paused, conversation.resolution_warn_at)
        conversation.resolution_due_at = add_service_minutes(spec, at, remaining)
        conversation.resolution_warn_at = add_service_minutes(spec, at, warn_remaining)
    conversation.sla_paused_at = None
    set_next_check(conversation)


def set_next_check(conversation: Conversation) -> None:
    """The next instant the sweep must look at this conversation (indexed)."""
    if not conversation.is_open or conversation.sla_paused_at is not None:
        conversation.sla_next_check_at = None
        return
    if conversation.first_response_at is None:
        due, warn = conversation.first_response_due_at, conversation.first_response_warn_at
    else:
        due, warn = conversation.resolution_due_at, conversation.resolution_warn_at
    if conversation.sla_breached or due is None:
        conversation.sla_next_check_at = None
    elif not conversation.sla_warned and warn is not None:
        conversation.sla_next_check_at = warn
    else:
        conversation.sla_next_check_at = due


def spec_cache():
    cache: dict[int, WindowSpec] = {}

    def get(account) -> WindowSpec:
        if account.pk not in cache:
            cache[account.pk] = spec_for_account(account)
        return cache[account.pk]

    return get
