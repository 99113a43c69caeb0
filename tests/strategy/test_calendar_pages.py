"""The calendar pages: month, week and list views in the viewer's time zone, the filters, moving a post by drag
(the endpoint) or by its keyboard form with CSRF on, the cadence guide, the service-hours warning, a fixed number
of queries, and who sees what."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from strategy.models import ChannelPlan, Post, Strategy, StrategyOwner
from strategy.services import posts as svc
from tests.conftest import sign_in
from tests.strategy.conftest import business_hours

MADRID = ZoneInfo("Europe/Madrid")
URL = "/strategy/calendar/"
MOVE = "/strategy/calendar/move/"


def future_day(days=20) -> date:
    """A weekday well ahead, so every time on it is in the future."""
    day = timezone.now().astimezone(MADRID).date() + timedelta(days=days)
    while day.weekday() > 3:  # Monday to Thursday: the day after is a weekday too
        day += timedelta(days=1)
    return day


def madrid(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=MADRID)


def draft(team, when, *, accounts=None, author="author", text="Winter opening hours are online.") -> Post:
    return svc.post_create(actor=team[author], text=text, accounts=accounts or team["accounts"], scheduled_at=when)


def approved(team, when, **kwargs) -> Post:
    post = draft(team, when, **kwargs)
    svc.post_submit(actor=team[kwargs.get("author", "author")], post=post)
    return svc.post_approve(actor=team["approver"], post=post)


@pytest.fixture
def madrid_team(team):
    for name in ("author", "approver", "publisher", "specialist", "executive", "outsider"):
        team[name].time_zone = "Europe/Madrid"
        team[name].save(update_fields=["time_zone"])
    return team


def chip(pk, day, hhmm, place="l") -> str:
    return f'data-post="{pk}" data-day="{day.isoformat()}" data-time="{hhmm}"'


# --- the views -------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_post_at_2330_utc_shows_on_the_next_day_for_a_madrid_viewer_in_every_view(madrid_team, client_for):
    team = madrid_team
    day = future_day()
    utc_day = datetime.combine(day, time(23, 30), tzinfo=UTC)
    post = draft(team, utc_day)
    local = utc_day.astimezone(MADRID)
    assert local.date() == day + timedelta(days=1)
    client = client_for(team["approver"])
    for view in ("month", "week", "list"):
        response = client.get(URL, {"view": view, "date": local.date().isoformat()})
        assert response.status_code == 200, view
        html = response.content.decode()
        assert chip(post.pk, local.date(), local.strftime("%H:%M")) in html, view
        author = escape(team["author"].get_full_name() or team["author"].username)
        assert "Draft" in html and f"by {author}" in html and "@acme" in html  # state in words, author, handle
    week = client.get(URL, {"view": "week", "date": local.date().isoformat()}).content.decode()
    # In the week grid, the chip sits in the slot of its local day and hour.
    slot = re.search(rf'data-drop-date="{local.date().isoformat()}" data-drop-hour="{local.hour:02d}"[^>]*>(.*?)</td>',
                     week, re.S)
    assert slot and f'data-post="{post.pk}"' in slot.group(1)
    # A UTC viewer sees it on the UTC day.
    team["approver"].time_zone = "UTC"
    team["approver"].save(update_fields=["time_zone"])
    html = client.get(URL, {"view": "list", "date": day.isoformat()}).content.decode()
    assert chip(post.pk, day, "23:30") in html


@pytest.mark.django_db
def test_the_month_shows_only_the_posts_of_its_weeks(madrid_team, client_for):
    day = future_day()
    inside = draft(madrid_team, madrid(day, 10))
    far = draft(madrid_team, madrid(day + timedelta(days=70), 10), text="Much later")
    html = client_for(madrid_team["approver"]).get(URL, {"date": day.isoformat()}).content.decode()
    assert f'data-post="{inside.pk}"' in html and f'data-post="{far.pk}"' not in html
    assert 'data-testid="calendar-month"' in html and "10:00" in html


@pytest.mark.django_db
def test_a_busy_day_shows_a_few_chips_and_says_how_many_more(madrid_team, client_for, monkeypatch):
    from strategy import calendar_view

    day = future_day()
    posts = [draft(madrid_team, madrid(day, 9 + i), text=f"Post {i}") for i in range(6)]
    client = client_for(madrid_team["approver"])
    html = client.get(URL, {"date": day.isoformat()}).content.decode()
    assert "+2 more" in html
    assert html.count('data-testid="chip-g-') == 4 and html.count('data-testid="chip-l-') == 6
    monkeypatch.setattr(calendar_view, "LIST_LIMIT", 5)
    html = client.get(URL, {"view": "list", "date": day.isoformat()}).content.decode()
    assert html.count('data-testid="chip-l-') == 5 and f'data-post="{posts[5].pk}"' not in html
    assert "The first 5 posts are listed; 1 more is not." in html


@pytest.mark.django_db
def test_the_calendar_needs_a_sign_in_and_the_second_factor(madrid_team, client_for):
    assert Client().get(URL).status_code == 302
    response = client_for(madrid_team["approver"], second_factor=False).get(URL)
    assert response.status_code == 302 and not response.url.startswith(URL)


# --- filters ---------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_filters_narrow_the_posts_and_a_bad_value_is_a_400_naming_the_field(madrid_team, client_for):
    from accounts.models import Department
    from strategy.models import Brand

    team = madrid_team
    day = future_day()
    on_x = draft(team, madrid(day, 10), accounts=[team["x"]], text="Only on X")
    on_mastodon = draft(team, madrid(day, 11), accounts=[team["mastodon"]], text="Only on Mastodon")
    approved_post = approved(team, madrid(day, 12), accounts=[team["mastodon"]], text="Approved one")
    brand = Brand.objects.create(name="Acme", slug="acme")
    brand.accounts.add(team["x"])
    service = Department.objects.create(name="Service desk", slug="service-desk")
    team["mastodon"].departments.add(service)
    client = client_for(team["approver"])

    def shown(**params):
        html = client.get(URL, {"view": "list", "date": day.isoformat(), **params}).content.decode()
        return {p.pk for p in (on_x, on_mastodon, approved_post) if f'data-post="{p.pk}"' in html}

    assert shown() == {on_x.pk, on_mastodon.pk, approved_post.pk}
    assert shown(account=team["x"].pk) == {on_x.pk}
    assert shown(brand=brand.pk) == {on_x.pk}
    assert shown(department=service.pk) == {on_mastodon.pk, approved_post.pk}
    assert shown(state="scheduled") == {approved_post.pk}
    for field, value in (("account", "999999"), ("state", "lost"), ("date", "31/12/2030"), ("view", "year"),
                         ("campaign", "abc")):
        response = client.get(URL, {field: value})
        assert response.status_code == 400, field
        assert f'data-field="{field}"' in response.content.decode(), field


# --- moving ----------------------------------------------------------------------------------------------------

def csrf_client(user) -> Client:
    return sign_in(Client(enforce_csrf_checks=True), user)


def token_of(client) -> str:
    html = client.get(URL, {"view": "list"}).content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.mark.django_db
def test_moving_an_approved_post_to_another_day_keeps_its_time_state_and_approvals(madrid_team):
    team = madrid_team
    day = future_day()
    post = approved(team, madrid(day, 10, 15))
    assert post.state == Post.State.SCHEDULED
    approvals = list(post.approvals.values_list("pk", flat=True))
    client = csrf_client(team["approver"])
    # Without the token: refused, nothing moves.
    response = client.post(MOVE, {"post": post.pk, "date": (day + timedelta(days=1)).isoformat()})
    assert response.status_code == 403
    assert Post.objects.get(pk=post.pk).scheduled_at == madrid(day, 10, 15)
    # With it: the keyboard form (no JavaScript) moves it and goes back to the calendar.
    token = token_of(client)
    response = client.post(MOVE + f"?view=month&date={day.isoformat()}",
                           {"post": post.pk, "date": (day + timedelta(days=1)).isoformat(),
                            "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response.url.startswith(URL) and "view=month" in response.url
    moved = Post.objects.get(pk=post.pk)
    assert moved.scheduled_at == madrid(day + timedelta(days=1), 10, 15)  # same local time of day
    assert moved.state == Post.State.SCHEDULED
    assert list(moved.approvals.values_list("pk", flat=True)) == approvals
    page = client.get(response.url).content.decode()
    assert "Post moved" in page


@pytest.mark.django_db
def test_the_drag_posts_a_day_and_hour_and_gets_the_calendar_back(madrid_team):
    team = madrid_team
    day = future_day()
    post = draft(team, madrid(day, 10, 15))
    client = csrf_client(team["author"])
    token = token_of(client)
    response = client.post(MOVE + f"?view=week&date={day.isoformat()}",
                           {"post": post.pk, "date": day.isoformat(), "time": "16:15"},
                           HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="calendar-region"' in html and "<html" not in html and "Post moved to" in html
    assert chip(post.pk, day, "16:15") in html
    assert Post.objects.get(pk=post.pk).scheduled_at == madrid(day, 16, 15)


@pytest.mark.django_db
def test_a_person_without_the_right_gets_403_and_the_post_stays(madrid_team):
    team = madrid_team
    day = future_day()
    post = approved(team, madrid(day, 10))
    # The specialist sees every post and may draft, but moving an approved post needs approve or publish.
    client = csrf_client(team["specialist"])
    token = token_of(client)
    response = client.post(MOVE, {"post": post.pk, "date": (day + timedelta(days=2)).isoformat()},
                           HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'role="alert"' in html and "Moving an approved post needs approve or publish" in html
    assert Post.objects.get(pk=post.pk).scheduled_at == madrid(day, 10)
    # Without JavaScript: the whole page, with the same message.
    response = client.post(MOVE, {"post": post.pk, "date": (day + timedelta(days=2)).isoformat(),
                                  "csrfmiddlewaretoken": token})
    assert response.status_code == 403 and "Moving an approved post needs" in response.content.decode()
    # Someone who cannot see the post cannot find it.
    outsider = csrf_client(team["outsider"])
    response = outsider.post(MOVE, {"post": post.pk, "date": day.isoformat(),
                                    "csrfmiddlewaretoken": token_of(outsider)})
    assert response.status_code == 404
    assert Post.objects.get(pk=post.pk).scheduled_at == madrid(day, 10)


@pytest.mark.django_db
def test_a_time_in_the_past_is_a_400_with_the_message(madrid_team):
    team = madrid_team
    post = draft(team, madrid(future_day(), 10))
    client = csrf_client(team["author"])
    token = token_of(client)
    yesterday = (timezone.now().astimezone(MADRID) - timedelta(days=1)).date()
    response = client.post(MOVE, {"post": post.pk, "date": yesterday.isoformat(), "time": "10:00"},
                           HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "The time has passed: choose a time in the future." in response.content.decode()
    response = client.post(MOVE, {"post": post.pk, "date": "not a date", "csrfmiddlewaretoken": token})
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert Post.objects.get(pk=post.pk).scheduled_at == madrid(future_day(), 10)


# --- the cadence guide and service hours ------------------------------------------------------------------------

@pytest.fixture
def plan(madrid_team):
    from accounts.models import Department
    from strategy.models import Brand

    team = madrid_team
    brand = Brand.objects.create(name="Acme", slug="acme-cal")
    brand.accounts.add(team["x"])
    strategy = Strategy.objects.create(brand=brand, title="Acme on social", status=Strategy.Status.ACTIVE,
                                       accountable=team["publisher"], created_by=team["publisher"])
    owner = StrategyOwner.objects.create(strategy=strategy, user=team["publisher"],
                                         department=Department.objects.create(name="Social", slug="social-cal"))
    return ChannelPlan.objects.create(strategy=strategy, owner=owner, account=team["x"], rationale="Reach",
                                      posts_per_week=3)


@pytest.mark.django_db
def test_the_cadence_guide_counts_approved_and_scheduled_posts_of_the_week(madrid_team, plan, client_for):
    team = madrid_team
    day = future_day()
    approved(team, madrid(day, 10), accounts=[team["x"]])
    draft(team, madrid(day, 11), accounts=[team["x"]])  # a draft is not counted
    approved(team, madrid(day + timedelta(days=7), 10), accounts=[team["x"]])  # another week
    client = client_for(team["approver"])
    week = client.get(URL, {"view": "week", "date": day.isoformat()}).content.decode()
    assert "Acme X: 3 a week planned, 1 scheduled" in week
    assert "Acme Mastodon: " not in week  # no plan, no guide
    # The state filter does not change what the channel has scheduled.
    week = client.get(URL, {"view": "week", "date": day.isoformat(), "state": "draft"}).content.decode()
    assert "Acme X: 3 a week planned, 1 scheduled" in week
    month = client.get(URL, {"date": day.isoformat()}).content.decode()
    assert "Acme X: 3 a week planned, 1 scheduled" in month
    # A strategy that is not active plans nothing.
    Strategy.objects.filter(pk=plan.strategy_id).update(status=Strategy.Status.RETIRED)
    week = client.get(URL, {"view": "week", "date": day.isoformat()}).content.decode()
    assert "a week planned" not in week


@pytest.mark.django_db
def test_a_post_outside_a_channels_service_hours_is_warned_and_the_week_marks_the_hours(madrid_team, client_for):
    team = madrid_team
    business_hours(team["x"])  # weekdays 09-13 and 14-18, Madrid
    day = future_day()
    late = draft(team, madrid(day, 23), text="Tell us what you think!")
    inside = draft(team, madrid(day, 10), text="Morning post")
    html = client_for(team["approver"]).get(URL, {"view": "week", "date": day.isoformat()}).content.decode()
    warning = "Outside Acme X&#x27;s service hours: replies will wait."

    def list_chip(post):
        found = html[html.index(f'data-testid="chip-l-{post.pk}"'):]
        return found[:found.index("</li>")]

    assert warning in list_chip(late)
    assert warning not in list_chip(inside)
    slot = re.search(rf'data-drop-date="{day.isoformat()}" data-drop-hour="23"[^>]*>', html).group(0)
    assert 'data-closed="Acme X"' in slot
    open_slot = re.search(rf'data-drop-date="{day.isoformat()}" data-drop-hour="10"[^>]*>', html).group(0)
    assert "data-closed" not in open_slot


# --- cost and visibility ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_month_costs_the_same_number_of_queries_for_3_and_30_posts(madrid_team, plan, client_for):
    team = madrid_team
    business_hours(team["x"])
    day = future_day()
    start = day.replace(day=1) if day.day < 20 else day
    authors = ("author", "approver", "publisher")

    def add(n, offset):
        for i in range(n):
            when = madrid(start + timedelta(days=(offset + i) % 9), 8 + i % 12, i % 60)
            draft(team, when, author=authors[i % 3], accounts=[team["x"]] if i % 2 else team["accounts"])

    client = client_for(team["approver"])
    params = {"date": start.isoformat()}
    add(3, 0)
    client.get(URL, params)  # warm up
    counts = {}
    for view in ("month", "week", "list"):
        with CaptureQueriesContext(connection) as three:
            assert client.get(URL, {**params, "view": view}).status_code == 200
        counts[view] = len(three)
    add(27, 3)
    for view in ("month", "week", "list"):
        with CaptureQueriesContext(connection) as thirty:
            response = client.get(URL, {**params, "view": view})
            assert response.status_code == 200
        assert len(thirty) == counts[view], (view, [q["sql"] for q in thirty.captured_queries])
    assert response.content.decode().count('data-testid="chip-l-') == 30  # the list shows all of them


@pytest.mark.django_db
def test_a_representative_without_rights_sees_no_other_peoples_posts(madrid_team, client_for):
    team = madrid_team
    day = future_day()
    post = draft(team, madrid(day, 10))
    html = client_for(team["outsider"]).get(URL, {"view": "list", "date": day.isoformat()}).content.decode()
    assert f'data-post="{post.pk}"' not in html
    assert "No scheduled posts here" in html
    # The author sees their own; a drafter on the account sees it too.
    for name in ("author", "specialist"):
        html = client_for(team[name]).get(URL, {"view": "list", "date": day.isoformat()}).content.decode()
        assert f'data-post="{post.pk}"' in html, name


@pytest.mark.django_db
def test_the_navigation_shows_the_calendar_to_those_who_work_with_posts(madrid_team, client_for):
    dashboard = reverse("dashboard")
    for name, expected in (("author", True), ("approver", True), ("executive", True), ("outsider", False)):
        html = client_for(madrid_team[name]).get(dashboard).content.decode()
        assert (f'href="{URL}"' in html) is expected, name


@pytest.mark.django_db
def test_dates_out_of_range_and_times_the_clocks_skip_are_a_400_not_a_500(madrid_team, client_for):
    team = madrid_team
    client = client_for(team["author"])
    for params in ({"date": "9999-12-15"}, {"date": "0001-01-10"}, {"view": "week", "date": "9999-12-31"}):
        response = client.get(URL, params)
        assert response.status_code == 400 and "between the years 2000 and 2100" in response.content.decode()
    post = draft(team, madrid(future_day(), 10))
    client = csrf_client(team["author"])
    token = token_of(client)
    response = client.post(MOVE, {"post": post.pk, "date": "9999-12-31", "time": "23:00"},
                           HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    # 02:30 on the last Sunday of March 2027 does not exist in Madrid (the clocks jump from 02:00 to 03:00).
    response = client.post(MOVE, {"post": post.pk, "date": "2027-03-28", "time": "02:30"},
                           HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "does not exist" in response.content.decode()
    assert Post.objects.get(pk=post.pk).scheduled_at == madrid(future_day(), 10)
