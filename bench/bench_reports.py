"""Reputation report benchmark: the whole report (``strategy.reports.build_report``)
of an executive for the organisation over the last 90 days, at 1,000,000
messages on PostgreSQL, next to the same statements run as bare SQL in the
same run, plus the page and the PDF.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/socialops_bench_reports \\
        .venv/bin/python bench/bench_reports.py [--explain]

The database named in DATABASE_URL is dropped and created again (its name
must start with ``socialops_bench_``), migrated, and given the demo
organisation, channels, service windows and strategy register (one active
strategy with its objectives), plus nine more channels with service windows
of their own (twelve in all). The inbox is filled with
``bench_strategy.fill`` (``INSERT ... SELECT generate_series``, in id
order of time as ingest writes it) over 200 days, extended with what the
report reads: departments routed from the intent, assignees, influencer and
sensitive conversations, SLA breaches, message texts of realistic length
(templates around a vocabulary of about 3,000 terms whose popularity drifts
over time), ``outside_service_hours`` computed from each channel's service
periods in its own time zone, tags, and the ``inbox.TopicDay`` rollup
computed in SQL from the stored texts (checked against ``inbox.topics.terms_of``
on a sample before anything is timed).

Measured (the median of BENCH_RUNS runs each, after one warm-up, interleaved
so that a busy neighbour slows both sides alike):

- ``report_ms``: ``build_report(executive, parse_request(executive,
  {"period": "90d"}, now=...))`` (every figure, table, objective and summary).
- ``report_sql_ms``: the statements that very call sends (recorded with
  their parameters: the metrics' grouped queries, the objectives' KPI
  queries and the small lookups) replayed on a raw cursor, every row
  fetched. ``report_ratio`` = ``report_ms`` / ``report_sql_ms`` (target:
  at most 1.5): the ORM's and Python's share.
- ``queries``: statements ``build_report`` runs (``CaptureQueriesContext``);
  ``queries_by_period`` for 7d, 30d and 90d (target: the same).
- ``page_ms``: ``GET /strategy/reports/?period=90d`` through
  ``django.test.Client`` as the executive with a verified second factor
  (target: under 2 s); ``pdf_ms``: ``GET /strategy/reports/pdf/?period=90d``
  (the view: report, charts, template, WeasyPrint); ``pdf_render_ms``: the
  charts, template and WeasyPrint alone, for an already built report.
- the slowest statements (median ms each) go to stderr with their
  ``EXPLAIN (ANALYZE, BUFFERS)`` (``--explain``: every statement's).

Progress goes to stderr; stdout gets ONE JSON line. Never gates on time: the
exit code is 0 whatever the figures (non-zero only if something broke).
Smaller for a quick try: BENCH_MESSAGES, BENCH_RUNS (7), BENCH_PAGE_RUNS (5),
BENCH_PDF_RUNS (3). ``--reuse`` measures a database an earlier run filled
(the fill takes most of the time) after migrating it."""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.bench_inbox import machine, recreate_database  # noqa: E402
from bench.bench_strategy import _insert, fill, log, ms  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
PAGE_RUNS = int(os.environ.get("BENCH_PAGE_RUNS", "5"))
PDF_RUNS = int(os.environ.get("BENCH_PDF_RUNS", "3"))
DAYS_OF_HISTORY = 200
PERIOD = "90d"
EXECUTIVE = "erik"

