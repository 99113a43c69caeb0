"""Conversations built the way production builds them, for the metrics and
report tests: messages through the real ingest, replies through the real
reply path (submit, the send task, the sandbox platform) and resolutions
through the inbox's own status service, each at a chosen instant, on a
Madrid channel with business hours (09-13, 14-18 on weekdays) and Spanish
public holidays."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from accounts.roles import Role
from inbox import services as inbox_services
from inbox.ingest import ingest_messages
from inbox.models import Conversation, Message, ServicePeriod, ServiceWindow, TriageSettings
from inbox.services import replies
from security import services as security_services
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory

MADRID = ZoneInfo("Europe/Madrid")


def at(day, hour, minute=0, month=10):
    """An instant in Madrid, October 2026 unless ``month`` says otherwise."""
    return datetime(2026, month, day, hour, minute, tzinfo=MADRID)


def business_hours(account, *, time_zone="Europe/Madrid", holiday_country="ES") -> ServiceWindow:
    """Weekdays 09-13 and 14-18 in ``time_zone``, closed on the country's public holidays."""
    window = ServiceWindow.objects.create(account=account, time_zone=time_zone, holiday_country=holiday_country)
    for weekday in range(5):
        ServicePeriod.objects.create(window=window, weekday=weekday, opens_minute=9 * 60, closes_minute=13 * 60)
        ServicePeriod.objects.create(window=window, weekday=weekday, opens_minute=14 * 60, closes_minute=18 * 60)
    return window


@pytest.fixture
def channel(db, make_member, admin_user):
    """Madrid, business hours with a lunch break (09-13, 14-18), Spanish holidays (Monday 12 October)."""
    service = DepartmentFactory(name="Customer service", slug="customer-service")
    triage = TriageSettings.current()
    triage.default_department = service
    triage.save()
    account = SocialAccountFactory(platform="mastodon", handle="@acme_madrid", sandbox=True)
    account.departments.add(service)
    business_hours(account)
    agent = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=service, username="rita")
    security_services.grant_create(actor=admin_user, account=account, capability="reply", user=agent, reason="agent",
                                   reauthenticated_at=timezone.now())
    return {"account": account, "agent": agent, "service": service}


def opened(account, n, when, text="What are your opening hours?", sentiment_text=None, *, thread=None,
           followers=0):
    """Message ``m<n>`` from customer ``c<n>`` at ``when`` through the ingest;
    ``thread`` puts it in conversation ``t<thread>`` (a follow-up) instead of ``t<n>``."""
    ingest_messages(account=account, source="test", items=[{
        "platform_message_id": f"m{n}", "text": sentiment_text or text, "sent_at": when.isoformat(),
        "thread_id": f"t{thread if thread is not None else n}",
        "author": {"id": f"c{thread if thread is not None else n}", "handle": f"@customer{n}",
                   "followers": followers}}])
    return Message.objects.get(account=account, platform_message_id=f"m{n}").conversation


class _Clock:
    """Stands in for ``django.utils.timezone`` in one service module: ``now``
    is fixed, everything else is the real module."""

    def __init__(self, when):
        self.now = lambda: when

    def __getattr__(self, name):
        return getattr(timezone, name)


def answered(conversation, agent, when, monkeypatch, capture):
    """A reply through the real path (submit, the send task, the sandbox platform) at ``when``."""
    # The reply service's clock only: rights and memberships still read the real time.
    monkeypatch.setattr(replies, "timezone", _Clock(when))
    with capture(execute=True):
        inbox_services.reply_submit(actor=agent, conversation=conversation, body="Thanks, we're on it.")
    monkeypatch.undo()
    return Conversation.objects.get(pk=conversation.pk)


def resolved(conversation, agent, when, monkeypatch):
    """Resolved through the inbox's own status service at ``when``."""
    from inbox.services import conversations

    monkeypatch.setattr(conversations, "timezone", _Clock(when))
    inbox_services.conversation_set_status(actor=agent, conversation=conversation, status="resolved", confirm=True)
    monkeypatch.undo()
    return Conversation.objects.get(pk=conversation.pk)


# --- October 2026: the reputation report's hand-computed world --------------------------------
#
# Report period: custom 1-29 October 2026 (Madrid); the previous period is 2-30 September.
# "Now" is Friday 30 October 12:00 in Madrid. Channel A (@acme_madrid) keeps Madrid business hours
# and routes to Customer service; channel B (@acme_lisbon) is open 24/7 and routes to Returns.
# Every figure the report tests expect is worked out by hand in tests/strategy/test_reports.py.

