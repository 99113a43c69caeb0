"""The load of ``make bench-load`` (run by ``bench/bench_load.py``, which
prepares everything this file reads from the environment):

- ``Agent`` (8 users in 10): a department representative signed in with a
  session (no second factor: representatives without publish, approve or
  manage rights need none), browsing the inbox page, the inbox API list and
  the conversations found there (each with the presence check the page
  makes when it loads), 2-8 s between clicks.
- ``Ingester`` (1 in 10): a bridge pushing batches of 50 messages through the
  bulk API with an API token (``POST /api/accounts/<id>/messages/``), every
  2-6 s.
- ``WebhookSender`` (1 in 10): a bridge delivering signed webhooks of 20
  messages (``POST /inbox/webhooks/<id>/``, docs/WEBHOOKS.md), every 2-6 s.

Every request is recorded (name, group, milliseconds, status) after the
users have all been spawned, and every message id is recorded with the
answer its request got; the lot is written as JSON to ``BENCH_LOAD_OUT``
when the run stops, for bench_load.py to compute the figures and to check
the database. The portal sits behind a TLS proxy in production: requests
carry ``X-Forwarded-Proto: https`` and one connection each, as that proxy's
requests would, and the session cookie is sent by hand (it is a Secure
cookie)."""

import hashlib
import hmac
import itertools
import json
import os
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

from locust import HttpUser, between, events, task

CONFIG = json.loads(os.environ.get("BENCH_LOAD_CONFIG", "{}"))
OUT = os.environ.get("BENCH_LOAD_OUT", "")
# What the TLS proxy in front of gunicorn sends: the scheme, and one connection per request (nginx's
# default towards an upstream). People's browsers keep their connections to the proxy, not to gunicorn;
# reusing an idle connection that gunicorn closes after its keep-alive (5 s) would cost resets that no
# browser sees.
PROXY_HEADERS = {"X-Forwarded-Proto": "https", "Connection": "close"}
RUN = CONFIG.get("run", "r")

_lock = threading.Lock()
_measuring = {"since": None}
_samples: list[tuple[str, str, float, int]] = []   # name, group, ms, status (0: no answer)
_sent: list[dict] = []                              # {"kind", "account", "ids", "delivery", "status"}
_sessions = itertools.cycle(CONFIG.get("sessions") or [""])
_counter = itertools.count()

TEXTS = [
    "Hi, my order has not arrived yet, can you check the tracking?",
    "Your support team was fantastic today, thank you!",
    "How do I change the delivery address on my account?",
    "The app keeps crashing when I open my invoices. Very annoying.",
    "Do you have the blue model in stock in the Madrid store?",
    "Hola, ¿cuándo abre la tienda el domingo?",
    "Bună ziua, am o întrebare despre factura mea.",
    "I would like a quote for 40 licences for our company.",
]


@events.spawning_complete.add_listener
def _spawned(user_count, **_kwargs):
    with _lock:
        _samples.clear()
        _measuring["since"] = time.time()


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, context=None,
            **_kwargs):
    if _measuring["since"] is None:
        return
    status = getattr(response, "status_code", 0) or 0
    group = (context or {}).get("group", "other")
    with _lock:
        _samples.append((name, group, float(response_time), int(status)))


@events.test_stop.add_listener
def _write(**_kwargs):
    if not OUT:
        return
    stopped = time.time()
    with _lock:
        data = {"since": _measuring["since"], "stopped": stopped, "samples": _samples, "sent": _sent}
    with open(OUT, "w") as fh:
        json.dump(data, fh)


def _message(prefix: str, n: int, sent_at: str) -> dict:
    author = random.randrange(5000)  # noqa: S311 - load data, not security
    return {"platform_message_id": f"{prefix}-{n}", "text": random.choice(TEXTS),  # noqa: S311
            "sent_at": sent_at, "kind": "mention", "thread_id": f"{prefix}-t{n // 3}",
            "author": {"id": f"bench-{author}", "handle": f"bench{author}@load.example", "followers": author}}


def _batch(kind: str, size: int) -> tuple[list[dict], list[str]]:
    prefix = f"{RUN}-{kind}-{next(_counter)}-{uuid.uuid4().hex[:8]}"
    sent_at = (datetime.now(UTC) - timedelta(seconds=30)).isoformat()
    items = [_message(prefix, n, sent_at) for n in range(size)]
    return items, [item["platform_message_id"] for item in items]


