"""The inbox REST API: bulk ingest (idempotent, partial, never a 500),
conversations seen by department, the actions and their 404/403s, replies
sent or held for approval, SLA pause, intent corrections, routing rules,
query counts and the schema."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.roles import Role
from inbox.ingest import ingest_messages
from inbox.models import (
    Conversation,
    ConversationTag,
    IntentCorrection,
    Message,
    Note,
    Reply,
    RoutingRule,
    SavedReply,
    Tag,
)
from security import services as security_services
from security.models import AuditEvent
from tests.accounts.factories import DepartmentFactory
from tests.helpers import fresh, ids, results
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory

SENT_AT = "2026-03-02T10:00:00Z"


def item(n, *, thread=None, text=None, **overrides):
    """One message in the ingest format."""
    data = {
        "platform_message_id": f"m-{n}",
        "text": text if text is not None else f"Hello, question number {n}?",
        "sent_at": SENT_AT,
        "kind": "mention",
        "author": {"id": f"a-{n}", "handle": f"@person{n}@example.social", "display_name": f"Person {n}",
                   "followers": 12},
        "thread_id": thread or f"t-{n}",
        "language": "en",
    }
    data.update(overrides)
    return data


def grant(admin, account, capability, user):
    if capability in ("approve", "publish"):
        TrainingRecordFactory(user=user, recorded_by=admin)
    return security_services.grant_create(actor=admin, account=account, capability=capability, user=user,
                                          reason="test", reauthenticated_at=datetime.now(UTC))


def make_conversation(account, department, n, *, is_sensitive=False, text=None) -> Conversation:
    """A conversation as the ingest service creates it, then put in ``department``'s queue."""
    result = ingest_messages(account=account, items=[item(n, text=text)], source="test")
    assert result.created == 1, result.as_dict()
    conversation = Message.objects.get(account=account, platform_message_id=f"m-{n}").conversation
    Conversation.objects.filter(pk=conversation.pk).update(department=department, is_sensitive=is_sensitive)
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def dept(db):
    return DepartmentFactory()


@pytest.fixture
def other_dept(db):
    return DepartmentFactory()


@pytest.fixture
def account(dept):
    account = SocialAccountFactory()
    account.departments.add(dept)
    return account


@pytest.fixture
def representative(make_member, dept):
    """Sees their department's conversations; holds no right anywhere."""
    return make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)


@pytest.fixture
def mine(account, dept):
    return make_conversation(account, dept, 1)


@pytest.fixture
def theirs(account, other_dept):
    return make_conversation(account, other_dept, 2)


# --- anonymous ---------------------------------------------------------------------

