"""The content calendar's API: posts, their review, the calendar range and the publish-by-hand queue.

Thin views over ``strategy.services.posts`` and ``strategy.publishing``: the queryset is restricted to the posts
the caller may see (``selectors_posts.posts_visible_to``) before anything else, so a post outside it is a 404
for reading and for every action. The services decide the rest: their PermissionDenied is a 403, their
ValidationError a 400 naming the field (``socialops.api.exception_handler``).

Field-level rules: what the portal records (state, approvals, versions, the targets' platform ids and URLs,
author, timestamps) is never written through a create or a PATCH; a body that names such a field is a 400
naming it, and nothing is changed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.api.serializers import UserSummarySerializer
from inbox.api.views import InstantFilter, IntegerFilter
from inbox.forms import InstantField
from security.models import SocialAccount
from socialops.parsers import JSONParser

from .. import publishing
from ..models import Campaign, Objective, Post, PostApproval, PostComment, PostMedia, PostTarget
from ..platforms import fits
from ..selectors_posts import by_hand_queue, posts_visible_to, with_related
from ..services import posts as post_services

CALENDAR_MAX_DAYS = 62
PREVIEW_CHARACTERS = 80

# --- what a post looks like -----------------------------------------------------------------------------------


class PostAccountSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = SocialAccount
        fields = ["id", "platform", "handle", "name"]


class PostTargetSerializer(serializers.ModelSerializer):
    account = PostAccountSerializer(read_only=True)
    state = serializers.ChoiceField(choices=PostTarget.State.choices, read_only=True)

    class Meta:
        model = PostTarget
        fields = ["id", "account", "state", "attempts", "next_attempt_at", "last_error", "platform_id", "url",
                  "published_at", "published_by_hand"]
        read_only_fields = fields


class PostMediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = PostMedia
        fields = ["id", "url", "alt_text", "content_type", "size", "width", "height", "original_name", "position",
                  "created_at"]
        read_only_fields = fields

    def get_url(self, obj) -> str:
        """The portal's address of the image (it streams it to those who may see the post; the storage's own
        address is never public)."""
        from django.urls import reverse

        return reverse("strategy:post-media", args=[obj.post_id, obj.pk])


class PostApprovalSerializer(serializers.ModelSerializer):
    approver = UserSummarySerializer(read_only=True)
    outdated = serializers.SerializerMethodField()

    class Meta:
        model = PostApproval
        fields = ["id", "approver", "version", "with_right", "specialist", "outdated", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.BooleanField(help_text="Given for an older version of the post: it no "
                                                            "longer counts."))
    def get_outdated(self, obj) -> bool:
        # The prefetch sets each approval's post, so this reads no row.
        return obj.version != obj.post.version


class PostSerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=Post.State.choices, read_only=True)
    author = UserSummarySerializer(read_only=True)
    accounts = serializers.SerializerMethodField()
    targets = PostTargetSerializer(many=True, read_only=True)
    media = PostMediaSerializer(many=True, read_only=True)
    approvals = PostApprovalSerializer(many=True, read_only=True)
    sensitive = serializers.BooleanField(source="marked_sensitive", read_only=True,
                                         help_text="Marked sensitive by its author.")
    labels = serializers.ListField(child=serializers.CharField(), read_only=True)
    sensitive_categories = serializers.ListField(child=serializers.CharField(), read_only=True,
                                                 help_text="Found by the inbox's sensitive-term rules.")
    is_sensitive = serializers.BooleanField(read_only=True, help_text="Marked sensitive, or found sensitive by the "
                                                                      "inbox's sensitive-term rules: needs a second "
                                                                      "approval from the specialist team.")

    class Meta:
        model = Post
        fields = ["id", "text", "state", "author", "accounts", "targets", "scheduled_at", "time_zone", "campaign",
                  "objective", "labels", "visibility", "sensitive", "sensitive_categories", "is_sensitive",
                  "version", "review_reason", "last_error", "media", "approvals", "created_at", "updated_at",
                  "submitted_at", "approved_at", "published_at"]
        read_only_fields = fields

    def get_accounts(self, obj) -> list[int]:
        # From the prefetched targets: ``obj.accounts`` would be one more query per post.
        return [t.account_id for t in obj.targets.all()]


class PostFitSerializer(serializers.Serializer):
    account = serializers.IntegerField(source="account.pk")
    length = serializers.IntegerField(help_text="The text's length as the platform counts it.")
    limit = serializers.IntegerField(allow_null=True, help_text="The most the account takes; null when unknown.")
    over = serializers.BooleanField()


class PostDetailSerializer(PostSerializer):
    fits = serializers.SerializerMethodField()
    approvals_needed = serializers.SerializerMethodField()

    class Meta(PostSerializer.Meta):
        fields = [*PostSerializer.Meta.fields, "fits", "approvals_needed"]
        read_only_fields = fields

    @extend_schema_field(PostFitSerializer(many=True, help_text="How the text fits each target account (the "
                                                            "per-platform preview's counts)."))
    def get_fits(self, obj):
        return PostFitSerializer(fits(obj.text, [t.account for t in obj.targets.all()]), many=True).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField(),
                                               help_text="What a post in review still waits for, in words."))
    def get_approvals_needed(self, obj):
        return [str(need) for need in post_services.approvals_needed(obj)]


class CalendarPostSerializer(serializers.ModelSerializer):
    preview = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=Post.State.choices, read_only=True)
    author = UserSummarySerializer(read_only=True)
    accounts = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = ["id", "preview", "state", "scheduled_at", "time_zone", "accounts", "author"]
        read_only_fields = fields

    def get_preview(self, obj) -> str:
        return str(obj)[:PREVIEW_CHARACTERS + 1]

    @extend_schema_field(PostAccountSerializer(many=True))
    def get_accounts(self, obj):
        return PostAccountSerializer([t.account for t in obj.targets.all()], many=True).data


class PostCommentSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True, allow_null=True)

    class Meta:
        model = PostComment
        fields = ["id", "author", "kind", "text", "created_at"]
        read_only_fields = ["id", "author", "kind", "created_at"]


class ByHandPostSerializer(serializers.ModelSerializer):
    author = UserSummarySerializer(read_only=True)
    media = PostMediaSerializer(many=True, read_only=True)

    class Meta:
        model = Post
        fields = ["id", "text", "author", "scheduled_at", "time_zone", "visibility", "media"]
        read_only_fields = fields


class ByHandTargetSerializer(serializers.ModelSerializer):
    """One target waiting to be posted by hand, with everything the checklist needs to copy."""

    account = PostAccountSerializer(read_only=True)
    state = serializers.ChoiceField(choices=PostTarget.State.choices, read_only=True)
    post = ByHandPostSerializer(read_only=True)

    class Meta:
        model = PostTarget
        fields = ["id", "account", "state", "post"]
        read_only_fields = fields


# --- what a post takes ----------------------------------------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its offset. DRF would read a time without one in the server's zone; the services
    refuse it instead, naming the field, so the caller's intended moment is never guessed."""

    def enforce_timezone(self, value):
        if value.tzinfo is None:
            raise serializers.ValidationError(_("Give the time with its time zone, e.g. "
                                                "2026-12-01T09:00:00+01:00."))
        return value


class PostWriteSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                 help_text="Checked against every target's limit as the platform counts it.")
    accounts = serializers.PrimaryKeyRelatedField(many=True, queryset=SocialAccount.objects.all(),
                                                  help_text="The accounts to post on: `draft` on every one.")
    scheduled_at = AwareDateTimeField(required=False, allow_null=True,
                                      help_text="When to publish, with its offset; in the future.")
    time_zone = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                      help_text="How the time is shown (IANA name); the caller's own by default.")
    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.all(), required=False, allow_null=True)
    objective = serializers.PrimaryKeyRelatedField(queryset=Objective.objects.all(), required=False,
                                                   allow_null=True)
    labels = serializers.ListField(child=serializers.CharField(allow_blank=True, max_length=200), required=False,
                                   max_length=50, help_text="At most 10 labels of 40 characters.")
    visibility = serializers.ChoiceField(choices=Post.Visibility.choices, required=False,
                                         help_text="Where the platform offers a choice (Mastodon).")
    sensitive = serializers.BooleanField(required=False, help_text="Needs a second approval from the specialist "
                                                                   "team or an executive.")


class PostUpdateSerializer(PostWriteSerializer):
    text = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    accounts = serializers.PrimaryKeyRelatedField(many=True, queryset=SocialAccount.objects.all(), required=False)
    remove_media = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                         required=False, max_length=50, help_text="Ids of images to remove.")
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The version you saw: a post changed since is a 400 on "
                                                 "`version`, not overwritten.")


class PostMediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False,
                                 help_text="A JPEG, PNG, GIF or WebP image of at most 8 MB (no SVG).")
    alt_text = serializers.CharField(allow_blank=True, max_length=5000,
                                     help_text="What the image shows, for people who cannot see it.")
    version = serializers.IntegerField(required=False, min_value=1, help_text="The version you saw.")


class PostApproveSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version you reviewed: a post changed since is a "
                                                              "400 on `version`, not approved unseen.")


class PostReturnSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=2000, help_text="What to change; the author sees "
                                                                                "it on the post.")


class PostCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class PostRescheduleSerializer(serializers.Serializer):
    scheduled_at = AwareDateTimeField(allow_null=True, help_text="The new time with its offset; null unschedules.")


class PostCommentCreateSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, max_length=5000, trim_whitespace=False)


class PublishedByHandSerializer(serializers.Serializer):
    url = serializers.CharField(allow_blank=True, max_length=2000, help_text="The post's address on the platform.")


READ_ONLY_REASONS = {
    "id": _lazy("the portal numbers posts."),
    "state": _lazy("a post's state changes through its actions: submit/, approve/, return/, cancel/, publish-now/, "
               "retry/."),
    "approvals": _lazy("approvals are given through approve/, by someone other than the author."),
    "approved_at": _lazy("recorded when the review completes."),
    "version": _lazy("the portal counts a post's versions; send `version` on a change to say which one you saw."),
    "author": _lazy("the author is whoever created the post."),
    "targets": _lazy("the publisher records each target's state, platform id and URL; change `accounts` to change "
                 "where the post goes."),
    "platform_id": _lazy("the publisher records the platform's id of each target."),
    "platform_ids": _lazy("the publisher records the platform's id of each target."),
    "url": _lazy("the publisher records each target's URL (by hand: posts/by-hand/{target_id}/published/)."),
    "media": _lazy("upload images on posts/{id}/media/ (multipart); remove them with `remove_media`."),
    "is_sensitive": _lazy("set `sensitive` to mark the post sensitive yourself."),
    "marked_sensitive": _lazy("set `sensitive` to mark the post sensitive yourself."),
    "sensitive_categories": _lazy("found by the inbox's sensitive-term rules."),
    "review_reason": _lazy("recorded when a post is returned or sent back to review."),
    "last_error": _lazy("recorded by the publisher."),
    "created_at": _lazy("recorded by the portal."),
    "updated_at": _lazy("recorded by the portal."),
    "submitted_at": _lazy("recorded when the post is submitted."),
    "published_at": _lazy("recorded by the publisher."),
    "fits": _lazy("computed from the text and the accounts."),
    "approvals_needed": _lazy("computed from the approvals."),
}


