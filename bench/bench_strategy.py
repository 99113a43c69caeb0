"""Strategy KPI benchmark: every KPI the portal computes, for an objective
covering all accounts over 90 days, at 1,000,000 messages on PostgreSQL,
next to the same aggregates written as bare SQL, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/socialops_bench_strategy \\
        .venv/bin/python bench/bench_strategy.py [--explain]

The database named in DATABASE_URL is dropped and created again (its name
must start with ``socialops_bench_``), migrated, and given the demo
organisation, channels and service windows. The inbox is then filled with
``INSERT ... SELECT generate_series`` (ingest is measured by
``bench_inbox.py``; here only the reads matter): a year of conversations in
id order, as ingest writes them, with realistic distributions of intent,
sentiment, first-response and resolution minutes (log-normal, in service
time), SLA breaches and unanswered ones, and 1,000,000 messages, inbound
and outbound.

Measured, interleaved run by run so that a busy neighbour slows both alike
(the median of BENCH_RUNS runs each, after warm-up):

- ``kpi_ms``: ``strategy.kpis.compute`` for every computed KPI in the
  catalogue (``kpis.COMPUTED``), over all accounts and the last 90 days:
  what the strategy page does for such an objective (``strategy.progress``).
- ``kpi_sql_ms``: the same aggregates as bare SQL on a raw cursor, one
  hand-written statement per KPI (the aggregate it needs and nothing else).
  ``kpi_ratio`` = ``kpi_ms`` / ``kpi_sql_ms`` (target: at most 1.5).
- context, not the target: ``kpi_replay_ms``, the ORM's own statements
  replayed on a raw cursor (the database's share of ``kpi_ms``), and
  ``kpi_sql_batched_ms``, every KPI from two statements (one per table), as
  a report computing them all at once could.

The figures of both sides are compared before anything is timed (the run
fails if they differ). Progress and, with ``--explain``, the plans go to
stderr; stdout gets ONE JSON line. Never gates on time: the exit code is 0
whatever the ratio (non-zero only if something broke). Sizes can be
lowered for a quick try: BENCH_MESSAGES, BENCH_RUNS."""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "9"))
WARMUP_RUNS = 2
MESSAGES_PER_CONVERSATION = 2.5   # a first message, then replies and follow-ups
DAYS_OF_HISTORY = 365
PERIOD_DAYS = 90
AUTHORS = 60_000

from bench.bench_inbox import machine, recreate_database  # noqa: E402

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- data ---------------------------------------------------------------------

def _fillers(cursor, table: str, given: dict[str, str]) -> dict[str, str]:
    """``given`` plus a neutral value for every other NOT NULL column
    without a database default (Django keeps defaults in Python), so the
    fill keeps working when the inbox gains a column."""
    cursor.execute("""SELECT column_name, data_type FROM information_schema.columns
                      WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL""", [table])
    neutral = {"boolean": "false", "jsonb": "'{}'::jsonb", "timestamp with time zone": "now()", "date": "current_date",
               "integer": "0", "smallint": "0", "bigint": "0", "double precision": "0", "numeric": "0"}
    columns = dict(given)
    for name, data_type in cursor.fetchall():
        if name not in columns and name != "id":
            columns[name] = neutral.get(data_type, "''")
    return columns


def _insert(cursor, table: str, given: dict[str, str], source: str, params: dict) -> int:
    columns = _fillers(cursor, table, given)
    names = ", ".join(columns)
    values = ",\n       ".join(f"{expression} AS {name}" for name, expression in columns.items())
    cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM (SELECT {values} {source}) AS rows", params)
    return cursor.rowcount


# A log-normal draw in SQL (Box-Muller): exp(ln(median) + sigma * N(0, 1)).
def lognormal(median: float, sigma: float, u1: str, u2: str) -> str:
    return f"exp(ln({median}) + {sigma} * sqrt(-2 * ln(1 - {u1})) * cos(2 * pi() * {u2}))"


