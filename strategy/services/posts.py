"""Posts: every write, for the pages, the API and the publisher alike.

Many draft, few publish (``security`` grants per account):

- ``draft`` on every target account to create, change or submit a post;
- ``approve`` on every target account to approve it, and never one's own post (four eyes); a sensitive post
  (marked by its author, or found by the inbox's sensitive-term rules) needs a second approval, from the
  specialist team or an executive;
- ``publish`` on every target account to publish now; still after an approval, unless the publisher's grant
  explicitly allows publishing their own posts (``PublishingGrant.allows_own_posts``, off by default).

States: draft -> in review -> approved -> scheduled -> publishing -> published | failed, and cancelled from
any state before publishing. Each transition happens here, on the post's row locked (``select_for_update``),
with one audit event. A change to the text, targets, media or sensitivity of a post in review, approved or
scheduled sends it back to review and its approvals become outdated (``Post.version``). Moving an approved
post to another time keeps its approvals.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from accounts.roles import Role
from accounts.selectors import user_roles
from accounts.services import notify
from security.models import Capability, PublishingGrant, SocialAccount
from security.permissions import has_capability

from ..models import Campaign, Objective, Post, PostApproval, PostComment, PostMedia, PostTarget
from ..platforms import MAX_MEDIA, fits
from ._common import _audit

State = Post.State
EDITABLE = {State.DRAFT, State.IN_REVIEW, State.APPROVED, State.SCHEDULED, State.FAILED}
CANCELLABLE = {State.DRAFT, State.IN_REVIEW, State.APPROVED, State.SCHEDULED, State.FAILED}
REVIEWED = {State.IN_REVIEW, State.APPROVED, State.SCHEDULED}  # a content change sends these back to review
TRANSITIONS = {
    State.DRAFT: {State.IN_REVIEW, State.SCHEDULED, State.CANCELLED},
    State.IN_REVIEW: {State.DRAFT, State.APPROVED, State.SCHEDULED, State.CANCELLED, State.IN_REVIEW},
    State.APPROVED: {State.SCHEDULED, State.IN_REVIEW, State.CANCELLED},
    State.SCHEDULED: {State.APPROVED, State.PUBLISHING, State.IN_REVIEW, State.CANCELLED},
    State.PUBLISHING: {State.PUBLISHED, State.FAILED, State.IN_REVIEW},
    State.FAILED: {State.DRAFT, State.IN_REVIEW, State.SCHEDULED, State.PUBLISHING, State.CANCELLED},
    State.PUBLISHED: set(),
    State.CANCELLED: set(),
}

MAX_MEDIA_BYTES = 8 * 1024 * 1024
MAX_MEDIA_PIXELS = 40_000_000
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {"image/jpeg": {"jpg", "jpeg"}, "image/png": {"png"}, "image/gif": {"gif"}, "image/webp": {"webp"}}
MAX_LABELS, MAX_LABEL_LENGTH = 10, 40
MAX_AHEAD = timedelta(days=731)


# --- who may do what -----------------------------------------------------------------------------------------

def is_sensitive_reviewer(user) -> bool:
    """The specialist team and the executives give a sensitive post its second approval."""
    return bool({Role.SPECIALIST, Role.EXECUTIVE} & user_roles(user))


def missing(user, capability: str, accounts: Iterable[SocialAccount]) -> list[SocialAccount]:
    """The accounts on which ``user`` does not hold ``capability`` now."""
    return [a for a in accounts if not has_capability(user, capability, a)]


def _names(accounts) -> str:
    return ", ".join(str(a) for a in accounts)


def _require(user, capability: str, accounts, message: str) -> None:
    lacking = missing(user, capability, accounts)
    if lacking:
        raise PermissionDenied(message % {"accounts": _names(lacking)})


def can_edit(user, post: Post) -> bool:
    accounts = list(post.accounts.all())
    return post.state in EDITABLE and bool(accounts) and not missing(user, Capability.DRAFT, accounts)


def wrote(user, post: Post) -> bool:
    """The author, or someone who changed its content: they never approve it (four eyes)."""
    return post.author_id == user.pk or user.pk in (post.edited_by or [])


def can_approve(user, post: Post) -> bool:
    """Whether ``user`` could approve ``post`` now (for showing the button; ``post_approve`` decides). Reads
    the post's targets and approvals through ``.all()``, so a list that prefetched them (the approval queue)
    asks nothing per post."""
    if post.state != State.IN_REVIEW or wrote(user, post):
        return False
    if any(a.approver_id == user.pk and a.version == post.version for a in post.approvals.all()):
        return False
    accounts = [t.account for t in post.targets.all()]
    return not missing(user, Capability.APPROVE, accounts) or (post.is_sensitive and is_sensitive_reviewer(user))


def own_posts_allowed(user, accounts) -> bool:
    """True when every one of ``user``'s publish grants on ``accounts`` allows publishing their own posts."""
    ids = {a.pk for a in accounts}
    allowed = set(PublishingGrant.objects.current().filter(
        user=user, capability=Capability.PUBLISH, account_id__in=ids, allows_own_posts=True)
        .values_list("account_id", flat=True))
    return bool(ids) and allowed == ids


