"""The reputation report's drill-down into the inbox: each query parameter
narrows the list (page, live fragment and API alike) on hand-built
conversations, always inside what the viewer may see; a bad value is a 400
naming the parameter; the list says what it is filtered on."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from inbox.models import Author, Conversation, ConversationTag, Intent, Message, Sentiment, Tag
from tests.accounts.factories import DepartmentFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

NOV = {"opened_from": "2026-11-01T00:00:00+01:00", "opened_to": "2026-12-01T00:00:00+01:00"}
ARRIVED_NOV = {"arrived_from": "2026-11-01T00:00:00+01:00", "arrived_to": "2026-12-01T00:00:00+01:00"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def conversation(account, key, *, opened, department, messages=(), tags=(), **fields):
    """A conversation opened at ``opened`` with its messages, each (direction, sent_at, sentiment, outside hours)."""
    author, _ = Author.objects.get_or_create(platform="mastodon", external_id=f"author-{key}",
                                             defaults={"handle": f"@{key}@example.social"})
    last = max([at(m[1]) for m in messages] or [at(opened)])
    c = Conversation.objects.create(account=account, thread_key=f"thread:{key}", author=author, department=department,
                                    opened_at=at(opened), created_at=at(opened), last_message_at=last,
                                    last_message_preview=f"text of {key}", **fields)
    for n, (direction, sent_at, sentiment, outside) in enumerate(messages):
        Message.objects.create(conversation=c, account=account, platform_message_id=f"{key}-{n}",
                               direction=direction, author=author if direction == "in" else None,
                               text=f"{key} message {n}", sent_at=at(sent_at), sentiment=sentiment,
                               outside_service_hours=outside)
    for name in tags:
        ConversationTag.objects.create(conversation=c, tag=Tag.objects.get_or_create(name=name)[0])
    return c


@pytest.fixture
def world(make_member):
    care = DepartmentFactory(name="Customer care")
    billing = DepartmentFactory(name="Billing")
    brand = SocialAccountFactory(display_name="Brand", handle="@brand@example.social", sandbox=True)
    brand.departments.add(care, billing)
    other = SocialAccountFactory(display_name="Other channel", handle="@other@example.social")
    other.departments.add(care)
    late = dict(first_response_at=at("2026-11-10T15:00:00+00:00"), first_response_breached=True)
    resolved = dict(status=Conversation.Status.RESOLVED, resolved_at=at("2026-11-11T09:00:00+00:00"))
    c = {
        # Opened and written in November, negative and at night, tagged, an influencer, answered late, resolved.
        "nov": conversation(brand, "nov", opened="2026-11-10T12:00:00+00:00", department=care,
                            messages=[("in", "2026-11-10T12:00:00+00:00", Sentiment.NEGATIVE, True),
                                      ("out", "2026-11-10T15:00:00+00:00", Sentiment.NEUTRAL, False)],
                            tags=["Delivery"], is_influencer=True, intent=Intent.COMPLAINT, sla_breached=True,
                            **late, **resolved),
        # 00:30 on 1 November in Madrid, still 31 October in UTC: inside November for the viewer's offset.
        "edge": conversation(brand, "edge", opened="2026-10-31T23:30:00+00:00", department=care,
                             messages=[("in", "2026-10-31T23:30:00+00:00", Sentiment.NEUTRAL, True)],
                             tags=["refund"], is_sensitive=True, status=Conversation.Status.OPEN,
                             first_response_at=at("2026-11-01T08:00:00+00:00"), first_response_breached=False),
        # Exactly 1 December 00:00 in Madrid: outside the half-open November range; unanswered.
        "dec": conversation(other, "dec", opened="2026-11-30T23:00:00+00:00", department=care,
                            messages=[("in", "2026-11-30T23:00:00+00:00", Sentiment.POSITIVE, False)]),
        # Another department's conversation that matches every November filter.
        "billing": conversation(brand, "billing", opened="2026-11-15T10:00:00+00:00", department=billing,
                                messages=[("in", "2026-11-15T10:00:00+00:00", Sentiment.NEGATIVE, True)],
                                tags=["delivery"], is_influencer=True, **late, **resolved),
        # Its negative message came at night in October; in November only a neutral one in hours (and our own
        # reply, "negative" and at night, which is not a customer's message).
        "mixed": conversation(brand, "mixed", opened="2026-10-20T10:00:00+00:00", department=care,
                              messages=[("in", "2026-10-20T22:00:00+00:00", Sentiment.NEGATIVE, True),
                                        ("in", "2026-11-05T10:00:00+00:00", Sentiment.NEUTRAL, False),
                                        ("out", "2026-11-06T23:00:00+00:00", Sentiment.NEGATIVE, True)]),
    }
    executive = make_member(Role.EXECUTIVE, username="eve", time_zone="Europe/Madrid")
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="rita", time_zone="Europe/Madrid")
    return {"care": care, "billing": billing, "brand": brand, "other": other, "c": c, "executive": executive,
            "rep": rep}


def names(world, ids) -> set[str]:
    by_id = {c.pk: name for name, c in world["c"].items()}
    return {by_id[i] for i in ids}


def row_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-testid="conversation-row" data-conversation="(\d+)"', html)]


def page_names(client, world, params) -> set[str]:
    response = client.get(reverse("inbox:list"), params)
    assert response.status_code == 200, response.content.decode()[:2000]
    return names(world, row_ids(response.content.decode()))


def api_names(api, world, params) -> set[str]:
    response = api.get("/api/conversations/", params)
    assert response.status_code == 200, response.content
    return names(world, [row["id"] for row in response.json()["results"]])


CASES = [
    ({**NOV}, {"nov", "edge", "billing"}),
    ({"opened_from": NOV["opened_from"]}, {"nov", "edge", "billing", "dec"}),
    ({"opened_to": "2026-11-01T00:00:00+01:00"}, {"mixed"}),
    ({**ARRIVED_NOV}, {"nov", "edge", "billing", "mixed"}),
    ({"msg_sentiment": "negative"}, {"nov", "billing", "mixed"}),
    ({"msg_sentiment": "positive"}, {"dec"}),
    ({"outside_hours": "1"}, {"nov", "edge", "billing", "mixed"}),
    # One inbound message meets every message condition at once.
    ({**ARRIVED_NOV, "msg_sentiment": "negative"}, {"nov", "billing"}),
    ({**ARRIVED_NOV, "outside_hours": "1"}, {"nov", "edge", "billing"}),
    ({"msg_sentiment": "neutral", "outside_hours": "1"}, {"edge"}),
    ({"tag": "DELIVERY"}, {"nov", "billing"}),
    ({"tag": "deliv"}, set()),
    ({"influencer": "1"}, {"nov", "billing"}),
    ({"sensitive": "1"}, {"edge"}),
    ({"first_response": "late"}, {"nov", "billing"}),
    ({"first_response": "on_time"}, {"edge"}),
    ({"first_response": "unanswered"}, {"dec", "mixed"}),
    ({"resolved": "1"}, {"nov", "billing"}),
    ({"resolved": "0"}, {"edge", "dec", "mixed"}),
    ({"intent": "complaint"}, {"nov"}),
    ({"overdue": "1"}, {"nov"}),
    ({**NOV, "first_response": "late", "tag": "delivery", "influencer": "1"}, {"nov", "billing"}),
]


@pytest.mark.parametrize("params,expected", CASES)
def test_each_filter_narrows_the_page_and_the_api_alike(world, client_for, api_for, params, expected):
    query = {"status": "all", **params}
    assert page_names(client_for(world["executive"]), world, query) == expected
    assert api_names(api_for(fresh(world["executive"])), world, query) == expected


def test_channel_and_department_filters_combine_with_the_report_ones(world, client_for, api_for):
    executive = client_for(world["executive"])
    api = api_for(fresh(world["executive"]))
    for query, expected in (
        ({"account": world["other"].pk}, {"dec"}),
        ({"account": world["brand"].pk, **NOV}, {"nov", "edge", "billing"}),
        ({"department": world["billing"].pk, "influencer": "1"}, {"billing"}),
        ({"department": world["care"].pk, "resolved": "1"}, {"nov"}),
    ):
        assert page_names(executive, world, {"status": "all", **query}) == expected, query
        assert api_names(api, world, {"status": "all", **query}) == expected, query


def test_without_status_all_the_page_keeps_to_open_conversations(world, client_for, api_for):
    executive = client_for(world["executive"])
    assert page_names(executive, world, {"influencer": "1"}) == set()
    assert page_names(executive, world, {"status": "open", **NOV}) == {"edge"}
    assert api_names(api_for(fresh(world["executive"])), world, {"status": "open", **NOV}) == {"edge"}


def test_an_offset_sent_with_an_unencoded_plus_is_still_read(world, client_for):
    # A hand-typed link: "+01:00" not percent-encoded arrives as " 01:00".
    response = client_for(world["executive"]).get(
        "/inbox/?status=all&opened_from=2026-11-01T00:00:00+01:00&opened_to=2026-12-01T00:00:00+01:00")
    assert names(world, row_ids(response.content.decode())) == {"nov", "edge", "billing"}


# --- visibility ----------------------------------------------------------------------------------------------------

def test_a_representative_never_sees_another_departments_conversations(world, client_for, api_for):
    rep = client_for(world["rep"])
    api = api_for(fresh(world["rep"]))
    other_department = {"status": "all", "department": world["billing"].pk, **NOV}
    assert page_names(rep, world, other_department) == set()
    assert api_names(api, world, other_department) == set()
    # The same filters without a department: only the representative's own department's part.
    for query in ({"status": "all", "tag": "delivery"}, {"status": "all", "influencer": "1", **NOV},
                  {"status": "all", "first_response": "late", "resolved": "1"}):
        assert page_names(rep, world, query) == {"nov"}, query
        assert api_names(api, world, query) == {"nov"}, query
    response = rep.get(reverse("inbox:live"), other_department)
    assert response.status_code == 200 and row_ids(response.content.decode()) == []


def test_anonymous_follows_a_drilldown_link_to_the_login_page(world, client, api_for):
    response = client.get(reverse("inbox:list"), {"status": "all", **NOV})
    assert response.status_code == 302 and "login" in response["Location"]
    assert api_for().get("/api/conversations/", {"status": "all", **NOV}).status_code in (401, 403)


# --- bad input -----------------------------------------------------------------------------------------------------

BAD = [
    ({"opened_from": "yesterday"}, "opened_from", "ISO 8601"),
    ({"arrived_to": "2026-11-01T00:00:00"}, "arrived_to", "offset"),
    ({"opened_to": "2026-13-01T00:00:00+01:00"}, "opened_to", "ISO 8601"),
    ({"arrived_from": "1900-01-01T00:00:00+00:00"}, "arrived_from", "2000"),
    ({"msg_sentiment": "angry"}, "msg_sentiment", "angry"),
    ({"first_response": "soon"}, "first_response", "soon"),
    ({"resolved": "maybe"}, "resolved", "Use 1"),
    ({"influencer": "banana"}, "influencer", "Use 1"),
    ({"opened_from": "2026-12-01T00:00:00+01:00", "opened_to": "2026-11-01T00:00:00+01:00"}, "opened_to",
     "opened_to must be later than opened_from"),
    ({"arrived_from": "2026-11-01T00:00:00+01:00", "arrived_to": "2026-11-01T00:00:00+01:00"}, "arrived_to",
     "arrived_to must be later than arrived_from"),
    ({"tag": "x" * 61}, "tag", "60"),
]


@pytest.mark.parametrize("params,field,reason", BAD)
def test_a_bad_value_is_a_400_naming_the_field_on_page_api_and_live(world, client_for, api_for, params, field,
                                                                    reason):
    client = client_for(world["executive"])
    response = client.get(reverse("inbox:list"), {"status": "all", **params})
    html = response.content.decode()
    assert response.status_code == 400
    error = re.search(rf'<p class="field-error" data-field="{field}">{field}: ([^<]*)</p>', html)
    assert error and reason in error.group(1).replace("&#x27;", "'"), html[:3000]
    assert row_ids(html) == []

    response = api_for(fresh(world["executive"])).get("/api/conversations/", {"status": "all", **params})
    assert response.status_code == 400
    assert reason in " ".join(response.json()[field])

    response = client.get(reverse("inbox:live"), {"status": "all", **params})
    assert response.status_code == 400 and f"{field}: " in response.content.decode()


def test_the_existing_filters_still_refuse_and_accept_as_before(world, client_for, api_for):
    client = client_for(world["executive"])
    assert client.get(reverse("inbox:list"), {"sentiment": "angry"}).status_code == 400
    assert client.get(reverse("inbox:list"), {"overdue": "banana"}).status_code == 400
    assert page_names(client, world, {"status": "all", "sentiment": "neutral"}) == set(world["c"])
    api = api_for(fresh(world["executive"]))
    assert api.get("/api/conversations/", {"overdue": "banana"}).status_code == 400
    assert api_names(api, world, {}) == set(world["c"])
    assert api_names(api, world, {"status": "all"}) == set(world["c"])


# --- the banner ----------------------------------------------------------------------------------------------------

def banner(html: str) -> str | None:
    match = re.search(r'data-testid="report-filter-words">([^<]*)</span>', html)
    return match.group(1) if match else None


def test_the_list_says_in_plain_words_what_the_report_filtered_on(world, client_for):
    client = client_for(world["executive"])
    html = client.get(reverse("inbox:list"), {"status": "all", **NOV, "account": world["brand"].pk,
                                              "first_response": "late"}).content.decode()
    assert "Filtered from the report:" in html
    assert banner(html) == "opened 1–30 Nov 2026 · channel Brand (Mastodon sandbox) · late first response"
    assert re.search(r'<a href="/inbox/" data-testid="clear-report-filters">Clear filters</a>', html)

    html = client.get(reverse("inbox:list"), {
        "status": "all", **ARRIVED_NOV, "msg_sentiment": "negative", "outside_hours": "1",
        "department": world["care"].pk, "resolved": "0", "influencer": "1", "sensitive": "1"}).content.decode()
    assert banner(html) == ("a negative message arrived 1–30 Nov 2026 outside service hours · department Customer "
                            "care · influencers · sensitive · not resolved")

    html = client.get(reverse("inbox:list"), {
        "status": "all", "opened_from": "2026-10-28T00:00:00+01:00", "opened_to": "2026-11-04T00:00:00+01:00",
        "first_response": "unanswered"}).content.decode()
    assert banner(html) == "opened 28 Oct – 3 Nov 2026 · not answered yet"
    html = client.get(reverse("inbox:list"), {
        "status": "all", "arrived_from": "2026-11-10T09:30:00+01:00", "arrived_to": "2026-11-10T17:00:00+01:00",
    }).content.decode()
    assert banner(html) == "a customer message arrived 10 Nov 2026 09:30 – 10 Nov 2026 17:00"


def test_the_banner_follows_the_viewers_time_zone(world, client_for):
    world["executive"].time_zone = "UTC"
    world["executive"].save()
    html = client_for(world["executive"]).get(reverse("inbox:list"), {"status": "all", **NOV}).content.decode()
    assert banner(html) == "opened 31 Oct 2026 23:00 – 30 Nov 2026 23:00"


def test_no_banner_without_a_report_filter(world, client_for):
    html = client_for(world["executive"]).get(reverse("inbox:list"), {
        "status": "all", "account": world["brand"].pk, "intent": "complaint"}).content.decode()
    assert "Filtered from the report" not in html and 'data-testid="report-filters"' not in html


def test_the_banner_escapes_a_tag_name(world, client_for):
    evil = '<img src=x onerror="alert(1)">'
    Tag.objects.create(name=evil)
    html = client_for(world["executive"]).get(reverse("inbox:list"), {"status": "all", "tag": evil}).content.decode()
    assert evil not in html
    assert banner(html) == "tag “&lt;img src=x onerror=&quot;alert(1)&quot;&gt;”"


def test_the_filter_panel_keeps_the_report_filters_when_applied_again(world, client_for):
    html = client_for(world["executive"]).get(reverse("inbox:list"), {"status": "all", "tag": "delivery",
                                                                       **NOV}).content.decode()
    panel = re.search(r'<form method="get" action="/inbox/" data-testid="filters">(.*?)</form>', html, re.S).group(1)
    assert '<input type="hidden" name="tag" value="delivery">' in panel
    assert f'<input type="hidden" name="opened_from" value="{NOV["opened_from"]}">' in panel


# --- the filters travel: pages, live list, conversation links -----------------------------------------------------

def _many_influencers(world, n):
    author = Author.objects.create(platform="mastodon", external_id="crowd", handle="@crowd@example.social")
    start = at("2026-11-02T10:00:00+00:00")
    Conversation.objects.bulk_create([
        Conversation(account=world["brand"], thread_key=f"thread:crowd{i}", author=author, department=world["care"],
                     opened_at=start + timedelta(minutes=i), last_message_at=start + timedelta(minutes=i),
                     is_influencer=i % 3 == 0, first_response_due_at=start + timedelta(hours=1, minutes=i))
        for i in range(n)])


def test_keyset_pages_and_the_live_list_keep_the_filters(world, client_for):
    _many_influencers(world, 180)  # 60 influencers among them, all open and opened in November
    client = client_for(world["executive"])
    query = {"status": "open", "influencer": "1", **NOV}
    expected = set(Conversation.objects.filter(is_influencer=True, status="new").values_list("pk", flat=True))
    assert len(expected) == 60
    html = client.get(reverse("inbox:list"), query).content.decode()
    first = row_ids(html)
    assert len(first) == 50
    more = re.search(r'href="([^"]+)" data-testid="more"', html).group(1).replace("&amp;", "&")
    carried = parse_qs(urlparse(more).query)
    assert carried["influencer"] == ["1"] and carried["opened_from"] == [NOV["opened_from"]] and carried["after"]
    second = row_ids(client.get(more).content.decode())
    assert len(second) == 10 and set(first) | set(second) == expected

    live_url = re.search(r'id="inbox-live" hidden hx-get="([^"]+)"', html).group(1)
    live_url = live_url.replace("&amp;", "&")
    assert parse_qs(urlparse(live_url).query)["influencer"] == ["1"]
    live = client.get(live_url)
    assert live.status_code == 200 and set(row_ids(live.content.decode())) == set(first)

    # Opening a conversation keeps the filters in the list beside it, with the banner.
    link = re.search(r'class="conv-link" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert "influencer=1" in link
    page = client.get(link).content.decode()
    assert banner(page) and set(row_ids(page)) == set(first)


def test_the_api_next_link_keeps_the_filters(world, api_for):
    _many_influencers(world, 30)
    api = api_for(fresh(world["executive"]))
    body = api.get("/api/conversations/?" + urlencode({"influencer": "1", "page_size": 6, **NOV})).json()
    assert len(body["results"]) == 6 and "influencer=1" in body["next"]
    rest = api.get(body["next"]).json()["results"]
    got = {r["id"] for r in body["results"]} | {r["id"] for r in rest}
    # 10 crowd influencers plus the two of November ("nov", "billing").
    assert len(got) == 12 and all(r["is_influencer"] for r in body["results"] + rest)


def test_the_list_runs_a_fixed_number_of_queries_with_every_report_filter(world, client_for):
    client = client_for(world["executive"])
    query = {"status": "all", **NOV, **ARRIVED_NOV, "msg_sentiment": "negative", "outside_hours": "1",
             "tag": "delivery", "influencer": "1", "first_response": "late", "resolved": "1",
             "account": world["brand"].pk, "department": world["care"].pk}

    def count():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("inbox:list"), query)
        assert response.status_code == 200
        return len(row_ids(response.content.decode())), len(captured.captured_queries)

    client.get(reverse("inbox:list"), query)
    rows, small = count()
    assert rows == 1
    for i in range(20):
        conversation(world["brand"], f"more{i}", opened="2026-11-20T10:00:00+00:00", department=world["care"],
                     messages=[("in", "2026-11-20T10:00:00+00:00", Sentiment.NEGATIVE, True)], tags=["Delivery"],
                     is_influencer=True, first_response_at=at("2026-11-21T10:00:00+00:00"),
                     first_response_breached=True, status=Conversation.Status.RESOLVED,
                     resolved_at=at("2026-11-22T10:00:00+00:00"))
    rows, large = count()
    assert rows == 21 and large == small