NOW = at(30, 12)
OCTOBER = {"period": "custom", "start": "2026-10-01", "end": "2026-10-29"}
QUESTION = "What are your opening hours?"                                    # simple query, neutral
COMPLAINT = "This is terrible, my order never arrived and nobody answers"   # complaint, negative
STILL_WAITING = "Still waiting, this is awful"                               # complaint, negative
PRAISE = "I love this brand, thank you so much!"                             # praise, positive
LAWYER = "My lawyer will contact you about this"                             # other, neutral, sensitive
SHIPPING = "Do you ship to Portugal?"                                        # simple query, neutral


@pytest.fixture
def october(channel, make_member, admin_user, monkeypatch, django_capture_on_commit_callbacks):
    from inbox.models import RoutingRule, SensitiveTerm
    from inbox.services import sla_sweep
    from strategy import services as strategy_services
    from strategy.models import Strategy

    capture = django_capture_on_commit_callbacks
    a, rita, service = channel["account"], channel["agent"], channel["service"]
    a.display_name = "Acme Madrid"
    a.save(update_fields=["display_name"])
    returns = DepartmentFactory(name="Returns", slug="returns")
    b = SocialAccountFactory(platform="mastodon", handle="@acme_lisbon", display_name="Acme Lisbon", sandbox=True)
    b.departments.add(returns)
    ServiceWindow.objects.create(account=b, time_zone="Europe/Lisbon", always_open=True)
    RoutingRule.objects.create(name="Lisbon channel", position=1, account=b, department=returns)
    SensitiveTerm.objects.create(language="en", category="legal", term="lawyer")
    lena = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=returns, username="lena")
    security_services.grant_create(actor=admin_user, account=b, capability="reply", user=lena, reason="agent",
                                   reauthenticated_at=timezone.now())

    def reply(conversation, agent, when):
        return answered(conversation, agent, when, monkeypatch, capture)

    # The previous period (September), channel A.
    p1 = opened(a, 11, at(15, 10, month=9), QUESTION)
    reply(p1, rita, at(15, 10, 10, month=9))                      # 10 service minutes, on time
    p2 = opened(a, 12, at(16, 10, month=9), COMPLAINT)
    reply(p2, rita, at(16, 10, 40, month=9))                      # 40, on time
    resolved(p2, rita, at(17, 10, month=9), monkeypatch)
    opened(a, 13, at(17, 11, month=9), PRAISE)                    # never answered: overdue

    # October, channel A (Madrid business hours).
    c1 = opened(a, 1, at(2, 17, 30), QUESTION)                    # Friday 17:30
    reply(c1, rita, at(5, 9, 30))                                 # Monday 09:30: 30 + 30 = 60, late (30)
    c2 = opened(a, 2, at(9, 17, 50), QUESTION)                    # Friday 17:50
    reply(c2, rita, at(13, 9, 10))                                # Tuesday 09:10, Monday 12th a holiday: 20
    c3 = opened(a, 3, at(23, 17, 0), COMPLAINT)                   # Friday 23rd 17:00 CEST
    reply(c3, rita, at(26, 10, 0))                                # Monday 26th 10:00 CET: 60 + 60 = 120
    resolved(c3, rita, at(26, 11, 0), monkeypatch)
    c4 = opened(a, 4, at(14, 20, 0), STILL_WAITING)               # Wednesday 20:00: outside service hours
    opened(a, 5, at(15, 10, 0), COMPLAINT, thread=4)              # a follow-up in the same conversation
    c6 = opened(a, 6, at(17, 11, 0), PRAISE, followers=50_000)    # Saturday: outside hours; an influencer
    inbox_services.conversation_claim(actor=rita, conversation=c6)
    reply(c6, rita, at(19, 9, 45))                                # Monday 09:45: 45
    c7 = opened(a, 7, at(20, 10, 0), LAWYER)                      # sensitive, never answered

    # October, channel B (24/7).
    c8 = opened(b, 8, at(26, 22, 0), COMPLAINT)
    reply(c8, lena, at(27, 0, 30))                                # 150
    c9 = opened(b, 9, at(24, 23, 0), SHIPPING)                    # Saturday 23:00 CEST
    reply(c9, lena, at(25, 4, 0))                                 # Sunday 04:00 CET: 6 real hours = 360, late
    c10 = opened(b, 10, at(28, 9, 0), COMPLAINT)                  # never answered

    for conversation, names in ((c3, ["delivery"]), (c4, ["delivery", "=cmd()"]), (p2, ["delivery"])):
        for name in names:
            inbox_services.tag_add(actor=rita, conversation=conversation, name=name)

    sla_sweep(now=NOW)  # what the every-minute sweep had marked by now

    # The strategy register: an active strategy for the brand with three objectives.
    smm = make_member(Role.SOCIAL_MEDIA_MANAGER, department=service, username="sofia")
    brand = strategy_services.brand_create(actor=smm, name="Acme", slug="acme", accounts=[a, b])
    strategy = strategy_services.strategy_create(actor=smm, brand=brand, title="Acme on social")
    service_owner = strategy_services.owner_add(actor=smm, strategy=strategy, user=rita, department=service)
    strategy_services.owner_add(actor=smm, strategy=strategy, user=lena, department=returns)
    def objective(title, kpi, baseline, target, direction):
        return strategy_services.objective_create(
            actor=smm, strategy=strategy, owner=service_owner, title=title, kind="reactive",
            category="customer_service", kpi=kpi, baseline=Decimal(baseline), target=Decimal(target),
            direction=direction, starts_on=date(2026, 10, 1), deadline=date(2027, 3, 31))

    objective("Answer faster", "first_response_median", "240", "60", "lower")
    objective("Answer a bit faster", "first_response_median", "95", "60", "lower")
    objective("Keep the SLA", "sla_attainment", "50", "90", "higher")
    strategy_services.strategy_set_status(actor=smm, strategy=strategy, status=Strategy.Status.ACTIVE,
                                          reason="launch")
    executive = make_member(Role.EXECUTIVE, username="eva", time_zone="Europe/Madrid")
    return {"a": a, "b": b, "rita": rita, "lena": lena, "service": service, "returns": returns, "smm": smm,
            "brand": brand, "strategy": strategy, "executive": executive, "admin": admin_user,
            "c": {1: c1, 2: c2, 3: c3, 4: c4, 6: c6, 7: c7, 8: c8, 9: c9, 10: c10}, "p": {1: p1, 2: p2}}


