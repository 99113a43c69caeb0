"""The post pages: the composer (new and edit) with its per-platform preview, a post with its review thread and
the actions its viewer may use, the approval queue, the publish-by-hand queue, my posts, and the images,
streamed only to people who may see the post.

Thin: reads through ``selectors_posts`` (a post the viewer may not see is a 404), writes through
``services.posts`` and ``publishing``; a refusal re-renders the page with the message next to its field as a
400, a right missing is a 403 with the service's message. The second factor is enforced for every page by
``accounts.middleware.SecondFactorMiddleware``."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_time
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from security.models import Capability
from security.permissions import has_capability
from socialops.views import render_invalid

from . import publishing
from .forms_posts import (
    MEDIA_SLOTS,
    ByHandForm,
    CommentForm,
    ComposerForm,
    ReasonForm,
    apply_post_errors,
    draftable_accounts,
    initial_for,
    zone_of,
)
from .models import Post, PostComment, PostMedia, PostTarget
from .platforms import instance_limits_for, text_length, text_limit
from .selectors_posts import by_hand_queue, posts_visible_to, with_related
from .services import posts as services

NAV = {"nav_current": "strategy:calendar"}
State = Post.State
QUEUE_SIZE = 200


def _visible_post(request, pk: int) -> Post:
    """The post, if the viewer may see it; a 404 otherwise (whether it exists is not told)."""
    return get_object_or_404(with_related(posts_visible_to(request.user)), pk=pk)


def _next_or(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


def _zone_or_default(name: str, user) -> str:
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):
        return zone_of(user)
    return name or zone_of(user)


# --- the composer -------------------------------------------------------------------------------------------

def _preview(form: ComposerForm, accounts) -> list[dict]:
    """Each account the composer offers, with the text's length as its platform counts it and its limit (the
    page shows the selected ones; composer.js keeps the counts live while typing)."""
    text = (form["text"].value() or "").strip()
    selected = {str(v) for v in (form["accounts"].value() or [])}
    limits = instance_limits_for(accounts)
    rows = []
    for account in accounts:
        limit = text_limit(account, instance_limits=limits)
        length = text_length(text, account.platform)
        rows.append({"account": account, "limit": limit, "length": length, "selected": str(account.pk) in selected,
                     "over": limit is not None and length > limit})
    return rows


def _composer(request, form: ComposerForm, accounts, *, post: Post | None = None, status: int = 200):
    active_elsewhere = not post and len(accounts) < _active_account_count()
    rows = _preview(form, accounts)
    context = {**NAV, "form": form, "post": post, "rows": rows, "zone": form.zone,
               "any_selected": any(r["selected"] for r in rows),
               "media_fields": [(form[f"media_{n}"], form[f"alt_{n}"]) for n in MEDIA_SLOTS],
               "existing_media": list(post.media.all()) if post else [],
               "removing": {str(v) for v in (form["remove_media"].value() or [])} if post else set(),
               "some_accounts_missing": active_elsewhere}
    if status == 400:
        return render_invalid(request, "strategy/posts/composer.html", context)
    return render(request, "strategy/posts/composer.html", context, status=status)


def _active_account_count() -> int:
    from security.models import SocialAccount

    return SocialAccount.objects.filter(status=SocialAccount.Status.ACTIVE).count()


def _ambiguous_note(request, form: ComposerForm, post: Post) -> None:
    if form.ambiguous_time and post.scheduled_at:
        local = timezone.localtime(post.scheduled_at, ZoneInfo(form.zone))
        messages.info(request, _("%(time)s happens twice on %(day)s in %(zone)s (the clocks go back): the post is "
                                 "scheduled for the first of the two, %(utc)s UTC.") % {
            "time": local.strftime("%H:%M"), "day": local.date().isoformat(), "zone": form.zone,
            "utc": post.scheduled_at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M")})


@login_required
@require_http_methods(["GET", "POST"])
def post_new(request):
    accounts = draftable_accounts(request.user)
    if not accounts:
        raise PermissionDenied(_("You hold the draft right on no active social account: ask an admin for one."))
    zone = zone_of(request.user)
    if request.method == "POST":
        form = ComposerForm(request.POST, request.FILES, user=request.user, zone=zone)
        if form.is_valid():
            try:
                post = services.post_create(actor=request.user, **form.create_kwargs())
            except ValidationError as exc:
                apply_post_errors(form, exc)
            else:
                messages.success(request, _("Draft saved. Submit it for review when it is ready."))
                _ambiguous_note(request, form, post)
                return redirect("strategy:post-detail", post.pk)
        return _composer(request, form, accounts, status=400)
    form = ComposerForm(initial=_prefill(request.GET), user=request.user, zone=zone)
    return _composer(request, form, accounts)


def _prefill(query) -> dict:
    """?date=YYYY-MM-DD&time=HH:MM from the calendar's empty slot; anything unreadable is left out."""
    initial = {}
    try:
        day = parse_date(query.get("date", "") or "")
        at = parse_time(query.get("time", "") or "")
    except ValueError:
        return initial
    if day:
        initial["scheduled_date"] = day
    if at:
        initial["scheduled_time"] = at.replace(second=0, microsecond=0)
    return initial


