"""Bulk actions on the inbox list (each conversation checked and reported,
the batch capped, CSRF on, one audit event per item) and the list's sort
orders with their keyset pages."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from inbox.ingest import ingest_messages
from inbox.models import Conversation, ConversationEvent, ConversationTag, Reply
from inbox.services.bulk import MAX_BULK, bulk_apply
from security.models import AuditEvent
from tests.accounts.factories import DepartmentFactory
from tests.conftest import sign_in
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


def ingest(account, pmid, *, department, ago=timedelta(minutes=5), text="Hello?"):
    result = ingest_messages(account=account, items=[{
        "platform_message_id": pmid, "text": text, "sent_at": (timezone.now() - ago).isoformat(),
        "author": {"id": f"a-{pmid}", "handle": f"@p{pmid}"}}])
    assert not result.errors, result.errors
    conversation = Conversation.objects.get(account=account, thread_key=f"thread:{pmid}")
    Conversation.objects.filter(pk=conversation.pk).update(department=department)
    conversation.refresh_from_db()
    return conversation


@pytest.fixture
def world(make_member):
    care = DepartmentFactory(name="Customer care")
    sales = DepartmentFactory(name="Sales")
    account = SocialAccountFactory()
    rita = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="rita", first_name="Rita")
    carl = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="carl", first_name="Carl")
    sam = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=sales, username="sam", first_name="Sam")
    return {"care": care, "sales": sales, "account": account, "rita": rita, "carl": carl, "sam": sam}


def bulk(client, ids, action, **fields):
    return client.post(reverse("inbox:bulk"), {"ids": [str(i) for i in ids], "action": action,
                                               "next": "/inbox/?sort=newest", **fields})


def flash(client):
    return re.search(r'<ul class="messages">\s*<li class="[^"]*">(.*?)</li>',
                     client.get(reverse("inbox:list")).content.decode(), re.S).group(1)


# --- the actions, item by item ----------------------------------------------------------------------------

def test_bulk_resolve_reports_each_item_and_hides_what_i_may_not_see(world, client_for):
    mine = [ingest(world["account"], str(i), department=world["care"]) for i in range(3)]
    theirs = ingest(world["account"], "s1", department=world["sales"])
    client = client_for(world["rita"])
    response = bulk(client, [c.pk for c in mine] + [theirs.pk], "resolve")
    assert response.status_code == 302 and response["Location"] == "/inbox/?sort=newest"
    message = flash(client)
    assert message.startswith("3 resolved; 1 skipped: not found, or not in a queue you may see")
    assert f"#{theirs.pk}" in message and "Sales" not in message  # nothing about a queue she does not see
    assert set(Conversation.objects.filter(pk__in=[c.pk for c in mine]).values_list("status", flat=True)) == {
        "resolved"}
    theirs.refresh_from_db()
    assert theirs.status != "resolved"


def test_rights_are_checked_per_conversation_and_named_in_the_report(world, client_for, make_member, monkeypatch):
    """Someone who sees every queue but may not work on Sales' (the rule the single actions use) gets
    "you cannot resolve conversations of Sales (#..)" for those and the rest done."""
    lead = make_member(Role.SOCIAL_MEDIA_MANAGER, department=world["care"], username="lead")
    care = [ingest(world["account"], str(i), department=world["care"]) for i in range(2)]
    sales = [ingest(world["account"], f"s{i}", department=world["sales"]) for i in range(2)]
    from inbox.services import _common

    real = _common.can_work_conversation
    monkeypatch.setattr(_common, "can_work_conversation",
                        lambda user, c: real(user, c) and c.department_id != world["sales"].pk)
    report = bulk_apply(actor=lead, ids=[c.pk for c in care + sales], action="resolve")
    assert report.done == [c.pk for c in care]
    assert report.summary() == (f"2 resolved; 2 skipped: you cannot resolve conversations of Sales "
                                f"(#{sales[0].pk}, #{sales[1].pk})")
    assert not Conversation.objects.filter(pk__in=[c.pk for c in sales], status="resolved").exists()


def test_bulk_assign_follows_the_assign_rules(world, client_for):
    care = [ingest(world["account"], str(i), department=world["care"]) for i in range(2)]
    client = client_for(world["rita"])
    response = bulk(client, [c.pk for c in care], "assign", assignee=str(world["carl"].pk))
    assert response.status_code == 302
    assert flash(client) == "2 assigned"
    assert set(Conversation.objects.filter(pk__in=[c.pk for c in care]).values_list("assignee", flat=True)) == {
        world["carl"].pk}
    # Sam is not in the care queue: refused per conversation with the assign service's reason.
    report = bulk_apply(actor=world["rita"], ids=[c.pk for c in care], action="assign", assignee=world["sam"])
    assert report.done == [] and report.skipped_count == 2
    assert "Choose an active member of this conversation's department queue" in report.summary()
    # Assigning them to me while Carl holds them is a take-over: not done silently in bulk.
    report = bulk_apply(actor=world["rita"], ids=[care[0].pk], action="assign", assignee=world["rita"])
    assert report.done == [] and "Carl" in report.summary()
    assert Conversation.objects.get(pk=care[0].pk).assignee_id == world["carl"].pk


def test_bulk_tag_and_move_and_already_done(world, client_for):
    care = [ingest(world["account"], str(i), department=world["care"]) for i in range(3)]
    client = client_for(world["rita"])
    ids = [c.pk for c in care]
    assert bulk(client, ids[:1], "tag", tag="Refund").status_code == 302
    assert flash(client) == "1 tagged"
    assert bulk(client, ids, "tag", tag="refund").status_code == 302
    assert flash(client) == "2 tagged; 1 already so"
    assert ConversationTag.objects.filter(conversation_id__in=ids, tag__name="refund").count() == 3
    assert bulk(client, ids[:2], "move", department=str(world["sales"].pk)).status_code == 302
    assert flash(client) == "2 moved"
    assert list(Conversation.objects.filter(pk__in=ids).order_by("pk").values_list("department", flat=True)) == [
        world["sales"].pk, world["sales"].pk, world["care"].pk]


def test_a_pending_reply_holds_one_back_and_the_rest_are_resolved(world, client_for):
    care = [ingest(world["account"], str(i), department=world["care"]) for i in range(2)]
    Reply.objects.create(conversation=care[0], author=world["carl"], body="draft", status=Reply.Status.PENDING_APPROVAL)
    report = bulk_apply(actor=world["rita"], ids=[c.pk for c in care], action="resolve")
    assert report.done == [care[1].pk]
    assert report.summary() == f"1 resolved; 1 skipped: a reply is not sent yet (resolve those one by one) " \
                               f"(#{care[0].pk})"


def test_one_history_event_and_one_audit_event_per_item(world, client_for):
    care = [ingest(world["account"], str(i), department=world["care"]) for i in range(4)]
    ids = [c.pk for c in care]
    bulk_apply(actor=world["rita"], ids=ids[:1], action="resolve")  # one already resolved: no second event
    before = AuditEvent.objects.filter(action="conversation.status").count()
    assert bulk(client_for(world["rita"]), ids, "resolve").status_code == 302
    audits = AuditEvent.objects.filter(action="conversation.status").order_by("id")[before:]
    assert sorted(int(a.target_id) for a in audits) == ids[1:]
    assert all(a.actor_id == world["rita"].pk for a in audits)
    for pk in ids:
        assert ConversationEvent.objects.filter(conversation_id=pk, kind="status").count() == 1


# --- refusals of the whole batch --------------------------------------------------------------------------------

def test_more_than_the_cap_is_a_400_naming_ids_and_nothing_changes(world, client_for):
    care = [ingest(world["account"], str(i), department=world["care"]) for i in range(2)]
    ids = [c.pk for c in care] + list(range(10_000, 10_000 + MAX_BULK))
    response = bulk(client_for(world["rita"]), ids, "resolve")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-field="ids"' in html
    assert f"At most {MAX_BULK} conversations at a time: {MAX_BULK + 2} were sent" in html
    assert not Conversation.objects.filter(status="resolved").exists()


@pytest.mark.parametrize("fields, field", [
    ({"ids": [], "action": "resolve"}, "ids"),
    ({"ids": ["12x"], "action": "resolve"}, "ids"),
    ({"ids": ["1"], "action": "explode"}, "action"),
    ({"ids": ["1"], "action": "tag", "tag": "  "}, "tag"),
    ({"ids": ["1"], "action": "move"}, "department"),
])
def test_bad_bulk_form_is_a_400_next_to_the_field(world, client_for, fields, field):
    response = client_for(world["rita"]).post(reverse("inbox:bulk"), fields)
    assert response.status_code == 400
    assert f'data-field="{field}"' in response.content.decode()


def test_csrf_is_checked_on_the_real_url_and_anonymous_goes_to_login(world):
    conversation = ingest(world["account"], "1", department=world["care"])
    anonymous = Client(enforce_csrf_checks=True)
    response = anonymous.post(reverse("inbox:bulk"), {"ids": [conversation.pk], "action": "resolve"})
    assert response.status_code in (302, 403)
    client = sign_in(Client(enforce_csrf_checks=True), world["rita"])
    assert client.post(reverse("inbox:bulk"), {"ids": [conversation.pk], "action": "resolve"}).status_code == 403
    conversation.refresh_from_db()
    assert conversation.status != "resolved"
    html = client.get(reverse("inbox:list")).content.decode()
    form = re.search(r'<form method="post" action="/inbox/bulk/" id="bulk-form".*?</form>', html, re.S).group(0)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    response = client.post(reverse("inbox:bulk"), {"ids": [conversation.pk], "action": "resolve",
                                                   "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.status == "resolved"


def test_get_is_not_allowed(world, client_for):
    assert client_for(world["rita"]).get(reverse("inbox:bulk")).status_code == 405


def test_rows_have_boxes_for_the_bulk_form(world, client_for):
    conversation = ingest(world["account"], "1", department=world["care"])
    html = client_for(world["rita"]).get(reverse("inbox:list")).content.decode()
    assert re.search(rf'<input type="checkbox" class="pick" name="ids" value="{conversation.pk}" form="bulk-form"',
                     html)
    assert 'id="bulk-form"' in html and 'data-testid="bulk-apply"' in html
    assert 'id="shortcut-help"' in html  # the "?" overlay


# --- sort orders -----------------------------------------------------------------------------------------------

def row_ids(html):
    return [int(x) for x in re.findall(r'data-testid="conversation-row" data-conversation="(\d+)"', html)]


def test_each_sort_order_and_its_pages(world, client_for):
    old = ingest(world["account"], "old", department=world["care"], ago=timedelta(hours=5))
    mid = ingest(world["account"], "mid", department=world["care"], ago=timedelta(hours=2))
    new = ingest(world["account"], "new", department=world["care"], ago=timedelta(minutes=1))
    Conversation.objects.filter(pk=mid.pk).update(priority=4)
    Conversation.objects.filter(pk=new.pk).update(priority=3)
    client = client_for(world["rita"])

    def order(sort):
        response = client.get(reverse("inbox:list"), {"sort": sort})
        assert response.status_code == 200
        return row_ids(response.content.decode())

    assert order("newest") == [new.pk, mid.pk, old.pk]
    assert order("oldest") == [old.pk, mid.pk, new.pk]
    assert order("priority") == [mid.pk, new.pk, old.pk]
    due = sorted([old, mid, new], key=lambda c: (c.first_response_due_at, c.pk))
    assert order("due") == order("") == [c.pk for c in due]
    html = client.get(reverse("inbox:list"), {"sort": "newest"}).content.decode()
    assert '<option value="newest" selected>' in html
    assert f'href="/inbox/c/{new.pk}/?sort=newest"' in html  # the sort travels with the links
    response = client.get(reverse("inbox:list"), {"sort": "loudest"})
    assert response.status_code == 400 and 'data-field="sort"' in response.content.decode()


@pytest.mark.parametrize("sort", ["due", "newest", "oldest", "priority"])
def test_keyset_pages_walk_every_conversation_once_in_each_order(world, client_for, sort):
    items = [{"platform_message_id": f"m{i}", "text": f"Question {i}",
              "sent_at": (timezone.now() - timedelta(minutes=i % 7)).isoformat(),  # ties on purpose
              "author": {"id": f"u{i}", "handle": f"@person{i}"}} for i in range(120)]
    assert not ingest_messages(account=world["account"], items=items).errors
    Conversation.objects.filter(account=world["account"]).update(department=world["care"])
    for n, conversation in enumerate(Conversation.objects.order_by("pk")):
        Conversation.objects.filter(pk=conversation.pk).update(priority=1 + n % 4)
    client = client_for(world["rita"])
    seen, url = [], reverse("inbox:list") + f"?sort={sort}"
    while url:
        html = client.get(url).content.decode()
        seen += row_ids(html)
        more = re.search(r'href="([^"]+)" data-testid="more"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
        assert not url or f"sort={sort}" in url
    assert sorted(seen) == sorted(Conversation.objects.values_list("pk", flat=True))
    assert len(seen) == len(set(seen)) == 120


# --- at the same moment (PostgreSQL: real concurrent transactions) -------------------------------------------

needs_postgres = pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                                    reason="real concurrent transactions need PostgreSQL")


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_bulk_resolves_at_once_resolve_each_conversation_once(world):
    from tests.inbox.test_concurrency import together

    ids = [ingest(world["account"], str(i), department=world["care"]).pk for i in range(6)]
    results, errors = together(lambda: bulk_apply(actor=world["rita"], ids=ids, action="resolve"),
                               lambda: bulk_apply(actor=world["carl"], ids=list(reversed(ids)), action="resolve"))
    assert errors == [None, None], errors
    assert sorted(results[0].done + results[1].done) == ids  # each one by exactly one of them
    assert sorted(results[0].unchanged + results[1].unchanged) == ids
    for pk in ids:
        assert ConversationEvent.objects.filter(conversation_id=pk, kind="status").count() == 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_marking_seen_from_many_requests_at_once_keeps_one_row(world):
    from inbox.models import ConversationSeen
    from inbox.services import conversation_mark_seen
    from tests.inbox.test_concurrency import together

    conversation = ingest(world["account"], "1", department=world["care"])
    _results, errors = together(*[lambda: conversation_mark_seen(user=world["rita"], conversation=conversation)
                                  for _ in range(6)])
    assert errors == [None] * 6, errors
    assert ConversationSeen.objects.filter(user=world["rita"], conversation=conversation).count() == 1