def _check_names(data, serializer_class) -> None:
    """A body that names a field the caller may not write is refused, naming the field, before anything is
    changed: silently ignoring it would let a client believe it had set the state or a platform id."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Send a JSON object.")]})
    writable = set(serializer_class().fields)
    errors = {}
    for name in data:
        if name in writable:
            continue
        if name in READ_ONLY_REASONS:
            errors[name] = [_("Read-only: %(why)s") % {"why": READ_ONLY_REASONS[name]}]
        else:
            errors[str(name)[:100]] = [_("Unknown field: a post takes %(fields)s.") % {
                "fields": ", ".join(sorted(writable))}]
    if errors:
        raise ValidationError(errors)


def _with_version(post: Post, version: int | None) -> None:
    if version is not None and version != post.version:
        raise ValidationError({"version": [_("Someone changed this post since you opened it: reload to see their "
                                             "change, then make yours.")]})


# --- filters ----------------------------------------------------------------------------------------------------


class PostFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=Post.State.choices)
    account = IntegerFilter(field_name="targets__account", help_text="Posts going to this account.")
    campaign = IntegerFilter(field_name="campaign")
    author = IntegerFilter(field_name="author")
    scheduled_from = InstantFilter(field_name="scheduled_at", lookup_expr="gte",
                                   help_text="Scheduled at or after this ISO 8601 instant with its offset.")
    scheduled_to = InstantFilter(field_name="scheduled_at", lookup_expr="lt",
                                 help_text="Scheduled before this instant (the range is half-open).")

    class Meta:
        model = Post
        fields = []


class CalendarRangeForm(forms.Form):
    """The calendar's range, half-open: posts scheduled at or after ``start`` and before ``end``. A date is the
    start of that day in the caller's time zone; a date and time carries its offset."""

    start = forms.CharField(max_length=40)
    end = forms.CharField(max_length=40)

    def __init__(self, *args, tz, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def _moment(self, name: str) -> datetime | None:
        text = self.cleaned_data.get(name, "").strip()
        try:
            if len(text) == 10:
                return datetime.combine(date.fromisoformat(text), time.min, tzinfo=self.tz)
            return InstantField().clean(text)
        except ValueError:
            self.add_error(name, _("An ISO 8601 date (2026-12-01) or date and time with its offset "
                                   "(2026-12-01T00:00:00+01:00)."))
        except forms.ValidationError as exc:
            self.add_error(name, exc)
        return None

    def clean(self):
        super().clean()
        moments = {name: self._moment(name) for name in ("start", "end") if name not in self.errors}
        start, end = moments.get("start"), moments.get("end")
        if start and end:
            if end <= start:
                self.add_error("end", _("Must come after start."))
            elif end - start > timedelta(days=CALENDAR_MAX_DAYS):
                self.add_error("end", _("At most %(n)s days after start: ask for the range in parts.")
                               % {"n": CALENDAR_MAX_DAYS})
        self.range = (start, end)
        return self.cleaned_data


def _time_zone_of(user) -> ZoneInfo:
    try:
        return ZoneInfo(getattr(user, "time_zone", "") or settings.TIME_ZONE)
    except (ValueError, KeyError):
        return ZoneInfo(settings.TIME_ZONE)


# --- the views --------------------------------------------------------------------------------------------------

TARGET_ID = OpenApiParameter("target_id", int, OpenApiParameter.PATH,
                             description="The id of the post's target (one account) waiting to be posted by hand.")
NOT_VISIBLE = OpenApiResponse(description="No such post, or not one the caller may see.")
REFUSED = OpenApiResponse(description="The caller lacks the right on one of the post's accounts (named).")


@extend_schema_view(
    list=extend_schema(description="Posts the caller may see (their own, and those for the accounts they hold a "
                                   "right on; every post for the people who run the channels), newest first."),
    retrieve=extend_schema(responses={200: PostDetailSerializer, 404: NOT_VISIBLE},
                           description="The post with its targets, media, approvals (outdated ones marked), how "
                                       "its text fits each account, and what its review still waits for."),
    create=extend_schema(request=PostWriteSerializer, responses={201: PostDetailSerializer, 403: REFUSED},
                         description="A new draft (JSON; images are uploaded afterwards on posts/{id}/media/). "
                                     "Needs `draft` on every account. A field the portal records (state, "
                                     "approvals, version, targets, author, ...) is a 400 naming it."),
    partial_update=extend_schema(
        request=PostUpdateSerializer, responses={200: PostDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
        description="Changes a post (`draft` on every account). A change of text, accounts or sensitivity to a "
                    "post in review, approved or scheduled sends it back to review, its approvals outdated; a new "
                    "time alone keeps them (then it is moved as reschedule/ moves it). Fields the portal records "
                    "(state, approvals, targets' platform ids and URLs, author, timestamps) are a 400 naming the "
                    "field, and nothing is changed."),
)
class PostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = PostFilter
    parser_classes = [JSONParser]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no user
            return Post.objects.none()
        return with_related(posts_visible_to(self.request.user))

    def get_serializer_class(self):
        return PostSerializer if self.action == "list" else PostDetailSerializer

    def filter_queryset(self, queryset):
        # The filters narrow lists only: a stray ``?state=`` on an action must not make a visible post a 404.
        if self.action not in ("list", "calendar"):
            return queryset
        return super().filter_queryset(queryset)

    def _respond(self, post: Post, code=status.HTTP_200_OK) -> Response:
        post = with_related(Post.objects.filter(pk=post.pk)).get()
        return Response(PostDetailSerializer(post, context=self.get_serializer_context()).data, status=code)

    @staticmethod
    def _input(serializer_class, data) -> dict:
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # --- create and change ---

    def create(self, request, *args, **kwargs):
        _check_names(request.data, PostWriteSerializer)
        data = self._input(PostWriteSerializer, request.data)
        post = post_services.post_create(actor=request.user, **data)
        return self._respond(post, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        post = self.get_object()
        _check_names(request.data, PostUpdateSerializer)
        changes = self._input(PostUpdateSerializer, request.data)
        version = changes.pop("version", None)
        if not changes:
            _with_version(post, version)
        elif set(changes) == {"scheduled_at"}:
            # A new time alone is a move: the rights of the calendar's drag, approvals kept.
            post = post_services.post_reschedule(actor=request.user, post=post, scheduled_at=changes["scheduled_at"],
                                                 expected_version=version)
        else:
            post = post_services.post_update(actor=request.user, post=post, expected_version=version, **changes)
        return self._respond(post)

    @extend_schema(request={"multipart/form-data": PostMediaUploadSerializer},
                   responses={201: PostDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
                   description="Adds an image (multipart: `file`, `alt_text`). The content is checked, not the "
                               "name: a JPEG, PNG, GIF or WebP of at most 8 MB; an SVG, or a file whose name or "
                               "type says otherwise, is a 400 on `file`. Adding an image to a reviewed post sends "
                               "it back to review.")
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser])
    def media(self, request, pk=None):
        post = self.get_object()
        data = self._input(PostMediaUploadSerializer, request.data)
        try:
            post = post_services.post_update(actor=request.user, post=post, expected_version=data.get("version"),
                                             media=[(data["file"], data["alt_text"])])
        except DjangoValidationError as exc:
            # The service names its form's field, ``media``; here the upload is called ``file``.
            if hasattr(exc, "error_dict") and "media" in exc.error_dict:
                errors = exc.message_dict
                errors["file"] = errors.pop("media")
                raise ValidationError(errors) from None
            raise
        return self._respond(post, status.HTTP_201_CREATED)

    # --- the review and publishing actions ---

    @extend_schema(request=None, responses={200: PostDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
                   description="Sends a draft to review. A text over a target's limit, a time that has passed is a "
                               "400 naming the field.")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._respond(post_services.post_submit(actor=request.user, post=self.get_object()))

    @extend_schema(request=PostApproveSerializer,
                   responses={200: PostDetailSerializer, 404: NOT_VISIBLE,
                              403: OpenApiResponse(description="The author (four eyes), or no `approve` on every "
                                                               "account (a sensitive post: the specialist team or "
                                                               "an executive gives its second approval).")},
                   description="Approves the version reviewed. Complete when someone with `approve` on every "
                               "account approved (a sensitive post: and a specialist or executive, two people); "
                               "the post is then approved, or scheduled when it has a time.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        post = self.get_object()
        data = self._input(PostApproveSerializer, request.data)
        return self._respond(post_services.post_approve(actor=request.user, post=post, version=data["version"]))

    @extend_schema(request=PostReturnSerializer, responses={200: PostDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
                   description="Returns a post in review to its author (a draft again) with a reason, on the "
                               "review thread.")
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_author(self, request, pk=None):
        post = self.get_object()
        data = self._input(PostReturnSerializer, request.data)
        return self._respond(post_services.post_return(actor=request.user, post=post, reason=data["reason"]))

    @extend_schema(request=PostCancelSerializer, responses={200: PostDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
                   description="Cancels a post that has not started publishing: its author, or someone with "
                               "`approve` on every account.")
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        post = self.get_object()
        data = self._input(PostCancelSerializer, request.data)
        return self._respond(post_services.post_cancel(actor=request.user, post=post,
                                                       reason=data.get("reason", "")))

    @extend_schema(request=None, responses={200: PostDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
                   description="Publishes an approved or scheduled post now (`publish` on every account). A post "
                               "not yet approved is a 400 on `state`, unless the caller is its author and their "
                               "publish grants allow their own posts.")
    @action(detail=True, methods=["post"], url_path="publish-now", url_name="publish-now")
    def publish_now(self, request, pk=None):
        return self._respond(post_services.post_publish_now(actor=request.user, post=self.get_object()))

    @extend_schema(request=None, responses={200: PostDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
                   description="Tries a failed post's failed targets again (`publish` on each); published targets "
                               "stay published.")
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._respond(publishing.retry_failed(actor=request.user, post=self.get_object()))

    @extend_schema(request=PostRescheduleSerializer,
                   responses={200: PostDetailSerializer, 403: REFUSED, 404: NOT_VISIBLE},
                   description="Moves a post to another time (the calendar's drag). A draft: `draft` on every "
                               "account; an approved or scheduled post: its author, or `approve` or `publish` on "
                               "every account. Approvals are kept.")
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        post = self.get_object()
        data = self._input(PostRescheduleSerializer, request.data)
        return self._respond(post_services.post_reschedule(actor=request.user, post=post,
                                                           scheduled_at=data["scheduled_at"]))

    @extend_schema(methods=["GET"], request=None, responses={200: PostCommentSerializer(many=True), 404: NOT_VISIBLE},
                   description="The review thread, oldest first: comments, reasons for returns, the portal's "
                               "notes (kind `system`).")
    @extend_schema(methods=["POST"], request=PostCommentCreateSerializer,
                   responses={201: PostCommentSerializer, 403: REFUSED, 404: NOT_VISIBLE},
                   description="A comment on the review thread; the author is notified.")
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def comments(self, request, pk=None):
        post = self.get_object()
        if request.method == "POST":
            data = self._input(PostCommentCreateSerializer, request.data)
            comment = post_services.post_comment(actor=request.user, post=post, text=data["text"])
            return Response(PostCommentSerializer(comment).data, status=status.HTTP_201_CREATED)
        comments = post.comments.select_related("author").order_by("created_at", "id")
        return Response(PostCommentSerializer(comments, many=True).data)

    # --- the calendar and the publish-by-hand queue ---

    @extend_schema(parameters=[OpenApiParameter("start", str, required=True,
                                                description="First moment: a date (the start of that day in your "
                                                            "time zone) or an ISO 8601 instant with its offset."),
                               OpenApiParameter("end", str, required=True,
                                                description=f"End of the range, excluded; after start, at most "
                                                            f"{CALENDAR_MAX_DAYS} days later.")],
                   responses={200: CalendarPostSerializer(many=True)},
                   description="The posts scheduled in a range, oldest first, with what a calendar chip shows. "
                               "The list's filters apply too. A bad range is a 400 naming `start` or `end`.")
    @action(detail=False, methods=["get"], pagination_class=None)
    def calendar(self, request):
        form = CalendarRangeForm(request.query_params, tz=_time_zone_of(request.user))
        if not form.is_valid():
            raise ValidationError(form.errors)
        start, end = form.range
        posts = (posts_visible_to(request.user).filter(scheduled_at__gte=start, scheduled_at__lt=end)
                 .select_related("author")
                 .prefetch_related(Prefetch("targets", queryset=PostTarget.objects.select_related("account")
                                            .order_by("account_id")))
                 .order_by("scheduled_at", "id"))
        return Response(CalendarPostSerializer(self.filter_queryset(posts), many=True).data)

    @extend_schema(responses={200: ByHandTargetSerializer(many=True)},
                   description="Posts waiting to be published by hand (their platform has no connector) on the "
                               "accounts the caller may publish on, oldest scheduled first, with the text and "
                               "images to post.")
    @action(detail=False, methods=["get"], url_path="by-hand", url_name="by-hand", pagination_class=None,
            filter_backends=[])
    def by_hand(self, request):
        targets = by_hand_queue(request.user).prefetch_related(
            Prefetch("post__media", queryset=PostMedia.objects.order_by("position", "id")))
        return Response(ByHandTargetSerializer(targets, many=True).data)

    @extend_schema(parameters=[TARGET_ID], request=PublishedByHandSerializer,
                   responses={200: ByHandTargetSerializer, 404: NOT_VISIBLE,
                              403: OpenApiResponse(description="No `publish` on the target's account.")},
                   description="Records that the caller posted it on the platform by hand, at `url` (http or "
                               "https). Needs `publish` on the account; a target not waiting to be posted by hand "
                               "is a 400 on `state`.")
    @action(detail=False, methods=["post"], url_path=r"by-hand/(?P<target_id>[0-9]+)/published",
            url_name="by-hand-published", filter_backends=[])
    def published_by_hand(self, request, target_id=None):
        visible = posts_visible_to(request.user).values("pk")
        target = get_object_or_404(PostTarget, pk=target_id, post_id__in=visible)
        data = self._input(PublishedByHandSerializer, request.data)
        target = publishing.mark_published_by_hand(actor=request.user, target=target, url=data["url"])
        target = PostTarget.objects.select_related("account", "post__author").prefetch_related("post__media").get(
            pk=target.pk)
        return Response(ByHandTargetSerializer(target).data)