# Nine channels besides the demo's three: platform, handle, name, time zone, always open, opening periods
# (weekday, opens minute, closes minute), departments.
WEEKDAYS = range(5)
EXTRA_CHANNELS = [
    ("instagram", "@brand.shop", "Brand Shop (Instagram)", "Europe/Madrid", False,
     [(d, 8 * 60, 20 * 60) for d in range(6)], ["customer-service", "marketing"]),
    ("facebook", "brand.official", "Brand (Facebook)", "Europe/Madrid", False,
     [(d, 9 * 60, 18 * 60) for d in WEEKDAYS], ["customer-service", "marketing"]),
    ("tiktok", "@brand.fun", "Brand (TikTok)", "Europe/London", False,
     [(d, 10 * 60, 22 * 60) for d in range(7)], ["marketing"]),
    ("youtube", "BrandTV", "Brand TV (YouTube)", "Europe/London", False,
     [(d, 9 * 60, 17 * 60) for d in WEEKDAYS], ["marketing", "pr"]),
    ("bluesky", "brand.bsky.social", "Brand (Bluesky)", "America/New_York", False,
     [(d, o, c) for d in WEEKDAYS for o, c in ((8 * 60, 12 * 60), (13 * 60, 17 * 60))], ["customer-service"]),
    ("x", "@brand_es", "Brand España (X)", "Europe/Madrid", False,
     [(d, 9 * 60, 19 * 60) for d in WEEKDAYS], ["customer-service", "sales"]),
    ("x", "@brand_ro", "Brand România (X)", "Europe/Bucharest", False,
     [(d, 9 * 60, 18 * 60) for d in WEEKDAYS], ["customer-service"]),
    ("instagram", "@brand.id", "Brand Indonesia (Instagram)", "Asia/Jakarta", False,
     [(d, 8 * 60, 17 * 60) for d in range(6)], ["customer-service", "marketing"]),
    ("mastodon", "@care@social.example", "Brand Care (Mastodon)", "Europe/Copenhagen", True, [],
     ["customer-service"]),
]

TAGS = ["delivery", "refund", "billing", "bug", "login", "returns", "warranty", "stock", "pricing", "app",
        "website", "feedback", "press", "partnership", "urgent", "vip", "escalated", "duplicate", "follow-up",
        "competitor", "store", "recall", "shipping-delay", "payment", "account"]

# Inbound texts: opener + term + middle + term + ". " + closer + " #" + term (at most 3 + 4 + 2 + 3 = 12 terms,
# inbox.topics.MAX_TERMS, checked at start), 80-200 characters.
OPENERS = ["Hi, I ordered the", "Really disappointed with the", "Loving the new", "Quick question about the",
           "Still waiting on my", "Is anyone else having trouble with the", "Can you tell me when the",
           "Honestly the", "Good morning! Is the", "Third time asking about the", "My daughter bought the",
           "Does the"]
MIDDLES = ["arrived damaged, and so did the", "keeps crashing when I open the", "is out of stock again, what about the",
           "was charged twice, same as the", "works great with the", "never showed up, and your site says the",
           "has a weird noise, just like the", "is missing from the app, like the",
           "took three weeks to arrive and so did the", "doesn't match the photos of the"]
CLOSERS = ["Please help.", "Thanks in advance!", "Any update?", "Not happy at all.", "Great job!",
           "Who do I contact?", "Would love a refund.", "Sent you a DM.", "Can't believe this."]
REPLIES = ["Hi! Sorry to hear that. We have sent you a direct message so we can look into your order right away.",
           "Thanks for reaching out! Could you send us your order number by DM? We will check it with the warehouse.",
           "We are glad you like it! Thank you for sharing, it made the whole team smile today.",
           "Hello, our colleagues in billing are on it; you will get an answer by email within one working day.",
           "Sorry for the wait. The replacement left our warehouse this morning; tracking is in your inbox."]
# The head of the vocabulary: words customers use; the tail: product and place names (syllable combinations).
HEAD = """delivery refund invoice courier battery charger headphones password login checkout voucher discount
warranty replacement subscription firmware bluetooth speaker screen keyboard mouse router sneakers jacket jeans
backpack blender kettle toaster vacuum mattress pillow sofa lamp printer tablet laptop smartwatch earbuds camera
tripod drone console controller cable adapter parcel package tracking warehouse shipment pickup locker store
cashier receipt coupon loyalty points membership newsletter website chatbot hotline manager supervisor technician
installer appointment booking reservation cancellation exchange return damage scratch crack leak noise smell
colour size fit quality price stock sale promotion launch preorder restock catalogue brochure advert campaign
influencer giveaway contest sponsor festival concert stadium airport station hotel restaurant menu recipe coffee
juice snack chocolate allergy gluten vegan organic recycling packaging plastic sustainability""".split()
SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "tor", "zel", "bri", "dax", "nor", "quo", "sil", "tem", "vor", "lyn",
             "mar", "pel", "ros", "tan", "ux"]
VOCABULARY_SIZE = 3000


