"""Reads of the sandbox channel pages, limited to what the viewer may see.

A sandbox channel is shown to the people who may see its conversations:
those who see every queue, the members of a department that uses the
channel, and anyone who sees at least one of its conversations. Its
timeline holds only the threads the viewer would see in the inbox."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from security.models import SocialAccount
from security.permissions import active_department_ids

from .models import Conversation, Message, SandboxPost
from .permissions import can_view_all
from .selectors import conversations_visible_to

POSTS_SHOWN = 20


def sandbox_accounts_visible_to(user) -> QuerySet[SocialAccount]:
    accounts = SocialAccount.objects.filter(sandbox=True)
    if not (user.is_authenticated and user.is_active):
        return accounts.none()
    if can_view_all(user):
        return accounts
    seen = conversations_visible_to(user).values("account_id")
    return accounts.filter(Q(departments__in=active_department_ids(user)) | Q(pk__in=seen)).distinct()


@dataclass
class SandboxTimeline:
    threads: list[Conversation]           # each with ``thread_messages``, oldest first
    posts: list[SandboxPost]              # the channel's own posts, newest first (first page only)
    next_before: tuple[datetime, int] | None


def sandbox_timeline(user, account: SocialAccount, *, before: tuple[datetime, int] | None = None,
                     page_size: int = 20) -> SandboxTimeline:
    """The channel as a customer sees it: threads newest first (by their
    last message), each with the customer's messages and the organisation's
    replies. Keyset pagination on (last message, id); three queries
    whatever the page size."""
    threads = (conversations_visible_to(user).filter(account=account).select_related("author")
               .prefetch_related(Prefetch("messages", to_attr="thread_messages",
                                          queryset=Message.objects.select_related("author").order_by("sent_at", "id")))
               .order_by("-last_message_at", "-id"))
    if before is not None:
        moment, last_id = before
        threads = threads.filter(Q(last_message_at__lt=moment) | Q(last_message_at=moment, id__lt=last_id))
    page = list(threads[:page_size + 1])
    next_before = None
    if len(page) > page_size:
        page = page[:page_size]
        next_before = (page[-1].last_message_at, page[-1].pk)
    posts = [] if before is not None else list(
        SandboxPost.objects.filter(account=account, kind=SandboxPost.Kind.POST).order_by("-created_at", "-id")
        [:POSTS_SHOWN])
    return SandboxTimeline(threads=page, posts=posts, next_before=next_before)
