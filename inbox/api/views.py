"""The inbox API: thin views over the inbox services and selectors.

Querysets are restricted to what the caller may see before anything else,
so a conversation outside them is a 404 for reading and for every action.
Writes go through the services, whose PermissionDenied is a 403 and whose
ValidationError is a 400 naming the field (socialops.api.exception_handler).
The bulk ingest endpoint hands the body, whatever it is, to the one ingest
service, which keeps the valid items and reports each invalid one."""

from django import forms
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import UserSummarySerializer
from security.audit import audit_write
from security.models import Capability
from security.permissions import has_capability, is_security_admin
from security.selectors import accounts_visible_to
from socialops.api import CursorPagination
from socialops.parsers import JSONParser

from .. import services
from ..forms import (
    FIRST_RESPONSE_CHOICES,
    DrilldownFilterForm,
    FlagField,
    InstantField,
    YesNoField,
    drilldown_filters,
)
from ..ingest import IngestResult, ItemError, ingest_messages
from ..models import (
    Conversation,
    ConversationTag,
    Intent,
    Message,
    Priority,
    Reply,
    RoutingRule,
    SavedReply,
    Sentiment,
)
from ..permissions import can_manage_routing
from ..selectors import (
    InboxFilters,
    conversations_visible_to,
    filter_conversations,
    queue_counts,
    saved_replies_for,
    with_list_relations,
)
from ..settings_services import routing_rule_name_check
from .serializers import (
    AssignSerializer,
    ConversationDetailSerializer,
    ConversationSerializer,
    IngestItemSerializer,
    IngestResultSerializer,
    IntentSerializer,
    NoteCreateSerializer,
    NoteSerializer,
    QueueCountsSerializer,
    ReplyCreateSerializer,
    ReplySerializer,
    ReturnSerializer,
    RouteSerializer,
    RoutingRuleSerializer,
    SavedReplySerializer,
    SentByHandSerializer,
    StatusSerializer,
    TagSerializer,
    conversation_rows,
)

# --- bulk ingest ---------------------------------------------------------------------


def _ingest_status(result) -> int:
    if result.created:
        return status.HTTP_201_CREATED
    if result.errors and not result.duplicates:
        return status.HTTP_400_BAD_REQUEST
    # Every valid item was already stored (an idempotent repeat), or the batch was empty.
    return status.HTTP_200_OK