def vocabulary() -> list[str]:
    """About 3,000 terms: the head words, then three-syllable names in a fixed shuffled order."""
    import random

    from inbox.topics import terms_of

    names = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES if len({a, b, c}) == 3]
    random.Random(2026).shuffle(names)
    words = list(dict.fromkeys(HEAD + names))[:VOCABULARY_SIZE]
    return [w for w in words if terms_of(w, "en") == {w}]


def template_terms() -> set[str]:
    """Every term the templates contribute, and a check that no text can exceed MAX_TERMS."""
    from inbox.topics import MAX_TERMS, terms_of

    most = max(len(terms_of(t, "en")) for t in OPENERS) + max(len(terms_of(t, "en")) for t in MIDDLES) + \
        max(len(terms_of(t, "en")) for t in CLOSERS) + 3
    if most > MAX_TERMS:
        raise RuntimeError(f"a bench text may have {most} terms, more than inbox.topics.MAX_TERMS ({MAX_TERMS})")
    return set().union(*(terms_of(t, "en") for t in OPENERS + MIDDLES + CLOSERS))


# --- data -----------------------------------------------------------------------------------

def setup_channels() -> None:
    """The nine extra channels, each with its service window and periods."""
    from accounts.models import Department
    from inbox.models import ServicePeriod, ServiceWindow
    from security.models import SocialAccount

    departments = {d.slug: d for d in Department.objects.all()}
    for platform, handle, name, tz, always_open, periods, dept_slugs in EXTRA_CHANNELS:
        account = SocialAccount.objects.create(platform=platform, handle=handle, display_name=name, sandbox=True)
        account.departments.set([departments[s] for s in dept_slugs if s in departments])
        window = ServiceWindow.objects.create(account=account, time_zone=tz, always_open=always_open)
        ServicePeriod.objects.bulk_create(
            [ServicePeriod(window=window, weekday=d, opens_minute=o, closes_minute=c) for d, o, c in periods])


def _sent(k_expression: str = "k") -> str:
    return f"(c.opened_at + make_interval(mins => {k_expression} * 45))"


