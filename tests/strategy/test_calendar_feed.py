"""The personal iCalendar feed: a secret address made on the person's page (CSRF on), read by a calendar app
without signing in, showing what its owner may see; revoked, replaced or offboarded, it answers 404."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from icalendar import Calendar

from strategy.models import CalendarFeed
from strategy.services import posts as svc
from tests.conftest import sign_in

SOON = timezone.now() + timedelta(days=3)


def make_address(user) -> str:
    client = sign_in(Client(enforce_csrf_checks=True), user)
    page = client.get("/me/calendar-feed/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post("/me/calendar-feed/", {"action": "create", "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    return re.search(r'value="(http[^"]+\.ics)"', response.content.decode()).group(1)


def events(response) -> dict[str, str]:
    calendar = Calendar.from_ical(response.content)
    return {str(e["summary"]): str(e["description"]) for e in calendar.walk("VEVENT")}


@pytest.mark.django_db
def test_the_feed_shows_what_its_owner_may_see_without_signing_in(team):
    author, approver = team["author"], team["approver"]
    mine = svc.post_create(actor=author, text='Winter hours; "new" times, from Monday', accounts=team["accounts"],
                           scheduled_at=SOON)
    svc.post_submit(actor=author, post=mine)
    svc.post_create(actor=author, text="My own draft idea", accounts=team["accounts"], scheduled_at=SOON)
    svc.post_create(actor=approver, text="Carl's unfinished draft", accounts=team["accounts"], scheduled_at=SOON)

    url = make_address(author)
    assert url.startswith("http://testserver/strategy/calendar/feed/")
    response = Client().get(url.removeprefix("http://testserver"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    shown = events(response)
    assert set(shown) == {'[In review] Winter hours; "new" times, from Monday', "[Draft] My own draft idea"}
    # Commas, semicolons and quotes survive the calendar format's escaping.
    assert shown['[In review] Winter hours; "new" times, from Monday'].startswith(
        'Winter hours; "new" times, from Monday\n\nAccounts: ')
    # The other author's draft is in the approver's feed only as their own draft.
    assert "[Draft] Carl's unfinished draft" in events(Client().get(make_address(approver).removeprefix(
        "http://testserver")))


@pytest.mark.django_db
def test_only_a_hash_is_stored_and_a_new_address_ends_the_old_one(team):
    first = make_address(team["author"]).removeprefix("http://testserver")
    token = first.rsplit("/", 1)[1].removesuffix(".ics")
    assert not CalendarFeed.objects.filter(token_hash__contains=token).exists()
    second = make_address(team["author"]).removeprefix("http://testserver")
    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 200
    assert CalendarFeed.objects.filter(user=team["author"], revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_revoking_or_offboarding_ends_the_feed_at_once(team):
    address = make_address(team["author"]).removeprefix("http://testserver")
    client = sign_in(Client(), team["author"])
    assert client.post("/me/calendar-feed/", {"action": "revoke"}).status_code == 200
    assert Client().get(address).status_code == 404

    other = make_address(team["approver"]).removeprefix("http://testserver")
    team["approver"].is_active = False
    team["approver"].save(update_fields=["is_active"])
    assert Client().get(other).status_code == 404
    assert Client().get("/strategy/calendar/feed/not-a-token.ics").status_code == 404


@pytest.mark.django_db
def test_the_settings_page_refuses_an_unknown_action_and_needs_sign_in(team):
    client = sign_in(Client(), team["author"])
    assert client.post("/me/calendar-feed/", {"action": "steal"}).status_code == 400
    assert Client().get("/me/calendar-feed/").status_code == 302
