"""Inbox benchmark: ingest throughput and list latency on PostgreSQL, each
against a baseline measured in the same run on the same machine.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/socialops_bench_x \\
        .venv/bin/python bench/bench_inbox.py [--profile]

The database named in DATABASE_URL is dropped and created again (its name
must start with ``socialops_bench_``), migrated, and given the demo
organisation. Then, in one run:

1. ingest: N messages (default 20,000, generated from the demo templates)
   through ``inbox.ingest.ingest_messages`` in batches of 500, against the
   baseline = the irreducible work for the same messages: VADER-scoring
   their texts (``triage.sentiment_of``) and a psycopg 3 COPY of the rows
   into an indexed scratch table, committed per batch of 500.
2. list: the database is filled up to 100,000 messages through the same
   ingest service, then GET /api/conversations/?status=open&page_size=50 is
   timed as an admin through django.test.Client, against the baseline = the
   exact SQL statements that request ran, replayed on a raw cursor.

Progress goes to stderr; stdout gets ONE JSON line. Never gates on time:
the exit code is 0 whatever the ratios (non-zero only if something broke).
Sizes can be lowered for a quick try: BENCH_INGEST_MESSAGES,
BENCH_TOTAL_MESSAGES, BENCH_REQUESTS."""

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

BATCH = 500
INGEST_MESSAGES = int(os.environ.get("BENCH_INGEST_MESSAGES", "20000"))
TOTAL_MESSAGES = int(os.environ.get("BENCH_TOTAL_MESSAGES", "100000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "60"))
WARMUP_REQUESTS = 10
WHAT_IF_BATCHES = 10
LIST_URL = "/api/conversations/?status=open&page_size={size}"
DB_PREFIX = "socialops_bench_"

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


# --- database -----------------------------------------------------------------

def recreate_database() -> str:
    import environ
    import psycopg
    from psycopg import sql

    url = os.environ.get("DATABASE_URL", "")
    config = environ.Env.db_url_config(url) if url else {}
    if "postgresql" not in config.get("ENGINE", ""):
        sys.exit("bench_inbox: DATABASE_URL must point at PostgreSQL, e.g. "
                 "postgres://postgres@127.0.0.1:5432/socialops_bench_x")
    name = config["NAME"]
    if not name.startswith(DB_PREFIX):
        sys.exit(f"bench_inbox: the database is dropped and recreated, so its name must start with {DB_PREFIX!r}")
    params = {"host": config.get("HOST") or None, "port": config.get("PORT") or None,
              "user": config.get("USER") or None, "password": config.get("PASSWORD") or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name


def machine(server_version: str) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    memory = ""
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages * page_size / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}){memory}, "
            f"Python {platform.python_version()}, PostgreSQL {server_version}")


# --- data ---------------------------------------------------------------------

def batches_of(items_by_handle: dict[str, list[dict]], accounts: dict, keep) -> list[tuple]:
    """(account, batch) pairs of at most BATCH items, accounts taking turns
    as a poller would."""
    queues = []
    for handle, items in items_by_handle.items():
        chosen = [i for i in items if keep(i)]
        queues.append([(accounts[handle], chosen[n:n + BATCH]) for n in range(0, len(chosen), BATCH)])
    out = []
    while any(queues):
        for queue in queues:
            if queue:
                out.append(queue.pop(0))
    return out


def number(item: dict) -> int:
    return int(item["platform_message_id"].rsplit("-", 1)[1])


def ingest_all(batches, label: str) -> tuple[float, int]:
    from inbox.ingest import ingest_messages

    created, spent = 0, 0.0
    for n, (account, batch) in enumerate(batches, 1):
        t0 = time.perf_counter()
        result = ingest_messages(account=account, items=batch, source="bench")
        spent += time.perf_counter() - t0
        if result.errors:
            raise RuntimeError(f"ingest rejected items: {result.errors[:3]}")
        created += result.created
        if n % 20 == 0 or n == len(batches):
            log(f"{label}: {created} messages, {created / spent:.0f}/s")
    return spent, created


