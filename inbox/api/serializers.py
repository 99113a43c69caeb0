"""The inbox API's shapes. Input serializers check only the form of the
input; who may do what, and every rule of the inbox, lives in the services,
which name the field they refuse.

Text from the platforms (messages, author names) is returned as stored: the
API speaks JSON, and it is the client's job to escape it where it renders."""

from django.utils import timezone
from rest_framework import serializers

from accounts.api.serializers import UserSummarySerializer
from accounts.models import Department, User

from ..limits import REPLY_HARD_MAX
from ..models import (
    Author,
    Conversation,
    Intent,
    Message,
    MessageKind,
    Note,
    Reply,
    RoutingDecision,
    RoutingRule,
    SavedReply,
)

# --- ingest ---------------------------------------------------------------------


class IngestAuthorSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=200, help_text="The author's id on the platform.")
    handle = serializers.CharField(max_length=200)
    display_name = serializers.CharField(max_length=200, required=False)
    followers = serializers.IntegerField(min_value=0, required=False, default=0)
    verified = serializers.BooleanField(required=False, default=False)


class IngestItemSerializer(serializers.Serializer):
    """One message in the ingest format (documentation only: the ingest
    service validates each item itself and reports index, field and reason)."""

    platform_message_id = serializers.CharField(max_length=200)
    text = serializers.CharField(max_length=20_000, allow_blank=True)
    sent_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone offset.")
    # A plain string here: a second "kind" enum beside Message's would clash
    # with the credential's in the schema's enum naming.
    kind = serializers.CharField(required=False, default=MessageKind.MENTION,
                                 help_text=f"One of {', '.join(MessageKind.values)}.")
    author = IngestAuthorSerializer()
    thread_id = serializers.CharField(max_length=250, required=False)
    in_reply_to = serializers.CharField(max_length=200, required=False)
    language = serializers.CharField(max_length=8, required=False)
    url = serializers.URLField(max_length=500, required=False)


class IngestErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    field = serializers.CharField()
    reason = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = serializers.IntegerField(help_text="How many items were invalid.")
    conversations_created = serializers.IntegerField()
    conversations_reopened = serializers.IntegerField()
    errors = IngestErrorSerializer(many=True)


# --- conversations -------------------------------------------------------------------


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "platform", "handle", "display_name", "followers", "verified"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    """What the inbox list and the reputation reports need."""

    author = AuthorSerializer(read_only=True)
    assignee = UserSummarySerializer(read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True, default=None)
    account_handle = serializers.CharField(source="account.handle", read_only=True)
    account_platform = serializers.CharField(source="account.platform", read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "account", "account_platform", "account_handle", "thread_key", "subject", "status",
                  "intent", "intent_source", "sentiment", "sentiment_score", "language", "is_influencer",
                  "is_sensitive", "sensitive_categories", "priority", "department", "department_name",
                  "assignee", "author", "message_count", "last_message_at", "last_message_preview", "opened_at",
                  "first_response_due_at", "first_response_at", "first_response_service_minutes",
                  "resolution_due_at", "resolved_at", "resolution_service_minutes", "sla_paused_at", "sla_warned",
                  "sla_breached", "created_at", "updated_at"]
        read_only_fields = fields


def _iso_in(tz):
    def iso(value):  # what DRF's DateTimeField gives: the current time zone, "Z" for UTC
        if value is None:
            return None
        text = value.astimezone(tz).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return iso


def conversation_rows(rows) -> list[dict]:
    """The list's rows from ``.values(*LIST_COLUMNS)`` dicts: exactly what
    ConversationSerializer gives (tested), without building model instances
    or running the generic field machinery for 50 rows per request (see
    docs/PERFORMANCE.md)."""
    iso = _iso_in(timezone.get_current_timezone())
    result = []
    for r in rows:
        assignee = None
        if r["assignee_id"] is not None:
            full_name = f"{r['assignee__first_name']} {r['assignee__last_name']}".strip()
            assignee = {"id": r["assignee_id"], "username": r["assignee__username"],
                        "display_name": full_name or r["assignee__username"]}
        result.append({
            "id": r["id"], "account": r["account_id"], "account_platform": r["account__platform"],
            "account_handle": r["account__handle"], "thread_key": r["thread_key"], "subject": r["subject"],
            "status": r["status"], "intent": r["intent"], "intent_source": r["intent_source"],
            "sentiment": r["sentiment"], "sentiment_score": r["sentiment_score"], "language": r["language"],
            "is_influencer": r["is_influencer"], "is_sensitive": r["is_sensitive"],
            "sensitive_categories": r["sensitive_categories"], "priority": r["priority"],
            "department": r["department_id"], "department_name": r["department__name"],
            "assignee": assignee,
            "author": {"id": r["author_id"], "platform": r["author__platform"], "handle": r["author__handle"],
                       "display_name": r["author__display_name"], "followers": r["author__followers"],
                       "verified": r["author__verified"]},
            "message_count": r["message_count"], "last_message_preview": r["last_message_preview"],
            **{name: iso(r[name]) for name in _DATETIME_FIELDS},
            "first_response_service_minutes": r["first_response_service_minutes"],
            "resolution_service_minutes": r["resolution_service_minutes"],
            "sla_warned": r["sla_warned"], "sla_breached": r["sla_breached"],
        })
    return result


