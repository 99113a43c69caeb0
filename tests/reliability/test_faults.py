"""Nothing lost, nothing twice, under crashes, outages and races (issue 8).

Each test drives the real processes of the stack (see conftest.py) from the
outside, as agents, bridges and operators would, breaks one thing on
purpose, and then checks outcomes in the database and on the fake Mastodon
server: every reply posted exactly once, every message stored once, no
claim or resolution undone, no 5xx.

Where a test needs time to pass (a killed worker's lease to expire, the next
minute of a schedule), ``Stack.age`` moves the replies' timestamps and the
schedules' next runs back by 15 minutes instead of waiting; the cluster then
picks the work up on its scheduler's next tick (every 30 s)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from .conftest import WEB_THREADS, WEB_WORKERS
from .harness import wait_for

pytestmark = pytest.mark.reliability

SENT = "sent"


# --- helpers ----------------------------------------------------------------------------------


def replies_of(stack, conversation_ids) -> list[dict]:
    rows = stack.db.query(
        "SELECT id, conversation_id, status, platform_message_id, idempotency_key::text, attempts "
        "FROM inbox_reply WHERE conversation_id = ANY(%s) ORDER BY id", [list(conversation_ids)])
    return [dict(zip(("id", "conversation", "status", "platform_id", "key", "attempts"), row, strict=True))
            for row in rows]


def wait_all_sent(stack, conversation_ids, expected: int, *, timeout: float) -> list[dict]:
    def done():
        rows = replies_of(stack, conversation_ids)
        return rows if len(rows) == expected and all(r["status"] == SENT for r in rows) else None

    try:
        return wait_for(done, timeout=timeout, interval=0.5, what=f"{expected} replies to be sent")
    except TimeoutError as exc:
        rows = replies_of(stack, conversation_ids)
        states = sorted((r["id"], r["status"], r["attempts"]) for r in rows)
        raise AssertionError(f"{exc}; replies (id, status, attempts): {states}\nevents: {stack.events}\n"
                             f"{stack.logs()}") from None


def assert_posted_exactly_once(stack, access_token: str, rows: list[dict]) -> dict:
    """Every reply is on the platform once: one status per idempotency key,
    as many statuses as replies, each reply pointing at its own."""
    stats = stack.fake.stats(access_token)
    assert stats["posts_without_key"] == 0, stats
    assert all(n == 1 for n in stats["created_per_key"].values()), stats["created_per_key"]
    assert stats["created"] == len(rows), (f"{stats['created']} statuses created on the platform for "
                                           f"{len(rows)} replies: {stats['texts']}")
    assert sorted(r["platform_id"] for r in rows) == sorted(stats["created_ids"]), (rows, stats)
    return stats


def concurrently(*calls):
    """Runs the calls in threads released together; returns their results
    (an exception is returned, not raised)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def code(response) -> int:
    """The status code, or 599 for a connection that failed without one."""
    return getattr(response, "status_code", 599)


_client_token_field: dict = {}


def api_client_token_field(stack) -> str | None:
    """The reply API's field for a compose action's key (issue 8 item 3),
    read from the OpenAPI schema, so the test follows whatever the API names it."""
    if "name" not in _client_token_field:
        name = None
        response = stack.admin().api("GET", "/api/schema/?format=json", timeout=60)
        if response.status_code == 200:
            schema = response.json()
            operation = schema["paths"].get("/api/conversations/{id}/replies/", {}).get("post", {})
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = content.get("schema", {}).get("$ref", "")
            properties = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {}) \
                .get("properties", {})
            candidates = [p for p in properties if p != "body" and any(
                word in p for word in ("token", "idempot", "key"))]
            name = candidates[0] if candidates else None
        _client_token_field["name"] = name
    return _client_token_field["name"]