def fill_report_data(now, account_ids: list[int]) -> dict:
    """bench_strategy's fill, with everything the report reads; then tags and the TopicDay rollup."""
    from django.conf import settings
    from django.db import connection

    from accounts.models import Department, User

    dept = {d.slug: d.pk for d in Department.objects.all()}
    assignees = list(User.objects.filter(username__in=["cora", "carlos", "rita", "sam", "lina", "sofia", "sven",
                                                       "paula", "fiona", "mark", "hana"])
                     .order_by("pk").values_list("pk", flat=True))
    words = vocabulary()
    head = len([w for w in words if w in set(HEAD)])
    params = {"d_cs": dept["customer-service"], "d_sales": dept["sales"], "d_mkt": dept["marketing"],
              "d_pr": dept["pr"], "d_fin": dept["finance"], "d_hr": dept["hr"], "assignees": assignees,
              "vocab": words, "head": head, "openers": OPENERS, "middles": MIDDLES, "closers": CLOSERS,
              "replies": REPLIES}
    conversation_columns = {
        # Routed from the intent, as the demo's routing rules do; billing questions to finance; a few unrouted.
        "department_id": """CASE WHEN intent = 'spam' THEN NULL WHEN intent = 'sales_lead' THEN %(d_sales)s
                                 WHEN intent = 'praise' THEN %(d_mkt)s WHEN intent = 'sensitive' THEN %(d_pr)s
                                 WHEN random() < 0.08 THEN %(d_fin)s WHEN random() < 0.02 THEN %(d_hr)s
                                 WHEN random() < 0.05 THEN NULL ELSE %(d_cs)s END""",
        "assignee_id": """CASE WHEN answered OR random() < 0.4 THEN
                              (%(assignees)s::bigint[])[1 + floor(random() * cardinality(%(assignees)s::bigint[]))::int]
                          END""",
        "is_influencer": "random() < 0.03",
        "is_sensitive": "intent = 'sensitive' OR random() < 0.01",
        "sensitive_categories": "CASE WHEN intent = 'sensitive' THEN '[\"legal\"]'::jsonb ELSE '[]'::jsonb END",
        # Late first responses, unanswered ones past their target, and resolutions over two days of service time.
        "sla_breached": "(answered AND fr_minutes > target) OR NOT answered OR (answered AND res_minutes > 2880)",
        "priority": "CASE WHEN intent IN ('complaint', 'sensitive') THEN 3 WHEN intent = 'spam' THEN 1 ELSE 2 END",
    }
    sent = _sent()
    # Outside the window: the channel has one, it is not 24/7, and no opening period of the local weekday covers
    # the local time (holidays and one-off closures are not modelled here).
    outside = f"""k %% 2 = 0 AND EXISTS (
        SELECT 1 FROM inbox_servicewindow w
        WHERE w.account_id = c.account_id AND NOT w.always_open AND NOT EXISTS (
            SELECT 1 FROM inbox_serviceperiod p
            CROSS JOIN LATERAL (SELECT {sent} AT TIME ZONE w.time_zone AS lt) AS l
            WHERE p.window_id = w.id AND p.weekday = extract(isodow FROM l.lt)::int - 1
              AND extract(hour FROM l.lt) * 60 + extract(minute FROM l.lt) >= p.opens_minute
              AND extract(hour FROM l.lt) * 60 + extract(minute FROM l.lt) < p.closes_minute))"""
    pick = "(%(vocab)s::text[])[1 + ({})]"
    # The first term follows the head words whose popularity moves every 20 days (so topics grow and fade); the
    # second and the hashtag follow a long tail over the whole vocabulary.
    drift = f"(floor(extract(epoch FROM {sent}) / 86400 / 20)::int * 7)"
    first_term = pick.format(f"(floor(%(head)s * power(random(), 2))::int + {drift}) %% %(head)s")
    tail_term = pick.format("floor(cardinality(%(vocab)s::text[]) * power(random(), 4))::int")
    hashtag = pick.format("floor(cardinality(%(vocab)s::text[]) * power(random(), 2))::int")
    text = f"""CASE WHEN k %% 2 = 1
                    THEN (%(replies)s::text[])[1 + (j %% cardinality(%(replies)s::text[]))]
                    ELSE (%(openers)s::text[])[1 + floor(random() * cardinality(%(openers)s::text[]))::int]
                         || ' ' || {first_term} || ' '
                         || (%(middles)s::text[])[1 + floor(random() * cardinality(%(middles)s::text[]))::int]
                         || ' ' || {tail_term} || '. '
                         || (%(closers)s::text[])[1 + floor(random() * cardinality(%(closers)s::text[]))::int]
                         || ' #' || {hashtag} END"""
    message_columns = {"text": text, "outside_service_hours": outside}
    conversations, messages = fill(now, account_ids, days=DAYS_OF_HISTORY,
                                   extra_conversation_columns=conversation_columns,
                                   extra_message_columns=message_columns, extra_params=params)

    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute("INSERT INTO inbox_tag (name) SELECT unnest(%s::text[])", [TAGS])
        cursor.execute("SELECT array_agg(id ORDER BY id) FROM inbox_tag")
        tag_ids = cursor.fetchone()[0]
        # A third of the conversations tagged, some twice; the first tags far more used than the last.
        tagged = _insert(cursor, "inbox_conversationtag", {
            "conversation_id": "cid", "tag_id": "tag"},
            """FROM (SELECT DISTINCT c.id AS cid,
                            (%(tags)s::bigint[])[1 + floor(cardinality(%(tags)s::bigint[])
                                                           * power(random(), 2))::int] AS tag
                     FROM inbox_conversation c CROSS JOIN generate_series(1, 2) AS n
                     -- c.id keeps the draw per row: a condition on n alone is drawn once per n
                     WHERE random() + 0 * c.id < CASE WHEN n = 1 THEN 0.33 ELSE 0.08 END) AS t""", {"tags": tag_ids})
        log(f"{tagged} conversation tags ({len(TAGS)} tags)")

        # TopicDay from the stored texts: the words of each inbound message that are terms (the templates' and
        # the vocabulary's words for which inbox.topics.terms_of keeps the word), once per message.
        terms = sorted(template_terms() | set(words))
        cursor.execute("CREATE TABLE bench_terms (term varchar(40) PRIMARY KEY)")
        cursor.execute("INSERT INTO bench_terms SELECT unnest(%s::text[])", [terms])
        cursor.execute("""
            INSERT INTO inbox_topicday (day, account_id, department_key, term, messages)
            SELECT (m.sent_at AT TIME ZONE %(tz)s)::date, m.account_id, coalesce(c.department_id, 0), w.term,
                   count(*)
            FROM inbox_message m JOIN inbox_conversation c ON c.id = m.conversation_id
            CROSS JOIN LATERAL (SELECT DISTINCT word AS term
                                FROM regexp_split_to_table(lower(m.text), '[^a-z]+') AS word) AS w
            JOIN bench_terms t ON t.term = w.term
            WHERE m.direction = 'in'
            GROUP BY 1, 2, 3, 4""", {"tz": settings.TIME_ZONE})
        topic_rows = cursor.rowcount
        check_topics(cursor)
        cursor.execute("DROP TABLE bench_terms")
        cursor.execute("SELECT count(DISTINCT term) FROM inbox_topicday")
        distinct_terms = cursor.fetchone()[0]
        log(f"{topic_rows} TopicDay rows, {distinct_terms} distinct terms")
        # The organisation-wide topic rollup, as ingest keeps it: TopicDay added up over channels and departments.
        cursor.execute("INSERT INTO inbox_topicdaytotal (day, term, messages) "
                       "SELECT day, term, sum(messages) FROM inbox_topicday GROUP BY 1, 2")
        total_rows = cursor.rowcount
        log(f"{total_rows} TopicDayTotal rows")
        cursor.execute("VACUUM ANALYZE inbox_conversationtag")
        cursor.execute("VACUUM ANALYZE inbox_topicday")
        cursor.execute("VACUUM ANALYZE inbox_topicdaytotal")
        cursor.execute("SELECT count(*) FILTER (WHERE direction = 'in'), "
                       "count(*) FILTER (WHERE outside_service_hours), avg(length(text)) "
                       "FILTER (WHERE direction = 'in') FROM inbox_message")
        inbound, outside_count, text_length = cursor.fetchone()
    log(f"{inbound} inbound messages ({outside_count} outside service hours), texts {float(text_length):.0f} "
        "characters on average")
    return {"conversations": conversations, "messages": messages, "inbound": inbound,
            "outside_service_hours": outside_count, "avg_text_chars": round(float(text_length)),
            "conversation_tags": tagged, "topicday_rows": topic_rows, "topicdaytotal_rows": total_rows,
            "distinct_terms": distinct_terms}