def _check(response, expected: tuple[int, ...]):
    if response.status_code not in expected:
        detail = repr(response.error) if getattr(response, "error", None) else (response.text or "")[:200]
        response.failure(f"HTTP {response.status_code}: {detail}")
    else:
        response.success()


class Agent(HttpUser):
    weight = int(CONFIG.get("agent_weight", 8))
    # A person reads between clicks: 2-8 s by default (BENCH_LOAD_AGENT_WAIT).
    wait_time = between(*CONFIG.get("agent_wait", (2.0, 8.0)))

    def on_start(self):
        self.session = next(_sessions)
        self.headers = {**PROXY_HEADERS, "Cookie": f"sessionid={self.session}"}
        self.conversations: list[int] = []

    @task(4)
    def inbox_page(self):
        with self.client.get("/inbox/", headers=self.headers, name="GET /inbox/ (page)", catch_response=True,
                             allow_redirects=False, context={"group": "read"}) as response:
            _check(response, (200,))

    @task(3)
    def inbox_api(self):
        with self.client.get("/api/conversations/?status=open&page_size=50", headers=self.headers,
                             name="GET /api/conversations/", catch_response=True, context={"group": "read"}) \
                as response:
            _check(response, (200,))
            if response.status_code == 200:
                self.conversations = [row["id"] for row in response.json().get("results", [])][:50]

    @task(3)
    def conversation_page(self):
        if not self.conversations:
            return self.inbox_api()
        pk = random.choice(self.conversations)  # noqa: S311
        with self.client.get(f"/inbox/c/{pk}/", headers=self.headers, name="GET /inbox/c/<id>/ (page)",
                             catch_response=True, allow_redirects=False, context={"group": "read"}) as response:
            _check(response, (200,))
        # The page asks who else is viewing as soon as it loads (htmx, then every 10 s).
        with self.client.get(f"/inbox/c/{pk}/presence/", headers={**self.headers, "HX-Request": "true"},
                             name="GET /inbox/c/<id>/presence/", catch_response=True, allow_redirects=False,
                             context={"group": "presence"}) as response:
            _check(response, (200,))


class Ingester(HttpUser):
    weight = int(CONFIG.get("ingest_weight", 1))
    wait_time = between(*CONFIG.get("bridge_wait", (2.0, 6.0)))

    @task
    def batch(self):
        items, ids = _batch("bulk", int(CONFIG.get("bulk_size", 50)))
        account = CONFIG["bulk_account"]
        with self.client.post(f"/api/accounts/{account}/messages/", json=items, catch_response=True,
                              headers={**PROXY_HEADERS, "Authorization": f"Token {CONFIG['token']}"},
                              name="POST /api/accounts/<id>/messages/", context={"group": "ingest"}) as response:
            _check(response, (201,))
        with _lock:
            _sent.append({"kind": "bulk", "account": account, "ids": ids, "delivery": None,
                          "status": response.status_code})


class WebhookSender(HttpUser):
    weight = int(CONFIG.get("webhook_weight", 1))
    wait_time = between(*CONFIG.get("bridge_wait", (2.0, 6.0)))

    @task
    def deliver(self):
        items, ids = _batch("hook", int(CONFIG.get("webhook_size", 20)))
        account = CONFIG["webhook_account"]
        body = json.dumps({"messages": items}).encode()
        delivery = f"{RUN}-{uuid.uuid4()}"
        timestamp = str(int(time.time()))
        signature = hmac.new(CONFIG["webhook_secret"].encode(), timestamp.encode() + b"." + body,
                             hashlib.sha256).hexdigest()
        headers = {**PROXY_HEADERS, "Content-Type": "application/json", "X-SocialOps-Timestamp": timestamp,
                   "X-SocialOps-Signature": f"sha256={signature}", "X-SocialOps-Delivery": delivery}
        with self.client.post(f"/inbox/webhooks/{account}/", data=body, headers=headers, catch_response=True,
                              name="POST /inbox/webhooks/<id>/", context={"group": "webhook"}) as response:
            _check(response, (200,))
        with _lock:
            _sent.append({"kind": "webhook", "account": account, "ids": ids, "delivery": delivery,
                          "status": response.status_code})