# --- checks on what a post says ------------------------------------------------------------------------------

def sensitive_categories(text: str) -> list[str]:
    """The inbox's sensitive-term rules over a post's text, in every configured language."""
    from inbox.triage import sensitive_categories_of, sensitive_terms

    terms = sensitive_terms()
    found: set[str] = set()
    for language in terms:
        found.update(sensitive_categories_of(text, language, terms))
    return sorted(found)


def _clean_text(text) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the post's text.")})
    if "\x00" in text:
        raise ValidationError({"text": _("The text contains a character that cannot be stored (NUL).")})
    return text


def _clean_accounts(accounts) -> list[SocialAccount]:
    accounts = list(dict.fromkeys(accounts))
    if not accounts:
        raise ValidationError({"accounts": _("Choose at least one account to post on.")})
    closed = [a for a in accounts if a.status != SocialAccount.Status.ACTIVE]
    if closed:
        raise ValidationError({"accounts": _("Not active, so nothing can be posted there: %(accounts)s.")
                               % {"accounts": _names(closed)}})
    return accounts


def _check_length(text: str, accounts, *, every: bool) -> None:
    """``every``: refuse only when the text is over every target's limit (a draft may be too long for one
    platform and be shortened later); otherwise over any target's limit (nothing goes to review that some
    target would refuse)."""
    over = [f for f in fits(text, accounts) if f.over]
    if over and (not every or len(over) == len(accounts)):
        raise ValidationError({"text": [
            _("%(n)s characters: over the %(limit)s that %(account)s takes.") % {
                "n": f.length, "limit": f.limit, "account": f.account} for f in over]})


def _clean_time(scheduled_at: datetime | None, *, now: datetime) -> datetime | None:
    if scheduled_at is None:
        return None
    if timezone.is_naive(scheduled_at):
        raise ValidationError({"scheduled_at": _("Give the time with its time zone.")})
    if scheduled_at <= now:
        raise ValidationError({"scheduled_at": _("The time has passed: choose a time in the future.")})
    if scheduled_at > now + MAX_AHEAD:
        raise ValidationError({"scheduled_at": _("A post is scheduled at most two years ahead.")})
    return scheduled_at


def _clean_time_zone(value: str | None, user) -> str:
    value = value or getattr(user, "time_zone", "") or settings.TIME_ZONE
    try:
        ZoneInfo(value)
    except (ValueError, KeyError):
        raise ValidationError({"time_zone": _("Unknown time zone: %(zone)s.") % {"zone": value[:64]}}) from None
    return value


def _clean_labels(labels) -> list[str]:
    cleaned = []
    for label in labels or []:
        label = " ".join(str(label).split())
        if not label:
            continue
        if len(label) > MAX_LABEL_LENGTH:
            raise ValidationError({"labels": _("A label has at most %(n)s characters.") % {"n": MAX_LABEL_LENGTH}})
        if label not in cleaned:
            cleaned.append(label)
    if len(cleaned) > MAX_LABELS:
        raise ValidationError({"labels": _("At most %(n)s labels.") % {"n": MAX_LABELS}})
    return cleaned


