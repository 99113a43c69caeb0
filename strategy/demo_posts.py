"""Demo posts: two weeks of the content calendar around ``now``, in every state, on the demo's sandbox channels
and its winter-sale campaign, written by the people whose rights allow it.

What is still to come goes through the services (``strategy.services.posts``), so its review thread, approvals
and audit trail are the real ones. What already happened (published, failed, cancelled) is written as it would
have ended, dated in the past; the published posts are on the sandbox channel pages too (the sandbox connector
recorded them under each target's idempotency key). One post is due ten minutes after seeding: with the task
runner on (``make run``), it is published while the visitor looks. Idempotent: nothing is loaded when posts
exist."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from inbox.connectors.base import connector_for_account
from inbox.models import SandboxPost
from security.models import SocialAccount

from .models import Campaign, Post, PostApproval, PostComment, PostTarget
from .services import posts as svc

MADRID = ZoneInfo("Europe/Madrid")
MASTODON, X, LINKEDIN = "@brand@social.example", "@brand_care", "brand-careers"

# Days from today, local time, author, approver, accounts, text, campaign?, end state (past posts only)
PAST = [
    (-7, time(10, 0), "mark", "sam", [MASTODON], "Winter sale starts today: 20% off every jacket and coat until "
     "Sunday. The sizes that sell out first are back in stock.", True, "published"),
    (-6, time(17, 30), "rita", "sam", [MASTODON, X], "Our care team now answers here from 08:00 to 20:00 on "
     "weekdays. Send us a message any time and we'll pick it up first thing.", False, "published"),
    (-5, time(12, 0), "mark", "sofia", [MASTODON], "Black Friday teaser: something big is coming on Friday.", True,
     "cancelled"),
    (-4, time(12, 0), "sven", "sam", [X], "Delivery update: orders placed before Friday 18 December arrive before "
     "Christmas, anywhere on the mainland.", False, "published"),
    (-3, time(9, 0), "hana", "sam", [LINKEDIN], "We're hiring two community managers in Madrid: people who like "
     "talking to customers and know when to pass a question on. Apply by the end of the month.", False,
     "published"),
    (-2, time(19, 0), "carlos", "sofia", [MASTODON], "Thank you for 10,000 followers! We read every message, "
     "the kind ones and the hard ones.", False, "published"),
    (-1, time(20, 30), "mark", "sam", [X], "Flash sale tonight only: free delivery on every order over 30 euros.",
     True, "failed"),
]


def _at(now: datetime, days: int, at: time) -> datetime:
    day = now.astimezone(MADRID).date() + timedelta(days=days)
    return datetime.combine(day, at, tzinfo=MADRID)


@transaction.atomic
def load_demo_posts(stdout=None, now: datetime | None = None) -> None:
    if Post.objects.exists():
        return
    now = now or timezone.now()
    people = {u.username: u for u in User.objects.filter(
        username__in=["mark", "rita", "sven", "hana", "carlos", "sofia", "sam", "lina", "cora", "paula"])}
    accounts = {a.handle: a for a in SocialAccount.objects.filter(handle__in=[MASTODON, X, LINKEDIN])}
    if len(accounts) < 3 or len(people) < 10:
        if stdout is not None:
            stdout.write("Demo posts skipped: the demo channels or people are missing.")
        return
    campaign = Campaign.objects.filter(name="Winter sale on Mastodon").first()
    for days, at, author, approver, handles, text, in_campaign, state in PAST:
        _past(now, _at(now, days, at), people[author], people[approver], [accounts[h] for h in handles], text,
              campaign if in_campaign else None, state)
    _future(now, people, accounts, campaign)
    if stdout is not None:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(
            {s: Post.objects.filter(state=s).count() for s in Post.State.values}.items()) if n)
        stdout.write(f"Demo posts loaded: {counts}.")


def _past(now, when, author, approver, accounts, text, campaign, state) -> None:
    created = when - timedelta(days=2, hours=3)
    post = Post.objects.create(
        author=author, text=text, state=state, scheduled_at=when, time_zone="Europe/Madrid", campaign=campaign,
        objective=campaign.objective if campaign else None, created_at=created, updated_at=when,
        submitted_at=created + timedelta(hours=1), approved_at=created + timedelta(hours=5),
        published_at=when + timedelta(seconds=40) if state == "published" else None,
        sensitive_categories=svc.sensitive_categories(text))
    PostApproval.objects.create(post=post, approver=approver, version=1, with_right=True,
                                specialist=svc.is_sensitive_reviewer(approver), created_at=created + timedelta(hours=5))
    for account in accounts:
        target = PostTarget.objects.create(post=post, account=account)
        if state == "published":
            result = connector_for_account(account).publish(account, text=text,
                                                            idempotency_key=str(target.idempotency_key))
            SandboxPost.objects.filter(idempotency_key=str(target.idempotency_key)).update(
                created_at=when + timedelta(seconds=40))
            PostTarget.objects.filter(pk=target.pk).update(
                state=PostTarget.State.PUBLISHED, platform_id=result.platform_id, url=result.url, attempts=1,
                published_at=when + timedelta(seconds=40))
        elif state == "failed":
            PostTarget.objects.filter(pk=target.pk).update(
                state=PostTarget.State.FAILED, attempts=5, last_error=(
                    "The platform answered 503 Service Unavailable five times between 20:30 and 21:45; "
                    "nothing was posted."))
    if state == "failed":
        Post.objects.filter(pk=post.pk).update(last_error=f"{accounts[0]}: the platform answered 503 Service "
                                                           "Unavailable five times; nothing was posted.")
    if state == "cancelled":
        PostComment.objects.create(post=post, author=approver, kind=PostComment.Kind.SYSTEM,
                                   text="Cancelled: replaced by the winter sale campaign.",
                                   created_at=when - timedelta(days=1))


def _future(now, people, accounts, campaign) -> None:
    m, x, li = accounts[MASTODON], accounts[X], accounts[LINKEDIN]

    def create(author, text, targets, days=None, at=None, *, scheduled_at=None, **kwargs):
        when = scheduled_at or (_at(now, days, at) if days is not None else None)
        return svc.post_create(actor=people[author], text=text, accounts=targets, scheduled_at=when,
                               time_zone="Europe/Madrid", now=now, **kwargs)

    def approved(post, *approvers):
        svc.post_submit(actor=post.author, post=post, now=now)
        for name in approvers:
            svc.post_approve(actor=people[name], post=post, now=now)
        return post

    # Due ten minutes after seeding: the publisher takes it while the visitor looks around.
    approved(create("mark", "Winter sale, last three days: 20% off every jacket and coat until Sunday night.",
                    [m], scheduled_at=now + timedelta(minutes=10), campaign=campaign), "sam")
    approved(create("rita", "Christmas opening hours: our care team answers here every day from 09:00 to 18:00, "
                    "24 and 31 December until 14:00.", [m, x], 1, time(10, 0)), "sam")
    approved(create("sven", "Companies ordering for their teams: ask us for a quote by direct message, we answer "
                    "within a working day.", [x], 2, time(11, 30)), "sam")
    approved(create("hana", "Meet the care team: Cora tells us what a good day on the social inbox looks like.",
                    [li], 3, time(9, 30)), "sam")
    approved(create("carlos", "New in: the recycled-wool scarf, in five colours. Photos from our customers "
                    "welcome!", [m], None, None), "sofia")  # approved, waiting for a time
    approved(create("rita", "Returns are now free for 60 days on everything bought in December.", [m, x], 5,
                    time(10, 0)))  # in review
    statement = approved(create("sofia", "A statement on the delivery delays and the data breach rumour: what we "
                                "know, and what we are doing about it.", [m], 4, time(12, 0)), "sam")
    assert statement.is_sensitive  # waits for a second approval from the specialist team or an executive
    returned = create("mark", "Win a jacket: comment with your favourite colour and we'll draw a winner on "
                      "Friday!", [m, x], 6, time(17, 0), campaign=campaign)
    svc.post_submit(actor=people["mark"], post=returned, now=now)
    svc.post_return(actor=people["sam"], post=returned, reason="Check the giveaway rules with legal first, and "
                    "say how the winner is drawn.")
    svc.post_comment(actor=people["mark"], post=returned, text="Asked Leo in legal; I'll add the rules link.")
    create("sven", "Bulk orders for schools and clubs: one invoice, delivery in a week.", [x], 7, time(11, 0))
