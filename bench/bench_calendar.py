"""Content calendar benchmark: the month view with 10,000 posts in the month across 20 accounts, and the
publisher publishing 1,000 due posts against a local fake Mastodon server, exactly once each.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/socialops_bench_calendar \\
        .venv/bin/python bench/bench_calendar.py

The database named in DATABASE_URL is dropped and created again (its name must start with
``socialops_bench_``), migrated, and given the demo organisation and rights, plus 17 more Mastodon channels
(20 in all) whose connector points at a fake Mastodon server started by this script on 127.0.0.1 (a
``ThreadingHTTPServer``: statuses with the Idempotency-Key semantics Mastodon has, media, the account's recent
statuses; it counts every POST). Posts are inserted with SQL (``INSERT ... SELECT generate_series``): 10,000 in
the current month (states, texts of 60-280 characters, 1-3 targets each, approvals), then 1,000 approved posts
due a minute ago on the Mastodon channels.

Measured (stdout: ONE JSON line; progress on stderr; never gates on time):

- ``month_ms``: ``GET /strategy/calendar/?view=month`` as a social media manager (sees every post), median of
  BENCH_PAGE_RUNS (5); ``month_queries`` for it, and ``month_queries_small`` for the same page when the month
  holds 100 posts (target: the same number: no query per post); ``month_sql_ms``: the bare SQL that reads the
  month's posts with their targets and accounts in one statement, in the same run; ``month_ratio`` =
  ``month_ms`` / ``month_sql_ms``.
- ``publish_ms``: ``strategy.publishing.publish_due`` run until nothing is due, for the 1,000 posts;
  ``statuses_posted`` (POSTs to /api/v1/statuses the server saw) and ``statuses_created`` (target: exactly
  1,000 each); ``publish_baseline_ms``: the same 1,000 POSTs sent by a bare ``requests`` loop to the same
  server in the same run; ``publish_ratio`` = ``publish_ms`` / ``publish_baseline_ms``; then ``publish_due``
  is run once more with every lease expired and nothing may be posted again (``statuses_after_rerun``).
"""

import argparse
import json
import os
import statistics
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from bench.bench_inbox import machine, recreate_database  # noqa: E402
from bench.bench_reports import signed_in_client  # noqa: E402
from bench.bench_strategy import log  # noqa: E402

MONTH_POSTS = int(os.environ.get("BENCH_MONTH_POSTS", "10000"))
DUE_POSTS = int(os.environ.get("BENCH_DUE_POSTS", "1000"))
PAGE_RUNS = int(os.environ.get("BENCH_PAGE_RUNS", "5"))
ACCOUNTS = 20
TOKEN = "bench-mastodon-token"


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


# --- the fake Mastodon server -------------------------------------------------------------------------------------

class FakeMastodon:
    """Statuses keyed by Idempotency-Key as Mastodon keeps them; counts every POST to /api/v1/statuses."""

    def __init__(self):
        self.lock = threading.Lock()
        self.posts = 0
        self.statuses: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        self.next_id = 100000
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                if self.path.startswith("/api/v1/accounts/verify_credentials"):
                    return self._send(200, {"id": "1", "username": "brand", "acct": "brand"})
                if self.path.startswith("/api/v1/accounts/1/statuses"):
                    with fake.lock:
                        newest = sorted(fake.statuses.values(), key=lambda s: int(s["id"]), reverse=True)[:40]
                    return self._send(200, newest)
                if self.path.startswith("/api/v1/instance") or self.path.startswith("/api/v2/instance"):
                    return self._send(200, {"uri": "fake", "version": "4.3.0", "api_versions": {"mastodon": 2},
                                            "configuration": {"statuses": {"max_characters": 500}}})
                return self._send(404, {"error": "not found"})

            def do_POST(self):  # noqa: N802
                from urllib.parse import parse_qs

                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                if not self.path.startswith("/api/v1/statuses"):
                    return self._send(404, {"error": "not found"})
                key = self.headers.get("Idempotency-Key") or ""
                form = {k: v[0] for k, v in parse_qs(body).items()}
                if not form and body.startswith("{"):
                    form = json.loads(body)
                with fake.lock:
                    fake.posts += 1
                    if key and key in fake.by_key:
                        return self._send(200, fake.statuses[fake.by_key[key]])
                    fake.next_id += 1
                    status = {"id": str(fake.next_id), "content": f"<p>{form.get('status', '')}</p>",
                              "url": f"https://fake.example/@brand/{fake.next_id}", "visibility": "public",
                              "created_at": "2026-11-30T10:00:00.000Z"}
                    fake.statuses[status["id"]] = status
                    if key:
                        fake.by_key[key] = status["id"]
                return self._send(200, status)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# --- data -----------------------------------------------------------------------------------------------------------

