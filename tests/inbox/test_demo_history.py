"""The demo looks like a team that works: its history ends at the moment
``seed_demo`` runs, most conversations were answered inside their SLA by
people the inbox's rules let answer, replies reached the sandbox channels,
and only a handful are open now, a few of them overdue.

Seeded once for the module (about ten seconds) with a frozen "now"."""

import statistics
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, F

from accounts.models import Notification
from inbox.clock import is_open_at, service_minutes_between, spec_for_account
from inbox.models import (
    Conversation,
    ConversationEvent,
    Message,
    Note,
    Reply,
    SandboxPost,
)
from inbox.permissions import can_approve_reply, can_view_conversation, reply_mode
from inbox.services.sweep import sla_sweep
from security.models import SocialAccount

# A Wednesday morning in Europe, before New York opens: every channel's clock has something to show.
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", quiet_logins=True, now=NOW.isoformat())
        yield
        call_command("flush", interactive=False, verbosity=0)


def _open():
    return Conversation.objects.filter(status__in=Conversation.OPEN_STATUSES)


def test_the_demo_channels_are_named_sandboxes(demo):
    channels = SocialAccount.objects.filter(handle__in=["@brand@social.example", "@brand_care", "brand-careers"])
    assert channels.count() == 3
    for channel in channels:
        assert channel.sandbox and "sandbox" in channel.display_name.lower()


def test_the_history_ends_now_and_is_busier_lately(demo):
    messages = Message.objects.filter(direction=Message.Direction.INBOUND)
    newest = messages.order_by("-sent_at").first().sent_at
    oldest = messages.order_by("sent_at").first().sent_at
    assert NOW - timedelta(days=1) < newest <= NOW
    assert NOW - timedelta(days=31) <= oldest < NOW - timedelta(days=25)
    assert not Message.objects.filter(sent_at__gt=NOW).exists()
    assert not Reply.objects.filter(sent_at__gt=NOW).exists()
    assert not Conversation.objects.filter(resolved_at__gt=NOW).exists()
    last_ten = messages.filter(sent_at__gt=NOW - timedelta(days=10)).count()
    first_ten = messages.filter(sent_at__lte=NOW - timedelta(days=20)).count()
    assert last_ten > 1.5 * first_ten
    # A message arrives when it is sent, not when the demo was loaded.
    assert not messages.exclude(received_at=F("sent_at")).exists()
    assert not Conversation.objects.filter(created_at__gt=NOW).exists()


def test_customers_write_mostly_while_a_channel_is_staffed_and_the_team_answers_in_its_hours(demo):
    care = SocialAccount.objects.get(handle="@brand_care")  # New York office hours only
    spec = spec_for_account(care)
    first = Message.objects.filter(account=care, direction=Message.Direction.INBOUND).values_list("sent_at", flat=True)
    staffed = sum(is_open_at(spec, moment) for moment in first)
    assert staffed > 0.6 * len(first)
    sent = Reply.objects.filter(conversation__account=care, status=Reply.Status.SENT).values_list("sent_at", flat=True)
    assert sent and all(is_open_at(spec, moment) for moment in sent)


def test_most_conversations_were_settled_and_a_handful_are_open_now(demo):
    total = Conversation.objects.count()
    settled = Conversation.objects.filter(status__in=[Conversation.Status.RESOLVED, Conversation.Status.CLOSED])
    assert settled.count() > 0.85 * total
    assert not settled.filter(resolved_at__isnull=True).exists()
    assert 5 <= _open().count() <= 30
    assert _open().filter(status=Conversation.Status.NEW).exists()
    assert _open().filter(first_response_at__isnull=False).exists()  # answered, not settled yet
    # Nobody left anything for weeks: every open conversation started in the last few days.
    assert not _open().filter(opened_at__lt=NOW - timedelta(days=5)).exists()


def test_first_responses_are_mostly_within_target_and_the_figures_are_the_clocks(demo):
    answered = list(Conversation.objects.filter(first_response_at__isnull=False).select_related("account"))
    late = [c for c in answered if c.first_response_breached]
    assert 0.03 < len(late) / len(answered) < 0.10
    specs = {}
    for conversation in answered:
        assert conversation.first_response_breached == (conversation.first_response_at
                                                        > conversation.first_response_due_at)
        spec = specs.setdefault(conversation.account_id, spec_for_account(conversation.account))
        minutes = service_minutes_between(spec, conversation.opened_at, conversation.first_response_at)
        assert conversation.first_response_service_minutes == pytest.approx(minutes, abs=0.01)
    minutes = sorted(c.first_response_service_minutes for c in answered)
    assert 5 < statistics.median(minutes) < 120
    assert minutes[int(len(minutes) * 0.9)] < 8 * 60
    # Complaints were resolved, most of them inside their resolution target.
    complaints = Conversation.objects.filter(intent="complaint", status=Conversation.Status.RESOLVED)
    assert complaints.count() > 50
    assert complaints.filter(sla_breached=False).count() > 0.9 * complaints.count()