def messages(tag: str, count: int, *, threads: list[str] | None = None, sent_at: datetime | None = None,
             start: int = 0) -> list[dict]:
    sent_at = sent_at or datetime.now(UTC) - timedelta(minutes=30)
    return [{"platform_message_id": f"{tag}-{n}", "text": f"Message {n}: my parcel has not arrived yet",
             "sent_at": sent_at.isoformat(), "kind": "mention", "language": "en",
             "thread_id": threads[n % len(threads)] if threads else f"{tag}-thread-{n // 2}",
             "author": {"id": f"{tag}-author-{n % 97}", "handle": f"writer{n % 97}@other.example", "followers": 3}}
            for n in range(start, start + count)]


def post_until_accepted(client, path: str, body, *, attempts: int = 6) -> list:
    """A bridge's retry loop: the same batch again until a 2xx or a 4xx."""
    answers = []
    for attempt in range(attempts):
        try:
            response = client.api("POST", path, json_body=body, timeout=60)
        except Exception as exc:  # noqa: BLE001 - a dropped connection is retried like a 5xx
            answers.append(exc)
            time.sleep(0.5 * (attempt + 1))
            continue
        answers.append(response)
        if response.status_code < 500:
            return answers
        time.sleep(0.5 * (attempt + 1))
    raise AssertionError(f"no answer below 500 after {attempts} attempts: {[code(a) for a in answers]}")


def stored(stack, account_id: int) -> dict:
    row = stack.db.query(
        "SELECT count(*), count(DISTINCT platform_message_id) FROM inbox_message WHERE account_id = %s "
        "AND direction = 'in'", [account_id])[0]
    conversations = stack.db.value("SELECT count(*) FROM inbox_conversation WHERE account_id = %s", [account_id])
    counted = stack.db.value("SELECT coalesce(sum(message_count), 0) FROM inbox_conversation WHERE account_id = %s",
                             [account_id])
    return {"messages": row[0], "distinct": row[1], "conversations": conversations, "message_counts": counted}


def signed(secret: str, body: bytes, delivery: str) -> dict:
    timestamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-SocialOps-Timestamp": timestamp,
            "X-SocialOps-Signature": f"sha256={digest}", "X-SocialOps-Delivery": delivery}


# --- (c) the database goes away mid-ingest -------------------------------------------------------


def test_database_cut_mid_ingest_the_retried_batch_is_stored_once(healthy):
    stack = healthy
    acct = stack.accounts["cut"]
    admin = stack.admin()
    path = f"/api/accounts/{acct['account']}/messages/"

    # 1. The connection drops as the messages are being inserted: the transaction is rolled back.
    first = messages("cut-a", 1200)
    stack.proxy.cut_on(b'INSERT INTO "inbox_message"', when="before")
    answers = post_until_accepted(admin, path, first)
    assert stack.proxy.triggered.is_set(), "the cut never happened: the ingest sent no INSERT into inbox_message"
    assert code(answers[0]) >= 500, f"the cut request was answered {code(answers[0])}"
    assert answers[-1].status_code == 201, answers[-1].text[:500]
    assert answers[-1].json()["created"] == len(first)
    after_first = stored(stack, acct["account"])
    assert after_first["messages"] == after_first["distinct"] == len(first), after_first
    assert after_first["message_counts"] == len(first), after_first

    # 2. The COMMIT reaches the database but its answer never comes back: the
    #    client cannot know, retries, and the retry finds everything stored.
    second = messages("cut-b", 800)
    stack.proxy.cut_on(b"COMMIT", when="after_reply")
    answers = post_until_accepted(admin, path, second)
    assert stack.proxy.triggered.is_set(), "the cut never happened: no COMMIT was sent"
    assert code(answers[0]) >= 500, f"the cut request was answered {code(answers[0])}"
    retried = answers[-1].json()
    assert answers[-1].status_code in (200, 201), retried
    assert retried["created"] + retried["duplicates"] == len(second), retried
    after_second = stored(stack, acct["account"])
    total = len(first) + len(second)
    assert after_second["messages"] == after_second["distinct"] == total, after_second
    assert after_second["message_counts"] == total, after_second

    # 3. A stalled database delays a signed webhook delivery; it does not fail it.
    body = json.dumps({"messages": messages("cut-c", 50)}).encode()
    results: list = []

    def deliver():
        results.append(admin.http.post(f"{stack.base_url}/inbox/webhooks/{acct['account']}/", data=body,
                                       headers=signed(acct["webhook_secret"], body, "delivery-stall-1"), timeout=60))

    stack.proxy.stall(True)
    sender = threading.Thread(target=deliver)
    sender.start()
    time.sleep(2.0)
    stack.proxy.stall(False)
    sender.join(60)
    assert results and results[0].status_code == 200, [code(r) for r in results]
    again = admin.http.post(f"{stack.base_url}/inbox/webhooks/{acct['account']}/", data=body,
                            headers=signed(acct["webhook_secret"], body, "delivery-stall-1"), timeout=30)
    assert again.status_code == 200 and again.json().get("duplicate") is True, again.text[:300]
    assert stored(stack, acct["account"])["messages"] == total + 50


