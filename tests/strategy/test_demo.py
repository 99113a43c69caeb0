"""The demo strategy register, as a newcomer finds it after ``seed_demo``:
one active strategy shared by three departments whose service KPIs are
computed from the demo inbox, a channel plan that promises more than its
channel's service window, a campaign that has nearly spent its budget (one
alert to the social media manager), and a marketing-only draft that refuses
to become active and says why.

Seeded once for the module (the inbox demo takes about ten seconds) with a
frozen "now", as ``tests/inbox/test_demo_history.py`` does."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification, User
from inbox.models import ServiceWindow
from security.models import AuditEvent
from strategy import services
from strategy.demo import ACTIVE_TITLE, DRAFT_TITLE, load_demo_strategy
from strategy.models import Brand, Campaign, ChannelPlan, Decision, Objective, Strategy
from strategy.progress import objective_figures
from strategy.selectors import counting_owners, flagged, register

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", quiet_logins=True, now=NOW.isoformat())
        yield
        call_command("flush", interactive=False, verbosity=0)


def _active() -> Strategy:
    return Strategy.objects.get(title=ACTIVE_TITLE)


def _draft() -> Strategy:
    return Strategy.objects.get(title=DRAFT_TITLE)


def test_two_brands_share_the_demo_channels_and_sofia_manages_both(demo):
    brands = list(Brand.objects.order_by("name"))
    assert [b.name for b in brands] == ["Brand", "Brand Careers"]
    handles = [set(b.accounts.values_list("handle", flat=True)) for b in brands]
    assert handles == [{"@brand@social.example", "@brand_care"}, {"brand-careers"}]
    sofia = User.objects.get(username="sofia")
    assert all(b.managers.filter(pk=sofia.pk).exists() for b in brands)


def test_the_active_strategy_is_owned_by_three_departments_and_not_flagged(demo):
    strategy = _active()
    assert strategy.status == Strategy.Status.ACTIVE
    assert strategy.accountable.username == "sofia"
    departments = set(counting_owners().filter(strategy=strategy).values_list("department__slug", flat=True))
    assert departments == {"marketing", "customer-service", "sales"}
    assert not flagged(register()).exists()
    # Every part has a version authored by the person who did it, and every step is audited.
    assert strategy.history.filter(history_user__username="sofia", status="active").exists()
    assert AuditEvent.objects.filter(action="strategy.status_changed", target_id=str(strategy.pk)).count() == 1
    assert strategy.segments.values("kind").distinct().count() >= 3
    decisions = Decision.objects.filter(strategy=strategy)
    assert decisions.count() >= 3 and all(d.alternatives for d in decisions)


def test_reactive_objectives_are_computed_from_the_demo_inbox(demo):
    reactive = Objective.objects.filter(strategy=_active(), kind=Objective.Kind.REACTIVE)
    assert set(reactive.values_list("kpi", flat=True)) == {
        "first_response_median", "sla_attainment", "negative_share", "complaint_resolution_rate"}
    for objective in reactive:
        figures = objective_figures(objective, now=NOW)
        assert figures.source == "computed"
        assert figures.current is not None, objective.kpi
        assert figures.progress in {"on_track", "at_risk", "off_track"}
    assert {o.owner.department.slug for o in reactive} >= {"customer-service"}


def test_proactive_objectives_have_dated_values_entered_by_their_department(demo):
    proactive = Objective.objects.filter(strategy=_active(), kind=Objective.Kind.PROACTIVE)
    assert {"followers", "site_traffic"} <= set(proactive.values_list("kpi", flat=True))
    followers = proactive.get(kpi="followers")
    values = list(followers.manual_values.order_by("measured_on"))
    assert len(values) >= 3 and all(v.source and v.entered_by.username == "mark" for v in values)
    assert objective_figures(followers, now=NOW).current == values[-1].value


def test_the_draft_refuses_to_become_active_and_says_why(demo):
    draft = _draft()
    assert draft.status == Strategy.Status.DRAFT
    assert set(draft.owners.values_list("department__slug", flat=True)) == {"marketing"}
    with pytest.raises(ValidationError) as refused:
        services.strategy_set_status(actor=User.objects.get(username="sofia"), strategy=draft,
                                     status=Strategy.Status.ACTIVE, reason="Try again")
    message = refused.value.message_dict["status"][0]
    assert "at least two departments" in message and "Marketing" in message
    draft.refresh_from_db()
    assert draft.status == Strategy.Status.DRAFT


def test_the_campaign_is_near_its_budget_and_sofia_was_alerted_once(demo):
    campaign = Campaign.objects.get(strategy=_active())
    spent = services.campaign_spent(campaign)
    assert Decimal("0.90") * campaign.budget <= spent < campaign.budget
    assert campaign.alerted_90 and not campaign.alerted_100
    alerts = Notification.objects.filter(kind="strategy.budget")
    assert alerts.count() == 1
    assert alerts.get().recipient.username == "sofia" and campaign.name in alerts.get().text


def test_one_channel_plan_promises_more_than_its_service_window(demo):
    plans = list(ChannelPlan.objects.filter(strategy=_active()).select_related("account"))
    assert len(plans) == 2

    def disagrees(plan):
        always_open = ServiceWindow.objects.get(account=plan.account).always_open
        return (plan.promised_coverage == ChannelPlan.Coverage.ALWAYS) != always_open

    assert [p.account.handle for p in plans if disagrees(p)] == ["@brand_care"]


def test_sofia_sees_the_warning_on_the_strategy_page(demo, client_for):
    page = client_for(User.objects.get(username="sofia")).get(f"/strategy/{_active().pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-testid="coverage-warning"') == 1
    warning = html.split('data-testid="coverage-warning"', 1)[1].split("</p>", 1)[0]
    assert "24/7" in warning and "@brand_care" in warning


def test_loading_again_changes_nothing(demo):
    counts = (Brand.objects.count(), Strategy.objects.count(), Objective.objects.count(),
              Notification.objects.filter(kind="strategy.budget").count())
    load_demo_strategy(None, now=NOW)
    assert counts == (Brand.objects.count(), Strategy.objects.count(), Objective.objects.count(),
                      Notification.objects.filter(kind="strategy.budget").count()) == (2, 2, counts[2], 1)


# --- the content calendar's demo posts -------------------------------------------------------------------------

def test_the_demo_calendar_has_two_weeks_of_posts_in_every_state(demo):
    from inbox.models import SandboxPost
    from strategy.models import Post, PostTarget

    states = set(Post.objects.values_list("state", flat=True))
    assert states == {"draft", "in_review", "approved", "scheduled", "published", "failed", "cancelled"}
    times = list(Post.objects.filter(scheduled_at__isnull=False).values_list("scheduled_at", flat=True))
    assert min(times) < NOW - timezone.timedelta(days=6) and max(times) > NOW + timezone.timedelta(days=6)
    # What was published is on the sandbox channels, once per target.
    published = PostTarget.objects.filter(state="published")
    assert published.count() == SandboxPost.objects.filter(kind="post").count() >= 5
    # Every post for more than one channel, a campaign post, a returned draft with its reason, and a sensitive
    # statement that waits for its second approval.
    assert Post.objects.filter(campaign__name="Winter sale on Mastodon").count() >= 3
    returned = Post.objects.get(state="draft", review_reason__startswith="Check the giveaway rules")
    assert returned.comments.filter(kind="returned").exists()
    statement = Post.objects.get(text__startswith="A statement on the delivery delays")
    from strategy.services.posts import approvals_needed

    assert statement.is_sensitive and statement.state == "in_review"
    assert approvals_needed(statement) == [
        "a second person's approval (sensitive post)"]


def test_the_post_due_after_seeding_is_published_by_the_publisher(demo):
    from strategy.models import Post
    from strategy.publishing import publish_due

    due = Post.objects.get(text__startswith="Winter sale, last three days")
    assert due.state == "scheduled"
    publish_due(now=NOW + timezone.timedelta(minutes=11))
    due.refresh_from_db()
    assert due.state == "published" and due.targets.get().url.startswith("/inbox/sandbox/")
