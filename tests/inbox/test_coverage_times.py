"""The coverage page reads each channel's clock in the channel's own zone,
with the viewer's clock beside it only when the two read differently."""

import re
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.urls import reverse

from accounts.roles import Role
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db

# Monday 30 November 2026, 08:55 UTC: 09:55 in Madrid (CET), 03:55 in New York (EST).
MOMENT = datetime(2026, 11, 30, 8, 55, tzinfo=UTC)
WEEKDAYS = {"monday": "09:00-17:00", "tuesday": "09:00-17:00", "wednesday": "09:00-17:00",
            "thursday": "09:00-17:00", "friday": "09:00-17:00"}


def row_of(html: str, handle: str) -> str:
    rows = re.findall(r"<tr>(.*?)</tr>", html.split('data-testid="coverage"')[1], re.S)
    return next(r for r in rows if handle in r)


def text_of(row: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">(.*?)</small>', row, re.S)
    return re.sub(r"\s+", " ", match.group(1)).strip() if match else ""


@pytest.fixture
def channels(admin_user, client_for):
    new_york = SocialAccountFactory(handle="@care_us")
    madrid = SocialAccountFactory(handle="@care_es")
    client = client_for(admin_user)
    for account, zone in ((new_york, "America/New_York"), (madrid, "Europe/Madrid")):
        response = client.post(reverse("inbox:service-window", args=[account.pk]), {"time_zone": zone, **WEEKDAYS})
        assert response.status_code == 302
    return new_york, madrid


def coverage_as(client):
    with mock.patch("django.utils.timezone.now", return_value=MOMENT):
        response = client.get(reverse("inbox:coverage"))
    assert response.status_code == 200
    return response.content.decode()


def test_new_york_shows_its_own_time_to_a_viewer_in_madrid(channels, make_member, client_for):
    viewer = make_member(Role.ADMIN, time_zone="Europe/Madrid")
    html = coverage_as(client_for(viewer))
    new_york = row_of(html, "@care_us")
    assert text_of(new_york, "channel-time") == "local time Mon 03:55 (America/New_York)"
    assert text_of(new_york, "viewer-time") == "your time Mon 09:55"
    # Closed before its 09:00 opening, said in New York's time with the viewer's beside it.
    assert "closed" in new_york
    assert text_of(new_york, "next-open") == "opens Mon 09:00 (your time Mon 15:00)"
    assert "09:00-17:00" in new_york and "America/New_York" in new_york


def test_a_channel_in_the_viewers_zone_shows_one_clock(channels, make_member, client_for):
    viewer = make_member(Role.ADMIN, time_zone="Europe/Madrid")
    madrid = row_of(coverage_as(client_for(viewer)), "@care_es")
    assert text_of(madrid, "channel-time") == "local time Mon 09:55 (Europe/Madrid)"
    assert 'data-testid="viewer-time"' not in madrid
    assert "open" in madrid and 'data-testid="next-open"' not in madrid


def test_a_viewer_in_new_york_sees_madrid_with_their_own_time_beside_it(channels, make_member, client_for):
    viewer = make_member(Role.ADMIN, time_zone="America/New_York")
    html = coverage_as(client_for(viewer))
    assert text_of(row_of(html, "@care_es"), "channel-time") == "local time Mon 09:55 (Europe/Madrid)"
    assert text_of(row_of(html, "@care_es"), "viewer-time") == "your time Mon 03:55"
    assert text_of(row_of(html, "@care_us"), "channel-time") == "local time Mon 03:55 (America/New_York)"
    assert 'data-testid="viewer-time"' not in row_of(html, "@care_us")
