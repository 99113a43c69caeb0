"""Rebuilds the TopicDay rollup from the stored inbound messages, then TopicDayTotal from TopicDay.

    python manage.py rebuild_topic_counts [--since YYYY-MM-DD] [--days 31]

For installs with messages from before the rollup, or after a change to inbox.topics. Days are dates in
settings.TIME_ZONE; without ``--since`` everything is rebuilt. Per channel and per slice of ``--days`` days,
in one transaction holding the channel's lock (the one ingest takes, so a batch arriving meanwhile waits and is
counted once): the slice's rows are deleted and recomputed from its messages, read in chunks. Running it again
gives the same rows.

TopicDayTotal is then recomputed from TopicDay for the same days, a slice per transaction holding every
channel's lock (in id order), so no ingest adds to the totals halfway through.

A message counts under its conversation's current department (which department a message arrived in is not
stored; ingest counts it there, so rows differ only for conversations moved since)."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Max, Min, Sum

from inbox.models import Message, TopicDay, TopicDayTotal
from inbox.topics import add_topic_counts, day_of, topic_counts
from security.models import SocialAccount


class Command(BaseCommand):
    help = "Rebuilds the topic counts (TopicDay) from the messages, from --since (a date) or entirely."

    def add_arguments(self, parser):
        parser.add_argument("--since", help="First day to rebuild, YYYY-MM-DD (default: every day).")
        parser.add_argument("--days", type=int, default=31, help="Days per transaction (default 31).")

    def handle(self, *args, since=None, days=31, **options):
        if days < 1:
            raise CommandError("--days must be 1 or more.")
        first_day = None
        if since:
            try:
                first_day = date.fromisoformat(since)
            except ValueError:
                raise CommandError("--since must be a date written YYYY-MM-DD.") from None
        totals = rebuild_topic_counts(since=first_day, days_per_slice=days)
        self.stdout.write(f"Rebuilt {totals['days']} channel-days from {totals['messages']} inbound messages: "
                          f"{totals['rows']} topic rows.")


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def rebuild_topic_counts(*, since: date | None = None, days_per_slice: int = 31, chunk: int = 2000) -> dict:
    tz = ZoneInfo(settings.TIME_ZONE)
    inbound = Message.objects.filter(direction=Message.Direction.INBOUND)
    rollup = TopicDay.objects.all()
    if since is not None:
        inbound = inbound.filter(sent_at__gte=_start_of(since, tz))
        rollup = rollup.filter(day__gte=since)
    spans: dict[int, list[date]] = {}
    for account_id, first, last in inbound.order_by().values("account").annotate(
            first=Min("sent_at"), last=Max("sent_at")).values_list("account", "first", "last"):
        spans[account_id] = [day_of(first, tz), day_of(last, tz)]
    for account_id, first, last in rollup.order_by().values("account").annotate(
            first=Min("day"), last=Max("day")).values_list("account", "first", "last"):
        span = spans.setdefault(account_id, [first, last])
        span[0], span[1] = min(span[0], first), max(span[1], last)
    totals = {"days": 0, "messages": 0, "rows": 0}
    for account_id in sorted(spans):
        first, last = spans[account_id]
        if since is not None:
            first = max(first, since)
        start = first
        while start <= last:
            end = min(start + timedelta(days=days_per_slice - 1), last)  # inclusive
            with transaction.atomic():
                # The lock ingest takes for this channel: no batch is stored halfway through the slice.
                SocialAccount.objects.select_for_update().filter(pk=account_id).first()
                TopicDay.objects.filter(account_id=account_id, day__gte=start, day__lte=end).delete()
                rows = (Message.objects.filter(direction=Message.Direction.INBOUND, account_id=account_id,
                                               sent_at__gte=_start_of(start, tz),
                                               sent_at__lt=_start_of(end + timedelta(days=1), tz))
                        .order_by().values_list("account_id", "conversation__department_id", "sent_at", "text",
                                                "language"))
                counts = topic_counts(_counted(rows.iterator(chunk_size=chunk), totals))
                add_topic_counts(counts)
            totals["days"] += (end - start).days + 1
            totals["rows"] += len(counts)
            start = end + timedelta(days=1)
    _rebuild_totals(since, days_per_slice)
    return totals


def _rebuild_totals(since: date | None, days_per_slice: int) -> None:
    """TopicDayTotal = TopicDay summed over channels and departments, for every day either holds (from ``since``)."""
    spans = [qs.aggregate(first=Min("day"), last=Max("day"))
             for qs in (TopicDay.objects.all(), TopicDayTotal.objects.all())]
    firsts = [s["first"] for s in spans if s["first"]]
    if not firsts:
        return
    start, last = min(firsts), max(s["last"] for s in spans if s["last"])
    if since is not None:
        start = max(start, since)
    while start <= last:
        end = min(start + timedelta(days=days_per_slice - 1), last)  # inclusive
        with transaction.atomic():
            # Every channel's lock, in id order: an ingest adding to these totals waits, and is counted once.
            list(SocialAccount.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
            TopicDayTotal.objects.filter(day__gte=start, day__lte=end).delete()
            sums = (TopicDay.objects.filter(day__gte=start, day__lte=end).order_by()
                    .values("day", "term").annotate(n=Sum("messages")))
            TopicDayTotal.objects.bulk_create(
                [TopicDayTotal(day=row["day"], term=row["term"], messages=row["n"]) for row in sums if row["n"]],
                batch_size=1000)
        start = end + timedelta(days=1)


def _counted(rows, totals: dict):
    for row in rows:
        totals["messages"] += 1
        yield row