def test_after_the_database_drops_every_connection_no_request_fails(healthy):
    """Issue 8 item 9: with persistent connections, the first request of each
    worker thread after a database restart must not be a 500
    (``CONN_HEALTH_CHECKS``)."""
    stack = healthy
    agent = stack.agent(0)
    for _ in range(2 * WEB_WORKERS * WEB_THREADS):  # open a connection in as many threads as we can
        assert agent.api("GET", "/api/conversations/?page_size=5", headers={"Connection": "close"}) \
            .status_code == 200
    cut = stack.proxy.cut_all()
    assert cut >= 1
    codes = [agent.api("GET", "/api/conversations/?page_size=5", headers={"Connection": "close"}).status_code
             for _ in range(3 * WEB_WORKERS * WEB_THREADS)]
    assert all(c < 500 for c in codes), f"{sum(c >= 500 for c in codes)} of {len(codes)} requests failed " \
                                        f"after {cut} connections were cut: {codes}"


# --- (d) races through gunicorn --------------------------------------------------------------------


def test_concurrent_claims_have_one_winner_and_a_claim_never_takes_over_silently(healthy):
    stack = healthy
    acct = stack.accounts["claim"]
    first, second = stack.agent(0), stack.agent(1)
    ids = {0: stack.org["agents"][0]["id"], 1: stack.org["agents"][1]["id"]}
    losers_won = []
    for conversation in acct["conversations"][:8]:
        path = f"/api/conversations/{conversation}/claim/"
        results = concurrently(lambda p=path: first.api("POST", p), lambda p=path: second.api("POST", p))
        codes = [code(r) for r in results]
        assert all(c < 500 for c in codes), (conversation, codes)
        winners = [i for i, c in enumerate(codes) if 200 <= c < 300]
        assignee = stack.db.value("SELECT assignee_id FROM inbox_conversation WHERE id = %s", [conversation])
        if len(winners) != 1:
            losers_won.append((conversation, codes))
            continue
        assert assignee == ids[winners[0]], (conversation, codes, assignee)
    assert not losers_won, f"both claims succeeded on {len(losers_won)} of 8 conversations: {losers_won}"

    # Someone else's conversation is not taken over by a plain claim.
    held = acct["conversations"][8]
    assert first.api("POST", f"/api/conversations/{held}/claim/").status_code == 200
    taken = second.api("POST", f"/api/conversations/{held}/claim/")
    assert 400 <= taken.status_code < 500, (taken.status_code, taken.text[:300])
    assert stack.db.value("SELECT assignee_id FROM inbox_conversation WHERE id = %s", [held]) == ids[0]
    # Taking it over is explicit, and the previous assignee is told.
    told = "SELECT count(*) FROM accounts_notification WHERE recipient_id = %s AND url LIKE %s"
    before = stack.db.value(told, [ids[0], f"%/inbox/c/{held}/%"])
    taken = second.api("POST", f"/api/conversations/{held}/claim/", json_body={"take_over": True})
    assert taken.status_code == 200, (taken.status_code, taken.text[:300])
    assert stack.db.value("SELECT assignee_id FROM inbox_conversation WHERE id = %s", [held]) == ids[1]
    assert stack.db.value(told, [ids[0], f"%/inbox/c/{held}/%"]) == before + 1