def test_late_answers_were_escalated_as_the_sweep_does(demo):
    late = Conversation.objects.filter(first_response_breached=True).select_related("department__lead")
    assert late.exists()
    for conversation in late:
        breach = conversation.events.get(kind="sla_breached", data__target="first response")
        assert breach.created_at == conversation.first_response_due_at
    leads = late.filter(department__lead__isnull=False)
    assert leads.exists()
    for conversation in leads:
        assert Notification.objects.filter(recipient=conversation.department.lead, kind="sla.breached",
                                           url=f"/inbox/c/{conversation.pk}/").exists()
    # Only the last hours' notifications are still unread.
    assert not Notification.objects.filter(read_at__isnull=True, created_at__lt=NOW - timedelta(days=1)).exists()


def test_a_few_are_overdue_now_and_the_sweep_has_nothing_to_catch_up(demo):
    overdue = _open().filter(sla_breached=True)
    assert 1 <= overdue.count() <= 8
    for conversation in overdue:
        assert conversation.clock_due_at <= NOW
        assert conversation.events.filter(kind="sla_breached").exists()
    due_soon = _open().filter(sla_warned=True, sla_breached=False)
    assert due_soon.exists() and all(c.clock_due_at > NOW for c in due_soon)
    notifications = Notification.objects.count()
    result = sla_sweep(now=NOW + timedelta(minutes=1))
    assert result["breached"] == 0 and result["warned"] <= 1
    assert Notification.objects.count() - notifications <= 1


def test_every_reply_reached_the_sandbox_and_was_sent_by_someone_allowed_to(demo):
    assert not Reply.objects.filter(status=Reply.Status.FAILED).exists()
    assert not Reply.objects.filter(status__in=Reply.UNSENT_STATUSES).exists()
    sent = list(Reply.objects.filter(status=Reply.Status.SENT).select_related(
        "conversation__account", "conversation__department", "author", "approved_by"))
    assert len(sent) > 0.7 * Conversation.objects.count()
    # Replies only: the content calendar's published demo posts are on the sandbox channels too.
    posts = {post.platform_id: post for post in SandboxPost.objects.filter(kind=SandboxPost.Kind.REPLY)}
    outbound = set(Message.objects.filter(direction=Message.Direction.OUTBOUND)
                   .values_list("platform_message_id", flat=True))
    assert len(posts) == len(sent)
    checked = set()
    for reply in sent:
        post = posts[reply.platform_message_id]
        assert post.text == reply.body and post.account_id == reply.conversation.account_id
        assert post.idempotency_key == str(reply.idempotency_key) and post.created_at == reply.sent_at
        assert reply.platform_message_id in outbound
        conversation = reply.conversation
        key = (reply.author_id, reply.approved_by_id, conversation.account_id, conversation.department_id,
               conversation.is_sensitive)
        if key in checked:
            continue
        checked.add(key)
        assert can_view_conversation(reply.author, conversation)
        if reply.approved_by_id == reply.author_id:
            assert reply_mode(reply.author, conversation) == "send"
        else:
            assert reply_mode(reply.author, conversation) == "approval"
            assert can_approve_reply(reply.approved_by, reply)
    # The routed department answers: most replies are by one of its members.
    from accounts.models import Membership

    members = set(Membership.objects.values_list("user_id", "department_id"))
    own = sum((r.author_id, r.conversation.department_id) in members for r in sent)
    assert own > 0.85 * len(sent)
    # Sensitive answers went out through a specialist.
    sensitive = [r for r in sent if r.conversation.is_sensitive]
    assert sensitive and all(r.approved_by.memberships.filter(role="specialist").exists() for r in sensitive)


def test_the_team_left_notes_tags_and_drafts_waiting(demo):
    assert Note.objects.count() > 50
    mentioned = Note.objects.annotate(n=Count("mentions")).filter(n__gt=0)
    assert mentioned.exists()
    for note in mentioned[:20]:
        for user in note.mentions.all():
            assert can_view_conversation(user, note.conversation)
    assert ConversationEvent.objects.filter(kind="tag_added").count() > 100
    assert Reply.objects.filter(status=Reply.Status.PENDING_APPROVAL).exists()


def test_seeding_again_adds_nothing(demo):
    def counts():
        return (Message.objects.count(), Conversation.objects.count(), Reply.objects.count(),
                SandboxPost.objects.count(), Note.objects.count(), ConversationEvent.objects.count(),
                Notification.objects.count())

    before = counts()
    call_command("seed_demo", quiet_logins=True, if_empty=True)
    assert counts() == before
    call_command("seed_demo", quiet_logins=True, now=NOW.isoformat())
    assert counts() == before


def test_now_cannot_be_in_the_future_or_unreadable(db):
    with pytest.raises(CommandError, match="future"):
        call_command("seed_demo", quiet_logins=True, now="2999-01-01T00:00:00Z")
    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("seed_demo", quiet_logins=True, now="next tuesday")


def test_resolution_times_are_kept_in_service_time_for_the_reports(demo):
    resolved = list(Conversation.objects.filter(resolved_at__isnull=False).select_related("account"))
    assert resolved and all(c.resolution_service_minutes is not None for c in resolved)
    specs = {}
    for conversation in resolved[:200]:
        spec = specs.setdefault(conversation.account_id, spec_for_account(conversation.account))
        assert conversation.resolution_service_minutes == pytest.approx(
            service_minutes_between(spec, conversation.opened_at, conversation.resolved_at), abs=0.01)
    from strategy import metrics

    figures = metrics.complaint_resolution(metrics.Scope(), metrics.Period(NOW - timedelta(days=30), NOW))
    assert figures["opened"] > 50 and 0.5 < figures["rate"] <= 1
    assert figures["median_minutes"] > 0