class Baseline:
    """The irreducible work for a batch: VADER on each text, then a COPY of
    the rows into an indexed table shaped like the message table, committed."""

    def __init__(self):
        from django.db import connection

        connection.ensure_connection()
        self.pg = connection.connection
        self.pg.execute("DROP TABLE IF EXISTS bench_baseline_message")
        self.pg.execute("""CREATE TABLE bench_baseline_message (
            id bigserial PRIMARY KEY, account_id bigint NOT NULL, platform_message_id varchar(200) NOT NULL,
            text text NOT NULL, sent_at timestamptz NOT NULL, sentiment_score double precision NOT NULL)""")
        self.pg.execute("CREATE UNIQUE INDEX bench_baseline_unique "
                        "ON bench_baseline_message (account_id, platform_message_id)")

    def run(self, account, batch: list[dict]) -> float:
        from inbox.triage import sentiment_of

        t0 = time.perf_counter()
        rows = [(account.pk, item["platform_message_id"], item["text"], item["sent_at"], sentiment_of(item["text"])[0])
                for item in batch]
        with self.pg.transaction(), self.pg.cursor() as cursor:
            with cursor.copy("COPY bench_baseline_message (account_id, platform_message_id, text, sent_at, "
                             "sentiment_score) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return time.perf_counter() - t0

    def drop(self):
        self.pg.execute("DROP TABLE IF EXISTS bench_baseline_message")


def measure_ingest(batches) -> tuple[float, float, int]:
    """Baseline and ingest batch by batch, interleaved, so a busy neighbour
    on the machine slows both alike. Returns (ingest s, baseline s, created)."""
    from inbox.ingest import ingest_messages

    baseline = Baseline()
    ingest_s = baseline_s = 0.0
    created = 0
    for n, (account, batch) in enumerate(batches, 1):
        baseline_s += baseline.run(account, batch)
        t0 = time.perf_counter()
        result = ingest_messages(account=account, items=batch, source="bench")
        ingest_s += time.perf_counter() - t0
        if result.errors:
            raise RuntimeError(f"ingest rejected items: {result.errors[:3]}")
        created += result.created
        if n % 10 == 0 or n == len(batches):
            log(f"measured: {created} messages, ingest {created / ingest_s:.0f}/s, "
                f"baseline {created / baseline_s:.0f}/s")
    baseline.drop()
    return ingest_s, baseline_s, created


# --- list -----------------------------------------------------------------------

def get(client, url: str) -> float:
    t0 = time.perf_counter()
    response = client.get(url)
    spent = (time.perf_counter() - t0) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code} {response.content[:300]!r}")
    return spent


def captured_sql(client, url: str) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    return [q["sql"] for q in context.captured_queries]


def replay(statements: list[str]) -> float:
    """The request's exact SQL on a raw cursor, rows fetched: the database's share."""
    from django.db import connection

    with connection.cursor() as cursor:
        t0 = time.perf_counter()
        for statement in statements:
            cursor.execute(statement)
            if cursor.description is not None:
                cursor.fetchall()
        return (time.perf_counter() - t0) * 1000


def measure_list(client, url: str, count: int) -> tuple[list[float], list[float], list[str]]:
    for _ in range(WARMUP_REQUESTS):
        get(client, url)
    statements = captured_sql(client, url)
    for _ in range(WARMUP_REQUESTS):
        replay(statements)
    request_ms, sql_ms = [], []
    for _ in range(count):  # interleaved, as for ingest
        request_ms.append(get(client, url))
        sql_ms.append(replay(statements))
    return request_ms, sql_ms, statements