def test_a_double_submitted_reply_is_stored_and_posted_once(healthy):
    stack = healthy
    acct = stack.accounts["double"]
    page_conversation, api_conversation = acct["conversations"]

    # The page: the same composer form sent twice at once (a double click).
    agent = stack.agent(1, pages=True)
    action = f"/inbox/c/{page_conversation}/replies/"
    fields = agent.form(f"/inbox/c/{page_conversation}/", action)
    fields["body"] = "Thanks for writing: your parcel left our warehouse today."
    results = concurrently(lambda: agent.post_form(action, fields), lambda: agent.post_form(action, fields))
    assert all(code(r) < 500 for r in results), [code(r) for r in results]

    # The API: two identical calls carrying the same client token.
    field = api_client_token_field(stack)
    api = stack.agent(2)
    body = {"body": "Thanks: a colleague is looking into it now."}
    if field:
        body[field] = str(uuid.uuid4())
    path = f"/api/conversations/{api_conversation}/replies/"
    api_results = concurrently(lambda: api.api("POST", path, json_body=body),
                               lambda: api.api("POST", path, json_body=body))
    assert all(code(r) < 500 for r in api_results), [code(r) for r in api_results]

    per_conversation = {c: len(replies_of(stack, [c])) for c in acct["conversations"]}
    assert per_conversation == {page_conversation: 1, api_conversation: 1}, \
        f"replies stored per conversation after a double submit (page, API): {per_conversation}"
    assert field, "the reply API takes no client token (issue 8 item 3): a retried or double call sends twice"
    ok = [r.json()["id"] for r in api_results if 200 <= code(r) < 300]
    assert len(set(ok)) == 1, f"the two API calls answered different replies: {ok}"
    rows = wait_all_sent(stack, acct["conversations"], 2, timeout=30)
    assert_posted_exactly_once(stack, acct["access_token"], rows)