def setup_accounts(base_url: str) -> list:
    from accounts.models import User
    from inbox.models import ConnectorState
    from security import services as security_services
    from security.models import SocialAccount

    admin = User.objects.get(username="ada")
    accounts = list(SocialAccount.objects.order_by("pk"))
    for n in range(ACCOUNTS - len(accounts)):
        account = security_services.account_create(actor=admin, platform="mastodon",
                                                   handle=f"@bench{n}@fake.example", display_name=f"Bench {n}")
        security_services.credential_set(actor=admin, account=account, kind="api_token", secret=TOKEN)
        ConnectorState.objects.create(account=account, base_url=base_url)
        accounts.append(account)
    return accounts


def grant_team(accounts) -> dict:
    from django.utils import timezone

    from accounts.models import User
    from security import services as security_services
    from security.models import PublishingGrant, TrainingRecord

    admin = User.objects.get(username="ada")
    people = {u.username: u for u in User.objects.filter(username__in=["mark", "sam", "sofia"])}
    if not TrainingRecord.objects.filter(user=people["sam"]).exists():
        security_services.training_record_create(actor=admin, user=people["sam"],
                                                 completed_on=timezone.localdate() - timedelta(days=30))
    for account in accounts:
        for username, capability in (("mark", "draft"), ("sam", "approve")):
            if not PublishingGrant.objects.current().filter(user=people[username], account=account,
                                                            capability=capability).exists():
                security_services.grant_create(actor=admin, account=account, capability=capability,
                                               user=people[username], reason="bench",
                                               reauthenticated_at=timezone.now())
    return people


TEXT = """substr(repeat('Winter sale on every coat and jacket, delivery before Christmas, ask our care team. ',
                    4), 1, 60 + (g * 37) %% 220)"""


def insert_posts(cursor, *, n: int, start, span_seconds: int, state_sql: str, author: int, approver: int,
                 account_ids: list[int], targets_max: int) -> None:
    """``n`` posts spread over ``span_seconds`` from ``start`` with 1-``targets_max`` targets and an approval."""
    cursor.execute(f"""
        INSERT INTO strategy_post (author_id, text, state, scheduled_at, time_zone, labels, visibility,
                                   marked_sensitive, sensitive_categories, version, review_reason, last_error,
                                   created_at, updated_at, submitted_at, approved_at)
        SELECT %(author)s, {TEXT}, {state_sql}, %(start)s + make_interval(secs => (g * 7919) %% %(span)s),
               'Europe/Madrid', '[]'::jsonb, 'public', false, '[]'::jsonb, 1, '', '', now(), now(), now(), now()
        FROM generate_series(1, %(n)s) AS g""", {"author": author, "start": start, "span": span_seconds, "n": n})
    cursor.execute("""
        INSERT INTO strategy_posttarget (post_id, account_id, state, idempotency_key, attempts, last_error,
                                         platform_id, url)
        SELECT p.id, (%(accounts)s::bigint[])[1 + (p.id + k * 7) %% cardinality(%(accounts)s::bigint[])],
               'pending', gen_random_uuid(), 0, '', '', ''
        FROM strategy_post p CROSS JOIN generate_series(0, %(max)s - 1) AS k
        WHERE p.id > %(after)s AND k < 1 + p.id %% %(max)s
        ON CONFLICT DO NOTHING""", {"accounts": account_ids, "max": targets_max, "after": _last_before(cursor, n)})
    cursor.execute("""
        INSERT INTO strategy_postapproval (post_id, approver_id, version, with_right, specialist, created_at)
        SELECT id, %(approver)s, 1, true, true, now() FROM strategy_post
        WHERE id > %(after)s AND state <> 'draft' AND state <> 'in_review'""",
                   {"approver": approver, "after": _last_before(cursor, n)})


def _last_before(cursor, n: int) -> int:
    cursor.execute("SELECT coalesce(max(id), 0) - %s FROM strategy_post", [n])
    return cursor.fetchone()[0]


# --- measurements -------------------------------------------------------------------------------------------------

def month_page(client, month: str) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = client.get(f"/strategy/calendar/?view=month&date={month}")
        elapsed = ms(time.perf_counter() - started)
    if response.status_code != 200:
        raise RuntimeError(f"the month view answered {response.status_code}")
    return elapsed, len(queries), len(response.content)