def check_topics(cursor, sample: int = 300) -> None:
    """The SQL rollup's terms of a sample of messages are those ``inbox.topics.terms_of`` gives."""
    from inbox.topics import terms_of

    cursor.execute("""SELECT m.text, m.language, array(SELECT DISTINCT word FROM regexp_split_to_table(
                             lower(m.text), '[^a-z]+') AS word JOIN bench_terms t ON t.term = word)
                      FROM inbox_message m WHERE m.direction = 'in' ORDER BY random() LIMIT %s""", [sample])
    for text, language, sql_terms in cursor.fetchall():
        if set(sql_terms) != terms_of(text, language):
            raise RuntimeError(f"TopicDay terms differ from inbox.topics.terms_of for {text!r}: "
                               f"{sorted(sql_terms)} vs {sorted(terms_of(text, language))}")
    log(f"TopicDay terms of {sample} sampled messages match inbox.topics.terms_of")


# --- measuring --------------------------------------------------------------------------------

def executive():
    """A fresh executive each time: ``user_roles`` caches the roles on the user object, as per request."""
    from accounts.models import User

    return User.objects.get(username=EXECUTIVE)


def build(now, period: str = PERIOD):
    from strategy.reports import build_report, parse_request

    user = executive()
    return build_report(user, parse_request(user, {"period": period}, now=now), now=now)


def record(func) -> list[tuple[str, object]]:
    """The statements ``func`` sends, with their parameters, in order."""
    from django.db.backends.utils import CursorWrapper

    statements: list[tuple[str, object]] = []
    original = CursorWrapper.execute

    def recording(self, sql, params=None):
        statements.append((sql, params))
        return original(self, sql, params)

    CursorWrapper.execute = recording
    try:
        func()
    finally:
        CursorWrapper.execute = original
    return statements


def replay(cursor, statements, timings: list[list[float]] | None = None) -> None:
    for n, (sql, params) in enumerate(statements):
        t0 = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchall()
        if timings is not None:
            timings[n].append((time.perf_counter() - t0) * 1000)