def test_ingest_never_undoes_claims_and_resolutions_made_meanwhile(healthy):
    """Issue 8 item 5: messages arriving in conversations while agents claim
    and resolve them. The new messages are older than the resolutions, so
    none of them reopens a conversation."""
    stack = healthy
    acct = stack.accounts["mix"]
    count = len(acct["conversations"])
    conversations, threads = acct["conversations"], acct["threads"]
    admin, agent = stack.admin(), stack.agent(3)
    agent_id = stack.org["agents"][3]["id"]
    claim, resolve = conversations[: count // 2], conversations[count // 2:]
    batches = [messages(f"mix-{b}", 240, threads=threads, sent_at=datetime.now(UTC) - timedelta(minutes=60))
               for b in range(6)]
    path = f"/api/accounts/{acct['account']}/messages/"
    problems: list = []

    def ingest():
        for batch in batches:
            response = admin.api("POST", path, json_body=batch, timeout=60)
            if response.status_code != 201:
                problems.append(("ingest", response.status_code, response.text[:200]))

    def work():
        time.sleep(0.2)
        for a, b in zip(claim, resolve, strict=True):
            for response in (agent.api("POST", f"/api/conversations/{a}/claim/"),
                             agent.api("POST", f"/api/conversations/{b}/status/", json_body={"status": "resolved"})):
                if response.status_code != 200:
                    problems.append(("agent", response.status_code, response.text[:200]))
            time.sleep(0.1)

    threads_run = [threading.Thread(target=ingest), threading.Thread(target=work)]
    for t in threads_run:
        t.start()
    for t in threads_run:
        t.join(120)
    assert not problems, problems

    rows = {row[0]: row[1:] for row in stack.db.query(
        "SELECT c.id, c.assignee_id, c.status, c.message_count, "
        "(SELECT count(*) FROM inbox_message m WHERE m.conversation_id = c.id) "
        "FROM inbox_conversation c WHERE c.account_id = %s", [acct["account"]])}
    unclaimed = [c for c in claim if rows[c][0] != agent_id]
    unresolved = [c for c in resolve if rows[c][1] != "resolved"]
    miscounted = [(c, r[2], r[3]) for c, r in rows.items() if r[2] != r[3]]
    assert not unclaimed and not unresolved and not miscounted, (
        f"undone by a concurrent ingest: {len(unclaimed)} of {len(claim)} claims, {len(unresolved)} of "
        f"{len(resolve)} resolutions; message_count wrong on {miscounted}")


# --- (b) the broker goes away ------------------------------------------------------------------


def test_with_the_broker_down_a_reply_is_accepted_and_sent_once_after_recovery(healthy):
    stack = healthy
    acct = stack.accounts["broker"]
    page_conversation, api_conversation = acct["conversations"]
    agent = stack.agent(2, pages=True)
    action = f"/inbox/c/{page_conversation}/replies/"
    fields = agent.form(f"/inbox/c/{page_conversation}/", action)  # the page was open before the outage
    fields["body"] = "Sorry for the wait: we have sent a replacement."
    field = api_client_token_field(stack)
    body = {"body": "We are on it and will write again today."}
    if field:
        body[field] = str(uuid.uuid4())

    stack.redis.kill()
    stack.events.append("redis killed")
    try:
        answers = {
            "GET /api/conversations/": agent.api("GET", "/api/conversations/?page_size=5"),
            "GET /inbox/": agent.page("/inbox/"),
            f"POST {action}": agent.post_form(action, fields),
            "POST /api/.../replies/": agent.api("POST", f"/api/conversations/{api_conversation}/replies/",
                                                json_body=body),
        }
        codes = {what: code(r) for what, r in answers.items()}
        during = {c: [r["status"] for r in replies_of(stack, [c])] for c in acct["conversations"]}
    finally:
        stack.redis.start()
        stack.events.append("redis started again")
    assert all(c < 500 for c in codes.values()), f"answers while the broker was down: {codes}"
    assert {c: len(states) for c, states in during.items()} == {page_conversation: 1, api_conversation: 1}, \
        f"replies stored while the broker was down: {during}"
    assert all(states[0] not in ("sent", "failed") for states in during.values()), during

    stack.ensure_cluster()
    rows = replies_of(stack, acct["conversations"])
    stack.age([r["id"] for r in rows])
    rows = wait_all_sent(stack, acct["conversations"], 2, timeout=50)
    assert_posted_exactly_once(stack, acct["access_token"], rows)


# --- (a) a worker killed mid-send -------------------------------------------------------------


def test_a_worker_killed_mid_send_every_reply_is_posted_exactly_once_after_restart(healthy):
    stack = healthy
    acct = stack.accounts["kill"]
    count = len(acct["conversations"])
    agent = stack.agent(3)
    field = api_client_token_field(stack)
    stack.fake.post_delay = 1.0  # each post takes a second to answer: some are in flight at the kill
    for n, conversation in enumerate(acct["conversations"]):
        body = {"body": f"Reply number {n}: thanks, it is on its way."}
        if field:
            body[field] = str(uuid.uuid4())
        response = agent.api("POST", f"/api/conversations/{conversation}/replies/", json_body=body)
        assert response.status_code in (200, 201, 202), (response.status_code, response.text[:300])
    wait_for(lambda: stack.fake.stats(acct["access_token"])["posts"] >= 3, timeout=30,
             what="the first replies to reach the platform")
    stack.kill_cluster()
    stack.fake.post_delay = 0.0
    before = replies_of(stack, acct["conversations"])
    unsent = [r for r in before if r["status"] != SENT]
    stack.events.append(f"at the kill: {len(unsent)} of {count} replies not sent "
                        f"({sorted({r['status'] for r in unsent})})")
    assert unsent, "every reply was sent before the kill: the test did not exercise a crash"

    stack.age([r["id"] for r in before])
    stack.start_cluster()
    rows = wait_all_sent(stack, acct["conversations"], count, timeout=50)
    stats = assert_posted_exactly_once(stack, acct["access_token"], rows)
    stack.events.append(f"after restart: {stats['created']} statuses from {stats['posts']} POSTs")