def month_sql(cursor, start, end) -> float:
    started = time.perf_counter()
    cursor.execute("""
        SELECT p.id, p.text, p.state, p.scheduled_at, u.username, t.state, a.handle, a.platform
        FROM strategy_post p JOIN accounts_user u ON u.id = p.author_id
        JOIN strategy_posttarget t ON t.post_id = p.id JOIN security_socialaccount a ON a.id = t.account_id
        WHERE p.scheduled_at >= %s AND p.scheduled_at < %s ORDER BY p.scheduled_at, p.id""", [start, end])
    cursor.fetchall()
    return ms(time.perf_counter() - started)


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    name = recreate_database()
    log(f"database {name} recreated")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from accounts.demo import load_demo_organisation
    from security.demo import load_demo_security
    from strategy.models import Post, PostTarget
    from strategy.publishing import lease_seconds, publish_due

    call_command("migrate", verbosity=0)
    load_demo_organisation()
    load_demo_security()
    fake = FakeMastodon()
    accounts = setup_accounts(fake.url)
    people = grant_team(accounts)
    account_ids = [a.pk for a in accounts]
    mastodon_ids = [a.pk for a in accounts if not a.sandbox]
    log(f"migrated; demo organisation and rights; {len(accounts)} channels ({len(mastodon_ids)} on the fake "
        f"Mastodon server at {fake.url})")

    now = timezone.now()
    local = timezone.localtime(now)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    span = int((next_month - month_start).total_seconds())
    states = ("(ARRAY['draft','in_review','approved','scheduled','published','failed','cancelled'])"
              "[1 + g %% 7]")
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        # 100 posts first, to count the page's queries on a small month, then the rest of the 10,000.
        insert_posts(cursor, n=100, start=month_start, span_seconds=span, state_sql=states,
                     author=people["mark"].pk, approver=people["sam"].pk, account_ids=account_ids, targets_max=3)
    sofia = people["sofia"]
    client = signed_in_client(sofia)
    month = month_start.date().isoformat()
    month_page(client, month)  # warm-up
    _small_ms, small_queries, _ = month_page(client, month)
    with connection.cursor() as cursor:
        insert_posts(cursor, n=MONTH_POSTS - 100, start=month_start, span_seconds=span, state_sql=states,
                     author=people["mark"].pk, approver=people["sam"].pk, account_ids=account_ids, targets_max=3)
        # The month's "scheduled" posts whose time has passed went out already: only the 1,000 below are due.
        cursor.execute("UPDATE strategy_post SET state = 'published' WHERE state = 'scheduled' AND scheduled_at < %s",
                       [now])
        cursor.execute("ANALYZE")
    log(f"{Post.objects.filter(scheduled_at__gte=month_start, scheduled_at__lt=next_month).count()} posts in "
        f"{month_start:%B %Y}, {PostTarget.objects.count()} targets")
    month_page(client, month)
    page_ms, sql_ms, queries, size = [], [], 0, 0
    for _ in range(PAGE_RUNS):
        elapsed, queries, size = month_page(client, month)
        page_ms.append(elapsed)
        with connection.cursor() as cursor:
            sql_ms.append(month_sql(cursor, month_start, next_month))
    log(f"month view: {page_ms} ms ({queries} queries; {small_queries} with 100 posts), bare SQL {sql_ms} ms")

    # The publisher: 1,000 approved posts due a minute ago, one Mastodon target each.
    due_at = now - timedelta(minutes=1)
    with connection.cursor() as cursor:
        insert_posts(cursor, n=DUE_POSTS, start=due_at, span_seconds=1, state_sql="'scheduled'",
                     author=people["mark"].pk, approver=people["sam"].pk, account_ids=mastodon_ids, targets_max=1)
        cursor.execute("ANALYZE")
    due_ids = list(Post.objects.filter(state="scheduled", scheduled_at__lte=now).values_list("pk", flat=True))
    expected = PostTarget.objects.filter(post_id__in=due_ids).count()
    started = time.perf_counter()
    rounds = 0
    while True:
        rounds += 1
        outcome = publish_due()
        if not outcome["attempted"] and not outcome["started"]:
            break
    publish_ms = ms(time.perf_counter() - started)
    published = Post.objects.filter(pk__in=due_ids, state="published").count()
    posted, created = fake.posts, len(fake.statuses)
    log(f"publisher: {published} of {len(due_ids)} posts published in {publish_ms} ms ({rounds} sweeps); the "
        f"server saw {posted} POSTs and created {created} statuses")
    # Every lease expired: a sweep run again must post nothing.
    PostTarget.objects.update(lease_until=None)
    publish_due(now=timezone.now() + timedelta(seconds=lease_seconds() + 1))
    after_rerun = fake.posts

    import requests

    session = requests.Session()
    started = time.perf_counter()
    for n in range(len(due_ids)):
        session.post(f"{fake.url}/api/v1/statuses", data={"status": f"baseline {n}", "visibility": "public"},
                     headers={"Authorization": f"Bearer {TOKEN}", "Idempotency-Key": f"baseline-{n}"}, timeout=10)
    baseline_ms = ms(time.perf_counter() - started)

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    month_ms, month_sql_ms = statistics.median(page_ms), statistics.median(sql_ms)
    print(json.dumps({
        "month_ms": round(month_ms, 1), "month_sql_ms": round(month_sql_ms, 1),
        "month_ratio": round(month_ms / month_sql_ms, 2) if month_sql_ms else None,
        "month_queries": queries, "month_queries_small": small_queries, "month_bytes": size,
        "month_posts": MONTH_POSTS, "accounts": len(accounts),
        "publish_ms": round(publish_ms, 1), "publish_baseline_ms": round(baseline_ms, 1),
        "publish_ratio": round(publish_ms / baseline_ms, 2) if baseline_ms else None,
        "due_posts": len(due_ids), "due_targets": expected, "published": published, "statuses_posted": posted,
        "statuses_created": created, "statuses_after_rerun": after_rerun, "sweeps": rounds,
        "machine": machine(server_version),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