_DATETIME_FIELDS = ["last_message_at", "opened_at", "first_response_due_at", "first_response_at",
                    "resolution_due_at", "resolved_at", "sla_paused_at", "created_at", "updated_at"]


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "platform_message_id", "direction", "kind", "author", "sent_by", "text", "language", "url",
                  "in_reply_to", "sent_at", "received_at", "sentiment", "sentiment_score", "intent",
                  "classified_by"]
        read_only_fields = fields


class RoutingDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingDecision
        fields = ["id", "rule", "rule_name", "department", "priority", "reason", "decided_by", "decided_at"]
        read_only_fields = fields


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "conversation", "author", "body", "created_at"]
        read_only_fields = fields


class ReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = Reply
        fields = ["id", "conversation", "author", "body", "status", "needs_specialist", "approved_by",
                  "approved_at", "review_comment", "attempts", "next_attempt_at", "lease_until", "last_error",
                  "platform_message_id", "sent_at", "sent_by_hand", "sent_url", "client_token", "created_at"]
        read_only_fields = fields
        extra_kwargs = {
            "lease_until": {"help_text": "While set and in the future, a worker is sending the reply."},
            "client_token": {"help_text": "The client token it was submitted with, if any."},
            "sent_by_hand": {"help_text": "Who posted it on the platform by hand, when no connector could."},
            "sent_url": {"help_text": "The address of the reply posted by hand."},
        }


class SentByHandSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=500, help_text="The http(s) address of the reply as posted on the "
                                                          "platform.")


class ConversationDetailSerializer(ConversationSerializer):
    """One conversation with its thread (oldest first) and its history."""

    messages = MessageSerializer(many=True, read_only=True)
    routing_decisions = RoutingDecisionSerializer(many=True, read_only=True)
    tags = serializers.SerializerMethodField()
    notes = NoteSerializer(many=True, read_only=True)
    replies = ReplySerializer(many=True, read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages", "routing_decisions", "tags", "notes", "replies"]
        read_only_fields = fields

    def get_tags(self, obj) -> list[str]:
        return sorted(link.tag.name for link in obj.conversation_tags.all())


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), allow_null=True,
                                                  help_text="A user id, or null to unassign.")


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices)
    confirm = serializers.BooleanField(
        default=False, help_text="Resolve or close even though a reply is pending approval, on its way or failed "
                                 "(without it that is a 400 on `confirm`).")


class IntentSerializer(serializers.Serializer):
    intent = serializers.ChoiceField(choices=Intent.choices)


class RouteSerializer(serializers.Serializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class NoteCreateSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)


class TagSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)


class ReplyCreateSerializer(serializers.Serializer):
    # The platform's own limit is the reply service's to check (a 400 on body naming it).
    body = serializers.CharField(max_length=REPLY_HARD_MAX)
    client_token = serializers.UUIDField(
        required=False, allow_null=True, default=None,
        help_text="A UUID the client makes once per compose action. Submitting again with it returns the first "
                  "reply (200) instead of creating and sending a second one; with another text it is a 400.")


class ReturnSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=1000)


class QueueDepartmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class QueueSerializer(serializers.Serializer):
    department = QueueDepartmentSerializer()
    count = serializers.IntegerField()
    is_mine = serializers.BooleanField()


class QueueTotalsSerializer(serializers.Serializer):
    all = serializers.IntegerField()
    mine = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    overdue = serializers.IntegerField()


class QueueCountsSerializer(serializers.Serializer):
    totals = QueueTotalsSerializer()
    queues = QueueSerializer(many=True)


# --- saved replies and routing rules ---------------------------------------------


class SavedReplySerializer(serializers.ModelSerializer):
    department = serializers.PrimaryKeyRelatedField(queryset=Department.objects.all())

    class Meta:
        model = SavedReply
        fields = ["id", "department", "title", "body", "language", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]


class RoutingRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingRule
        fields = ["id", "name", "position", "is_active", "intent", "keywords", "account", "language", "sentiment",
                  "department", "priority", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]
