"""What-if experiments for the benchmark (``--what-if``): they patch code at
run time to measure what a proposed change would buy, without touching the
application. Never used outside bench/."""

from contextlib import contextmanager

from django.db import connections
from django.db.models import QuerySet

_original_bulk_update = QuerySet.bulk_update


def values_bulk_update(self, objs, fields, batch_size=None):
    """QuerySet.bulk_update as one ``UPDATE ... FROM (VALUES ...)`` per
    batch on PostgreSQL, instead of Django's ``CASE WHEN pk = ... THEN ...``
    per column, whose Python cost grows with rows x columns."""
    connection = connections[self.db]
    objs = list(objs)
    if connection.vendor != "postgresql" or not objs:
        return _original_bulk_update(self, objs, fields, batch_size=batch_size)
    meta = self.model._meta
    pk = meta.pk
    targets = [meta.get_field(name) for name in fields]
    columns = [pk, *targets]
    qn = connection.ops.quote_name
    placeholder = "(" + ", ".join(f"%s::{field.db_type(connection)}" if field is not pk
                                  else f"%s::{field.rel_db_type(connection)}" for field in columns) + ")"
    assignments = ", ".join(f"{qn(f.column)} = v.{qn(f.column)}" for f in targets)
    names = ", ".join(qn(f.column) for f in columns)
    size = batch_size or 1000
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), size):
            chunk = objs[start:start + size]
            params = []
            for obj in chunk:
                params.append(obj.pk)
                params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in targets)
            cursor.execute(
                f"UPDATE {qn(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names quoted, values bound
                f"FROM (VALUES {', '.join([placeholder] * len(chunk))}) AS v ({names}) "
                f"WHERE t.{qn(pk.column)} = v.{qn(pk.column)}", params)
            updated += cursor.rowcount
    return updated


@contextmanager
def fast_bulk_update():
    QuerySet.bulk_update = values_bulk_update
    try:
        yield
    finally:
        QuerySet.bulk_update = _original_bulk_update


# --- a lean list serializer ---------------------------------------------------

def lean_conversation_serializer():
    """The list's JSON built by hand: the same keys and values as the API's
    ConversationSerializer, without DRF's per-field machinery."""
    from rest_framework import serializers

    datetime_field = serializers.DateTimeField()

    def when(value):
        return datetime_field.to_representation(value) if value is not None else None

    def number(value):
        return float(value) if value is not None else None

    class LeanConversationSerializer(serializers.BaseSerializer):
        def to_representation(self, c):
            author, assignee, account = c.author, c.assignee, c.account
            return {
                "id": c.pk, "account": c.account_id, "account_platform": account.platform,
                "account_handle": account.handle, "thread_key": c.thread_key, "subject": c.subject,
                "status": c.status, "intent": c.intent, "intent_source": c.intent_source,
                "sentiment": c.sentiment, "sentiment_score": number(c.sentiment_score), "language": c.language,
                "is_influencer": c.is_influencer, "is_sensitive": c.is_sensitive,
                "sensitive_categories": c.sensitive_categories, "priority": c.priority,
                "department": c.department_id, "department_name": c.department.name if c.department_id else None,
                "assignee": {"id": assignee.pk, "username": assignee.username, "display_name": str(assignee)}
                if assignee is not None else None,
                "author": {"id": author.pk, "platform": author.platform, "handle": author.handle,
                           "display_name": author.display_name, "followers": author.followers,
                           "verified": author.verified},
                "message_count": c.message_count, "last_message_at": when(c.last_message_at),
                "last_message_preview": c.last_message_preview, "opened_at": when(c.opened_at),
                "first_response_due_at": when(c.first_response_due_at), "first_response_at": when(c.first_response_at),
                "first_response_service_minutes": number(c.first_response_service_minutes),
                "resolution_due_at": when(c.resolution_due_at), "resolved_at": when(c.resolved_at),
                "sla_paused_at": when(c.sla_paused_at), "sla_warned": c.sla_warned, "sla_breached": c.sla_breached,
                "created_at": when(c.created_at), "updated_at": when(c.updated_at),
            }

    return LeanConversationSerializer


@contextmanager
def lean_list_serializer(rows):
    """Uses the lean serializer for the conversation list, if it gives the
    very same JSON as the real one on ``rows``; yields whether it does."""
    from inbox.api import views
    from inbox.api.serializers import ConversationSerializer

    lean = lean_conversation_serializer()
    same = [dict(d) for d in ConversationSerializer(rows, many=True).data] == list(lean(rows, many=True).data)
    original = views.ConversationViewSet.get_serializer_class
    if same:
        views.ConversationViewSet.get_serializer_class = (
            lambda self: lean if self.action == "list" else original(self))
    try:
        yield same
    finally:
        views.ConversationViewSet.get_serializer_class = original