@login_required
@require_http_methods(["GET", "POST"])
def post_edit(request, pk: int):
    post = _visible_post(request, pk)
    if post.state not in services.EDITABLE:
        raise PermissionDenied(_("A post that is %(state)s cannot be changed.") % {
            "state": post.get_state_display().lower()})
    if not services.can_edit(request.user, post):
        raise PermissionDenied(_("Changing this post needs the draft right on every account it goes to."))
    zone = _zone_or_default(post.time_zone, request.user)
    current = [t.account for t in post.targets.all()]
    accounts = draftable_accounts(request.user)
    accounts += [a for a in current if a not in accounts]
    if request.method == "POST":
        form = ComposerForm(request.POST, request.FILES, user=request.user, post=post, zone=zone)
        if form.is_valid():
            before = post.state
            try:
                post = services.post_update(actor=request.user, post=post,
                                            expected_version=form.cleaned_data.get("version"),
                                            **form.update_kwargs())
            except ValidationError as exc:
                apply_post_errors(form, exc)
            else:
                if before in services.REVIEWED and post.state == State.IN_REVIEW and before != State.IN_REVIEW:
                    messages.warning(request, _("Your change sent the post back to review: the approvals given "
                                                "so far are outdated."))
                else:
                    messages.success(request, _("Post saved."))
                _ambiguous_note(request, form, post)
                return redirect("strategy:post-detail", post.pk)
        return _composer(request, form, accounts, post=post, status=400)
    form = ComposerForm(initial=initial_for(post, zone), user=request.user, post=post, zone=zone)
    return _composer(request, form, accounts, post=post)


# --- a post ------------------------------------------------------------------------------------------------

def _viewer_may(user, post: Post) -> dict:
    """Exactly the actions this viewer may use on this post (the services decide again on each)."""
    accounts = [t.account for t in post.targets.all()]
    author = post.author_id == user.pk
    draft_all = bool(accounts) and not services.missing(user, Capability.DRAFT, accounts)
    approve_all = bool(accounts) and not services.missing(user, Capability.APPROVE, accounts)
    publish_all = bool(accounts) and not services.missing(user, Capability.PUBLISH, accounts)
    reviewer = services.is_sensitive_reviewer(user)
    failed = [t.account for t in post.targets.all() if t.state == PostTarget.State.FAILED]
    return {
        "edit": post.state in services.EDITABLE and draft_all,
        "submit": post.state == State.DRAFT and draft_all and services.wrote(user, post),
        "cancel": post.state in services.CANCELLABLE and (author or approve_all),
        "approve": services.can_approve(user, post),
        "return": post.state == State.IN_REVIEW and not author and (approve_all or (post.is_sensitive and reviewer)),
        "publish_now": publish_all and (
            post.state in (State.APPROVED, State.SCHEDULED)
            or (post.state in (State.DRAFT, State.IN_REVIEW) and author and not post.is_sensitive
                and services.own_posts_allowed(user, accounts))),
        "retry": post.state == State.FAILED and bool(failed) and all(
            has_capability(user, Capability.PUBLISH, a) for a in failed),
        "comment": author or reviewer or any(has_capability(user, c, a) for a in accounts
                                             for c in (Capability.DRAFT, Capability.APPROVE)),
    }