def fill(now, account_ids: list[int], *, days: int = DAYS_OF_HISTORY, extra_conversation_columns: dict | None = None,
         extra_message_columns: dict | None = None, extra_params: dict | None = None) -> tuple[int, int]:
    """Authors, conversations and messages, in id order of time, as ingest
    writes them. Returns (conversations, messages).

    ``extra_conversation_columns`` and ``extra_message_columns`` add or replace column
    expressions (``bench_reports.py``: departments, assignees, texts...): a
    conversation's may use the draws below (``g``, ``opened``, ``intent``,
    ``target``, ``fr_minutes``, ``res_minutes``, ``answered``), a message's
    ``j``, ``k`` and the conversation ``c``; ``extra_params`` are their
    parameters."""
    from django.db import connection

    conversations = int(MESSAGES / MESSAGES_PER_CONVERSATION)
    span = days * 86400
    params = {"now": now, "n": conversations, "m": MESSAGES, "span": span, "authors": AUTHORS,
              "accounts": account_ids, **(extra_params or {})}
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute("SELECT setseed(0.2026)")
        _insert(cursor, "inbox_author", {
            "platform": "'mastodon'", "external_id": "'bench-' || g", "handle": "'@fan' || g || '@social.example'",
            "display_name": "'Customer ' || g", "followers": "(random() * 2000)::int", "verified": "false",
            "updated_at": "%(now)s"}, "FROM generate_series(1, %(authors)s) AS g", params)
        cursor.execute("SELECT min(id) FROM inbox_author")
        params["first_author"] = cursor.fetchone()[0]
        log(f"{AUTHORS} authors")

        # One row of random draws per conversation, then the columns from them. Opened times follow the ids
        # (a year up to three hours ago, evenly, with jitter: every unanswered one is past its target);
        # intents and sentiments in realistic shares; 93% answered, in log-normal service minutes, some
        # after their target; 85% of those older than two days resolved.
        draws = """FROM (SELECT g, random() AS r_intent, random() AS r_sent, random() AS u1, random() AS u2,
                                random() AS r_answer, random() AS v1, random() AS v2, random() AS r_resolve,
                                random() AS r_acc, random() AS jitter
                         FROM generate_series(1, %(n)s) AS g) AS d
                   CROSS JOIN LATERAL (SELECT
                       %(now)s - interval '3 hours'
                           - make_interval(secs => %(span)s * (1 - (g - jitter) / %(n)s)) AS opened,
                       CASE WHEN r_intent < 0.15 THEN 'simple_query' WHEN r_intent < 0.45 THEN 'inquiry'
                            WHEN r_intent < 0.63 THEN 'complaint' WHEN r_intent < 0.73 THEN 'praise'
                            WHEN r_intent < 0.80 THEN 'sales_lead' WHEN r_intent < 0.83 THEN 'sensitive'
                            WHEN r_intent < 0.88 THEN 'spam' ELSE 'other' END AS intent) AS o
                   CROSS JOIN LATERAL (SELECT
                       CASE WHEN intent IN ('complaint', 'sensitive') THEN 30 ELSE 120 END AS target,
                       """ + lognormal(35, 1.1, "u1", "u2") + """ AS fr_minutes,
                       """ + lognormal(540, 1.2, "v1", "v2") + """ AS res_minutes,
                       r_answer < 0.93 AS answered) AS t"""
        sentiment = """CASE WHEN intent = 'complaint' THEN (CASE WHEN r_sent < 0.75 THEN 'negative'
                                                                 WHEN r_sent < 0.95 THEN 'neutral' ELSE 'positive' END)
                            WHEN intent = 'praise' THEN (CASE WHEN r_sent < 0.85 THEN 'positive' ELSE 'neutral' END)
                            ELSE (CASE WHEN r_sent < 0.12 THEN 'negative' WHEN r_sent < 0.80 THEN 'neutral'
                                       ELSE 'positive' END) END"""
        resolved = "answered AND r_resolve < 0.85 AND opened < %(now)s - interval '2 days'"
        conversation_columns = {
            "account_id": "(%(accounts)s::bigint[])[1 + (g %% cardinality(%(accounts)s::bigint[]))]",
            "thread_key": "'bench-' || g",
            "author_id": "%(first_author)s + (g %% %(authors)s)",
            "status": f"CASE WHEN {resolved} THEN 'resolved' WHEN answered THEN 'open' ELSE 'new' END",
            "intent": "intent", "intent_source": "'rules-v1'",
            "sentiment": sentiment, "sentiment_score": "0", "language": "'en'",
            "sensitive_categories": "'[]'::jsonb", "priority": "2",
            "message_count": "2",
            "last_message_at": "opened + interval '3 hours'", "last_message_preview": "'Order #' || g",
            "opened_at": "opened",
            "first_response_due_at": "opened + make_interval(mins => target)",
            "first_response_warn_at": "opened + make_interval(mins => target * 3 / 4)",
            "first_response_at": "CASE WHEN answered THEN opened + make_interval(secs => fr_minutes * 60) END",
            "first_response_service_minutes": "CASE WHEN answered THEN round(fr_minutes::numeric, 2)::float END",
            "first_response_breached": "answered AND fr_minutes > target",
            "resolution_due_at": "opened + interval '2 days'",
            "resolved_at": f"CASE WHEN {resolved} THEN opened + make_interval(secs => res_minutes * 60) END",
            "resolution_service_minutes": f"CASE WHEN {resolved} THEN round(res_minutes::numeric, 2)::float END",
            "sla_breached": "answered AND fr_minutes > target",
            "created_at": "opened", "updated_at": "opened",
            **(extra_conversation_columns or {}),
        }
        created = _insert(cursor, "inbox_conversation", conversation_columns, draws, params)
        cursor.execute("SELECT min(id) FROM inbox_conversation WHERE thread_key LIKE 'bench-%%'")
        params["first_conversation"] = cursor.fetchone()[0]
        log(f"{created} conversations")

        # Messages: the k-th message of every conversation in turn, so the first n are the customers' first
        # messages and the next n our answers; the rest are follow-ups from the customer, spread over every
        # other conversation (of every age). Written in the order they were sent, as ingest does, so the
        # table's physical order follows time (as do the conversations': no later UPDATE rewrites them).
        # Sentiment of an inbound message: that of its conversation most of the time.
        message_columns = {
            "conversation_id": "c.id", "account_id": "c.account_id",
            "platform_message_id": "'bench-m-' || j", "direction": "CASE WHEN k %% 2 = 1 THEN 'out' ELSE 'in' END",
            "kind": "'mention'", "author_id": "CASE WHEN k %% 2 = 1 THEN NULL ELSE c.author_id END",
            "text": "'Hello, about order #' || j", "language": "'en'",
            "sent_at": "c.opened_at + make_interval(mins => k * 45)",
            "received_at": "c.opened_at + make_interval(mins => k * 45)",
            "sentiment_score": "0",
            "sentiment": "CASE WHEN random() < 0.8 THEN c.sentiment WHEN random() < 0.5 THEN 'neutral' "
                         "ELSE 'positive' END",
            "intent": "c.intent", "classified_by": "'rules-v1'", "raw": "'{}'::jsonb",
            **(extra_message_columns or {}),
        }
        source = """FROM (SELECT j, CASE WHEN (j - 1) / %(n)s < 2 THEN (j - 1) %% %(n)s
                                         ELSE (2 * ((j - 1) %% %(n)s) + (j - 1) / %(n)s) %% %(n)s END AS i,
                                (j - 1) / %(n)s AS k
                          FROM generate_series(1, %(m)s) AS j) AS s
                    JOIN inbox_conversation c ON c.id = %(first_conversation)s + s.i
                    ORDER BY sent_at"""
        created_messages = _insert(cursor, "inbox_message", message_columns, source, params)
        log(f"{created_messages} messages")
        cursor.execute("VACUUM ANALYZE inbox_conversation")  # Django runs in autocommit: VACUUM may run here
        cursor.execute("VACUUM ANALYZE inbox_message")
        cursor.execute("ANALYZE")
    return created, created_messages


