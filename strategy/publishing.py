"""The publisher: scheduled posts go out through the connectors, exactly once per account.

State lives in the database, so nothing depends on a task surviving:

1. **Start.** A scheduled post whose time has come is locked (``skip_locked``: two sweeps never take the same
   post) and checked: every target account active, every approver still holding ``approve`` on every target,
   the organisation's credential of each connected account not expired. A failed check sends the post back to
   review with the reason, on the post and in its author's notifications; nothing is published. Otherwise the
   post becomes *publishing*; a target whose platform has no connector waits in the publish-by-hand queue.
2. **Publish each target** under a lease taken with one conditional UPDATE (``attempts`` is the fencing token:
   an outcome is written only while the attempt is still ours). The connector gets the target's own
   idempotency key, the platform's own protection against a repeated call; and an attempt after an earlier one
   that may have reached the platform (a killed worker, a lost response) first asks the platform whether the
   post is already there (``find_published``) and records it instead of posting again. The platform id and URL
   are stored in the same transaction that marks the target published.
3. **Failures.** A transient one (429 with Retry-After, 5xx, network) is retried after the platform's
   Retry-After or a back-off (1, 5, 15, 60 minutes); a permanent one, or the last attempt, fails the target with
   the platform's message. A post whose targets are all published is published; one with a failed target and
   nothing left in flight is failed, shown on the post and in its author's notifications.

Every step is safe to run twice, at the same time, or after a crash: the every-minute sweep
(``publish_due``) picks up whatever nobody holds, so a broker outage or a killed worker only delays a post."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import notify
from inbox.connectors.base import ConnectorError, NoConnectorError, connector_for_account
from security.models import Capability, Credential, SocialAccount
from security.permissions import has_capability

from .models import Post, PostTarget
from .services._common import _audit

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (60, 300, 900, 3600)
DEFAULT_LEASE_SECONDS = 120  # longer than a connector call (10 s per request, a few requests with media)
SWEEP_BATCH = 200


def lease_seconds() -> int:
    return int(getattr(settings, "SOCIALOPS_PUBLISH_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))


# --- handing work to the task runner ---------------------------------------------------------------------------

def enqueue_publish(post: Post) -> None:
    """After commit, asks a worker to publish ``post`` now. A broker that is down fails nothing: the
    every-minute sweep publishes it."""

    def enqueue():
        from django_q.tasks import async_task

        try:
            async_task("strategy.tasks.publish_post_task", post.pk, task_name=f"publish-post-{post.pk}")
        except Exception:  # noqa: BLE001 - whatever the broker raises, the post is stored and the sweep takes it
            logger.exception("Post %s: could not hand publishing to the task runner; the sweep publishes it", post.pk)

    transaction.on_commit(enqueue)


# --- 1. start ---------------------------------------------------------------------------------------------------

def _problem(post: Post, now: datetime, accounts: list | None = None) -> str | None:
    """Why ``post`` must not go out now on ``accounts`` (default: all its accounts), or None: an account not
    active, an approver who lost the approve right (or, for a sensitive post's second approval, left the
    specialist team and the executives), a credential due for rotation."""
    from .services.posts import is_sensitive_reviewer

    accounts = list(post.accounts.all()) if accounts is None else accounts
    for approval in post.approvals.select_related("approver").filter(version=post.version, with_right=False):
        if not (approval.approver.is_active and is_sensitive_reviewer(approval.approver)):
            return _("%(approver)s, who gave the sensitive post its second approval, is no longer on the specialist "
                     "team or an executive: approve the post again.") % {"approver": approval.approver}
    for account in accounts:
        if account.status != SocialAccount.Status.ACTIVE:
            return _("%(account)s is %(status)s: nothing is published on it.") % {
                "account": account, "status": account.get_status_display().lower()}
    approvals = [a for a in post.approvals.select_related("approver").filter(version=post.version) if a.with_right]
    for approval in approvals:
        approver = approval.approver
        lacking = [a for a in accounts if not has_capability(approver, Capability.APPROVE, a)]
        if lacking:
            return _("%(approver)s no longer holds the approve right on %(accounts)s: approve the post again.") % {
                "approver": approver, "accounts": ", ".join(str(a) for a in lacking)}
    for account in accounts:
        if account.sandbox:
            continue  # the sandbox needs no credential
        credential = (Credential.objects.filter(account=account, kind=Credential.Kind.API_TOKEN)
                      .order_by("-last_rotated_at").first())
        if credential is None:
            if _has_connector(account):
                return _("No API token is stored for %(account)s.") % {"account": account}
            continue
        if credential.rotation_forced_at is not None or credential.rotation_due_at <= now:  # at publish time
            return _("The organisation's credential for %(account)s has expired (rotation is due): a custodian "
                     "rotates it before anything is published.") % {"account": account}
    return None


def _has_connector(account) -> bool:
    try:
        connector_for_account(account)
    except NoConnectorError:
        return False
    return True


def start_due(*, now: datetime | None = None, post_id: int | None = None) -> int:
    """Turns scheduled posts whose time has come into publishing ones (or sends them back to review). Returns
    how many started."""
    now = now or timezone.now()
    started = 0
    with transaction.atomic():
        due = (Post.objects.select_for_update(skip_locked=True, of=("self",))
               .filter(state=Post.State.SCHEDULED, scheduled_at__lte=now).order_by("scheduled_at", "pk"))
        if post_id is not None:
            due = due.filter(pk=post_id)
        for post in due[:SWEEP_BATCH]:
            problem = _problem(post, now)
            if problem:
                _send_back(post, problem)
                continue
            post.state, post.updated_at, post.last_error = Post.State.PUBLISHING, now, ""
            post.save(update_fields=["state", "updated_at", "last_error"])
            _audit(None, "post_publishing", post, before={"state": Post.State.SCHEDULED},
                   after={"state": Post.State.PUBLISHING, "version": post.version})
            for target in post.targets.select_related("account"):
                if target.platform_id or target.state == PostTarget.State.PUBLISHED:
                    continue  # out already (a post published on some accounts before): never again
                target.attempts = 0  # a fresh count; ``last_error`` stays, so an unknown outcome is looked for
                if _has_connector(target.account):
                    target.state, target.next_attempt_at = PostTarget.State.PENDING, now
                else:
                    target.state = PostTarget.State.BY_HAND
                    notify(recipient=post.author, kind="post.by_hand", url=f"/strategy/posts/{post.pk}/",
                           text=_("Publish “%(post)s” on %(account)s by hand: no connector posts there.") % {
                               "post": post, "account": target.account})
                target.save(update_fields=["state", "next_attempt_at", "attempts"])
            started += 1
    return started


def _send_back(post: Post, reason: str) -> None:
    from .models import PostComment

    before = post.state
    post.version += 1  # the approvals given so far no longer count
    post.state, post.review_reason, post.approved_at = Post.State.IN_REVIEW, reason[:500], None
    post.updated_at = timezone.now()
    post.save()
    PostComment.objects.create(post=post, kind=PostComment.Kind.SYSTEM, text=reason[:2000])
    _audit(None, "post_back_to_review", post, before={"state": before},
           after={"state": post.state, "version": post.version, "reason": reason[:200]})
    notify(recipient=post.author, kind="post.back_to_review", level="warning", url=f"/strategy/posts/{post.pk}/",
           text=_("“%(post)s” was not published and is back in review: %(reason)s") % {
               "post": post, "reason": reason[:300]})


# --- 2. publish each target ---------------------------------------------------------------------------------------

def _claimable(now: datetime) -> Q:
    """Due and held by nobody, judged on the target's own row only, so that the conditional UPDATE re-checks
    every condition on the row version another worker may just have written (PostgreSQL re-evaluates a waiting
    UPDATE's conditions on the target table, not those inside a subquery or a join): queued by ``start_due`` or a
    retry (pending with ``next_attempt_at`` passed; a draft's targets are pending without one), or claimed by a
    worker whose lease ran out (killed, or stuck)."""
    return (Q(attempts__lt=MAX_ATTEMPTS, platform_id="")
            & (Q(state=PostTarget.State.PENDING, next_attempt_at__isnull=False, next_attempt_at__lte=now)
               | Q(state=PostTarget.State.PUBLISHING, lease_until__lt=now)))


def _take(target_id: int, now: datetime) -> bool:
    """One conditional UPDATE: of two workers trying at once, exactly one gets the target."""
    return PostTarget.objects.filter(_claimable(now), pk=target_id).update(
        state=PostTarget.State.PUBLISHING, attempts=F("attempts") + 1, next_attempt_at=None,
        lease_until=now + timedelta(seconds=lease_seconds())) == 1


def publish_target(target_id: int, *, now: datetime | None = None) -> PostTarget:
    """Publishes one target if it is due and nobody holds it; otherwise leaves it as it is."""
    now = now or timezone.now()
    if not _take(target_id, now):
        return PostTarget.objects.get(pk=target_id)
    target = PostTarget.objects.select_related("post", "account").get(pk=target_id)
    attempt = target.attempts
    post, account = target.post, target.account
    # Checked again for this account at every attempt: a retry after a back-off, or "Try again" the next day,
    # must not go out on an account suspended since, with an approver who lost the right, or a stale credential.
    problem = _problem(post, now, [account])
    if problem:
        return _failed(target, ConnectorError(problem), attempt, now)
    try:
        connector = connector_for_account(account)
        result = None
        # An earlier attempt (this round, or before a "Try again": ``last_error`` is kept) may have reached the
        # platform before its worker died or its answer was lost.
        if attempt > 1 or target.last_error:
            # An earlier attempt may have reached the platform before its worker died or its answer was lost. No
            # attempt came before the post's time: an older status with the same text is not this post's.
            result = connector.find_published(account, idempotency_key=str(target.idempotency_key), text=post.text,
                                              since=post.scheduled_at)
        if result is None:
            result = connector.publish(account, text=post.text, idempotency_key=str(target.idempotency_key),
                                       media=list(post.media.all()), visibility=post.visibility)
    except NoConnectorError:
        return _by_hand(target, attempt)
    except ConnectorError as exc:
        return _failed(target, exc, attempt, now)
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is still retried and shown
        logger.exception("Post %s on %s: unexpected error from the connector", post.pk, account)
        return _failed(target, ConnectorError(f"unexpected error: {type(exc).__name__}", retry_after=60), attempt,
                       now)
    return _succeeded(target, result, attempt)


@transaction.atomic
def _succeeded(target: PostTarget, result, attempt: int) -> PostTarget:
    now = timezone.now()
    # The id and URL in the same statement that marks it published; only while the attempt is ours, or if
    # nobody recorded it yet (our lease ran out, but the platform id is the same under the same key).
    recorded = PostTarget.objects.filter(pk=target.pk, platform_id="").update(
        state=PostTarget.State.PUBLISHED, platform_id=str(result.platform_id)[:200], url=(result.url or "")[:500],
        published_at=now, lease_until=None, next_attempt_at=None, last_error="")
    target.refresh_from_db()
    if recorded:
        _audit(None, "post_target_published", target.post,
               after={"account": target.account_id, "platform_id": target.platform_id, "url": target.url})
        _finish(target.post_id)
    return target


@transaction.atomic
def _failed(target: PostTarget, exc: ConnectorError, attempt: int, now: datetime) -> PostTarget:
    current = PostTarget.objects.select_for_update().get(pk=target.pk)
    if current.platform_id or current.state != PostTarget.State.PUBLISHING or current.attempts != attempt:
        logger.warning("Post target %s: attempt %s failed after its lease ran out: %s", target.pk, attempt, exc)
        return current
    current.last_error, current.lease_until = str(exc)[:500], None
    if exc.transient and current.attempts < MAX_ATTEMPTS:
        wait = exc.retry_after if exc.server_said else max(
            exc.retry_after or 0, BACKOFF_SECONDS[min(current.attempts, len(BACKOFF_SECONDS)) - 1])
        current.state = PostTarget.State.PENDING
        # Counted from the answer, on the attempt's clock (the sweep's ``now``) when that is later.
        current.next_attempt_at = max(now, timezone.now()) + timedelta(seconds=max(1, wait))
    else:
        current.state, current.next_attempt_at = PostTarget.State.FAILED, None
    current.save(update_fields=["state", "last_error", "next_attempt_at", "lease_until"])
    logger.warning("Post target %s failed (attempt %s): %s", current.pk, current.attempts, current.last_error)
    if current.state == PostTarget.State.FAILED:
        _finish(current.post_id)
    return current


@transaction.atomic
def _by_hand(target: PostTarget, attempt: int) -> PostTarget:
    PostTarget.objects.filter(pk=target.pk, attempts=attempt, platform_id="").update(
        state=PostTarget.State.BY_HAND, lease_until=None, next_attempt_at=None)
    target.refresh_from_db()
    return target


def _finish(post_id: int) -> None:
    """Publishing -> published when every target is; -> failed when one failed and nothing is left in flight."""
    post = Post.objects.select_for_update().get(pk=post_id)
    states = list(post.targets.values_list("state", flat=True))
    # A failed post too: a worker whose lease ran out can still record its target after the post was given up.
    if post.state == Post.State.FAILED and states and all(s == PostTarget.State.PUBLISHED for s in states):
        post.state = Post.State.PUBLISHING
    if post.state != Post.State.PUBLISHING:
        return
    if all(s == PostTarget.State.PUBLISHED for s in states):
        post.state, post.published_at = Post.State.PUBLISHED, timezone.now()
        post.save(update_fields=["state", "published_at"])
        _audit(None, "post_published", post, before={"state": Post.State.PUBLISHING},
               after={"state": post.state})
        notify(recipient=post.author, kind="post.published", url=f"/strategy/posts/{post.pk}/",
               text=_("Your post is published: “%(post)s”.") % {"post": post})
    elif PostTarget.State.FAILED in states and not {PostTarget.State.PENDING, PostTarget.State.PUBLISHING,
                                                     PostTarget.State.BY_HAND} & set(states):
        errors = "; ".join(f"{t.account}: {t.last_error}" for t in
                           post.targets.select_related("account").filter(state=PostTarget.State.FAILED))
        post.state, post.last_error = Post.State.FAILED, errors[:500]
        post.save(update_fields=["state", "last_error"])
        _audit(None, "post_failed", post, before={"state": Post.State.PUBLISHING},
               after={"state": post.state, "error": errors[:200]})
        notify(recipient=post.author, kind="post.failed", level="alert", url=f"/strategy/posts/{post.pk}/",
               text=_("Your post could not be published: %(error)s") % {"error": errors[:300]})


def _give_up_stuck(now: datetime) -> None:
    """A target whose attempts are used up and whose last attempt never finished (its worker died): failed."""
    stuck = list(PostTarget.objects.filter(state=PostTarget.State.PUBLISHING, attempts__gte=MAX_ATTEMPTS,
                                           lease_until__lt=now, platform_id="").values_list("pk", "post_id"))
    for pk, post_id in stuck:
        with transaction.atomic():
            if PostTarget.objects.filter(pk=pk, state=PostTarget.State.PUBLISHING, lease_until__lt=now).update(
                    state=PostTarget.State.FAILED, lease_until=None, last_error=_(
                        "Not published after %(n)s attempts: the last one never finished.") % {"n": MAX_ATTEMPTS}):
                _finish(post_id)


# --- entry points ---------------------------------------------------------------------------------------------------

def publish_post(post_id: int, *, now: datetime | None = None) -> str:
    """The task for one post (publish now, or its scheduled time): start it if due, publish its targets."""
    start_due(now=now, post_id=post_id)
    for target_id in PostTarget.objects.filter(post_id=post_id).values_list("pk", flat=True):
        publish_target(target_id, now=now)
    return Post.objects.get(pk=post_id).state


def publish_due(*, now: datetime | None = None) -> dict:
    """The every-minute sweep: starts due posts, publishes every target that is due and held by nobody, gives up
    on targets whose attempts are used up."""
    fixed = now
    now = now or timezone.now()
    started = start_due(now=now)
    _give_up_stuck(now)
    ids = list(PostTarget.objects.filter(_claimable(now), post__state=Post.State.PUBLISHING)
               .order_by("next_attempt_at", "pk")
               .values_list("pk", flat=True)[:SWEEP_BATCH])
    published = 0
    for target_id in ids:
        target = publish_target(target_id, now=fixed or timezone.now())
        published += target.state == PostTarget.State.PUBLISHED
    return {"started": started, "attempted": len(ids), "published": published}


# --- by hand and retry -----------------------------------------------------------------------------------------------

@transaction.atomic
def mark_published_by_hand(*, actor, target: PostTarget, url: str) -> PostTarget:
    """A person posted it on the platform by hand: ``publish`` on the account, and the post's address."""
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.core.validators import URLValidator

    target = PostTarget.objects.select_for_update().select_related("account", "post").get(pk=target.pk)
    if not has_capability(actor, Capability.PUBLISH, target.account):
        raise PermissionDenied(_("Marking a post published needs the publish right on %(account)s.") % {
            "account": target.account})
    if target.state != PostTarget.State.BY_HAND:
        raise ValidationError({"state": _("This post is not waiting to be published by hand here.")})
    url = (url or "").strip()
    try:
        URLValidator(schemes=["https", "http"])(url)
    except ValidationError:
        raise ValidationError({"url": _("Give the post's address on the platform (https://...).")}) from None
    if len(url) > 500:
        raise ValidationError({"url": _("The address has at most 500 characters.")})
    target.state, target.url, target.published_at = PostTarget.State.PUBLISHED, url, timezone.now()
    target.platform_id, target.published_by_hand = url[:200], actor
    target.save(update_fields=["state", "url", "published_at", "platform_id", "published_by_hand"])
    _audit(actor, "post_published_by_hand", target.post, after={"account": target.account_id, "url": url})
    _finish(target.post_id)
    return target


@transaction.atomic
def retry_failed(*, actor, post: Post) -> Post:
    """Tries a failed post's failed targets again (``publish`` on each of them); published targets stay."""
    from django.core.exceptions import PermissionDenied, ValidationError

    post = Post.objects.select_for_update().get(pk=post.pk)
    if post.state != Post.State.FAILED:
        raise ValidationError({"state": _("Only a failed post is tried again.")})
    failed = list(post.targets.select_related("account").filter(state=PostTarget.State.FAILED))
    if not failed:
        raise ValidationError({"state": _("No account of this post is waiting to be tried again.")})
    now = timezone.now()
    problem = _problem(post, now, [t.account for t in failed])  # first: "suspended" says more than "no right"
    if problem:
        raise ValidationError({"state": problem})
    lacking = [t.account for t in failed if not has_capability(actor, Capability.PUBLISH, t.account)]
    if lacking:
        raise PermissionDenied(_("Publishing needs the publish right on %(accounts)s.") % {
            "accounts": ", ".join(str(a) for a in lacking)})
    PostTarget.objects.filter(pk__in=[t.pk for t in failed]).update(
        state=PostTarget.State.PENDING, attempts=0, next_attempt_at=now, lease_until=None)
    post.state, post.last_error = Post.State.PUBLISHING, ""
    post.save(update_fields=["state", "last_error"])
    _audit(actor, "post_retried", post, before={"state": Post.State.FAILED}, after={"state": post.state})
    enqueue_publish(post)
    return post
