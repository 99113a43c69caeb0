"""Who may see and do what in the shared inbox.

Seeing follows the workgroup: a conversation belongs to its department's
queue; supervisors and the people who run the channels see every queue.
Doing follows the rights on the social account (security app): `reply`
sends, `draft` submits for approval, `reply` or `approve` approves. A reply
in a sensitive conversation needs a specialist's approval."""

from accounts.models import Membership
from accounts.roles import Role
from accounts.selectors import user_roles
from security.models import Capability
from security.permissions import active_department_ids, can_approve, can_draft, can_reply, capabilities_held

VIEW_ALL_PERM = "inbox.view_all_conversations"
MANAGE_ROUTING_PERM = "inbox.change_routingrule"


def can_view_all(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(VIEW_ALL_PERM)


def is_specialist(user) -> bool:
    return Role.SPECIALIST in user_roles(user)


def can_view_conversation(user, conversation) -> bool:
    """Through the queue: an assignee who has left the department loses
    sight of it too (the conversation stays in the queue for the others)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return can_view_all(user) or conversation.department_id in active_department_ids(user)


def can_work_conversation(user, conversation) -> bool:
    """Claim, assign, change status, tag, note: anyone who sees it."""
    return can_view_conversation(user, conversation)


def reply_mode(user, conversation) -> str:
    """'send', 'approval' or 'none': what the composer offers this user.
    Nothing on a suspended or retired channel: such a draft could never go out."""
    account = conversation.account
    if account.status != account.Status.ACTIVE:
        return "none"
    if can_reply(user, account):
        if conversation.is_sensitive and not is_specialist(user):
            return "approval"
        return "send"
    if can_draft(user, account):
        return "approval"
    return "none"


class ReplyModes:
    """``reply_mode`` for many people and conversations at once: the rights of
    every (person, account) pair and who is a specialist are read up front in
    a fixed number of queries, then ``mode(user_id, conversation)`` answers
    without any. For batch work such as the round robin."""

    def __init__(self, users, accounts):
        users, self.accounts = list(users), {a.pk: a for a in accounts}
        self.held = capabilities_held(users, self.accounts.values(), [Capability.REPLY, Capability.DRAFT])
        self.specialists = set(Membership.objects.active().filter(
            user_id__in=[u.pk for u in users], role=Role.SPECIALIST).values_list("user_id", flat=True))

    def mode(self, user_id: int, conversation) -> str:
        account = self.accounts.get(conversation.account_id)
        if account is None or account.status != account.Status.ACTIVE:
            return "none"
        if (user_id, account.pk, Capability.REPLY.value) in self.held:
            if conversation.is_sensitive and user_id not in self.specialists:
                return "approval"
            return "send"
        if (user_id, account.pk, Capability.DRAFT.value) in self.held:
            return "approval"
        return "none"


def can_approve_reply(user, reply) -> bool:
    """Sensitivity is judged now, not when the draft was written: a
    conversation that became sensitive since needs a specialist."""
    account = reply.conversation.account
    if reply.author_id == user.pk or account.status != account.Status.ACTIVE:
        return False
    if not (can_reply(user, account) or can_approve(user, account)):
        return False
    if (reply.needs_specialist or reply.conversation.is_sensitive) and not is_specialist(user):
        return False
    return True


def can_manage_routing(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(MANAGE_ROUTING_PERM)