class MessageIngestView(APIView):
    """Bulk ingest of inbound messages for one social account."""

    # The API's one JSON parser (depth limit); a body nested too deeply is a 400 in this endpoint's shape.
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="accounts_messages_ingest",
        tags=["messages"],
        request=IngestItemSerializer(many=True),
        responses={
            201: OpenApiResponse(IngestResultSerializer, description="At least one message was stored."),
            200: OpenApiResponse(IngestResultSerializer, description="Nothing new: every valid message was "
                                                                     "already stored (or the list was empty)."),
            400: OpenApiResponse(IngestResultSerializer, description="The body is not a JSON list, or every "
                                                                     "item is invalid."),
        },
        description="Stores a JSON list of messages (at most 5000) for the account. Idempotent on the platform "
                    "message id: posting the same batch again stores nothing twice. The valid items of a batch "
                    "are kept; each invalid one is reported in `errors` with its index, field and reason. "
                    "Admins and holders of `manage` on the account; an account the caller cannot see is a 404.",
    )
    def post(self, request, account_id: int):
        account = get_object_or_404(accounts_visible_to(request.user), pk=account_id)
        if not (is_security_admin(request.user) or has_capability(request.user, Capability.MANAGE, account)):
            raise PermissionDenied("Only admins and holders of manage on this account ingest messages.")
        try:
            items = request.data
        except ParseError as exc:
            # Same shape as every other answer of this endpoint.
            result = IngestResult(errors=[ItemError(0, "non_field_errors", str(exc.detail))])
            return Response(result.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        result = ingest_messages(account=account, items=items, source="api")
        return Response(result.as_dict(), status=_ingest_status(result))


# --- conversations -----------------------------------------------------------------


class BoundedIntegerField(forms.IntegerField):
    """An id filter: a positive 64-bit integer, so a 30-digit value is a 400, not an overflow."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class IntegerFilter(filters.NumberFilter):
    field_class = BoundedIntegerField


class StrictBooleanField(forms.NullBooleanField):
    """true/false/1/0, absent for no filter; anything else is a 400 (the
    stock filter silently ignores a value it does not understand)."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class StrictBooleanFilter(filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class InstantFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 instant with its offset, read as the inbox page reads it."""

    field_class = InstantField


class FlagFilter(filters.BooleanFilter):
    """1 (or true) turns the filter on; absent or 0 leaves it off, as on the inbox page."""

    field_class = FlagField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class YesNoFilter(filters.BooleanFilter):
    """1 (or true) for yes, 0 (or false) for no, absent for either."""

    field_class = YesNoField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


STATUS_FILTER_CHOICES = [
    ("all", "All: every status (the same as leaving it out)"),
    (Conversation.Status.NEW, Conversation.Status.NEW.label),
    (Conversation.Status.OPEN, "Open: new, open or waiting"),
    (Conversation.Status.WAITING, Conversation.Status.WAITING.label),
    (Conversation.Status.RESOLVED, Conversation.Status.RESOLVED.label),
    (Conversation.Status.CLOSED, Conversation.Status.CLOSED.label),
]


class ConversationFilter(filters.FilterSet):
    """The form checks the input (a bad value is a 400 naming the
    parameter); the inbox selector applies it, as the inbox page does."""

    status = filters.ChoiceFilter(choices=STATUS_FILTER_CHOICES,
                                  help_text="`open` means new, open or waiting. Absent: every status.")
    department = IntegerFilter()
    account = IntegerFilter()
    intent = filters.ChoiceFilter(choices=Intent.choices)
    sentiment = filters.ChoiceFilter(choices=Sentiment.choices)
    priority = filters.TypedChoiceFilter(choices=Priority.choices, coerce=int)
    overdue = StrictBooleanFilter(help_text="true: only conversations whose SLA is breached.")
    assigned_to_me = StrictBooleanFilter(help_text="true: only conversations assigned to the caller.")
    unassigned = StrictBooleanFilter(help_text="true: only conversations nobody is assigned to.")
    # The reputation report's drill-down: the inbox page's fields and checks (inbox.forms.DrilldownFilterForm).
    opened_from = InstantFilter(help_text="Opened at or after this ISO 8601 instant with its offset, "
                                          "e.g. 2026-11-01T00:00:00+01:00.")
    opened_to = InstantFilter(help_text="Opened before this instant (the range is half-open).")
    arrived_from = InstantFilter(help_text="Has a customer message that arrived at or after this instant; "
                                           "with arrived_to, msg_sentiment and outside_hours it is the same "
                                           "message.")
    arrived_to = InstantFilter(help_text="Has a customer message that arrived before this instant.")
    msg_sentiment = filters.ChoiceFilter(choices=Sentiment.choices,
                                         help_text="Has a customer message with this sentiment.")
    outside_hours = FlagFilter(help_text="1: has a customer message that arrived outside the channel's "
                                         "service hours.")
    tag = filters.CharFilter(max_length=60, help_text="Tagged with this tag's name (any case).")
    influencer = FlagFilter(help_text="1: influencers only.")
    sensitive = FlagFilter(help_text="1: sensitive conversations only.")
    first_response = filters.ChoiceFilter(
        choices=FIRST_RESPONSE_CHOICES,
        help_text="late: answered after the first-response target; on_time: answered within it; "
                  "unanswered: no first response yet.")
    resolved = YesNoFilter(help_text="1: resolved; 0: not resolved.")
    breached = FlagFilter(help_text="1: an SLA target was missed (first response late, or a target passed).")
    accounts = filters.CharFilter(max_length=600, help_text="Comma-separated channel ids: any of them.")

    class Meta:
        model = Conversation
        fields = []
        form = DrilldownFilterForm

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        wanted = InboxFilters(
            status=data.get("status") or "all",
            account=data.get("account"),
            department=data.get("department"),
            intent=data.get("intent") or "",
            sentiment=data.get("sentiment") or "",
            priority=data.get("priority") or None,
            overdue=bool(data.get("overdue")),
            assigned_to_me=bool(data.get("assigned_to_me")),
            unassigned=bool(data.get("unassigned")),
            **drilldown_filters(data),
        )
        return filter_conversations(queryset, wanted, self.request.user)


class ListFiltersOnly:
    """Query filters narrow the list only: a stray ``?status=`` on an action
    or a detail URL must not turn a visible object into a 404."""

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)


class ConversationPagination(CursorPagination):
    ordering = ("-last_message_at", "-id")