BREAKDOWN = [
    ("ingest.py", "_store", "ingest._store (all of a batch's writes)"),
    ("query.py", "bulk_update", "QuerySet.bulk_update (conversations; round robin)"),
    ("query.py", "bulk_create", "QuerySet.bulk_create (messages, conversations, decisions, events, authors)"),
    ("triage.py", "triage_text", "triage.triage_text (language, VADER, keywords, sensitive terms)"),
    ("triage.py", "sentiment_of", "  of which VADER (sentiment_of)"),
    ("sla.py", "start_clocks", "sla.start_clocks (service-time deadlines)"),
    ("routing.py", "route", "routing.route"),
    ("ingest.py", "_upsert_authors", "ingest._upsert_authors"),
    ("ingest.py", "validate_item", "ingest.validate_item"),
    ("services.py", "assign_round_robin", "services.assign_round_robin"),
    ("serializers.py", "data", "DRF serializer .data"),
    ("renderers.py", "render", "DRF JSONRenderer.render"),
    ("compiler.py", "execute_sql", "Django SQL compiler execute_sql (build + run queries)"),
]


def profile(label: str, func, lines: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    func()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    total = max(stats.total_tt, 1e-9)
    out.write(f"breakdown of {label} (cumulative, under the profiler; total {total:.2f} s):\n")
    for filename, function, text in BREAKDOWN:
        # The largest of the matching entries: an override calling super() would otherwise count twice.
        cumulative = max((ct for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items()
                          if name == function and path.endswith(filename)), default=0)
        if cumulative:
            out.write(f"  {cumulative:7.3f} s {100 * cumulative / total:5.1f}%  {text}\n")
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)
    log(f"profile of {label}:\n{out.getvalue()}")