# --- the content calendar: a team with rights on two channels ---------------------------------------------------

def grant(admin, account, capability, user, *, allows_own_posts=False):
    """A right on record, as an admin grants it (with the training publish and approve need)."""
    from tests.security.factories import TrainingRecordFactory

    if capability in ("publish", "approve") and not user.training_records.exists():
        TrainingRecordFactory(user=user, recorded_by=admin)
    return security_services.grant_create(actor=admin, account=account, capability=capability, user=user,
                                          reason="test", reauthenticated_at=timezone.now(),
                                          allows_own_posts=allows_own_posts)


@pytest.fixture
def team(db, make_member, admin_user):
    """Two sandbox channels (a Mastodon and an X account) and the people of the content calendar:

    - ``author``: a marketing representative who may draft on both;
    - ``approver``: a community manager with draft and approve on both;
    - ``publisher``: a social media manager with draft, approve and publish on both;
    - ``specialist``: the specialist team, draft only; ``executive``: no right on either;
    - ``outsider``: a representative with no right at all."""
    marketing = DepartmentFactory(name="Marketing", slug="marketing-posts")
    mastodon = SocialAccountFactory(platform="mastodon", handle="@acme@example.social", display_name="Acme Mastodon",
                                    sandbox=True)
    x = SocialAccountFactory(platform="x", handle="@acme", display_name="Acme X", sandbox=True)
    people = {
        "author": make_member(Role.DEPARTMENT_REPRESENTATIVE, department=marketing, username="marta"),
        "approver": make_member(Role.COMMUNITY_MANAGER, username="carl"),
        "publisher": make_member(Role.SOCIAL_MEDIA_MANAGER, username="sofia-p"),
        "specialist": make_member(Role.SPECIALIST, username="spec"),
        "executive": make_member(Role.EXECUTIVE, username="exec"),
        "outsider": make_member(Role.DEPARTMENT_REPRESENTATIVE, username="otto"),
    }
    for account in (mastodon, x):
        for name in ("author", "approver", "publisher", "specialist"):
            grant(admin_user, account, "draft", people[name])
        for name in ("approver", "publisher"):
            grant(admin_user, account, "approve", people[name])
        grant(admin_user, account, "publish", people["publisher"])
    return {"admin": admin_user, "mastodon": mastodon, "x": x, "accounts": [mastodon, x], **people}