ANONYMOUS_CALLS = [
    ("post", "/api/accounts/{account}/messages/"),
    ("get", "/api/conversations/"),
    ("get", "/api/conversations/queues/"),
    ("get", "/api/conversations/{conversation}/"),
    ("post", "/api/conversations/{conversation}/claim/"),
    ("post", "/api/conversations/{conversation}/assign/"),
    ("post", "/api/conversations/{conversation}/status/"),
    ("post", "/api/conversations/{conversation}/intent/"),
    ("post", "/api/conversations/{conversation}/route/"),
    ("post", "/api/conversations/{conversation}/notes/"),
    ("post", "/api/conversations/{conversation}/tags/"),
    ("post", "/api/conversations/{conversation}/tags/remove/"),
    ("delete", "/api/conversations/{conversation}/tags/vip/"),
    ("post", "/api/conversations/{conversation}/replies/"),
    ("get", "/api/replies/"),
    ("get", "/api/replies/{reply}/"),
    ("post", "/api/replies/{reply}/approve/"),
    ("post", "/api/replies/{reply}/return/"),
    ("post", "/api/replies/{reply}/retry/"),
    ("get", "/api/saved-replies/"),
    ("post", "/api/saved-replies/"),
    ("get", "/api/routing-rules/"),
    ("post", "/api/routing-rules/"),
    ("get", "/api/routing-rules/{rule}/"),
    ("patch", "/api/routing-rules/{rule}/"),
    ("delete", "/api/routing-rules/{rule}/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ANONYMOUS_CALLS)
def test_anonymous_is_401_everywhere(api_for, account, dept, mine, representative, method, path):
    reply = Reply.objects.create(conversation=mine, author=representative, body="draft", status="pending")
    rule = RoutingRule.objects.create(name="Billing", department=dept)
    url = path.format(account=account.pk, conversation=mine.pk, reply=reply.pk, rule=rule.pk)
    response = getattr(api_for(), method)(url, {}, format="json")
    assert response.status_code == 401, (url, response.status_code)
    assert RoutingRule.objects.filter(pk=rule.pk).exists() and Reply.objects.get().status == "pending"


# --- bulk ingest ----------------------------------------------------------------------


def ingest_url(account):
    return f"/api/accounts/{account.pk}/messages/"


@pytest.mark.django_db
def test_the_same_batch_posted_three_times_is_stored_once(api_for, admin_user, account):
    client = api_for(fresh(admin_user))
    batch = [item(1), item(2, thread="t-1"), item(3)]
    first = client.post(ingest_url(account), batch, format="json")
    assert first.status_code == 201, first.content
    assert first.json() == {"created": 3, "duplicates": 0, "rejected": 0, "conversations_created": 2,
                            "conversations_reopened": 0, "errors": []}
    for _ in range(2):
        again = client.post(ingest_url(account), batch, format="json")
        assert again.status_code == 200
        assert again.json()["created"] == 0 and again.json()["duplicates"] == 3
    assert Message.objects.filter(account=account).count() == 3
    assert Conversation.objects.filter(account=account).count() == 2


@pytest.mark.django_db
def test_a_batch_keeps_its_good_items_and_names_each_bad_one(api_for, admin_user, account):
    naive = item(4)
    naive["sent_at"] = "2026-03-02T10:00:00"
    no_text = item(2)
    del no_text["text"]
    batch = [item(1), no_text, item(3), naive, "not an object", item(6, author={"followers": -1}),
             item(7, url="javascript:alert(1)"), item(8, kind="carrier pigeon")]
    response = api_for(fresh(admin_user)).post(ingest_url(account), batch, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["created"] == 2 and body["rejected"] == 6
    errors = {(e["index"], e["field"]) for e in body["errors"]}
    assert {(1, "text"), (3, "sent_at"), (4, "non_field_errors"), (5, "author.id"), (5, "author.handle"),
            (5, "author.followers"), (6, "url"), (7, "kind")} <= errors
    assert all(e["reason"] for e in body["errors"])
    assert set(Message.objects.filter(account=account).values_list("platform_message_id", flat=True)) == {
        "m-1", "m-3"}


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, "a string", 42, None, True, [1, "x", None], [[]], [{}]])
def test_a_body_that_is_not_a_list_of_messages_is_400(api_for, admin_user, account, body):
    response = api_for(fresh(admin_user)).post(ingest_url(account), json.dumps(body),
                                               content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["created"] == 0 and response.json()["errors"]
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_an_empty_list_is_a_harmless_no_op(api_for, admin_user, account):
    response = api_for(fresh(admin_user)).post(ingest_url(account), [], format="json")
    assert response.status_code == 200
    assert response.json()["created"] == 0 and response.json()["errors"] == []


HUGE = "x" * 100_000
ODD_BODIES = [
    "",
    "{",
    "[1, 2",
    "NaN",
    "[NaN]",
    '[{"text": Infinity}]',
    "[" * 50_000 + "]" * 50_000,
    "{\"a\":" * 20_000 + "1" + "}" * 20_000,
    json.dumps([item(1, text=HUGE)]),
    json.dumps([item(1, platform_message_id=HUGE)]),
    json.dumps([item(1, author={"id": HUGE, "handle": HUGE, "display_name": HUGE, "followers": 10 ** 40})]),
    json.dumps([item(1, sent_at="2026-13-45T99:99:99Z"), item(2, sent_at=12345), item(3, sent_at=["x"]),
                item(4, sent_at={"a": 1}), item(5, sent_at="2026-03-02T10:00:00+99:00")]),
    json.dumps([item(1, text=["a"]), item(2, text={"a": "b"}), item(3, text=1.5), item(4, text=True)]),
    json.dumps([item(1, kind=["mention"]), item(2, kind={"a": 1}), item(3, kind=7)]),
    json.dumps([item(1, author="someone"), item(2, author=[1, 2]), item(3, author=None)]),
    json.dumps([item(1, author={"id": {"x": 1}, "handle": [1], "followers": "many", "verified": "yes"})]),
    json.dumps([item(1, platform_message_id=True), item(2, platform_message_id=1e308),
                item(3, platform_message_id=-0.0), item(4, thread_id={"deep": [[[]]]})]),
    json.dumps([item(1, text="bad \x00 nul"), item(2, language="x" * 9), item(3, url=42)]),
    json.dumps([{"a": [{"b": [{"c": None}]}]} for _ in range(50)]),
    json.dumps([item(1, text="<script>alert(1)</script>"), item(2, text="é漢字🙂"), item(3, text="")]),
    '[{"platform_message_id": "s-1", "text": "lone \\ud800 surrogate", "sent_at": "2026-03-02T10:00:00Z", '
    '"author": {"id": "s", "handle": "@s"}}]',
    '[{"platform_message_id": "s-2", "text": "ok", "sent_at": "2026-03-02T10:00:00Z", '
    '"author": {"id": "\\ud800", "handle": "@s\\udfff"}}]',
]


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ODD_BODIES, ids=range(len(ODD_BODIES)))
def test_odd_bodies_never_500(api_for, admin_user, account, raw):
    response = api_for(fresh(admin_user)).post(ingest_url(account), raw, content_type="application/json")
    assert response.status_code in (200, 201, 400), (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"created", "duplicates", "rejected", "conversations_created",
                         "conversations_reopened", "errors"}
    if response.status_code == 400:
        assert body["errors"] and body["created"] == 0


json_text = st.text(max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | json_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(json_text, children, max_size=3),
    max_leaves=8,
)
item_like = st.fixed_dictionaries(
    {},
    optional={key: json_values | st.just(valid) for key, valid in [
        ("platform_message_id", "fuzz"), ("text", "hello"), ("sent_at", SENT_AT), ("kind", "comment"),
        ("author", {"id": "f", "handle": "@f"}), ("thread_id", "t"), ("in_reply_to", "x"), ("language", "en"),
        ("url", "https://example.social/1")]},
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(item_like | json_values, max_size=4) | json_values)
def test_generated_bodies_never_500(api_for, admin_user, account, body):
    cache.clear()
    response = api_for(fresh(admin_user)).post(ingest_url(account), json.dumps(body),
                                               content_type="application/json")
    assert response.status_code in (200, 201, 400), (body, response.content[:300])
    assert "errors" in response.json()


# Items that once reached the database and failed there (a 500 on one engine or
# the other): each is now an error for that item alone, the rest of the batch kept.
KNOWN_INGEST_GAPS = [
    pytest.param({"sent_at": "0001-01-01T00:00:00+01:00"}, 1, id="before-year-1-in-utc"),
    pytest.param({"sent_at": "9999-12-31T23:59:59-23:59"}, 1, id="after-year-9999-in-utc"),
    pytest.param({"sent_at": "2026-03-02T10:00:00+20:00"}, 2, id="offset-beyond-15:59-normalised-to-utc"),
    pytest.param({"author": {"id": "n", "handle": "@nul\x00handle"}}, 1, id="nul-in-handle"),
    pytest.param({"platform_message_id": "nul\x00id"}, 1, id="nul-in-message-id"),
    pytest.param({"text": "lone \ud800 surrogate"}, 1, id="lone-surrogate-in-text"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "created"), KNOWN_INGEST_GAPS)
def test_an_item_the_database_cannot_store_is_refused_alone(api_for, admin_user, account, overrides, created):
    client = api_for(fresh(admin_user))
    client.raise_request_exception = True
    from inbox.ingest import ingest_messages

    result = ingest_messages(account=account, items=[item(1), item(2, **overrides)])
    assert (result.created, len(result.errors) > 0) == (created, created == 1)
    response = client.post(ingest_url(account), [item(3)], format="json")
    assert response.status_code == 201, response.content
    assert Message.objects.filter(account=account, platform_message_id="m-1").exists()


@pytest.mark.django_db
def test_who_may_ingest(api_for, admin_user, make_member, account, representative, dept):
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER, department=dept)
    grant(admin_user, account, "manage", manager)
    assert api_for(fresh(manager)).post(ingest_url(account), [item(1)], format="json").status_code == 201
    # Sees the account through the department, holds no manage: 403.
    response = api_for(fresh(representative)).post(ingest_url(account), [item(2)], format="json")
    assert response.status_code == 403
    # Manage on another account only: this one is not visible, 404.
    outsider = make_member(Role.SOCIAL_MEDIA_MANAGER)
    grant(admin_user, SocialAccountFactory(), "manage", outsider)
    assert api_for(fresh(outsider)).post(ingest_url(account), [item(3)], format="json").status_code == 404
    missing = f"/api/accounts/{account.pk + 1000}/messages/"
    assert api_for(fresh(admin_user)).post(missing, [item(4)], format="json").status_code == 404
    assert Message.objects.filter(account=account).count() == 1