def _detail(request, post: Post, *, status: int = 200, errors=(), return_form=None, comment_form=None,
            cancel_form=None):
    approvals = list(post.approvals.all())
    zone_name = _zone_or_default(post.time_zone, request.user)
    own_time = timezone.localtime(post.scheduled_at, ZoneInfo(zone_name)) if post.scheduled_at else None
    viewer_zone = timezone.get_current_timezone_name()
    targets = list(post.targets.all())
    for target in targets:
        # A platform's address, or a page of the portal's own (the sandbox channel); nothing else becomes a link.
        internal = target.url.startswith("/") and not target.url.startswith("//")
        target.link = target.url if internal or target.url.lower().startswith(("https://", "http://")) else ""
    context = {
        **NAV, "post": post, "targets": targets, "media": list(post.media.all()),
        "comments": list(post.comments.select_related("author")),
        "current_approvals": [a for a in approvals if a.version == post.version],
        "outdated_approvals": [a for a in approvals if a.version != post.version],
        "needed": services.approvals_needed(post), "may": _viewer_may(request.user, post),
        "own_time": own_time, "own_zone": zone_name, "viewer_zone": viewer_zone,
        "started": post.state in (State.PUBLISHING, State.PUBLISHED, State.FAILED),
        "zones_differ": own_time is not None and own_time.utcoffset() != timezone.localtime(
            post.scheduled_at).utcoffset(),
        "errors": list(errors), "return_form": return_form or ReasonForm(auto_id="id_return_%s"),
        "comment_form": comment_form or CommentForm(auto_id="id_comment_%s"),
        "cancel_form": cancel_form or ReasonForm(auto_id="id_cancel_%s"),
        "comment_kinds": PostComment.Kind,
    }
    return render(request, "strategy/posts/detail.html", context, status=status)


@login_required
@require_GET
def post_detail(request, pk: int):
    return _detail(request, _visible_post(request, pk))


def _version(request):
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        raise ValidationError({"version": _("The page did not say which version you reviewed: reload it and "
                                            "approve again.")}) from None


ACTION_DONE = {
    "submit": gettext_lazy("Submitted for review."),
    "approve": gettext_lazy("Approved."),
    "return": gettext_lazy("Returned to its author."),
    "cancel": gettext_lazy("Cancelled."),
    "publish_now": gettext_lazy("Publishing now: the post shows as published once every account has it."),
    "comment": gettext_lazy("Comment added."),
    "retry": gettext_lazy("Trying again."),
}


@login_required
@require_POST
def post_action(request, pk: int):
    post = _visible_post(request, pk)
    action = request.POST.get("action", "")
    user = request.user
    forms = {}
    try:
        if action == "submit":
            services.post_submit(actor=user, post=post)
        elif action == "approve":
            services.post_approve(actor=user, post=post, version=_version(request))
        elif action == "return":
            forms["return_form"] = ReasonForm(request.POST, auto_id="id_return_%s")
            forms["return_form"].is_valid()
            services.post_return(actor=user, post=post, reason=request.POST.get("reason", ""))
        elif action == "cancel":
            forms["cancel_form"] = ReasonForm(request.POST, auto_id="id_cancel_%s")
            forms["cancel_form"].is_valid()
            services.post_cancel(actor=user, post=post, reason=request.POST.get("reason", ""))
        elif action == "publish_now":
            services.post_publish_now(actor=user, post=post)
        elif action == "comment":
            forms["comment_form"] = CommentForm(request.POST, auto_id="id_comment_%s")
            forms["comment_form"].is_valid()
            services.post_comment(actor=user, post=post, text=request.POST.get("text", ""))
        elif action == "retry":
            publishing.retry_failed(actor=user, post=post)
        else:
            raise ValidationError(_("Unknown action."))
    except ValidationError as exc:
        errors = []
        field_form = {"reason": forms.get("return_form") or forms.get("cancel_form"),
                      "text": forms.get("comment_form")}
        for key, texts in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
            form = field_form.get(key)
            if form is not None:
                form.add_error(key, texts)
            else:
                errors += texts
        return _detail(request, _visible_post(request, pk), status=400, errors=errors, **forms)
    messages.success(request, ACTION_DONE[action])
    return redirect(_next_or(request, reverse("strategy:post-detail", args=[post.pk])))


