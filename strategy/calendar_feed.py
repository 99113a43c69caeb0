"""The personal iCalendar feed: the posts a person may see, in their own calendar app.

The address holds a random secret (``secrets.token_urlsafe``); only its SHA-256 is stored, so the database does
not give the address away. One address per person at a time: a new one revokes the old one, and revoking ends
it at once. The feed answers only while its owner is active (offboarding ends it with the account) and shows
exactly what ``selectors_posts.posts_visible_to`` lets them see now. Built with the ``icalendar`` library
(escaping, folding and time zones as RFC 5545 wants them)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .models import CalendarFeed, Post
from .selectors_posts import posts_visible_to
from .services._common import _audit

PAST_DAYS, FUTURE_DAYS = 30, 180
MAX_EVENTS = 2000
SHOWN_STATES = [Post.State.IN_REVIEW, Post.State.APPROVED, Post.State.SCHEDULED, Post.State.PUBLISHING,
                Post.State.PUBLISHED, Post.State.FAILED, Post.State.DRAFT]
TOUCH_EVERY = timedelta(hours=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def active_feed(user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at").first()


@transaction.atomic
def feed_create(*, actor) -> tuple[CalendarFeed, str]:
    """A new secret address for ``actor``'s own feed (the earlier one stops working). Returns the feed and the
    token, which is shown once and never stored."""
    now = timezone.now()
    for old in CalendarFeed.objects.select_for_update().filter(user=actor, revoked_at__isnull=True):
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
        _audit(actor, "calendar_feed_revoked", old, after={"replaced": True})
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(user=actor, token_hash=_hash(token), created_at=now)
    _audit(actor, "calendar_feed_created", feed)
    return feed, token


@transaction.atomic
def feed_revoke(*, actor) -> int:
    """Ends ``actor``'s feed address at once. Returns how many were revoked (0 or 1)."""
    revoked = 0
    for feed in CalendarFeed.objects.select_for_update().filter(user=actor, revoked_at__isnull=True):
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        _audit(actor, "calendar_feed_revoked", feed)
        revoked += 1
    return revoked


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed of ``token``: not revoked, its owner still active. None otherwise."""
    if not token or len(token) > 100:
        return None
    feed = (CalendarFeed.objects.select_related("user")
            .filter(token_hash=_hash(token), revoked_at__isnull=True).first())
    if feed is None or not feed.user.is_active:
        return None
    now = timezone.now()
    if feed.last_used_at is None or feed.last_used_at < now - TOUCH_EVERY:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)  # a conditional write, once an hour
    return feed


def build_ics(feed: CalendarFeed, *, base_url: str, now=None) -> bytes:
    """The feed's calendar: every post its owner may see with a time from 30 days ago to 180 days ahead."""
    now = now or timezone.now()
    user = feed.user
    posts = (posts_visible_to(user).filter(
        scheduled_at__gte=now - timedelta(days=PAST_DAYS), scheduled_at__lt=now + timedelta(days=FUTURE_DAYS),
        state__in=SHOWN_STATES).filter(_own_drafts(user)).select_related("author")
        .prefetch_related("targets__account").order_by("scheduled_at", "pk")[:MAX_EVENTS])
    calendar = Calendar()
    calendar.add("prodid", "-//SocialOps Portal//Content calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("SocialOps posts"))
    calendar.add("x-published-ttl", "PT1H")
    for post in posts:
        event = Event()
        event.add("uid", f"post-{post.pk}@socialops")
        event.add("dtstamp", now)
        event.add("dtstart", post.scheduled_at)
        event.add("dtend", post.scheduled_at + timedelta(minutes=15))
        event.add("summary", f"[{post.get_state_display()}] {post}")
        accounts = ", ".join(str(t.account) for t in post.targets.all())
        event.add("description", f"{post.text}\n\n{_('Accounts')}: {accounts}\n{_('Author')}: {post.author}")
        event.add("url", f"{base_url.rstrip('/')}/strategy/posts/{post.pk}/")
        event.add("status", "CANCELLED" if post.state == Post.State.FAILED else "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()


def _own_drafts(user):
    """Drafts only of the feed's owner: other people's unfinished work stays out of calendars."""
    from django.db.models import Q

    return ~Q(state=Post.State.DRAFT) | Q(author=user)