# --- main -------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--what-if", action="store_true",
                        help="Also measure ingest with bulk_update done as UPDATE ... FROM (VALUES ...) "
                             "(bench/whatif.py), logged to stderr only.")
    parser.add_argument("--profile", action="store_true",
                        help="After measuring, print cProfile summaries of two ingest batches and 20 list "
                             "requests to stderr.")
    args = parser.parse_args()

    name = recreate_database()
    log(f"database {name} recreated")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.demo import ensure_demo_second_factors, load_demo_organisation
    from accounts.models import User
    from inbox.demo import generate, load_demo_inbox
    from inbox.models import Conversation, Message
    from inbox.triage import sentiment_of
    from security.demo import load_demo_security
    from security.models import SocialAccount

    call_command("migrate", verbosity=0)
    log("migrated")
    load_demo_organisation()
    load_demo_security()
    load_demo_inbox(messages=0)  # service windows, routing rules, queues and saved replies; no messages
    ensure_demo_second_factors()
    accounts = {a.handle: a for a in SocialAccount.objects.all()}
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    log("demo organisation loaded")

    now = timezone.now()
    items, _threads = generate(now=now, messages=TOTAL_MESSAGES, platforms={h: a.platform for h, a in accounts.items()})
    warmup_end = INGEST_MESSAGES + BATCH
    measured = batches_of(items, accounts, lambda i: number(i) <= INGEST_MESSAGES)
    warmup = batches_of(items, accounts, lambda i: INGEST_MESSAGES < number(i) <= warmup_end)
    rest = batches_of(items, accounts, lambda i: number(i) > warmup_end)
    log(f"generated {TOTAL_MESSAGES} messages ({len(measured)} measured batches)")

    # Warm-up: VADER's lexicon, the holiday calendars, the first queries.
    sentiment_of("warm up")
    ingest_all(warmup, "warm-up")

    ingest_s, baseline_s, created = measure_ingest(measured)
    if created != INGEST_MESSAGES:
        raise RuntimeError(f"expected {INGEST_MESSAGES} new messages, got {created}")
    ingest_per_s, baseline_per_s = created / ingest_s, created / baseline_s
    log(f"ingest: {ingest_per_s:.0f} messages/s, baseline (VADER + COPY): {baseline_per_s:.0f} messages/s, "
        f"ratio {ingest_per_s / baseline_per_s:.3f}")

    if args.what_if and rest:
        from bench.whatif import fast_bulk_update

        with fast_bulk_update():
            what_s, what_baseline_s, what_created = measure_ingest(rest[:WHAT_IF_BATCHES])
        log(f"WHAT-IF bulk_update as UPDATE ... FROM (VALUES ...): ingest {what_created / what_s:.0f} messages/s, "
            f"baseline {what_created / what_baseline_s:.0f}/s, ratio {what_baseline_s / what_s:.3f} "
            f"(not in the JSON line)")
        rest = rest[WHAT_IF_BATCHES:]
    if args.profile and rest:
        profile("two ingest batches of 500", lambda: ingest_all(rest[:2], "profiled"))
        rest = rest[2:]
    ingest_all(rest, "fill")
    with connection.cursor() as cursor:
        # A working team: most conversations quiet for a day are resolved (as in the demo inbox).
        cursor.execute("""UPDATE inbox_conversation SET status = 'resolved',
                              resolved_at = last_message_at + interval '3 hours', sla_next_check_at = NULL
                          WHERE last_message_at < %s AND id %% 5 <> 0""", [now - timedelta(days=1)])
        cursor.execute("ANALYZE")
    messages = Message.objects.count()
    log(f"{messages} messages, {Conversation.objects.count()} conversations "
        f"({Conversation.objects.filter(status__in=Conversation.OPEN_STATUSES).count()} open)")

    client = Client()
    ada = User.objects.get(username="ada")
    client.force_login(ada)
    # An admin signs in with a second factor: mark this session as having given it, as /login/verify/ would.
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.filter(user=ada, confirmed=True).first().persistent_id
    session.save()
    list_url = LIST_URL
    if client.get(list_url.format(size=50)).status_code == 404:  # no API endpoint yet: measure the page instead
        list_url = "/inbox/?status=open&page_size={size}"
        log("WARNING: /api/conversations/ answers 404; measuring the /inbox/ page instead")
    url = list_url.format(size=50)
    list_times, sql_times, statements = measure_list(client, url, REQUESTS)
    list_p95, sql_p95 = p95(list_times), p95(sql_times)
    log(f"list: p95 {list_p95:.2f} ms (median {statistics.median(list_times):.2f}), its {len(statements)} SQL "
        f"statements bare: p95 {sql_p95:.2f} ms (median {statistics.median(sql_times):.2f})")
    for statement in statements:
        log(f"  SQL: {statement[:160]}")
    if args.what_if:
        from bench.whatif import lean_list_serializer
        from inbox.selectors import conversations_visible_to, with_list_relations

        admin = User.objects.get(username="ada")
        rows = list(with_list_relations(conversations_visible_to(admin))
                    .filter(status__in=Conversation.OPEN_STATUSES).order_by("-last_message_at", "-id")[:50])
        with lean_list_serializer(rows) as same:
            if same:
                lean_times, lean_sql_times, _s = measure_list(client, url, REQUESTS)
                log(f"WHAT-IF lean list serializer: p95 {p95(lean_times):.2f} ms "
                    f"(median {statistics.median(lean_times):.2f}), SQL p95 {p95(lean_sql_times):.2f} ms, "
                    f"ratio {p95(lean_times) / p95(lean_sql_times):.2f} (not in the JSON line)")
            else:
                log("WHAT-IF lean list serializer skipped: its JSON differs from the API's serializer")
    queries_10 = len(captured_sql(client, list_url.format(size=10)))
    queries_100 = len(captured_sql(client, list_url.format(size=100)))
    if args.profile:
        profile("20 list requests", lambda: [get(client, url) for _ in range(20)])

    print(json.dumps({
        "ingest_per_s": round(ingest_per_s, 1),
        "baseline_per_s": round(baseline_per_s, 1),
        "ingest_ratio": round(ingest_per_s / baseline_per_s, 3),
        "list_p95_ms": round(list_p95, 2),
        "list_sql_p95_ms": round(sql_p95, 2),
        "list_ratio": round(list_p95 / sql_p95, 2),
        "list_queries_10": queries_10,
        "list_queries_100": queries_100,
        "machine": machine(server_version),
        "messages": messages,
    }), flush=True)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