LIST_COLUMNS = [
    "id", "account_id", "account__platform", "account__handle", "thread_key", "subject", "status", "intent",
    "intent_source", "sentiment", "sentiment_score", "language", "is_influencer", "is_sensitive",
    "sensitive_categories", "priority", "department_id", "department__name", "assignee_id", "assignee__username",
    "assignee__first_name", "assignee__last_name", "author_id", "author__platform", "author__handle",
    "author__display_name", "author__followers", "author__verified", "message_count", "last_message_at",
    "last_message_preview", "opened_at", "first_response_due_at", "first_response_at",
    "first_response_service_minutes", "resolution_due_at", "resolved_at", "resolution_service_minutes",
    "sla_paused_at", "sla_warned", "sla_breached", "created_at", "updated_at",
]


TAG_NAME = OpenApiParameter("name", str, OpenApiParameter.PATH, description="The tag's name.")


class ClaimSerializer(serializers.Serializer):
    take_over = serializers.BooleanField(default=False, help_text="Take it over from whoever holds it; they are told.")


class HeldSerializer(serializers.Serializer):
    assignee = serializers.ListField(child=serializers.CharField(), help_text="Who holds it, as a sentence.")
    holder = UserSummarySerializer(help_text="Who holds it.")
    take_over = serializers.CharField(help_text="How to take it over.")


def _held_response(exc) -> Response:
    return Response({"assignee": exc.messages, "holder": UserSummarySerializer(exc.holder).data,
                     "take_over": "Send take_over: true to take it over; they will be told."},
                    status=status.HTTP_409_CONFLICT)