# --- conversations: who sees what ----------------------------------------------------


CONVERSATION_ACTIONS = [
    ("post", "claim/", {}),
    ("post", "assign/", {"assignee": None}),
    ("post", "status/", {"status": "open"}),
    ("post", "intent/", {"intent": "complaint"}),
    ("post", "route/", {"department": None, "reason": "x"}),
    ("post", "notes/", {"body": "a note"}),
    ("post", "tags/", {"name": "vip"}),
    ("post", "tags/remove/", {"name": "vip"}),
    ("delete", "tags/vip/", {}),
    ("post", "replies/", {"body": "Hello"}),
]


@pytest.mark.django_db
def test_a_representative_sees_only_their_departments_conversations(api_for, representative, mine, theirs):
    client = api_for(fresh(representative))
    assert ids(client.get("/api/conversations/")) == {mine.pk}
    assert client.get(f"/api/conversations/{mine.pk}/").status_code == 200
    assert client.get(f"/api/conversations/{theirs.pk}/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "suffix", "data"), CONVERSATION_ACTIONS)
def test_every_action_on_an_invisible_conversation_is_404(api_for, admin_user, representative, account, dept,
                                                          theirs, method, suffix, data):
    grant(admin_user, account, "reply", representative)
    ConversationTag.objects.create(conversation=theirs, tag=Tag.objects.create(name="vip"))
    if "department" in data:
        data = {**data, "department": dept.pk}
    before = Conversation.objects.values().get(pk=theirs.pk)
    response = getattr(api_for(fresh(representative)), method)(f"/api/conversations/{theirs.pk}/{suffix}", data,
                                                                format="json")
    assert response.status_code == 404, response.content
    assert Conversation.objects.values().get(pk=theirs.pk) == before
    assert not Note.objects.exists() and not Reply.objects.exists()
    assert ConversationTag.objects.filter(conversation=theirs).count() == 1


@pytest.mark.django_db
def test_the_detail_carries_the_thread_and_its_history(api_for, representative, account, dept, mine):
    ingest_messages(account=account, items=[item(9, thread="t-1", text="And another thing",
                                                 sent_at="2026-03-02T11:00:00Z")])
    client = api_for(fresh(representative))
    client.post(f"/api/conversations/{mine.pk}/notes/", {"body": "internal"}, format="json")
    client.post(f"/api/conversations/{mine.pk}/tags/", {"name": "VIP"}, format="json")
    body = client.get(f"/api/conversations/{mine.pk}/").json()
    assert [m["platform_message_id"] for m in body["messages"]] == ["m-1", "m-9"]
    assert body["messages"][1]["text"] == "And another thing"
    assert body["tags"] == ["vip"]
    assert [n["body"] for n in body["notes"]] == ["internal"]
    assert body["routing_decisions"] and body["replies"] == []
    assert body["author"] == {"id": mine.author_id, "platform": "mastodon", "handle": "@person1@example.social",
                              "display_name": "Person 1", "followers": 12, "verified": False}
    for field in ["intent", "sentiment", "sentiment_score", "department", "first_response_due_at",
                  "first_response_at", "first_response_service_minutes", "resolution_due_at", "sla_warned",
                  "sla_breached", "is_influencer", "is_sensitive", "language", "priority", "status", "assignee"]:
        assert field in body, field
    assert body["department"] == dept.pk and body["first_response_due_at"]


@pytest.mark.django_db
def test_list_filters(api_for, make_member, account, dept, other_dept):
    manager = make_member(Role.COMMUNITY_MANAGER, department=dept)  # sees every queue
    a = make_conversation(account, dept, 1)
    b = make_conversation(account, other_dept, 2)
    c = make_conversation(account, dept, 3)
    Conversation.objects.filter(pk=a.pk).update(status="waiting", sla_breached=True, intent="complaint",
                                                 assignee=manager, priority=4)
    Conversation.objects.filter(pk=c.pk).update(status="closed", sentiment="negative")
    client = api_for(fresh(manager))
    assert ids(client.get("/api/conversations/")) == {a.pk, b.pk, c.pk}
    assert ids(client.get("/api/conversations/", {"status": "open"})) == {a.pk, b.pk}
    assert ids(client.get("/api/conversations/", {"status": "closed"})) == {c.pk}
    assert ids(client.get("/api/conversations/", {"department": other_dept.pk})) == {b.pk}
    assert ids(client.get("/api/conversations/", {"account": account.pk})) == {a.pk, b.pk, c.pk}
    assert ids(client.get("/api/conversations/", {"intent": "complaint"})) == {a.pk}
    assert ids(client.get("/api/conversations/", {"sentiment": "negative"})) == {c.pk}
    assert ids(client.get("/api/conversations/", {"priority": 4})) == {a.pk}
    assert ids(client.get("/api/conversations/", {"overdue": "true"})) == {a.pk}
    assert ids(client.get("/api/conversations/", {"assigned_to_me": "true"})) == {a.pk}
    assert ids(client.get("/api/conversations/", {"unassigned": "true"})) == {b.pk, c.pk}
    for bad in [{"status": "pending"}, {"department": "abc"}, {"priority": 9}, {"overdue": "maybe"}]:
        response = client.get("/api/conversations/", bad)
        assert response.status_code == 400 and set(bad) <= set(response.json()), (bad, response.content)


@pytest.mark.django_db
def test_queues_count_open_conversations_per_visible_queue(api_for, make_member, representative, account, dept,
                                                           other_dept, mine, theirs):
    body = api_for(fresh(representative)).get("/api/conversations/queues/").json()
    assert body["totals"] == {"all": 1, "mine": 0, "unassigned": 1, "overdue": 0}
    assert body["queues"] == [{"department": {"id": dept.pk, "name": dept.name}, "count": 1, "is_mine": True}]

    manager = make_member(Role.COMMUNITY_MANAGER, department=other_dept)  # sees every queue
    make_conversation(account, other_dept, 3)
    closed = make_conversation(account, other_dept, 4)
    Conversation.objects.filter(pk=closed.pk).update(status="closed")
    Conversation.objects.filter(pk=theirs.pk).update(assignee=manager, sla_breached=True)
    body = api_for(fresh(manager)).get("/api/conversations/queues/").json()
    assert body["totals"] == {"all": 3, "mine": 1, "unassigned": 2, "overdue": 1}
    counts = {q["department"]["id"]: (q["count"], q["is_mine"]) for q in body["queues"]}
    assert counts == {dept.pk: (1, False), other_dept.pk: (2, True)}


@pytest.mark.django_db
def test_query_parameters_do_not_hide_a_visible_conversation_from_its_actions(api_for, representative, mine):
    client = api_for(fresh(representative))
    assert client.get(f"/api/conversations/{mine.pk}/?status=closed").status_code == 200
    response = client.post(f"/api/conversations/{mine.pk}/notes/?status=closed", {"body": "x"}, format="json")
    assert response.status_code == 201


# --- conversations: actions ----------------------------------------------------------


@pytest.mark.django_db
def test_claim_assign_notes_and_tags(api_for, make_member, representative, dept, mine):
    colleague = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)
    client = api_for(fresh(representative))
    response = client.post(f"/api/conversations/{mine.pk}/claim/")
    assert response.status_code == 200 and response.json()["assignee"]["id"] == representative.pk
    assert response.json()["status"] == "open"
    response = client.post(f"/api/conversations/{mine.pk}/assign/", {"assignee": colleague.pk}, format="json")
    assert response.status_code == 200 and response.json()["assignee"]["id"] == colleague.pk
    outsider = make_member(Role.DEPARTMENT_REPRESENTATIVE)
    response = client.post(f"/api/conversations/{mine.pk}/assign/", {"assignee": outsider.pk}, format="json")
    assert response.status_code == 400 and "assignee" in response.json()
    response = client.post(f"/api/conversations/{mine.pk}/assign/", {"assignee": None}, format="json")
    assert response.status_code == 200 and response.json()["assignee"] is None

    response = client.post(f"/api/conversations/{mine.pk}/notes/", {"body": f"ask @{colleague.username}"},
                           format="json")
    assert response.status_code == 201 and response.json()["author"] == representative.pk
    assert list(Note.objects.get().mentions.all()) == [colleague]
    assert client.post(f"/api/conversations/{mine.pk}/notes/", {"body": "  "}, format="json").status_code == 400

    for name in ["VIP", "refund", "needs.follow-up"]:
        assert client.post(f"/api/conversations/{mine.pk}/tags/", {"name": name}, format="json").status_code == 201
    tags = lambda: set(ConversationTag.objects.filter(conversation=mine).values_list("tag__name", flat=True))  # noqa: E731
    assert tags() == {"vip", "refund", "needs.follow-up"}
    assert client.post(f"/api/conversations/{mine.pk}/tags/remove/", {"name": "vip"},
                       format="json").status_code == 204
    assert client.delete(f"/api/conversations/{mine.pk}/tags/needs.follow-up/").status_code == 204
    assert tags() == {"refund"}
    assert client.post(f"/api/conversations/{mine.pk}/tags/", {"name": ""}, format="json").status_code == 400


