"""The strategy register's part of ``seed_demo``: two brands, one active
strategy shared by marketing, customer service and sales, and one draft
owned by marketing alone.

Runs after the demo people, channels and inbox exist (``accounts.demo_hooks``).
Everything goes through ``strategy.services``, so rights are checked, every
step is audited and every part has its first version, authored by the demo
person who would have done it. Dates follow ``now`` (``seed_demo --now``),
so the objectives' periods always cover the demo inbox's thirty days and
the reactive KPIs have something to compute.

- "Brand" (the Mastodon and X channels) runs the active strategy: reactive
  objectives computed from the inbox (first-response median, SLA
  attainment, negative share, complaint resolution), proactive ones entered
  by hand (followers, site traffic) with a few dated values, segments of
  several kinds, two channel plans (the X plan promises 24/7 on a channel
  staffed in New York office hours only: the strategy page warns), a
  campaign that has spent 92% of its budget (the 90% alert went to Sofia),
  and decisions with the alternatives considered.
- "Brand Careers" (the LinkedIn channel) has a draft owned by marketing
  alone: asked to become active, it refuses and says why (the channel is
  not owned by marketing alone).

Idempotent: nothing is loaded when the brands exist."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Department, User
from security.models import SocialAccount

from . import services
from .models import Brand, ChannelPlan, Objective, Segment, Strategy

BRAND_SLUG, CAREERS_SLUG = "brand", "brand-careers"
MASTODON, X, LINKEDIN = "@brand@social.example", "@brand_care", "brand-careers"

ACTIVE_TITLE = "Brand on social: service first, growth second (2026-27)"
DRAFT_TITLE = "Employer brand on LinkedIn"
CAMPAIGN_NAME = "Winter sale on Mastodon"
CAMPAIGN_BUDGET = Decimal("4500.00")
# Spend entries (days before now, amount, note): 4,140.00 of 4,500.00 = 92%; the last one crosses 90%.
CAMPAIGN_SPEND = [
    (26, Decimal("1200.00"), "Promoted posts, week 1"),
    (19, Decimal("1150.00"), "Promoted posts, week 2"),
    (12, Decimal("980.00"), "Creator partnership: unboxing video"),
    (4, Decimal("810.00"), "Promoted posts, week 4"),
]


def _people() -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(
        username__in=["sofia", "mark", "rita", "sven", "carlos", "cora", "erik"])}


def _departments() -> dict[str, Department]:
    return {d.slug: d for d in Department.objects.filter(slug__in=["marketing", "customer-service", "sales"])}


def load_demo_strategy(stdout=None, now: datetime | None = None) -> None:
    if Brand.objects.filter(slug__in=[BRAND_SLUG, CAREERS_SLUG]).exists():
        return
    accounts = {a.handle: a for a in SocialAccount.objects.filter(handle__in=[MASTODON, X, LINKEDIN])}
    people = _people()
    if len(accounts) < 3 or "sofia" not in people:
        if stdout is not None:
            stdout.write("Strategy demo skipped: the demo channels or people are missing.")
        return
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():  # all or nothing: a second load starts again if this one broke
        active = _load_active(people, _departments(), accounts, today)
        refusal = _load_draft(people, _departments(), accounts, today)
    if stdout is not None:
        stdout.write(f"Demo strategy register loaded: 2 brands, \"{active.title}\" active "
                     f"({active.objectives.count()} objectives, {active.campaigns.count()} campaign); "
                     f"the employer-brand draft stays a draft: {refusal}")


def _load_active(people: dict[str, User], departments: dict[str, Department], accounts: dict[str, SocialAccount],
                 today: date) -> Strategy:
    sofia, mark, rita, sven = people["sofia"], people["mark"], people["rita"], people["sven"]
    brand = services.brand_create(
        actor=sofia, name="Brand", slug=BRAND_SLUG,
        description="The consumer brand: public conversation on Mastodon, customer care on X.",
        accounts=[accounts[MASTODON], accounts[X]], managers=[sofia])
    services.brand_create(
        actor=sofia, name="Brand Careers", slug=CAREERS_SLUG,
        description="The employer brand: careers, culture and hiring on LinkedIn.",
        accounts=[accounts[LINKEDIN]], managers=[sofia])

    strategy = services.strategy_create(
        actor=sofia, brand=brand, title=ACTIVE_TITLE, accountable=sofia, review_cadence_months=3,
        summary=("Social is where our customers ask for help first, so the channels are planned with customer "
                 "service and sales, not by marketing alone. Service first: answer fast inside the hours we "
                 "promise and resolve complaints in public view. Growth second: a steady audience on Mastodon "
                 "and more visits from social to the shop, with one paid campaign per season."))
    services.strategy_update(actor=sofia, strategy=strategy, reason="First quarterly review set at kick-off",
                             next_review_on=today + timedelta(days=45))

    own_marketing = services.owner_add(
        actor=sofia, strategy=strategy, user=mark, department=departments["marketing"],
        responsibility="Audience growth, the Mastodon plan, campaigns and their budget.")
    own_service = services.owner_add(
        actor=sofia, strategy=strategy, user=rita, department=departments["customer-service"],
        responsibility="Response times, the SLA and complaints on both channels; the X care plan.")
    own_sales = services.owner_add(
        actor=sofia, strategy=strategy, user=sven, department=departments["sales"],
        responsibility="Leads from social and the business-buyer segment.")

    brand_accounts = [accounts[MASTODON], accounts[X]]
    starts_on = today - timedelta(days=45)
    deadline = today + timedelta(days=135)
    common = {"starts_on": starts_on, "deadline": deadline}

    # Reactive: computed by the portal from the inbox.
    for owner, title, category, kpi, baseline, target, direction in [
        (own_service, "Answer customers within the hour, inside our service hours", "customer_service",
         "first_response_median", "95", "45", "lower"),
        (own_service, "Keep the first-response SLA on nineteen conversations out of twenty", "customer_service",
         "sla_attainment", "78", "95", "higher"),
        (own_service, "Resolve 98% of the complaints that reach us on social", "customer_service",
         "complaint_resolution_rate", "88", "98", "higher"),
        (own_marketing, "Bring the share of negative messages down to one in ten", "reputation",
         "negative_share", "16", "10", "lower"),
    ]:
        services.objective_create(
            actor=owner.user, strategy=strategy, owner=owner, accounts=brand_accounts, title=title,
            kind=Objective.Kind.REACTIVE, category=category, kpi=kpi, baseline=Decimal(baseline),
            target=Decimal(target), direction=direction, **common)

    # Proactive: the portal cannot see these, so the owning department enters dated values.
    followers = services.objective_create(
        actor=mark, strategy=strategy, owner=own_marketing, accounts=[accounts[MASTODON]],
        title="Grow the Mastodon audience to 12,000 followers", kind=Objective.Kind.PROACTIVE,
        category="awareness", kpi="followers", baseline=Decimal("8400"), target=Decimal("12000"),
        direction="higher", **common)
    traffic = services.objective_create(
        actor=mark, strategy=strategy, owner=own_marketing, accounts=brand_accounts,
        title="Double monthly shop visits from social", kind=Objective.Kind.PROACTIVE, category="traffic",
        kpi="site_traffic", baseline=Decimal("5200"), target=Decimal("10400"), direction="higher", **common)
    for days_ago, value in [(42, "8420"), (28, "8790"), (14, "9160"), (2, "9480")]:
        services.kpi_value_add(actor=mark, objective=followers, value=Decimal(value),
                               measured_on=today - timedelta(days=days_ago), source="Mastodon account statistics")
    for days_ago, value in [(31, "5350"), (1, "6900")]:
        services.kpi_value_add(actor=mark, objective=traffic, value=Decimal(value),
                               measured_on=today - timedelta(days=days_ago),
                               source="Web analytics, sessions with a social referrer (monthly)")
    sales = services.objective_create(
        actor=sven, strategy=strategy, owner=own_sales, accounts=brand_accounts,
        title="Win 60 business orders a quarter from leads on social", kind=Objective.Kind.PROACTIVE,
        category="sales", kpi="sales", baseline=Decimal("25"), target=Decimal("60"), direction="higher", **common)
    for days_ago, value in [(40, "22"), (10, "31")]:
        services.kpi_value_add(actor=sven, objective=sales, value=Decimal(value),
                               measured_on=today - timedelta(days=days_ago),
                               source="CRM, orders tagged 'social lead' (quarter to date)")

    # Audience segments, of several kinds.
    segments = {}
    for owner, name, kind, description, reach in [
        (own_marketing, "Urban professionals, 25-40", Segment.Kind.DEMOGRAPHIC,
         "City dwellers with a steady income who buy online on weekday evenings and expect delivery next day.",
         [MASTODON, X]),
        (own_marketing, "Privacy-minded early adopters", Segment.Kind.TECHNOLOGY,
         "People who left the big platforms for the fediverse; they dislike hard selling and value openness "
         "about data.", [MASTODON]),
        (own_service, "Customers with an open order", Segment.Kind.BEHAVIOURAL,
         "Anyone waiting for a delivery, a return or a refund: they come to social when email is too slow.",
         [X, MASTODON]),
        (own_sales, "Small-business buyers", Segment.Kind.BEHAVIOURAL,
         "Offices, schools and shops ordering 20 to 500 units; they ask for quotes in public replies.", [X]),
        (own_marketing, "New parents", Segment.Kind.LIFE_STAGE,
         "Short on time, buying for a household that just changed; they respond to practical, honest advice.",
         [MASTODON]),
    ]:
        segments[name] = services.segment_create(
            actor=owner.user, strategy=strategy, owner=owner, name=name, kind=kind, description=description,
            accounts=[accounts[h] for h in reach])

    # Two channel plans. The X plan promises 24/7 care, but the channel's service window is New York office
    # hours: the strategy page shows the two side by side and warns until one of them changes.
    services.channel_plan_create(
        actor=mark, strategy=strategy, owner=own_marketing, account=accounts[MASTODON],
        rationale=("Our most engaged community, and where the privacy-minded early adopters and urban "
                   "professionals talk about us. Conversation first, promotion sparingly."),
        tone=("Warm, plain and a little playful; content warnings where the instance expects them, alt text on "
              "every image, no engagement bait. Hashtags in CamelCase."),
        posts_per_week=5, promised_coverage=ChannelPlan.Coverage.ALWAYS, budget=Decimal("1500.00"), currency="EUR",
        segments=[segments["Urban professionals, 25-40"], segments["Privacy-minded early adopters"],
                  segments["New parents"]])
    services.channel_plan_create(
        actor=rita, strategy=strategy, owner=own_service, account=accounts[X],
        rationale=("Customers with an open order and business buyers reach for X when email is slow; it is our "
                   "public help desk, so answers are short and move to direct messages for order details."),
        tone=("Short, human and signed with the agent's first name; never argue in public, move personal data "
              "to DMs. Threads for outages."),
        posts_per_week=3, promised_coverage=ChannelPlan.Coverage.ALWAYS, budget=Decimal("0.00"), currency="EUR",
        segments=[segments["Customers with an open order"], segments["Small-business buyers"]])

    # A campaign that has nearly spent its budget: the 90% alert went to the accountable SMM.
    campaign = services.campaign_create(
        actor=mark, strategy=strategy, owner=own_marketing, accounts=[accounts[MASTODON]], objective=traffic,
        name=CAMPAIGN_NAME, starts_on=today - timedelta(days=28), ends_on=today + timedelta(days=10),
        budget=CAMPAIGN_BUDGET, currency="EUR")
    for days_ago, amount, note in CAMPAIGN_SPEND:
        services.spend_add(actor=mark, campaign=campaign, amount=amount, currency="EUR",
                           spent_on=today - timedelta(days=days_ago), note=note)

    # The decision log.
    for days_ago, decided_by, title, rationale, alternatives in [
        (50, sofia, "Two channels for the consumer brand: Mastodon and X",
         "Our customers and our community are there, and two channels are what customer service can staff. "
         "We would rather answer well on two networks than badly on five.",
         "Instagram and TikTok: large audiences, but video-first, and no one in customer service to answer "
         "there. Facebook: our older customers, but most now reach us by email. Revisit at the next review."),
        (47, rita, "Customer service owns response times; marketing does not post during outages",
         "In the last outage promotional posts went out while customers waited for answers. Customer service "
         "now decides when promotion pauses on both channels.",
         "A shared posting calendar with no owner (tried in 2025, nobody paused anything); a manual "
         "'stop' rota in marketing (depends on one person being awake)."),
        (20, sofia, "Winter sale budget: 4,500 EUR on promoted posts and one creator",
         "The autumn test showed promoted posts on Mastodon bring shop visits at half the cost of display ads. "
         "One creator partnership to reach new parents.",
         "6,000 EUR with two creators (no evidence yet that the second audience buys); no paid spend at all "
         "(the traffic objective would slip by a quarter)."),
    ]:
        services.decision_add(actor=sofia, strategy=strategy, decided_on=today - timedelta(days=days_ago),
                              decided_by=decided_by, title=title, rationale=rationale, alternatives=alternatives)

    return services.strategy_set_status(
        actor=sofia, strategy=strategy, status=Strategy.Status.ACTIVE,
        reason="Agreed with customer service and sales at the kick-off meeting")


def _load_draft(people: dict[str, User], departments: dict[str, Department], accounts: dict[str, SocialAccount],
                today: date) -> str:
    """The employer-brand draft, owned by marketing alone. Asking for it to
    become active is refused, and the reason is returned (the draft stays)."""
    sofia, carlos = people["sofia"], people["carlos"]
    careers = Brand.objects.get(slug=CAREERS_SLUG)
    strategy = services.strategy_create(
        actor=sofia, brand=careers, title=DRAFT_TITLE, accountable=sofia,
        summary=("Show what it is like to work here, so that good people apply. A first draft by marketing; "
                 "HR and legal still need to join before it can go live."))
    owner = services.owner_add(actor=sofia, strategy=strategy, user=carlos, department=departments["marketing"],
                               responsibility="Employer-brand content and the LinkedIn page.")
    services.objective_create(
        actor=carlos, strategy=strategy, owner=owner, accounts=[accounts[LINKEDIN]],
        title="Hire eight people a year through LinkedIn", kind=Objective.Kind.PROACTIVE,
        category="employer_brand", kpi="hires", baseline=Decimal("3"), target=Decimal("8"), direction="higher",
        starts_on=today, deadline=today + timedelta(days=365))
    services.segment_create(
        actor=carlos, strategy=strategy, owner=owner, name="Graduates and career changers",
        kind=Segment.Kind.LIFE_STAGE, accounts=[accounts[LINKEDIN]],
        description="People at the start of a career, or starting again, who look for training and a team.")
    # strategy_set_status runs in its own savepoint: the refusal rolls back only itself.
    try:
        services.strategy_set_status(actor=sofia, strategy=strategy, status=Strategy.Status.ACTIVE,
                                     reason="Ready to go live")
    except ValidationError as refused:
        return " ".join(refused.message_dict.get("status", refused.messages))
    return "it became active (unexpected)"
