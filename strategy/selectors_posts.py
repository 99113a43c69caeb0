"""Who sees which posts, and the querysets the calendar, the post pages and the API read.

The people who run the channels and supervise the workgroup (admins, executives, social media managers,
community managers, the specialist team) see every post. Everyone else sees the posts they wrote and the posts
for the accounts they hold a right on (draft, approve or publish, their own or their department's): a
department representative sees the calendar of the channels they draft for."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from accounts.roles import Role
from accounts.selectors import user_roles
from security.models import Capability
from security.permissions import current_grants_for

from .models import Post, PostApproval, PostMedia, PostTarget

SEES_ALL = {Role.ADMIN, Role.EXECUTIVE, Role.SOCIAL_MEDIA_MANAGER, Role.COMMUNITY_MANAGER, Role.SPECIALIST}
POST_RIGHTS = (Capability.DRAFT, Capability.APPROVE, Capability.PUBLISH)


def sees_all_posts(user) -> bool:
    return bool(user.is_authenticated and user.is_active and SEES_ALL & user_roles(user))


def post_account_ids(user) -> set[int]:
    """The accounts on which ``user`` holds a right that concerns posts, now (one query)."""
    return set(current_grants_for(user).filter(capability__in=POST_RIGHTS).values_list("account_id", flat=True))


def posts_visible_to(user) -> QuerySet:
    """Every post ``user`` may see (no duplicates)."""
    if not (user.is_authenticated and user.is_active):
        return Post.objects.none()
    if sees_all_posts(user):
        return Post.objects.all()
    accounts = post_account_ids(user)
    return Post.objects.filter(Q(author=user) | Q(pk__in=PostTarget.objects.filter(
        account_id__in=accounts).values("post_id")))


def can_see_post(user, post: Post) -> bool:
    return posts_visible_to(user).filter(pk=post.pk).exists()


def with_related(qs: QuerySet) -> QuerySet:
    """What a list of posts shows (author, campaign, targets with their accounts, media, approvals), in a fixed
    number of queries whatever the number of posts."""
    return qs.select_related("author", "campaign", "objective").prefetch_related(
        Prefetch("targets", queryset=PostTarget.objects.select_related("account").order_by("account_id")),
        Prefetch("media", queryset=PostMedia.objects.order_by("position", "id")),
        Prefetch("approvals", queryset=PostApproval.objects.select_related("approver").order_by("created_at")),
    )


def by_hand_queue(user) -> QuerySet:
    """Targets waiting to be published by hand, on the accounts ``user`` may publish on."""
    accounts = set(current_grants_for(user).filter(capability=Capability.PUBLISH).values_list("account_id",
                                                                                                flat=True))
    return (PostTarget.objects.filter(state=PostTarget.State.BY_HAND, account_id__in=accounts)
            .select_related("post__author", "account").order_by("post__scheduled_at", "pk"))