def count_queries(func) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        func()
    return len(captured.captured_queries)


def signed_in_client(user):
    """``django.test.Client`` signed in with a verified second factor (as tests/conftest.py ``sign_in``)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_static.models import StaticDevice

    client = Client()
    client.force_login(user)
    device, _created = StaticDevice.objects.get_or_create(user=user, name="bench session",
                                                          defaults={"confirmed": True})
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def get(client, url: str, *, pdf: bool = False) -> float:
    t0 = time.perf_counter()
    response = client.get(url)
    body = response.content
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: {response.status_code}")
    if pdf and not body.startswith(b"%PDF"):
        raise RuntimeError(f"GET {url}: not a PDF")
    return elapsed


def render_pdf_of(report) -> bytes:
    """What ``strategy.views_reports.report_pdf`` does after building the report."""
    from django.template.loader import render_to_string
    from django.utils import timezone

    from strategy.pdf import render_pdf
    from strategy.report_charts import charts_for

    html = render_to_string("strategy/report_pdf.html", {
        "report": report, "charts": charts_for(report),
        "generated_at": timezone.localtime(report.generated_at, report.request.tz),
        "viewer_name": report.viewer.get_full_name() or report.viewer.username})
    return render_pdf(html, base_url="http://testserver/")


def describe(sql: str) -> str:
    """A short name for a statement: its main table and grouping."""
    flat = " ".join(sql.split())
    table = flat.split(" FROM ", 1)[1].split(" ", 1)[0].strip('"') if " FROM " in flat else "?"
    group = flat.split(" GROUP BY ", 1)[1][:90] if " GROUP BY " in flat else ""
    return f"{table}" + (f" GROUP BY {group}" if group else "")


# --- main -------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--explain", action="store_true",
                        help="Log EXPLAIN (ANALYZE, BUFFERS) of every statement of the report (default: the 3 "
                             "slowest) to stderr.")
    parser.add_argument("--reuse", action="store_true",
                        help="Measure the database a previous run filled (migrated again, not refilled).")
    args = parser.parse_args()

    if not args.reuse:
        name = recreate_database()
        log(f"database {name} recreated")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.demo import load_demo_organisation
    from inbox.demo import load_demo_inbox
    from inbox.models import Conversation, Message
    from security.demo import load_demo_security
    from security.models import SocialAccount
    from strategy.demo import load_demo_strategy
    from strategy.models import Objective, Strategy

    call_command("migrate", verbosity=0)
    if args.reuse:
        with connection.cursor() as cursor:
            cursor.execute("SELECT filled_at, rows FROM bench_filled")
            now, rows = cursor.fetchone()
        rows = json.loads(rows) if isinstance(rows, str) else rows
        log(f"reusing the database filled at {now.isoformat()}")
    else:
        load_demo_organisation()
        load_demo_security()
        load_demo_inbox(messages=0)  # service windows and SLA policies; the messages come from the fill
        setup_channels()
        now = timezone.now().replace(microsecond=0)
        load_demo_strategy(now=now)
    account_ids = list(SocialAccount.objects.order_by("pk").values_list("pk", flat=True))
    objectives = Objective.objects.filter(
        strategy__status__in=[Strategy.Status.ACTIVE, Strategy.Status.UNDER_REVIEW]).count()
    log(f"migrated; demo organisation, strategy register ({objectives} objectives in active strategies) and "
        f"{len(account_ids)} channels")
    if not args.reuse:
        rows = fill_report_data(now, account_ids)
        with connection.cursor() as cursor:  # what --reuse reads back
            cursor.execute("CREATE TABLE bench_filled (filled_at timestamptz, rows jsonb)")
            cursor.execute("INSERT INTO bench_filled VALUES (%s, %s)", [now, json.dumps(rows)])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]

    report = build(now)
    start, end = report.request.period.start, report.request.period.end
    rows["conversations_in_period"] = Conversation.objects.filter(opened_at__gte=start, opened_at__lt=end).count()
    rows["inbound_in_period"] = Message.objects.filter(direction="in", sent_at__gte=start, sent_at__lt=end).count()
    rows["objectives"] = objectives
    rows["channels"] = len(account_ids)
    log(f"report of {report.request.period_label}: {rows['conversations_in_period']} conversations opened, "
        f"{rows['inbound_in_period']} inbound messages; {len(report.tables)} tables, "
        f"{len(report.tables['topics'].rows)} topics, {len(report.tables['objectives'].rows)} objectives, "
        f"{len(report.summary)} summary sentences")
    log("summary: " + " | ".join(report.summary))

    queries_by_period = {p: count_queries(lambda p=p: build(now, p)) for p in ("7d", "30d", "90d")}
    log(f"queries by period: {queries_by_period}")

    statements = record(lambda: build(now))
    log(f"build_report sends {len(statements)} statements")

    load_before = os.getloadavg()[0]  # the machine is shared: the load explains the absolute figures
    # Warm-up, then interleaved runs: the report, then its statements on a raw cursor.
    timings: list[list[float]] = [[] for _ in statements]
    with connection.cursor() as cursor:
        build(now)
        replay(cursor, statements)
        report_runs, sql_runs = [], []
        for n in range(RUNS):
            report_runs.append(ms(lambda: build(now)))
            sql_runs.append(ms(lambda: replay(cursor, statements, timings)))
            log(f"run {n + 1}/{RUNS}: report {report_runs[-1]:.0f} ms, its SQL bare {sql_runs[-1]:.0f} ms")
    per_statement = sorted(((statistics.median(t), i) for i, t in enumerate(timings)), reverse=True)
    for median, i in per_statement[:8]:
        log(f"statement {i + 1}: {median:.1f} ms  {describe(statements[i][0])}")
    explained = [i for _m, i in per_statement] if args.explain else [i for _m, i in per_statement[:3]]
    with connection.cursor() as cursor:
        for i in explained:
            sql, params = statements[i]
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n  ".join(r[0] for r in cursor.fetchall())
            log(f"EXPLAIN statement {i + 1} ({describe(sql)}):\n  {' '.join(sql.split())[:600]}\n  {plan}")

    client = signed_in_client(executive())
    page_url, pdf_url = f"/strategy/reports/?period={PERIOD}", f"/strategy/reports/pdf/?period={PERIOD}"
    get(client, page_url)
    page_runs = [get(client, page_url) for _ in range(PAGE_RUNS)]
    log(f"page: {', '.join(f'{v:.0f}' for v in page_runs)} ms")
    page_queries = count_queries(lambda: client.get(page_url))

    from strategy.pdf import weasyprint_problem

    problem = weasyprint_problem()
    pdf_ms = pdf_render_ms = pdf_bytes = None
    if problem:
        log(f"PDF not measured: {problem}")
    else:
        get(client, pdf_url, pdf=True)
        pdf_runs = [get(client, pdf_url, pdf=True) for _ in range(PDF_RUNS)]
        built = build(now)
        render_runs = []
        for _ in range(PDF_RUNS):
            t0 = time.perf_counter()
            pdf_bytes = len(render_pdf_of(built))
            render_runs.append((time.perf_counter() - t0) * 1000)
        pdf_ms, pdf_render_ms = statistics.median(pdf_runs), statistics.median(render_runs)
        log(f"PDF: {', '.join(f'{v:.0f}' for v in pdf_runs)} ms (request); "
            f"{', '.join(f'{v:.0f}' for v in render_runs)} ms (charts, template, WeasyPrint); {pdf_bytes} bytes")

    report_ms, report_sql_ms = statistics.median(report_runs), statistics.median(sql_runs)
    slowest_ms, slowest = per_statement[0]
    print(json.dumps({
        "report_ms": round(report_ms, 1),
        "report_sql_ms": round(report_sql_ms, 1),
        "report_ratio": round(report_ms / report_sql_ms, 2),
        "pdf_ms": None if pdf_ms is None else round(pdf_ms, 1),
        "pdf_render_ms": None if pdf_render_ms is None else round(pdf_render_ms, 1),
        "pdf_bytes": pdf_bytes,
        "page_ms": round(statistics.median(page_runs), 1),
        "page_queries": page_queries,
        "queries": queries_by_period[PERIOD],
        "queries_by_period": queries_by_period,
        "slowest_sql_ms": round(slowest_ms, 1),
        "slowest_sql": describe(statements[slowest][0]),
        "runs": RUNS,
        "period": PERIOD,
        "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "rows": rows,
        "machine": machine(server_version),
        "messages": rows["messages"],
    }), flush=True)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