@login_required
@require_GET
def post_media(request, pk: int, media_pk: int):
    post = get_object_or_404(posts_visible_to(request.user), pk=pk)
    item = get_object_or_404(PostMedia, pk=media_pk, post=post)
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(handle, content_type=item.content_type, as_attachment=False,
                            filename=item.original_name or item.file.name.rsplit("/", 1)[-1])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


# --- the queues -----------------------------------------------------------------------------------------------

@login_required
@require_GET
def review_queue(request):
    user = request.user
    reviewer = services.is_sensitive_reviewer(user)
    candidates = posts_visible_to(user).filter(state=State.IN_REVIEW).exclude(author=user)
    if not reviewer:
        from security.permissions import current_grants_for

        approvable = current_grants_for(user).filter(capability=Capability.APPROVE).values("account_id")
        candidates = candidates.exclude(pk__in=PostTarget.objects.exclude(account_id__in=approvable)
                                        .values("post_id"))
    candidates = with_related(candidates).order_by("submitted_at", "updated_at", "pk")[:QUEUE_SIZE]
    posts = [p for p in candidates if services.can_approve(user, p)]
    for post in posts:
        post.current_approvals = [a for a in post.approvals.all() if a.version == post.version]
    return render(request, "strategy/posts/review_queue.html", {
        **NAV, "posts": posts, "full": len(candidates) == QUEUE_SIZE,
        "queue_url": reverse("strategy:post-review-queue")})


def _by_hand_page(request, *, failed: PostTarget | None = None, failed_form: ByHandForm | None = None,
                  status: int = 200):
    targets = list(by_hand_queue(request.user).prefetch_related(
        Prefetch("post__media", queryset=PostMedia.objects.order_by("position", "pk"))))
    for target in targets:
        target.form = failed_form if failed is not None and target.pk == failed.pk else ByHandForm(
            auto_id=f"id_t{target.pk}_%s")
    return render(request, "strategy/posts/by_hand.html", {**NAV, "targets": targets}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def by_hand(request):
    if request.method == "GET":
        return _by_hand_page(request)
    try:
        target_pk = int(request.POST.get("target", ""))
    except ValueError:
        raise Http404 from None
    target = get_object_or_404(PostTarget.objects.select_related("account", "post"),
                               pk=target_pk, post__in=posts_visible_to(request.user))
    form = ByHandForm(request.POST, auto_id=f"id_t{target.pk}_%s")
    form.is_valid()
    try:
        publishing.mark_published_by_hand(actor=request.user, target=target, url=request.POST.get("url", ""))
    except ValidationError as exc:
        for key, texts in exc.message_dict.items():
            form.add_error("url" if key == "url" else None, texts)
        if target.state != PostTarget.State.BY_HAND:
            messages.error(request, " ".join(exc.messages))
        return _by_hand_page(request, failed=target, failed_form=form, status=400)
    messages.success(request, _("Marked published on %(account)s.") % {"account": target.account})
    return redirect("strategy:post-by-hand")


STATE_ORDER = [State.DRAFT, State.IN_REVIEW, State.APPROVED, State.SCHEDULED, State.PUBLISHING, State.FAILED,
               State.PUBLISHED, State.CANCELLED]
MINE_SIZE = 300


@login_required
@require_GET
def mine(request):
    """My posts by state, the most recently changed first in each (the latest ``MINE_SIZE`` of them)."""
    posts = list(with_related(Post.objects.filter(author=request.user)).order_by("-updated_at", "-pk")[:MINE_SIZE])
    by_state: dict[str, list[Post]] = {}
    for post in posts:
        by_state.setdefault(post.state, []).append(post)
    groups = [{"state": state, "label": state.label, "posts": by_state[state]}
              for state in STATE_ORDER if state in by_state]
    return render(request, "strategy/posts/mine.html", {**NAV, "groups": groups, "full": len(posts) == MINE_SIZE})
