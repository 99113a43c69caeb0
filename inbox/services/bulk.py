"""Bulk actions on the inbox list: one action on many conversations, each
checked and done by the same per-conversation service a single action uses."""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Department, User

from ..models import Conversation, ConversationTag
from ..selectors import conversations_visible_to
from . import conversations as single
from ._common import _locked

MAX_BULK = 200
ACTION_ASSIGN, ACTION_RESOLVE, ACTION_TAG, ACTION_MOVE = "assign", "resolve", "tag", "move"
ACTIONS = (ACTION_ASSIGN, ACTION_RESOLVE, ACTION_TAG, ACTION_MOVE)


@dataclass
class BulkReport:
    """What happened to each conversation: ``done`` were changed, ``unchanged``
    already were as asked, ``skipped`` maps a reason to the ids it held back."""

    action: str
    done: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    skipped: dict[str, list[int]] = field(default_factory=dict)

    def skip(self, reason: str, pk: int) -> None:
        self.skipped.setdefault(reason, []).append(pk)

    @property
    def skipped_count(self) -> int:
        return sum(len(ids) for ids in self.skipped.values())

    def summary(self) -> str:
        """"12 resolved; 2 skipped: you cannot resolve conversations of Sales (#123, #456)"."""
        n = len(self.done)
        done = {
            ACTION_RESOLVE: ngettext("%(n)d resolved", "%(n)d resolved", n),
            ACTION_ASSIGN: ngettext("%(n)d assigned", "%(n)d assigned", n),
            ACTION_TAG: ngettext("%(n)d tagged", "%(n)d tagged", n),
            ACTION_MOVE: ngettext("%(n)d moved", "%(n)d moved", n),
        }[self.action] % {"n": n}
        parts = [done]
        if self.unchanged:
            parts.append(ngettext("%(n)d already so", "%(n)d already so", len(self.unchanged))
                         % {"n": len(self.unchanged)})
        if self.skipped:
            reasons = "; ".join(f"{reason} ({', '.join(f'#{pk}' for pk in ids)})"
                                for reason, ids in self.skipped.items())
            parts.append(ngettext("%(n)d skipped: %(reasons)s", "%(n)d skipped: %(reasons)s", self.skipped_count)
                         % {"n": self.skipped_count, "reasons": reasons})
        return "; ".join(parts)


def _verb(action: str) -> str:
    return {ACTION_RESOLVE: _("resolve"), ACTION_ASSIGN: _("assign"), ACTION_TAG: _("tag"),
            ACTION_MOVE: _("move")}[action]


def _reason(exc: Exception, action: str, conversation: Conversation) -> str:
    if isinstance(exc, single.ReplyOutstandingError):
        return _("a reply is not sent yet (resolve those one by one)")
    if isinstance(exc, single.ConversationHeldError):
        return _("%(holder)s is handling them (take over one by one)") % {"holder": exc.holder}
    if isinstance(exc, PermissionDenied):
        return _("you cannot %(verb)s conversations of %(queue)s") % {
            "verb": _verb(action), "queue": conversation.department or _("no queue")}
    messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
    return " ".join(str(m) for m in messages).rstrip(".") + (
        _(" (%(queue)s)") % {"queue": conversation.department} if conversation.department_id else "")


def _already(locked: Conversation, action: str, *, assignee, tag_name, department) -> bool:
    if action == ACTION_RESOLVE:
        return locked.status == Conversation.Status.RESOLVED
    if action == ACTION_ASSIGN:
        return locked.assignee_id == (assignee.pk if assignee else None)
    if action == ACTION_MOVE:
        return locked.department_id == department.pk
    return ConversationTag.objects.filter(conversation=locked, tag__name=tag_name).exists()


def bulk_apply(*, actor: User, ids: list[int], action: str, assignee: User | None = None, tag: str = "",
               department: Department | None = None, reason: str = "") -> BulkReport:
    """Applies ``action`` (assign, resolve, tag, move) to each conversation in
    ``ids`` through the single action's service, so each one is checked
    against the actor's rights, locked and written to the history and the
    audit log exactly as when done one by one.

    Each conversation is its own transaction: a refusal skips that one and
    keeps the others, and no lock is held longer than one item. A
    conversation the actor may not see is reported as not found, without its
    queue. More than ``MAX_BULK`` ids is refused as a whole
    (``ValidationError`` on ``ids``)."""
    if action not in ACTIONS:
        raise ValidationError({"action": _("Choose assign, resolve, tag or move.")})
    ids = list(dict.fromkeys(int(pk) for pk in ids))
    if not ids:
        raise ValidationError({"ids": _("Select at least one conversation.")})
    if len(ids) > MAX_BULK:
        raise ValidationError({"ids": _("At most %(max)d conversations at a time: %(n)d were sent; the ones after "
                                        "#%(last)s were not touched.") % {"max": MAX_BULK, "n": len(ids),
                                                                          "last": ids[MAX_BULK - 1]}})
    tag_name = (tag or "").strip().lower()[:60]
    if action == ACTION_TAG and not tag_name:
        raise ValidationError({"tag": _("Say which tag to add.")})
    if action == ACTION_MOVE and department is None:
        raise ValidationError({"department": _("Choose the queue to move them to.")})
    report = BulkReport(action=action)
    visible = {c.pk: c for c in conversations_visible_to(actor).filter(pk__in=ids).select_related(
        "account", "author", "department")}
    for pk in ids:
        conversation = visible.get(pk)
        if conversation is None:
            report.skip(_("not found, or not in a queue you may see"), pk)
            continue
        try:
            with transaction.atomic():
                locked = _locked(conversation)
                if locked.department_id == conversation.department_id:  # reuse the loaded queue, never a stale one
                    locked.department = conversation.department
                if _already(locked, action, assignee=assignee, tag_name=tag_name, department=department):
                    report.unchanged.append(pk)
                    continue
                if action == ACTION_RESOLVE:
                    single.conversation_set_status(actor=actor, conversation=locked,
                                                   status=Conversation.Status.RESOLVED)
                elif action == ACTION_ASSIGN:
                    single.conversation_assign(actor=actor, conversation=locked, assignee=assignee)
                elif action == ACTION_TAG:
                    single.tag_add(actor=actor, conversation=locked, name=tag_name)
                else:
                    single.conversation_route(actor=actor, conversation=locked, department=department,
                                              reason=reason or _("moved with others from the list"))
        except (PermissionDenied, ValidationError) as exc:
            report.skip(_reason(exc, action, conversation), pk)
        else:
            report.done.append(pk)
    return report