# --- the two sides ----------------------------------------------------------------

def kpis_by_orm(account_ids, start, end) -> dict:
    from strategy import kpis

    return {kpi.key: kpis.compute(kpi.key, account_ids=account_ids, start=start, end=end) for kpi in kpis.COMPUTED}


SCOPE_CONVERSATIONS = "FROM inbox_conversation WHERE account_id = ANY(%(accounts)s) " \
                      "AND opened_at >= %(start)s AND opened_at < %(end)s"
SCOPE_INBOUND = "FROM inbox_message WHERE direction = 'in' AND account_id = ANY(%(accounts)s) " \
                "AND sent_at >= %(start)s AND sent_at < %(end)s"
FIRST_RESPONSE = "percentile_cont({}) WITHIN GROUP (ORDER BY first_response_service_minutes)"
SLA_COUNTS = ("count(*) FILTER (WHERE first_response_at IS NOT NULL AND NOT first_response_breached), "
              "count(*) FILTER (WHERE first_response_at IS NOT NULL AND first_response_breached), "
              "count(*) FILTER (WHERE first_response_at IS NULL AND first_response_due_at <= %(now)s)")
COMPLAINT_MEDIAN = "percentile_cont(0.5) WITHIN GROUP (ORDER BY resolution_service_minutes)"
SENTIMENT_COUNTS = ("count(*), count(*) FILTER (WHERE sentiment = 'positive'), "
                    "count(*) FILTER (WHERE sentiment = 'negative')")

