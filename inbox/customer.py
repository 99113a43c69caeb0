"""The customer panel of the conversation page: who the author is and what
they wrote to the organisation before, limited to what the viewer may see.

The author is one platform identity (``Author`` is unique per platform and
platform id), so "earlier conversations across channels" are that identity's
conversations on every channel of the platform. A fixed number of queries
whatever the history's length."""

from dataclasses import dataclass, field

from django.db.models import Count

from .models import Author, Conversation, ConversationTag
from .selectors import conversations_visible_to

EARLIER_SHOWN = 8
TAGS_SHOWN = 10


@dataclass
class CustomerPanel:
    author: Author
    earlier: list[Conversation] = field(default_factory=list)
    more: bool = False          # more earlier conversations than shown
    open_count: int = 0          # of those shown, still open
    tags: list[tuple[str, int]] = field(default_factory=list)


def customer_panel(user, conversation: Conversation) -> CustomerPanel:
    """Two queries: the earlier conversations the viewer may see (newest
    first), and the tags on the author's conversations the viewer may see. Conversations the viewer may not see are
    neither listed nor counted."""
    theirs = conversations_visible_to(user).filter(author_id=conversation.author_id)
    visible = theirs.exclude(pk=conversation.pk)
    earlier = list(visible.select_related("account", "assignee", "department")
                   .order_by("-last_message_at", "-id")[:EARLIER_SHOWN + 1])
    more = len(earlier) > EARLIER_SHOWN
    earlier = earlier[:EARLIER_SHOWN]
    # The tags colleagues gave this customer's conversations, this one included: what they are known for.
    tags = list(ConversationTag.objects.filter(conversation__in=theirs).values_list("tag__name")
                .annotate(n=Count("id")).order_by("-n", "tag__name")[:TAGS_SHOWN])
    return CustomerPanel(author=conversation.author, earlier=earlier, more=more,
                         open_count=sum(1 for c in earlier if c.is_open), tags=tags)
