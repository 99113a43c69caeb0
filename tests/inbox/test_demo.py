"""The demo inbox: realistic, complete enough to show every feature, and
idempotent."""

import inspect

import pytest

from accounts.demo import load_demo_organisation
from inbox.demo import DEFAULT_MESSAGES, generate, load_demo_inbox
from inbox.models import (
    Conversation,
    ConversationEvent,
    Intent,
    Message,
    QueueSettings,
    RoutingDecision,
    RoutingRule,
    SavedReply,
    ServiceWindow,
    TriageSettings,
)
from security.audit import verify_chain
from security.demo import load_demo_security

SMALL = 300


def _counts():
    return (Message.objects.count(), Conversation.objects.count(), ConversationEvent.objects.count(),
            RoutingDecision.objects.count(), RoutingRule.objects.count(), SavedReply.objects.count(),
            ServiceWindow.objects.count(), list(Conversation.objects.order_by("pk").values_list(
                "status", "first_response_at", "resolved_at", "sla_breached", "message_count")))


@pytest.fixture
def people(db):
    load_demo_organisation()
    load_demo_security()


def test_default_is_about_two_thousand_messages():
    assert DEFAULT_MESSAGES == inspect.signature(load_demo_inbox).parameters["messages"].default
    assert 1900 <= DEFAULT_MESSAGES <= 2100


def test_generator_covers_every_intent_language_and_account_at_full_size():
    from django.utils import timezone

    items, threads = generate(now=timezone.now(), messages=DEFAULT_MESSAGES)
    assert sum(len(v) for v in items.values()) == DEFAULT_MESSAGES
    assert {t.intent for t in threads} == set(Intent.values)
    assert {t.language for t in threads} == {"en", "es", "ro", "id", "da"}
    assert all(items.values())
    ids = [i["platform_message_id"] for v in items.values() for i in v]
    assert len(ids) == len(set(ids)) and ids[0].startswith("demo-")
    followers = [i["author"]["followers"] for v in items.values() for i in v]
    assert max(followers) > 10_000


@pytest.mark.django_db
def test_demo_inbox_is_realistic_and_loading_twice_adds_nothing(people):
    demo = load_demo_inbox()
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND)
    assert inbound.count() == DEFAULT_MESSAGES == demo["messages"]
    assert Message.objects.filter(direction=Message.Direction.OUTBOUND).exists()
    assert set(Conversation.objects.values_list("intent", flat=True)) == set(Intent.values)
    assert len(set(inbound.values_list("language", flat=True))) >= 2
    assert {"en", "es"} <= set(inbound.values_list("language", flat=True))
    assert inbound.filter(kind="direct").exists()
    assert Conversation.objects.filter(message_count__gte=3).exists()

    specialists = Conversation.objects.filter(department__slug="specialists")
    assert specialists.filter(is_influencer=True).exists()
    assert specialists.filter(is_sensitive=True, intent=Intent.SENSITIVE).exists()
    assert Conversation.objects.filter(intent=Intent.SALES_LEAD, department__slug="sales",
                                       is_sensitive=False, is_influencer=False).exists()
    assert Conversation.objects.filter(department__slug="hr").exists()

    statuses = set(Conversation.objects.values_list("status", flat=True))
    assert {"new", "open", "resolved"} <= statuses
    assert Conversation.objects.filter(status__in=Conversation.OPEN_STATUSES, sla_breached=True).exists()
    assert Conversation.objects.filter(status__in=Conversation.OPEN_STATUSES, sla_breached=False,
                                       sla_next_check_at__isnull=False).exists()
    assert Conversation.objects.filter(first_response_at__isnull=False).exists()
    assert Conversation.objects.filter(assignee__isnull=False).exists()

    mastodon = ServiceWindow.objects.get(account__handle="@brand@social.example")
    assert mastodon.always_open and mastodon.time_zone == "Europe/Madrid"
    care = ServiceWindow.objects.get(account__handle="@brand_care")
    assert not care.always_open and care.time_zone == "America/New_York" and care.holiday_country == "US"
    assert sorted(care.periods.values_list("weekday", "opens_minute", "closes_minute"))[:2] == [
        (0, 540, 780), (0, 840, 1080)]
    assert care.periods.count() == 10
    careers = ServiceWindow.objects.get(account__handle="brand-careers")
    assert careers.holiday_country == "DK" and careers.periods.count() == 5

    assert TriageSettings.current().default_department.slug == "customer-service"
    assert QueueSettings.objects.get(department__slug="customer-service").auto_assign
    assert RoutingRule.objects.count() == 5
    assert set(SavedReply.objects.values_list("department__slug", "language")) >= {
        ("customer-service", "en"), ("customer-service", "es"), ("sales", "en"), ("hr", "en")}
    assert verify_chain().intact

    before = _counts()
    again = load_demo_inbox()
    assert again["messages"] == 0 and again["duplicates"] == DEFAULT_MESSAGES
    assert _counts() == before


@pytest.mark.django_db
def test_a_larger_load_only_adds_the_new_messages(people):
    load_demo_inbox(messages=SMALL)
    resolved = set(Conversation.objects.filter(status="resolved").values_list("pk", flat=True))
    more = load_demo_inbox(messages=SMALL + 100)
    assert more["messages"] == 100
    assert Message.objects.filter(direction=Message.Direction.INBOUND).count() == SMALL + 100
    # Only the thread cut off at the first load's last message can have been reopened by its follow-up.
    assert len(resolved - set(Conversation.objects.filter(status="resolved").values_list("pk", flat=True))) <= 1