# One statement per KPI: the aggregate each KPI needs, and nothing else.
PER_KPI_SQL = {
    "inbound_volume": f"SELECT count(*) {SCOPE_INBOUND}",
    "first_response_median": f"SELECT {FIRST_RESPONSE.format(0.5)} {SCOPE_CONVERSATIONS} "
                             "AND first_response_service_minutes IS NOT NULL",
    "first_response_p90": f"SELECT {FIRST_RESPONSE.format(0.9)} {SCOPE_CONVERSATIONS} "
                          "AND first_response_service_minutes IS NOT NULL",
    "sla_attainment": f"SELECT {SLA_COUNTS} {SCOPE_CONVERSATIONS}",
    "complaint_resolution_rate": f"SELECT count(*), count(*) FILTER (WHERE resolved_at IS NOT NULL) "
                                 f"{SCOPE_CONVERSATIONS} AND intent = 'complaint'",
    "complaint_resolution_median": f"SELECT {COMPLAINT_MEDIAN} {SCOPE_CONVERSATIONS} AND intent = 'complaint' "
                                   "AND resolved_at IS NOT NULL AND resolution_service_minutes IS NOT NULL",
    "negative_share": f"SELECT {SENTIMENT_COUNTS} {SCOPE_INBOUND}",
    "net_sentiment": f"SELECT {SENTIMENT_COUNTS} {SCOPE_INBOUND}",
}

# Every KPI at once, as a report would batch them: one statement per table (context, not the target).
BATCHED_SQL = [
    f"""SELECT {FIRST_RESPONSE.format(0.5)} FILTER (WHERE first_response_service_minutes IS NOT NULL),
               {FIRST_RESPONSE.format(0.9)} FILTER (WHERE first_response_service_minutes IS NOT NULL),
               {SLA_COUNTS},
               count(*) FILTER (WHERE intent = 'complaint'),
               count(*) FILTER (WHERE intent = 'complaint' AND resolved_at IS NOT NULL),
               {COMPLAINT_MEDIAN} FILTER (WHERE intent = 'complaint' AND resolved_at IS NOT NULL
                                          AND resolution_service_minutes IS NOT NULL)
        {SCOPE_CONVERSATIONS}""",
    f"SELECT {SENTIMENT_COUNTS} {SCOPE_INBOUND}",
]


