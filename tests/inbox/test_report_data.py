"""The inbox data behind the reputation reports: messages that arrived outside
the channel's service hours, and the TopicDay rollup of terms per day."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from inbox.ingest import ingest_messages
from inbox.models import Conversation, Message, ServicePeriod, ServiceWindow, TopicDay, TopicDayTotal
from inbox.services import conversation_set_status
from inbox.topics import terms_of
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory


def item(pmid, text="Where is my parcel?", *, author="a1", sent_at="2026-11-27T10:00:00Z", **extra):
    return {"platform_message_id": pmid, "text": text, "sent_at": sent_at,
            "author": {"id": author, "handle": f"@{author}", "display_name": author.upper()}, **extra}


@pytest.fixture
def account(db):
    return SocialAccountFactory()


@pytest.fixture
def madrid(db):
    """A business-hours channel: Monday to Friday 09:00-17:00 in Madrid, Spanish public holidays closed."""
    channel = SocialAccountFactory()
    window = ServiceWindow.objects.create(account=channel, time_zone="Europe/Madrid", holiday_country="ES")
    ServicePeriod.objects.bulk_create([ServicePeriod(window=window, weekday=day, opens_minute=9 * 60,
                                                     closes_minute=17 * 60) for day in range(5)])
    return channel


def outside(pmid: str) -> bool:
    return Message.objects.get(platform_message_id=pmid).outside_service_hours


def rollup() -> dict[tuple, int]:
    return {(row.day, row.account_id, row.department_key, row.term): row.messages for row in TopicDay.objects.all()}


def totals() -> dict[tuple, int]:
    return {(row.day, row.term): row.messages for row in TopicDayTotal.objects.all()}


def summed(rows: dict[tuple, int]) -> dict[tuple, int]:
    """TopicDay rows added up over channels and departments: what TopicDayTotal must hold."""
    result: dict[tuple, int] = {}
    for (day, _account, _department, term), n in rows.items():
        result[(day, term)] = result.get((day, term), 0) + n
    return result


# --- outside service hours ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_weekend_and_evening_messages_arrive_outside_service_hours(madrid):
    ingest_messages(account=madrid, items=[
        item("fri-morning", sent_at="2026-11-27T10:00:00Z"),   # Friday 11:00 in Madrid
        item("fri-evening", sent_at="2026-11-27T16:30:00Z"),   # Friday 17:30: just closed
        item("fri-last-minute", sent_at="2026-11-27T15:59:00Z"),  # Friday 16:59
        item("saturday", sent_at="2026-11-28T11:00:00Z"),      # Saturday noon
        item("sunday", sent_at="2026-11-29T09:00:00Z", author="b"),
        item("monday-early", sent_at="2026-11-30T07:59:00Z", author="c"),  # Monday 08:59
        item("monday-open", sent_at="2026-11-30T08:00:00Z", author="d"),   # Monday 09:00: opens
    ])
    assert {pmid: outside(pmid) for pmid in Message.objects.values_list("platform_message_id", flat=True)} == {
        "fri-morning": False, "fri-evening": True, "fri-last-minute": False, "saturday": True, "sunday": True,
        "monday-early": True, "monday-open": False}


@pytest.mark.django_db
def test_a_public_holiday_is_outside_service_hours(madrid):
    ingest_messages(account=madrid, items=[
        item("national-day", sent_at="2026-10-12T10:00:00Z"),  # Monday 12 October: Fiesta Nacional
        item("next-day", sent_at="2026-10-13T10:00:00Z", author="b"),
    ])
    assert outside("national-day") is True
    assert outside("next-day") is False


@pytest.mark.django_db
def test_service_hours_follow_the_channels_clock_across_the_daylight_saving_change(madrid):
    # Madrid leaves summer time on Sunday 25 October 2026: 09:00 local is 07:00 UTC before, 08:00 UTC after.
    ingest_messages(account=madrid, items=[
        item("fri-0730z", sent_at="2026-10-23T07:30:00Z"),  # 09:30 summer time: open
        item("fri-1530z", sent_at="2026-10-23T15:30:00Z"),  # 17:30: closed
        item("mon-0730z", sent_at="2026-10-26T07:30:00Z", author="b"),  # 08:30 winter time: not open yet
        item("mon-1530z", sent_at="2026-10-26T15:30:00Z", author="b"),  # 16:30: open
    ])
    assert [outside(p) for p in ("fri-0730z", "fri-1530z", "mon-0730z", "mon-1530z")] == [False, True, True, False]


@pytest.mark.django_db
def test_a_channel_watched_around_the_clock_is_never_outside(account):
    ingest_messages(account=account, items=[item(f"m{hour}", sent_at=f"2026-11-28T{hour:02d}:30:00Z",
                                                 author=f"a{hour}") for hour in range(24)])
    assert Message.objects.count() == 24
    assert not Message.objects.filter(outside_service_hours=True).exists()


@pytest.mark.django_db
def test_a_24_7_window_is_never_outside(db):
    channel = SocialAccountFactory()
    ServiceWindow.objects.create(account=channel, time_zone="Europe/Madrid", always_open=True)
    ingest_messages(account=channel, items=[item("sat", sent_at="2026-11-28T03:00:00Z")])
    assert outside("sat") is False


@pytest.mark.django_db
def test_backfill_sets_the_flag_on_messages_stored_before_it_and_leaves_later_history(madrid):
    ingest_messages(account=madrid, items=[
        item("old-saturday", sent_at="2026-11-28T11:00:00Z"),
        item("old-friday", sent_at="2026-11-27T10:00:00Z", author="b"),
        item("recent-sunday", sent_at="2026-11-29T11:00:00Z", author="c"),
    ])
    # Stored before the field existed: no flag yet.
    Message.objects.filter(platform_message_id__startswith="old").update(
        outside_service_hours=False, received_at="2025-01-01T00:00:00Z")
    # Flagged by ingest under an earlier window; a later change to the window does not rewrite it.
    Message.objects.filter(platform_message_id="recent-sunday").update(outside_service_hours=False)

    call_command("backfill_service_hours", stdout=StringIO())
    assert (outside("old-saturday"), outside("old-friday"), outside("recent-sunday")) == (True, False, False)
    flags = list(Message.objects.order_by("pk").values_list("outside_service_hours", flat=True))
    call_command("backfill_service_hours", stdout=StringIO())
    assert list(Message.objects.order_by("pk").values_list("outside_service_hours", flat=True)) == flags

    call_command("backfill_service_hours", "--all", "--batch", "1", stdout=StringIO())
    assert outside("recent-sunday") is True


# --- terms ----------------------------------------------------------------------------------------------------------

def test_terms_are_lowercase_accent_folded_words_without_stopwords():
    assert terms_of("¿Dónde está mi PEDIDO? El envío no llegó", "es") == {"pedido", "envio", "llego"}
    assert terms_of("The delivery of my order and the refund", "en") == {"delivery", "order", "refund"}
    assert terms_of("Comanda mea nu a sosit, este întârziată", "ro") == {"comanda", "sosit", "intarziata"}


def test_terms_drop_addresses_mentions_numbers_and_chat_words_and_keep_hashtags():
    text = ("Hello @brand_care @ana@mastodon.social thanks! Order 123456 see https://shop.example/o/77?x=refund "
            "www.tracking.example/abc and mail me at ana@example.com #BlackFriday #envío2 3rd")
    assert terms_of(text, "en") == {"order", "see", "mail", "blackfriday", "envio"}
    assert terms_of("Hola, gracias por favor", "es") == set()


def test_terms_of_a_long_message_stop_at_twelve():
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar".split()
    assert terms_of(" ".join(words), "en") == set(words[:12])


# --- the TopicDay rollup -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_ingest_counts_each_term_once_per_message_per_day(account):
    ingest_messages(account=account, items=[
        item("1", "Parcel late, parcel lost", sent_at="2026-11-27T10:00:00Z"),
        item("2", "My parcel is broken", sent_at="2026-11-27T18:00:00Z", author="b"),
        item("3", "Parcel arrived", sent_at="2026-11-28T09:00:00Z", author="c"),
    ])
    assert rollup() == {
        (date(2026, 11, 27), account.pk, 0, "parcel"): 2, (date(2026, 11, 27), account.pk, 0, "late"): 1,
        (date(2026, 11, 27), account.pk, 0, "lost"): 1, (date(2026, 11, 27), account.pk, 0, "broken"): 1,
        (date(2026, 11, 28), account.pk, 0, "parcel"): 1, (date(2026, 11, 28), account.pk, 0, "arrived"): 1,
    }


@pytest.mark.django_db
def test_a_duplicate_ingest_does_not_count_twice(account):
    batch = [item("1", "Refund please", sent_at="2026-11-27T10:00:00Z"),
             item("2", "Refund still missing", sent_at="2026-11-27T11:00:00Z", author="b")]
    ingest_messages(account=account, items=batch)
    again = ingest_messages(account=account, items=[*batch, item("3", "Refund now", author="c")])
    assert again.duplicates == 2 and again.created == 1
    assert TopicDay.objects.get(term="refund").messages == 3
    assert TopicDay.objects.get(term="missing").messages == 1
    assert TopicDayTotal.objects.get(term="refund").messages == 3


@pytest.mark.django_db
def test_a_late_message_counts_on_the_day_it_was_sent(account):
    ingest_messages(account=account, items=[item("1", "Invoice wrong", sent_at="2026-11-29T10:00:00Z")])
    ingest_messages(account=account, items=[
        item("late", "Invoice wrong again", sent_at="2026-11-20T23:30:00Z", author="b"),
        item("later", "Another invoice", sent_at="2026-11-29T12:00:00Z", author="c"),
    ])
    counts = dict(TopicDay.objects.filter(term="invoice").values_list("day", "messages"))
    assert counts == {date(2026, 11, 20): 1, date(2026, 11, 29): 2}
    # The organisation-wide total moves with it, and adds up another channel's messages of the same day.
    ingest_messages(account=SocialAccountFactory(), items=[
        item("x", "Invoice missing", sent_at="2026-11-20T09:00:00Z", author="d")])
    assert dict(TopicDayTotal.objects.filter(term="invoice").values_list("day", "messages")) == {
        date(2026, 11, 20): 2, date(2026, 11, 29): 2}
    assert totals() == summed(rollup())


@pytest.mark.django_db
def test_the_day_is_the_date_in_the_configured_time_zone(account, settings):
    settings.TIME_ZONE = "America/New_York"
    ingest_messages(account=account, items=[item("1", "Charger broken", sent_at="2026-11-27T03:00:00Z")])
    assert set(TopicDay.objects.values_list("day", flat=True)) == {date(2026, 11, 26)}


@pytest.mark.django_db
def test_status_changes_and_department_moves_leave_earlier_counts_where_they_arrived(account, admin_user):
    sales = DepartmentFactory()
    ingest_messages(account=account, items=[item("1", "Discount question", sent_at="2026-11-27T10:00:00Z")])
    conversation = Conversation.objects.get()
    arrived_in = conversation.department_id or 0
    assert arrived_in != sales.pk
    before, before_totals = rollup(), totals()
    conversation_set_status(actor=admin_user, conversation=conversation, status="resolved")
    assert rollup() == before and totals() == before_totals

    Conversation.objects.filter(pk=conversation.pk).update(department=sales)
    ingest_messages(account=account, items=[item("2", "Discount question again", sent_at=timezone.now().isoformat(),
                                                 thread_id="1", in_reply_to="1")])
    assert Conversation.objects.get().status == Conversation.Status.OPEN  # reopened by the new message
    assert dict(TopicDay.objects.filter(term="discount").values_list("department_key", "messages")) == {
        arrived_in: 1, sales.pk: 1}
    assert totals() == summed(rollup())


@pytest.mark.django_db
def test_rebuild_gives_the_same_rows_as_ingest(account):
    other = SocialAccountFactory()
    ingest_messages(account=account, items=[
        item("1", "Envío retrasado, pedido perdido", sent_at="2026-11-01T10:00:00Z", language="es"),
        item("2", "Pedido roto #fail", sent_at="2026-11-15T23:59:00Z", author="b", language="es"),
        item("3", "Delivery late https://x.example @shop", sent_at="2026-11-29T08:00:00Z", author="c"),
    ])
    ingest_messages(account=other, items=[item("1", "Delivery late again", sent_at="2026-11-15T10:00:00Z"),
                                          item("old", "Delivery late last year", sent_at="2025-06-01T10:00:00Z")])
    expected, expected_totals = rollup(), totals()
    assert len(expected) > 10 and expected_totals == summed(expected)
    assert expected_totals[(date(2026, 11, 15), "delivery")] == 1 and expected_totals[(date(2026, 11, 29), "late")] == 1

    TopicDay.objects.all().delete()
    TopicDayTotal.objects.all().delete()
    TopicDay.objects.create(day=date(2026, 11, 20), account=account, term="stale", messages=7)
    TopicDayTotal.objects.create(day=date(2024, 1, 1), term="stale", messages=7)
    call_command("rebuild_topic_counts", "--days", "7", stdout=StringIO())
    assert rollup() == expected
    assert totals() == expected_totals

    # From a date on: earlier rows are kept as they are, later ones recomputed.
    TopicDay.objects.filter(day__gte=date(2026, 11, 15)).update(messages=99)
    TopicDay.objects.create(day=date(2026, 11, 20), account=other, term="stale", messages=7)
    TopicDayTotal.objects.filter(day__gte=date(2026, 11, 15)).update(messages=99)
    TopicDayTotal.objects.filter(day__lt=date(2026, 11, 15)).update(messages=5)
    call_command("rebuild_topic_counts", "--since", "2026-11-15", stdout=StringIO())
    assert rollup() == expected
    # Totals from the date on are recomputed; earlier ones are left as they were.
    assert totals() == {key: (n if key[0] >= date(2026, 11, 15) else 5) for key, n in expected_totals.items()}


@pytest.mark.django_db
def test_rebuild_rejects_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--since"):
        call_command("rebuild_topic_counts", "--since", "15/11/2026", stdout=StringIO())