@pytest.mark.django_db
def test_route_moves_the_conversation_on_record(api_for, make_member, account, dept, other_dept, mine):
    manager = make_member(Role.COMMUNITY_MANAGER, department=dept)
    client = api_for(fresh(manager))
    response = client.post(f"/api/conversations/{mine.pk}/route/", {"department": other_dept.pk,
                                                                   "reason": "billing"}, format="json")
    assert response.status_code == 200 and response.json()["department"] == other_dept.pk
    assert mine.routing_decisions.filter(department=other_dept, decided_by=manager).exists()
    response = client.post(f"/api/conversations/{mine.pk}/route/", {"department": 10 ** 6}, format="json")
    assert response.status_code == 400 and "department" in response.json()


@pytest.mark.django_db
def test_waiting_pauses_the_clock_and_open_resumes_it(api_for, representative, mine):
    client = api_for(fresh(representative))
    response = client.post(f"/api/conversations/{mine.pk}/status/", {"status": "waiting"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "waiting"
    mine.refresh_from_db()
    assert mine.sla_paused_at is not None and response.json()["sla_paused_at"]
    assert mine.sla_next_check_at is None
    response = client.post(f"/api/conversations/{mine.pk}/status/", {"status": "open"}, format="json")
    assert response.status_code == 200 and response.json()["sla_paused_at"] is None
    mine.refresh_from_db()
    assert mine.sla_paused_at is None and mine.status == "open" and mine.sla_next_check_at is not None
    response = client.post(f"/api/conversations/{mine.pk}/status/", {"status": "snoozed"}, format="json")
    assert response.status_code == 400 and "status" in response.json()


@pytest.mark.django_db
def test_an_intent_correction_is_kept_as_training_data(api_for, representative, mine):
    old = mine.intent
    new = "complaint" if old != "complaint" else "praise"
    response = api_for(fresh(representative)).post(f"/api/conversations/{mine.pk}/intent/", {"intent": new},
                                                   format="json")
    assert response.status_code == 200, response.content
    assert response.json()["intent"] == new and response.json()["intent_source"] == "agent"
    correction = IntentCorrection.objects.get(conversation=mine)
    assert (correction.old_intent, correction.new_intent, correction.corrected_by_id) == (
        old, new, representative.pk)
    assert correction.text == "Hello, question number 1?"
    response = api_for(fresh(representative)).post(f"/api/conversations/{mine.pk}/intent/", {"intent": "rant"},
                                                   format="json")
    assert response.status_code == 400 and "intent" in response.json()


# --- replies ---------------------------------------------------------------------------


def post_reply(client, conversation, django_capture_on_commit_callbacks, body="Thanks, we are on it."):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(f"/api/conversations/{conversation.pk}/replies/", {"body": body}, format="json")


@pytest.mark.django_db
def test_a_reply_holder_sends_at_once(api_for, admin_user, representative, account, mine, connector,
                                      django_capture_on_commit_callbacks):
    grant(admin_user, account, "reply", representative)
    response = post_reply(api_for(fresh(representative)), mine, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.content
    assert response.json()["status"] in ("approved", "sending", "sent")
    reply = Reply.objects.get()
    assert reply.status == "sent" and reply.approved_by == representative
    assert connector.calls == [{"conversation": mine.pk, "text": "Thanks, we are on it.",
                                "key": str(reply.idempotency_key)}]
    mine.refresh_from_db()
    assert mine.first_response_at is not None
    assert mine.messages.filter(direction="out", platform_message_id="out-1").exists()


@pytest.mark.django_db
def test_a_draft_waits_for_a_reply_holder_to_approve(api_for, admin_user, make_member, representative, account,
                                                     dept, mine, connector, django_capture_on_commit_callbacks):
    grant(admin_user, account, "draft", representative)
    response = post_reply(api_for(fresh(representative)), mine, django_capture_on_commit_callbacks)
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert connector.calls == []
    reply_id = response.json()["id"]

    # The author cannot approve their own draft; someone without a right neither.
    assert api_for(fresh(representative)).post(f"/api/replies/{reply_id}/approve/").status_code == 403
    bystander = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)
    assert api_for(fresh(bystander)).post(f"/api/replies/{reply_id}/approve/").status_code == 403
    assert Reply.objects.get().status == "pending"

    approver = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)
    grant(admin_user, account, "reply", approver)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(fresh(approver)).post(f"/api/replies/{reply_id}/approve/")
    assert response.status_code == 200, response.content
    reply = Reply.objects.get()
    assert reply.status == "sent" and reply.approved_by == approver
    assert len(connector.calls) == 1
    # Approving again is refused: nothing is sent twice.
    response = api_for(fresh(approver)).post(f"/api/replies/{reply_id}/approve/")
    assert response.status_code == 400 and "status" in response.json()
    assert len(connector.calls) == 1


@pytest.mark.django_db
def test_no_right_means_403(api_for, representative, mine):
    response = api_for(fresh(representative)).post(f"/api/conversations/{mine.pk}/replies/", {"body": "hi"},
                                                   format="json")
    assert response.status_code == 403
    assert not Reply.objects.exists()


@pytest.mark.django_db
def test_a_sensitive_reply_needs_a_specialist(api_for, admin_user, make_member, account,
                                              connector, django_capture_on_commit_callbacks):
    specialists = DepartmentFactory(is_specialist_team=True)
    account.departments.add(specialists)
    conversation = make_conversation(account, specialists, 5, is_sensitive=True)
    community = make_member(Role.COMMUNITY_MANAGER)
    grant(admin_user, account, "reply", community)
    response = post_reply(api_for(fresh(community)), conversation, django_capture_on_commit_callbacks)
    assert response.status_code == 201 and response.json()["status"] == "pending"
    assert response.json()["needs_specialist"] is True
    reply_id = response.json()["id"]

    other_manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    grant(admin_user, account, "reply", other_manager)
    grant(admin_user, account, "approve", other_manager)
    assert api_for(fresh(other_manager)).post(f"/api/replies/{reply_id}/approve/").status_code == 403

    specialist = make_member(Role.SPECIALIST, department=specialists)
    grant(admin_user, account, "approve", specialist)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(fresh(specialist)).post(f"/api/replies/{reply_id}/approve/")
    assert response.status_code == 200, response.content
    assert Reply.objects.get().status == "sent" and len(connector.calls) == 1


@pytest.mark.django_db
def test_return_and_retry(api_for, admin_user, make_member, representative, account, dept, mine,
                          django_capture_on_commit_callbacks):
    grant(admin_user, account, "draft", representative)
    reply_id = post_reply(api_for(fresh(representative)), mine, django_capture_on_commit_callbacks).json()["id"]
    reviewer = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)
    grant(admin_user, account, "reply", reviewer)
    client = api_for(fresh(reviewer))
    response = client.post(f"/api/replies/{reply_id}/return/", {"comment": ""}, format="json")
    assert response.status_code == 400 and "comment" in response.json()
    response = client.post(f"/api/replies/{reply_id}/return/", {"comment": "Say sorry first."}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "returned"
    assert response.json()["review_comment"] == "Say sorry first."
    response = client.post(f"/api/replies/{reply_id}/retry/")
    assert response.status_code == 400 and "status" in response.json()

    Reply.objects.filter(pk=reply_id).update(status="failed", last_error="boom")
    assert api_for(fresh(representative)).post(f"/api/replies/{reply_id}/retry/").status_code == 403
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(f"/api/replies/{reply_id}/retry/")
    assert response.status_code == 200 and response.json()["status"] == "approved" and len(callbacks) == 1


@pytest.mark.django_db
def test_the_reply_list_follows_conversation_visibility(api_for, admin_user, make_member, representative, account,
                                                        dept, other_dept, mine, theirs,
                                                        django_capture_on_commit_callbacks):
    drafter = make_member(Role.COMMUNITY_MANAGER)  # sees every queue
    grant(admin_user, account, "draft", drafter)
    client = api_for(fresh(drafter))
    visible = post_reply(client, mine, django_capture_on_commit_callbacks).json()["id"]
    hidden = post_reply(client, theirs, django_capture_on_commit_callbacks).json()["id"]
    assert ids(client.get("/api/replies/")) == {visible, hidden}
    rep = api_for(fresh(representative))
    assert ids(rep.get("/api/replies/")) == {visible}
    assert ids(rep.get("/api/replies/", {"status": "pending"})) == {visible}
    assert ids(rep.get("/api/replies/", {"status": "sent"})) == set()
    for call in ["get", "post approve/", "post return/", "post retry/"]:
        method, _space, suffix = call.partition(" ")
        response = getattr(rep, method)(f"/api/replies/{hidden}/{suffix}", {"comment": "no"}, format="json")
        assert response.status_code == 404, call


# --- saved replies ---------------------------------------------------------------------


@pytest.mark.django_db
def test_saved_replies_are_the_departments(api_for, representative, dept, other_dept):
    client = api_for(fresh(representative))
    response = client.post("/api/saved-replies/", {"department": dept.pk, "title": "Refunds",
                                                   "body": "Refunds take 5 days.", "language": "en"},
                           format="json")
    assert response.status_code == 201, response.content
    assert response.json()["created_by"] == representative.pk
    SavedReply.objects.create(department=other_dept, title="Theirs", body="x")
    assert [r["title"] for r in results(client.get("/api/saved-replies/"))] == ["Refunds"]
    response = client.post("/api/saved-replies/", {"department": other_dept.pk, "title": "T", "body": "B"},
                           format="json")
    assert response.status_code == 403
    response = client.post("/api/saved-replies/", {"department": dept.pk, "title": "T"}, format="json")
    assert response.status_code == 400 and "body" in response.json()


# --- routing rules -----------------------------------------------------------------------


@pytest.mark.django_db
def test_routing_rules_are_for_routing_managers_only(api_for, representative, dept):
    rule = RoutingRule.objects.create(name="Billing", department=dept)
    client = api_for(fresh(representative))
    assert client.get("/api/routing-rules/").status_code == 403
    assert client.get(f"/api/routing-rules/{rule.pk}/").status_code == 403
    assert client.post("/api/routing-rules/", {"name": "x", "department": dept.pk}, format="json").status_code == 403
    assert client.delete(f"/api/routing-rules/{rule.pk}/").status_code == 403
    assert RoutingRule.objects.count() == 1


@pytest.mark.django_db
def test_a_social_media_manager_keeps_the_routing_rules(api_for, make_member, dept, other_dept):
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER, department=dept)
    client = api_for(fresh(manager))
    response = client.post("/api/routing-rules/", {"name": "Refunds", "keywords": "refund, money back",
                                                   "intent": "complaint", "department": other_dept.pk,
                                                   "priority": 3, "position": 10}, format="json")
    assert response.status_code == 201, response.content
    rule_id = response.json()["id"]
    assert response.json()["created_by"] == manager.pk
    assert [r["id"] for r in results(client.get("/api/routing-rules/"))] == [rule_id]
    assert client.get(f"/api/routing-rules/{rule_id}/").json()["keywords"] == "refund, money back"
    response = client.patch(f"/api/routing-rules/{rule_id}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    response = client.patch(f"/api/routing-rules/{rule_id}/", {"intent": "rant"}, format="json")
    assert response.status_code == 400 and "intent" in response.json()
    assert client.delete(f"/api/routing-rules/{rule_id}/").status_code == 204
    assert not RoutingRule.objects.exists()
    events = AuditEvent.objects.filter(target_type="inbox.routingrule", target_id=str(rule_id)).order_by("id")
    assert [e.action for e in events] == ["routing_rule.create", "routing_rule.update", "routing_rule.delete"]
    assert events[1].before["is_active"] is True and events[1].after["is_active"] is False
    assert all(e.actor_id == manager.pk for e in events)


# --- query counts and schema ---------------------------------------------------------


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_page_size(api_for, make_member, account, dept, other_dept,
                                                       django_assert_num_queries):
    manager = make_member(Role.COMMUNITY_MANAGER, department=dept)
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    batch = [item(n, sent_at=(start + timedelta(minutes=n)).isoformat()) for n in range(34)]
    assert ingest_messages(account=account, items=batch).created == 34
    conversations = list(Conversation.objects.order_by("pk"))
    for n, conversation in enumerate(conversations):
        conversation.department = dept if n % 2 else other_dept
        conversation.assignee = manager if n % 3 else None
    Conversation.objects.bulk_update(conversations, ["department", "assignee"])

    with CaptureQueriesContext(connection) as small:
        assert len(results(api_for(fresh(manager)).get("/api/conversations/?page_size=2"))) == 2
    with django_assert_num_queries(len(small.captured_queries)):
        body = api_for(fresh(manager)).get("/api/conversations/?page_size=30").json()
    assert len(body["results"]) == 30 and body["next"]
    # Newest activity first.
    stamps = [row["last_message_at"] for row in body["results"]]
    assert stamps == sorted(stamps, reverse=True)
    rest = api_for(fresh(manager)).get(body["next"]).json()["results"]
    assert len(rest) == 4 and not {r["id"] for r in rest} & {r["id"] for r in body["results"]}


@pytest.mark.django_db
def test_schema_lists_the_inbox_endpoints(api_for, representative):
    response = api_for(fresh(representative)).get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    for path in ["/api/accounts/{account_id}/messages/", "/api/conversations/", "/api/conversations/{id}/",
                 "/api/conversations/queues/", "/api/conversations/{id}/claim/", "/api/conversations/{id}/assign/",
                 "/api/conversations/{id}/status/", "/api/conversations/{id}/intent/",
                 "/api/conversations/{id}/route/", "/api/conversations/{id}/notes/",
                 "/api/conversations/{id}/tags/", "/api/conversations/{id}/tags/{name}/",
                 "/api/conversations/{id}/tags/remove/", "/api/conversations/{id}/replies/", "/api/replies/",
                 "/api/replies/{id}/", "/api/replies/{id}/approve/", "/api/replies/{id}/return/",
                 "/api/replies/{id}/retry/", "/api/saved-replies/", "/api/routing-rules/",
                 "/api/routing-rules/{id}/"]:
        assert f"{path}:" in schema, path
    assert "IngestResult" in schema and "idempotency_key" not in schema


@pytest.mark.django_db
def test_fast_list_representation_equals_drfs_own(admin_user, account):
    """The hand-built list rows must stay exactly what DRF's fields produce."""
    from rest_framework import serializers as drf

    from inbox.api.serializers import ConversationSerializer
    from inbox.ingest import ingest_messages
    from inbox.models import Conversation

    ingest_messages(account=account, items=[item(1), item(2, author={"id": "v", "handle": "@v", "verified": True})])
    Conversation.objects.update(assignee=admin_user)

    class Reference(ConversationSerializer):  # the generic path (to_representation is bypassed for subclasses)
        pass

    from inbox.api.serializers import conversation_rows
    from inbox.api.views import LIST_COLUMNS

    qs = Conversation.objects.select_related("account", "author", "assignee", "department").order_by("pk")
    assert conversation_rows(qs.values(*LIST_COLUMNS)) == [dict(Reference(c).data) for c in qs]
    assert isinstance(ConversationSerializer().fields["author"], drf.Serializer)


@pytest.mark.django_db
def test_fast_list_times_follow_the_viewers_time_zone_like_drf(admin_user, account):
    from django.utils import timezone as tz

    from inbox.api.serializers import ConversationSerializer
    from inbox.ingest import ingest_messages
    from inbox.models import Conversation

    ingest_messages(account=account, items=[item(1)])

    class Reference(ConversationSerializer):
        pass

    from inbox.api.serializers import conversation_rows
    from inbox.api.views import LIST_COLUMNS

    qs = Conversation.objects.select_related("account", "author", "assignee", "department")
    for zone in ("UTC", "Asia/Jakarta", "America/New_York"):
        with tz.override(zone):
            assert conversation_rows(qs.values(*LIST_COLUMNS)) == [dict(Reference(c).data) for c in qs]