def _two(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _share(part, whole):
    return 100 * part / whole if whole else None


def _figures(row: dict) -> dict:
    """The KPI values from the raw figures, as ``strategy.metrics`` and ``strategy.kpis`` define them."""
    judged = row["on_time"] + row["late"] + row["overdue"]
    return {
        "inbound_volume": _two(row["inbound"]),
        "first_response_median": _two(row["fr_median"]),
        "first_response_p90": _two(row["fr_p90"]),
        "sla_attainment": _two(_share(row["on_time"], judged)),
        "complaint_resolution_rate": _two(_share(row["resolved"], row["complaints"])),
        "complaint_resolution_median": _two(row["res_median"]),
        "negative_share": _two(_share(row["negative"], row["total"])),
        "net_sentiment": _two(_share(row["positive"] - row["negative"], row["total"])),
    }


def kpis_by_sql(cursor, params: dict) -> dict:
    """Each KPI from its own bare statement."""
    out = {}
    for key, sql in PER_KPI_SQL.items():
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if key == "inbound_volume":
            out[key] = _two(row[0])
        elif key in ("first_response_median", "first_response_p90", "complaint_resolution_median"):
            out[key] = _two(row[0])
        elif key == "sla_attainment":
            out[key] = _two(_share(row[0], sum(row)))
        elif key == "complaint_resolution_rate":
            out[key] = _two(_share(row[1], row[0]))
        elif key == "negative_share":
            out[key] = _two(_share(row[2], row[0]))
        else:
            out[key] = _two(_share(row[1] - row[2], row[0]))
    return out


def kpis_by_batched_sql(cursor, params: dict) -> dict:
    cursor.execute(BATCHED_SQL[0], params)
    fr_median, fr_p90, on_time, late, overdue, complaints, resolved, res_median = cursor.fetchone()
    cursor.execute(BATCHED_SQL[1], params)
    total, positive, negative = cursor.fetchone()
    return _figures({"inbound": total, "fr_median": fr_median, "fr_p90": fr_p90, "on_time": on_time, "late": late,
                     "overdue": overdue, "complaints": complaints, "resolved": resolved, "res_median": res_median,
                     "total": total, "positive": positive, "negative": negative})


def replay(cursor, statements: list[tuple[str, tuple]]) -> None:
    for sql, params in statements:
        cursor.execute(sql, params)
        cursor.fetchall()


def ms(func) -> float:
    t0 = time.perf_counter()
    func()
    return (time.perf_counter() - t0) * 1000


# --- main -------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--explain", action="store_true",
                        help="Log EXPLAIN (ANALYZE, BUFFERS) of the bare SQL and of each ORM statement to stderr.")
    args = parser.parse_args()

    name = recreate_database()
    log(f"database {name} recreated")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.backends.utils import CursorWrapper
    from django.utils import timezone

    from accounts.demo import load_demo_organisation
    from inbox.demo import load_demo_inbox
    from inbox.models import Conversation, Message
    from security.demo import load_demo_security
    from security.models import SocialAccount

    call_command("migrate", verbosity=0)
    load_demo_organisation()
    load_demo_security()
    load_demo_inbox(messages=0)  # service windows and SLA policies; the messages come from fill()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    account_ids = list(SocialAccount.objects.order_by("pk").values_list("pk", flat=True))
    log(f"migrated, demo organisation and {len(account_ids)} channels loaded")

    now = timezone.now().replace(microsecond=0)
    conversations, messages = fill(now, account_ids)
    start, end = now - timedelta(days=PERIOD_DAYS), now
    params = {"accounts": account_ids, "start": start, "end": end, "now": now}
    in_period = Conversation.objects.filter(opened_at__gte=start, opened_at__lt=end).count()
    inbound_in_period = Message.objects.filter(direction="in", sent_at__gte=start, sent_at__lt=end).count()
    log(f"filled: {messages} messages, {conversations} conversations; in the {PERIOD_DAYS} days: "
        f"{in_period} conversations, {inbound_in_period} inbound messages")

    # The ORM's figures are those of the bare SQL (``sla_attainment`` judges "overdue" at the moment it runs, as
    # the bare SQL does with ``now``: nothing in the fill is due between the two).
    orm = kpis_by_orm(account_ids, start, end)
    with connection.cursor() as cursor:
        bare, batched = kpis_by_sql(cursor, params), kpis_by_batched_sql(cursor, params)
    if not orm == bare == batched:
        raise RuntimeError(f"the ORM and the bare SQL disagree:\n  orm     {orm}\n  bare    {bare}\n"
                           f"  batched {batched}")
    log(f"figures (both sides): {json.dumps({k: str(v) for k, v in orm.items()})}")

    # The ORM's statements with their parameters, as it sends them (replayed for context).
    statements: list[tuple[str, tuple]] = []
    original = CursorWrapper.execute

    def recording(self, sql, sql_params=None):
        statements.append((sql, sql_params))
        return original(self, sql, sql_params)

    CursorWrapper.execute = recording
    try:
        kpis_by_orm(account_ids, start, end)
    finally:
        CursorWrapper.execute = original
    log(f"the ORM side runs {len(statements)} statements; the bare SQL {len(PER_KPI_SQL)} (batched: 2)")

    if args.explain:
        with connection.cursor() as cursor:
            for label, sql in [*PER_KPI_SQL.items(), *(("batched", sql) for sql in BATCHED_SQL)]:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                log(f"EXPLAIN bare SQL ({label}):\n  " + "\n  ".join(r[0] for r in cursor.fetchall()))
            for sql, sql_params in statements:
                cursor.execute("EXPLAIN (ANALYZE) " + sql, sql_params)
                plan = [r[0] for r in cursor.fetchall()]
                log(f"EXPLAIN ORM: {sql[:140]}...\n  " + "\n  ".join(plan))

    with connection.cursor() as cursor:
        for _ in range(WARMUP_RUNS):
            kpis_by_orm(account_ids, start, end)
            kpis_by_sql(cursor, params)
            kpis_by_batched_sql(cursor, params)
            replay(cursor, statements)
        kpi_ms, sql_ms, batched_ms, replay_ms = [], [], [], []
        for n in range(RUNS):  # interleaved: a busy neighbour slows all four alike
            kpi_ms.append(ms(lambda: kpis_by_orm(account_ids, start, end)))
            sql_ms.append(ms(lambda: kpis_by_sql(cursor, params)))
            replay_ms.append(ms(lambda: replay(cursor, statements)))
            batched_ms.append(ms(lambda: kpis_by_batched_sql(cursor, params)))
            log(f"run {n + 1}/{RUNS}: kpis {kpi_ms[-1]:.0f} ms, bare SQL {sql_ms[-1]:.0f} ms, "
                f"ORM statements replayed {replay_ms[-1]:.0f} ms, batched bare SQL {batched_ms[-1]:.0f} ms")

    kpi, bare_sql, replayed, batched_sql = (statistics.median(v) for v in (kpi_ms, sql_ms, replay_ms, batched_ms))
    print(json.dumps({
        "kpi_ms": round(kpi, 1),
        "kpi_sql_ms": round(bare_sql, 1),
        "kpi_ratio": round(kpi / bare_sql, 2),
        "kpi_replay_ms": round(replayed, 1),
        "kpi_sql_batched_ms": round(batched_sql, 1),
        "kpi_queries": len(statements),
        "kpi_sql_queries": len(PER_KPI_SQL),
        "kpis": len(orm),
        "runs": RUNS,
        "period_days": PERIOD_DAYS,
        "conversations_in_period": in_period,
        "inbound_in_period": inbound_in_period,
        "machine": machine(server_version),
        "messages": messages,
        "conversations": conversations,
    }), flush=True)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