@extend_schema_view(
    list=extend_schema(description="Conversations the caller can see, newest activity first."),
    retrieve=extend_schema(description="The conversation with its thread (oldest first), routing decisions, "
                                       "tags, notes and replies. A conversation the caller cannot see is a 404."),
)
class ConversationViewSet(ListFiltersOnly, viewsets.ReadOnlyModelViewSet):
    filterset_class = ConversationFilter
    pagination_class = ConversationPagination

    def get_queryset(self):
        qs = with_list_relations(conversations_visible_to(self.request.user))
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("messages", queryset=Message.objects.order_by("sent_at", "id")),
                "routing_decisions",
                Prefetch("conversation_tags", queryset=ConversationTag.objects.select_related("tag")),
                "notes",
                "replies",
            )
        return qs

    def list(self, request, *args, **kwargs):
        # Plain rows of only the columns the list shows (the joined user row alone has a dozen unused
        # ones), turned into the serializer's exact output by conversation_rows.
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()).values(*LIST_COLUMNS))
        return self.get_paginated_response(conversation_rows(page))

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ConversationDetailSerializer
        return ConversationSerializer

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _conversation_response(self, conversation, code=status.HTTP_200_OK):
        return Response(ConversationSerializer(conversation).data, status=code)

    @extend_schema(responses=QueueCountsSerializer,
                   description="Open conversations per queue the caller can see, and totals.")
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def queues(self, request):
        return Response(QueueCountsSerializer(queue_counts(request.user)).data)

    @extend_schema(request=ClaimSerializer,
                   responses={200: ConversationSerializer,
                              409: OpenApiResponse(HeldSerializer, description="Someone else holds it: nothing "
                                                   "changed. Send `take_over: true` to take it over.")},
                   description="Assigns the conversation to the caller if nobody holds it (of two claims at the "
                               "same moment exactly one wins). When someone else holds it the answer is a 409 "
                               "naming them, unless `take_over` is true: then it is taken over, the previous "
                               "assignee is recorded in the history and told.")
    @action(detail=True, methods=["post"])
    def claim(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(ClaimSerializer)
        try:
            conversation = services.conversation_claim(actor=request.user, conversation=conversation,
                                                       take_over=data["take_over"])
        except services.ConversationHeldError as exc:
            return _held_response(exc)
        return self._conversation_response(conversation)

    @extend_schema(request=AssignSerializer,
                   responses={200: ConversationSerializer,
                              409: OpenApiResponse(HeldSerializer, description="Assigning oneself while someone "
                                                   "else holds it, without `take_over: true`.")},
                   description="Assigns to a member of the conversation's department, or unassigns (null); "
                               "whoever held it is told. Assigning oneself is a claim (see claim, `take_over`).")
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(AssignSerializer)
        take_over = self._input(ClaimSerializer)["take_over"]
        try:
            conversation = services.conversation_assign(actor=request.user, conversation=conversation,
                                                        assignee=data["assignee"], take_over=take_over)
        except services.ConversationHeldError as exc:
            return _held_response(exc)
        return self._conversation_response(conversation)

    @extend_schema(request=StatusSerializer, responses=ConversationSerializer,
                   description="Waiting on the customer pauses the SLA clock; back to open resumes it.")
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(StatusSerializer)
        conversation = services.conversation_set_status(actor=request.user, conversation=conversation,
                                                        status=data["status"], confirm=data["confirm"])
        return self._conversation_response(conversation)

    @extend_schema(request=IntentSerializer, responses=ConversationSerializer,
                   description="Corrects the triage; the correction is kept as training data.")
    @action(detail=True, methods=["post"], url_path="intent")
    def set_intent(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(IntentSerializer)
        conversation = services.conversation_set_intent(actor=request.user, conversation=conversation,
                                                        intent=data["intent"])
        return self._conversation_response(conversation)

    @extend_schema(request=RouteSerializer, responses=ConversationSerializer,
                   description="Moves the conversation to another department's queue, on record.")
    @action(detail=True, methods=["post"])
    def route(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(RouteSerializer)
        conversation = services.conversation_route(actor=request.user, conversation=conversation,
                                                   department=data["department"], reason=data["reason"])
        return self._conversation_response(conversation)

    @extend_schema(request=NoteCreateSerializer, responses={201: NoteSerializer},
                   description="An internal note; @username mentions notify people who can see the conversation.")
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(NoteCreateSerializer)
        note = services.note_add(actor=request.user, conversation=conversation, body=data["body"])
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=TagSerializer, responses={201: TagSerializer},
                   description="Tags the conversation (names are lower-cased; adding twice is harmless).")
    @action(detail=True, methods=["post"])
    def tags(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(TagSerializer)
        tag = services.tag_add(actor=request.user, conversation=conversation, name=data["name"])
        return Response(TagSerializer(tag).data, status=status.HTTP_201_CREATED)

    # Named so that it sorts before ``tag_delete``: the router emits the
    # routes in name order, and tags/{name}/ would otherwise take tags/remove/.
    @extend_schema(request=TagSerializer, responses={204: None}, description="Removes a tag.")
    @action(detail=True, methods=["post"], url_path="tags/remove", url_name="tags-remove")
    def remove_tag(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(TagSerializer)
        services.tag_remove(actor=request.user, conversation=conversation, name=data["name"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(parameters=[TAG_NAME], request=None, responses={204: None}, description="Removes a tag.")
    @action(detail=True, methods=["delete"], url_path=r"tags/(?P<name>[^/]+)", url_name="tag-delete")
    def tag_delete(self, request, pk=None, name=None):
        conversation = self.get_object()
        services.tag_remove(actor=request.user, conversation=conversation, name=name or "")
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=ReplyCreateSerializer,
        responses={201: ReplySerializer,
                   200: OpenApiResponse(ReplySerializer, description="A repeat of a submit with the same "
                                                                     "`client_token`: the first reply, unchanged."),
                   403: OpenApiResponse(description="No right to draft or send here.")},
        description="With `reply` on the account the reply is sent at once (status approved, sending or sent); "
                    "with only `draft`, or in a sensitive conversation without being a specialist, it waits for "
                    "approval (status pending). Status approved means queued: when the task runner is down the "
                    "reply is kept and sent once it is back. Pass a `client_token` (UUID) per compose action so "
                    "a retried request never posts twice.",
    )
    @action(detail=True, methods=["post"])
    def replies(self, request, pk=None):
        conversation = self.get_object()
        data = self._input(ReplyCreateSerializer)
        reply = services.reply_submit(actor=request.user, conversation=conversation, body=data["body"],
                                      client_token=data.get("client_token"))
        # A synchronous worker may already have sent it: answer with what is stored now.
        replayed = reply.replayed
        reply.refresh_from_db()
        return Response(ReplySerializer(reply).data,
                        status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)


# --- replies ---------------------------------------------------------------------------


class ReplyFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Reply.Status.choices)
    conversation = IntegerFilter()

    class Meta:
        model = Reply
        fields = ["status", "conversation"]


class ReplyViewSet(ListFiltersOnly, viewsets.ReadOnlyModelViewSet):
    """Replies on the conversations the caller can see."""

    serializer_class = ReplySerializer
    filterset_class = ReplyFilter

    def get_queryset(self):
        visible = conversations_visible_to(self.request.user).values("pk")
        return Reply.objects.filter(conversation_id__in=visible).select_related("conversation__account")

    def _respond(self, reply):
        reply.refresh_from_db()
        return Response(ReplySerializer(reply).data)

    @extend_schema(request=None, responses={200: ReplySerializer,
                                            403: OpenApiResponse(description="No right to approve this reply.")},
                   description="Holders of `reply` or `approve` on the account, other than the author; a "
                               "specialist for a sensitive conversation. The reply is then sent.")
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._respond(services.reply_approve(actor=request.user, reply=self.get_object()))

    @extend_schema(request=ReturnSerializer, responses={200: ReplySerializer},
                   description="Returns the reply to its author with a comment.")
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_to_author(self, request, pk=None):
        reply = self.get_object()
        serializer = ReturnSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(services.reply_return(actor=request.user, reply=reply,
                                                   comment=serializer.validated_data["comment"]))

    @extend_schema(request=None, responses={200: ReplySerializer},
                   description="Sends again, now, a failed reply or one stuck on its way (approved or sending, "
                               "and no worker took it within the lease), with the same idempotency key "
                               "(holders of `reply`). A sent reply, or one being sent, is a 400.")
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._respond(services.reply_retry(actor=request.user, reply=self.get_object()))

    @extend_schema(request=SentByHandSerializer, responses={200: ReplySerializer},
                   description="Records that the caller posted the reply on the platform by hand, at `url`: "
                               "for a reply no connector can send (failed for lack of one, or approved on a "
                               "channel without one). Holders of `reply`; audited. A reply a connector can "
                               "send is a 400 on `status`, a URL that is not http(s) a 400 on `url`.")
    @action(detail=True, methods=["post"], url_path="sent-by-hand", url_name="sent-by-hand")
    def sent_by_hand(self, request, pk=None):
        reply = self.get_object()
        serializer = SentByHandSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._respond(services.reply_mark_sent_by_hand(actor=request.user, reply=reply,
                                                              url=serializer.validated_data["url"]))


# --- saved replies -----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(description="Saved replies of the caller's departments."),
    create=extend_schema(description="Members of the department (and admins) keep its saved replies."),
)
class SavedReplyViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    serializer_class = SavedReplySerializer
    filterset_fields = ["department", "language"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no user
            return SavedReply.objects.none()
        return saved_replies_for(self.request.user)

    def perform_create(self, serializer):
        serializer.instance = services.saved_reply_create(actor=self.request.user, **serializer.validated_data)


# --- routing rules -------------------------------------------------------------------


class CanManageRouting(permissions.BasePermission):
    def has_permission(self, request, view):
        return can_manage_routing(request.user)


class RoutingRulePagination(CursorPagination):
    ordering = ("position", "id")


def _rule_state(rule: RoutingRule) -> dict:
    return {"name": rule.name, "position": rule.position, "is_active": rule.is_active, "intent": rule.intent,
            "keywords": rule.keywords, "account": rule.account_id, "language": rule.language,
            "sentiment": rule.sentiment, "department": rule.department_id, "priority": rule.priority}


def _audit_rule(actor, verb: str, rule: RoutingRule, *, pk=None, before=None, after=None) -> None:
    audit_write(actor=actor, action=f"routing_rule.{verb}", target_type="inbox.routingrule",
                target_id=str(pk or rule.pk), target_repr=rule.name, before=before, after=after)


@extend_schema_view(
    list=extend_schema(description="Routing rules in the order they are evaluated (first match wins)."),
)
class RoutingRuleViewSet(viewsets.ModelViewSet):
    """Routing configuration: people who manage routing only, for reading
    too. Every write is on the audit log."""

    serializer_class = RoutingRuleSerializer
    permission_classes = [CanManageRouting]
    pagination_class = RoutingRulePagination
    filterset_fields = ["is_active", "department", "intent"]

    def get_queryset(self):
        return RoutingRule.objects.all()

    @staticmethod
    def _save(serializer, **extra):
        """A duplicate name (any case) is a 400 on ``name``: checked first, and
        the unique constraint catches two people saving it at the same moment."""
        routing_rule_name_check(serializer.validated_data.get("name", ""), rule=serializer.instance)
        try:
            with transaction.atomic():
                return serializer.save(**extra)
        except IntegrityError:
            routing_rule_name_check(serializer.validated_data.get("name", ""), rule=serializer.instance)
            raise

    @transaction.atomic
    def perform_create(self, serializer):
        rule = self._save(serializer, created_by=self.request.user)
        _audit_rule(self.request.user, "create", rule, after=_rule_state(rule))

    @transaction.atomic
    def perform_update(self, serializer):
        before = _rule_state(serializer.instance)
        rule = self._save(serializer)
        _audit_rule(self.request.user, "update", rule, before=before, after=_rule_state(rule))

    @transaction.atomic
    def perform_destroy(self, instance):
        pk, before = instance.pk, _rule_state(instance)
        instance.delete()
        _audit_rule(self.request.user, "delete", instance, pk=pk, before=before)