def _clean_visibility(value) -> str:
    if value not in Post.Visibility.values:
        raise ValidationError({"visibility": _("Choose who sees the post: %(choices)s.") % {
            "choices": ", ".join(str(label).lower() for label in Post.Visibility.labels)}})
    return value


def _clean_links(campaign: Campaign | None, objective: Objective | None) -> None:
    if campaign is not None and objective is not None and campaign.objective_id not in (None, objective.pk):
        raise ValidationError({"objective": _("The campaign %(campaign)s serves another objective.")
                               % {"campaign": campaign}})


def validate_image(upload, alt_text: str) -> dict:
    """Checks an uploaded image before anything is stored: size, a real JPEG/PNG/GIF/WebP by its content (an SVG
    or a file whose name or declared type says otherwise is refused), dimensions, alt text. Returns what
    ``PostMedia`` records. Raises ValidationError naming the ``media`` or ``alt_text`` field."""
    from PIL import Image, UnidentifiedImageError

    name = getattr(upload, "name", "") or "image"
    size = getattr(upload, "size", None) or 0
    if size > MAX_MEDIA_BYTES:
        raise ValidationError({"media": _("%(name)s is %(mb).1f MB; an image may be at most %(max)s MB.") % {
            "name": name, "mb": size / 1024 / 1024, "max": MAX_MEDIA_BYTES // 1024 // 1024}})
    if size == 0:
        raise ValidationError({"media": _("%(name)s is empty.") % {"name": name}})
    upload.seek(0)
    head = upload.read(MAX_MEDIA_BYTES + 1)
    upload.seek(0)
    if len(head) > MAX_MEDIA_BYTES:
        raise ValidationError({"media": _("%(name)s is larger than %(max)s MB.") % {
            "name": name, "max": MAX_MEDIA_BYTES // 1024 // 1024}})
    try:
        with Image.open(io.BytesIO(head)) as image:
            kind = image.format
            width, height = image.size
            if width * height > MAX_MEDIA_PIXELS:
                raise ValidationError({"media": _("%(name)s is %(w)s × %(h)s pixels: too large.") % {
                    "name": name, "w": width, "h": height}})
            image.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError({"media": _("%(name)s is not a JPEG, PNG, GIF or WebP image (SVG and other "
                                           "formats are not accepted).") % {"name": name}}) from None
    content_type = IMAGE_TYPES.get(kind)
    if content_type is None:
        raise ValidationError({"media": _("%(name)s is a %(kind)s image; use JPEG, PNG, GIF or WebP.") % {
            "name": name, "kind": kind}})
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    declared = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
    if (extension and extension not in EXTENSIONS[content_type]) or (
            declared and declared != "application/octet-stream" and declared != content_type):
        raise ValidationError({"media": _("%(name)s says it is %(said)s but is a %(kind)s image: rename or "
                                           "re-export it.") % {"name": name, "said": declared or extension,
                                                               "kind": kind}})
    alt_text = " ".join((alt_text or "").split())
    if not alt_text:
        raise ValidationError({"alt_text": _("Describe %(name)s for people who cannot see it (alt text).")
                               % {"name": name}})
    if len(alt_text) > 1500:
        raise ValidationError({"alt_text": _("Alt text has at most 1,500 characters.")})
    return {"content_type": content_type, "size": size, "width": width, "height": height,
            "alt_text": alt_text, "original_name": name[:200]}


# --- helpers -------------------------------------------------------------------------------------------------

def _locked(post: Post) -> Post:
    return Post.objects.select_for_update().get(pk=post.pk)


def _move(post: Post, to: str, actor, action: str, **extra) -> None:
    """The one place a post's state changes: checks the transition, saves, audits."""
    before = post.state
    if to not in TRANSITIONS[State(before)]:
        raise ValidationError({"state": _("A post that is %(from)s cannot become %(to)s.") % {
            "from": State(before).label.lower(), "to": State(to).label.lower()}})
    post.state = to
    post.updated_at = timezone.now()
    post.save()
    _audit(actor, action, post, before={"state": before}, after={"state": to, "version": post.version, **extra})


def _system_comment(post: Post, text: str, actor=None, kind=PostComment.Kind.SYSTEM) -> None:
    PostComment.objects.create(post=post, author=actor, kind=kind, text=text[:2000])


def _approvals_complete(post: Post) -> bool:
    current = list(post.approvals.filter(version=post.version))
    if not any(a.with_right for a in current):
        return False
    if post.is_sensitive:
        return any(a.specialist for a in current) and len({a.approver_id for a in current}) >= 2
    return True


def _back_to_review(post: Post, actor, reason: str, *, new_version: bool = True) -> None:
    """Approvals so far stop counting (a new version) and the post waits for review again."""
    if new_version:
        post.version += 1
    post.review_reason = reason[:500]
    post.approved_at = None
    _move(post, State.IN_REVIEW, actor, "post_back_to_review", reason=reason[:200])
    _system_comment(post, reason, actor)


def _store_media(post: Post, media: Sequence[tuple], start: int = 0) -> None:
    """``media``: (upload, alt text) pairs, each checked by ``validate_image`` first (nothing stored if one
    fails)."""
    checked = [(upload, validate_image(upload, alt)) for upload, alt in media]
    limit = min([MAX_MEDIA.get(a.platform, 4) for a in post.accounts.all()] or [4])
    if start + len(checked) > limit:
        raise ValidationError({"media": ngettext("At most %(n)s image for these accounts.",
                                                 "At most %(n)s images for these accounts.", limit) % {"n": limit}})
    for position, (upload, info) in enumerate(checked, start=start):
        item = PostMedia(post=post, position=position, **info)
        item.file.save(upload.name, upload, save=False)
        item.save()


# --- the services ---------------------------------------------------------------------------------------------

@transaction.atomic
def post_create(*, actor: User, text: str, accounts: Iterable[SocialAccount], scheduled_at: datetime | None = None,
                time_zone: str | None = None, campaign: Campaign | None = None, objective: Objective | None = None,
                labels: Iterable[str] = (), sensitive: bool = False, media: Sequence[tuple] = (),
                visibility: str = Post.Visibility.PUBLIC, now: datetime | None = None) -> Post:
    """A new draft. ``media``: (uploaded file, alt text) pairs. Nothing is saved if anything is refused."""
    now = now or timezone.now()
    text, accounts = _clean_text(text), _clean_accounts(accounts)
    _require(actor, Capability.DRAFT, accounts, _("You may not draft posts for %(accounts)s."))
    _check_length(text, accounts, every=True)
    scheduled_at = _clean_time(scheduled_at, now=now)
    _clean_links(campaign, objective)
    post = Post.objects.create(
        author=actor, text=text, scheduled_at=scheduled_at, time_zone=_clean_time_zone(time_zone, actor),
        campaign=campaign, objective=objective or (campaign.objective if campaign else None),
        labels=_clean_labels(labels), marked_sensitive=bool(sensitive), sensitive_categories=sensitive_categories(text),
        visibility=_clean_visibility(visibility), created_at=now, updated_at=now)
    PostTarget.objects.bulk_create([PostTarget(post=post, account=a) for a in accounts])
    _store_media(post, media)
    _audit(actor, "post_created", post, after={"accounts": [a.pk for a in accounts], "state": post.state,
                                               "scheduled_at": scheduled_at.isoformat() if scheduled_at else None})
    return post


CONTENT_FIELDS = ("text", "accounts", "media", "remove_media", "sensitive", "visibility")


@transaction.atomic
def post_update(*, actor: User, post: Post, now: datetime | None = None, expected_version: int | None = None,
                _rights_checked: bool = False, **changes) -> Post:
    """Changes a post. ``changes``: any of ``text``, ``accounts``, ``media`` (new (upload, alt) pairs),
    ``remove_media`` (PostMedia ids), ``sensitive``, ``visibility``, ``scheduled_at``, ``time_zone``, ``campaign``,
    ``objective``, ``labels``.

    A change of content (text, targets, media, sensitivity, visibility) is a new version; to a post in review,
    approved or scheduled it sends the post back to review with its approvals outdated; a new time alone does
    neither (``post_reschedule``). A failed post that is changed goes back to draft."""
    now = now or timezone.now()
    post = _locked(post)
    if expected_version is not None and expected_version != post.version:
        raise ValidationError({"version": _("Someone changed this post since you opened it: reload to see "
                                            "their change, then make yours.")})
    if post.state not in EDITABLE:
        raise ValidationError({"state": _("A post that is %(state)s cannot be changed.") % {
            "state": post.get_state_display().lower()}})
    old_accounts = list(post.accounts.all())
    if not _rights_checked:  # post_reschedule checked its own rights (a new time only)
        _require(actor, Capability.DRAFT, old_accounts, _("You may not change posts for %(accounts)s."))
    unknown = set(changes) - set(CONTENT_FIELDS) - {"scheduled_at", "time_zone", "campaign", "objective", "labels"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("This field cannot be changed here.")})
    changed: dict = {}
    accounts = old_accounts
    if "accounts" in changes:
        accounts = _clean_accounts(changes["accounts"])
        added = [a for a in accounts if a not in old_accounts]
        _require(actor, Capability.DRAFT, added, _("You may not draft posts for %(accounts)s."))
        if {a.pk for a in accounts} != {a.pk for a in old_accounts}:
            changed["accounts"] = [a.pk for a in accounts]
    text = post.text
    if "text" in changes:
        text = _clean_text(changes["text"])
        if text != post.text:
            changed["text"] = True
    # A post that goes (back) to review must fit every target; a draft may still be too long for one.
    _check_length(text, accounts, every=post.state in (State.DRAFT, State.FAILED))
    if "sensitive" in changes and bool(changes["sensitive"]) != post.marked_sensitive:
        if not changes["sensitive"] and post.author_id != actor.pk and not is_sensitive_reviewer(actor):
            raise PermissionDenied(_("Only the author or the specialist team takes the sensitive mark off a post."))
        changed["sensitive"] = bool(changes["sensitive"])
    if "visibility" in changes and _clean_visibility(changes["visibility"]) != post.visibility:
        changed["visibility"] = post.visibility = changes["visibility"]
    if "scheduled_at" in changes:
        new_time = _clean_time(changes["scheduled_at"], now=now)
        if new_time != post.scheduled_at:
            changed["scheduled_at"] = new_time.isoformat() if new_time else None
            post.scheduled_at = new_time
    if "time_zone" in changes:
        post.time_zone = _clean_time_zone(changes["time_zone"], actor)
    if "campaign" in changes or "objective" in changes:
        campaign = changes.get("campaign", post.campaign)
        objective = changes.get("objective", post.objective)
        _clean_links(campaign, objective)
        post.campaign, post.objective = campaign, objective
    if "labels" in changes:
        post.labels = _clean_labels(changes["labels"])

    content_changing = bool({"text", "accounts", "sensitive", "visibility"} & set(changed)) or bool(
        changes.get("media")) or bool(changes.get("remove_media"))
    if content_changing:
        published = [t.account for t in post.targets.select_related("account").filter(
            state=PostTarget.State.PUBLISHED)]
        if published:
            raise ValidationError({"state": _("Already published on %(accounts)s: what went out stays as it is. "
                                              "Try the others again, or write a new post.") % {
                "accounts": _names(published)}})
    # Content first, media last: a refused image leaves nothing changed (the transaction rolls back).
    if "accounts" in changed:
        keep = {a.pk for a in accounts}
        post.targets.exclude(account_id__in=keep).delete()
        present = set(post.targets.values_list("account_id", flat=True))
        PostTarget.objects.bulk_create([PostTarget(post=post, account=a) for a in accounts if a.pk not in present])
    if changes.get("remove_media"):
        removed = list(post.media.filter(pk__in=list(changes["remove_media"])))
        for item in removed:
            transaction.on_commit(lambda name=item.file.name, storage=item.file.storage: storage.delete(name))
            item.delete()
        if removed:
            changed["media_removed"] = len(removed)
    if changes.get("media"):
        start = (post.media.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        _store_media(post, changes["media"], start=start)
        changed["media_added"] = len(changes["media"])
    post.text = text
    post.marked_sensitive = changed.get("sensitive", post.marked_sensitive)
    post.sensitive_categories = sensitive_categories(text)
    post.updated_at = now
    # Who sees a post is part of what was approved: a change of visibility is a change of content.
    content_changed = bool({"text", "accounts", "sensitive", "visibility", "media_removed", "media_added"}
                           & set(changed))
    if content_changed:
        # Every change of content is a new version, in any state: an edit made on an older version (another
        # tab, a colleague's draft) is refused by ``expected_version`` instead of overwriting this one. Whoever
        # changed it wrote part of it, and so never approves it.
        post.version += 1
        if actor.pk != post.author_id and actor.pk not in post.edited_by:
            post.edited_by = [*post.edited_by, actor.pk]
    if post.state == State.SCHEDULED and post.scheduled_at is None:
        post.state = State.APPROVED  # unscheduled: it waits, approved, for a new time
    post.save()
    if content_changed and post.state in REVIEWED:
        _back_to_review(post, actor, _("Changed by %(actor)s after review: the approvals given so far are "
                                       "outdated.") % {"actor": actor}, new_version=False)
    elif content_changed and post.state == State.FAILED:
        _move(post, State.DRAFT, actor, "post_updated", changes=list(changed))
        return post
    elif post.state == State.APPROVED and post.scheduled_at is not None:
        _move(post, State.SCHEDULED, actor, "post_scheduled", scheduled_at=post.scheduled_at.isoformat())
    if changed:
        _audit(actor, "post_updated", post, after={"changes": sorted(changed), "version": post.version})
    return post


@transaction.atomic
def post_reschedule(*, actor: User, post: Post, scheduled_at: datetime | None, now: datetime | None = None,
                    expected_version: int | None = None) -> Post:
    """Moves a post to another time (the calendar's drag, or its keyboard alternative). Re-checks rights: the
    author or someone with ``draft`` on every target moves a draft; an approved or scheduled post is moved by
    its author or someone with ``approve`` or ``publish`` on every target. Approvals stay: what was approved
    has not changed."""
    now = now or timezone.now()
    post = _locked(post)
    if expected_version is not None and expected_version != post.version:
        raise ValidationError({"version": _("Someone changed this post since you opened it: reload to see "
                                            "their change, then make yours.")})
    if post.state not in EDITABLE:
        raise ValidationError({"state": _("A post that is %(state)s cannot be moved.") % {
            "state": post.get_state_display().lower()}})
    accounts = list(post.accounts.all())
    if post.state in (State.APPROVED, State.SCHEDULED) and post.author_id != actor.pk:
        if missing(actor, Capability.APPROVE, accounts) and missing(actor, Capability.PUBLISH, accounts):
            raise PermissionDenied(_("Moving an approved post needs approve or publish on %(accounts)s.")
                                   % {"accounts": _names(accounts)})
    else:
        _require(actor, Capability.DRAFT, accounts, _("You may not change posts for %(accounts)s."))
    return post_update(actor=actor, post=post, scheduled_at=scheduled_at, now=now, _rights_checked=True)


@transaction.atomic
def post_submit(*, actor: User, post: Post, now: datetime | None = None) -> Post:
    """Sends a draft to review. Everything a reviewer would refuse anyway is refused here, naming the field:
    a text over a target's limit, a time that has passed, an image without alt text."""
    now = now or timezone.now()
    post = _locked(post)
    if post.state != State.DRAFT:
        raise ValidationError({"state": _("Only a draft is submitted for review.")})
    accounts = _clean_accounts(post.accounts.all())
    _require(actor, Capability.DRAFT, accounts, _("You may not submit posts for %(accounts)s."))
    if not wrote(actor, post):
        raise PermissionDenied(_("Its author, or someone who worked on it, sends a draft to review."))
    _check_length(post.text, accounts, every=False)
    if post.scheduled_at is not None and post.scheduled_at <= now:
        raise ValidationError({"scheduled_at": _("The time has passed: choose a time in the future.")})
    post.submitted_at, post.review_reason = now, ""
    _move(post, State.IN_REVIEW, actor, "post_submitted")
    return post


@transaction.atomic
def post_approve(*, actor: User, post: Post, version: int | None = None, now: datetime | None = None) -> Post:
    """Approves the post's current version. Never one's own post; ``approve`` on every target, or, for the
    second approval of a sensitive post, the specialist team or an executive. ``version``: the version the
    approver saw (a post changed since is refused rather than approved unseen)."""
    now = now or timezone.now()
    post = _locked(post)
    if post.state != State.IN_REVIEW:
        raise ValidationError({"state": _("This post is not waiting for review.")})
    if version is not None and version != post.version:
        raise ValidationError({"version": _("The post changed since you opened it: review the new version.")})
    if post.author_id == actor.pk:
        raise PermissionDenied(_("Someone other than the author approves a post (four eyes)."))
    if wrote(actor, post):
        raise PermissionDenied(_("You changed this post's content: someone who did not write any of it approves "
                                 "it (four eyes)."))
    accounts = list(post.accounts.all())
    lacking = missing(actor, Capability.APPROVE, accounts)
    reviewer = is_sensitive_reviewer(actor)
    if lacking and not (post.is_sensitive and reviewer):
        raise PermissionDenied(_("You may not approve posts for %(accounts)s.") % {"accounts": _names(lacking)})
    if post.approvals.filter(approver=actor, version=post.version).exists():
        raise ValidationError({"state": _("You already approved this version; it needs someone else's approval.")})
    _check_length(post.text, accounts, every=False)  # nothing is approved that a target would refuse
    PostApproval.objects.create(post=post, approver=actor, version=post.version, with_right=not lacking,
                                specialist=reviewer, created_at=now)
    _audit(actor, "post_approved", post, after={"version": post.version, "specialist": reviewer})
    if _approvals_complete(post):
        post.approved_at = now
        to = State.SCHEDULED if post.scheduled_at else State.APPROVED
        _move(post, to, actor, "post_review_complete")
        notify(recipient=post.author, kind="post.approved", url=f"/strategy/posts/{post.pk}/",
               text=_("Your post was approved by %(actor)s: “%(post)s”.") % {"actor": actor, "post": post})
    return post


def approvals_needed(post: Post) -> list[str]:
    """What the post still waits for, in words (for the review page)."""
    if post.state != State.IN_REVIEW:
        return []
    current = list(post.approvals.filter(version=post.version))
    with_right, specialist = any(a.with_right for a in current), any(a.specialist for a in current)
    needed = []
    if not with_right:
        needed.append(_("an approval from someone with the approve right on every account"))
    if post.is_sensitive:
        if not specialist:
            needed.append(_("a second approval from the specialist team or an executive (sensitive post)"))
        elif with_right and len({a.approver_id for a in current}) < 2:
            needed.append(_("a second person's approval (sensitive post)"))
    return needed


@transaction.atomic
def post_return(*, actor: User, post: Post, reason: str) -> Post:
    """Returns a post in review to its author with a reason, on the review thread."""
    post = _locked(post)
    if post.state != State.IN_REVIEW:
        raise ValidationError({"state": _("This post is not waiting for review.")})
    accounts = list(post.accounts.all())
    if missing(actor, Capability.APPROVE, accounts) and not (post.is_sensitive and is_sensitive_reviewer(actor)):
        raise PermissionDenied(_("You may not review posts for %(accounts)s.") % {"accounts": _names(accounts)})
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("Say what to change: the author sees it on the post.")})
    post.review_reason = reason[:500]
    post.version += 1  # approvals given so far were for the text being returned
    _move(post, State.DRAFT, actor, "post_returned", reason=reason[:200])
    PostComment.objects.create(post=post, author=actor, kind=PostComment.Kind.RETURNED, text=reason[:2000])
    notify(recipient=post.author, kind="post.returned", url=f"/strategy/posts/{post.pk}/",
           text=_("%(actor)s returned your post: %(reason)s") % {"actor": actor, "reason": reason[:200]})
    return post


def post_comment(*, actor: User, post: Post, text: str) -> PostComment:
    """A comment on the review thread, by anyone who may draft or approve on one of the post's accounts."""
    accounts = list(post.accounts.all())
    if not any(has_capability(actor, c, a) for a in accounts for c in (Capability.DRAFT, Capability.APPROVE)) \
            and not is_sensitive_reviewer(actor) and post.author_id != actor.pk:
        raise PermissionDenied(_("You may not comment on this post."))
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write a comment.")})
    if len(text) > 2000:
        raise ValidationError({"text": _("A comment has at most 2,000 characters.")})
    comment = PostComment.objects.create(post=post, author=actor, text=text)
    if post.author_id != actor.pk:
        notify(recipient=post.author, kind="post.comment", url=f"/strategy/posts/{post.pk}/",
               text=_("%(actor)s commented on your post: %(text)s") % {"actor": actor, "text": text[:200]})
    return comment


@transaction.atomic
def post_cancel(*, actor: User, post: Post, reason: str = "") -> Post:
    """Cancels a post that has not started publishing: its author, or someone with approve on every target."""
    post = _locked(post)
    if post.state not in CANCELLABLE:
        raise ValidationError({"state": _("A post that is %(state)s cannot be cancelled.") % {
            "state": post.get_state_display().lower()}})
    accounts = list(post.accounts.all())
    if post.author_id != actor.pk:
        _require(actor, Capability.APPROVE, accounts, _("You may not cancel posts for %(accounts)s."))
    reason = " ".join((reason or "").split())
    _move(post, State.CANCELLED, actor, "post_cancelled", reason=reason[:200])
    if reason:
        _system_comment(post, _("Cancelled: %(reason)s") % {"reason": reason}, actor)
    return post


@transaction.atomic
def post_publish_now(*, actor: User, post: Post, now: datetime | None = None) -> Post:
    """Publishes an approved post now (``publish`` on every target). Without an approval only the author whose
    publish grant on every target allows their own posts (``allows_own_posts``); that is on record."""
    now = now or timezone.now()
    post = _locked(post)
    accounts = list(post.accounts.all())
    _require(actor, Capability.PUBLISH, accounts, _("Publishing needs the publish right on %(accounts)s."))
    unreviewed = post.state in (State.DRAFT, State.IN_REVIEW)
    if unreviewed:
        if post.is_sensitive:
            raise ValidationError({"state": _("A sensitive post is approved by the specialist team or an executive "
                                              "before it goes out, whoever publishes it.")})
        if post.author_id != actor.pk or not own_posts_allowed(actor, accounts):
            raise ValidationError({"state": _("This post has not been approved: someone other than its author "
                                              "approves it first (four eyes).")})
        _check_length(post.text, accounts, every=False)
    elif post.state not in (State.APPROVED, State.SCHEDULED):
        raise ValidationError({"state": _("A post that is %(state)s cannot be published.") % {
            "state": post.get_state_display().lower()}})
    post.scheduled_at = now
    if post.state == State.SCHEDULED:
        post.save(update_fields=["scheduled_at"])
        _audit(actor, "post_publish_requested", post, after={"state": post.state})
    else:
        _move(post, State.SCHEDULED, actor, "post_publish_requested", without_second_approval=unreviewed)
    from ..publishing import enqueue_publish

    enqueue_publish(post)
    return post
