"""The pieces of the fault suite: real processes on loopback and the fakes
that stand in for the outside world.

- ``Proc``: a child process in its own session (process group), logging to a
  file, killed as a group (SIGKILL mid-send is the point of one test).
- ``RedisServer``: a throw-away ``redis-server`` on a free port, no
  persistence, that a test can kill and start again on the same port.
- ``FakeMastodon``: a threaded ``http.server`` answering what
  ``inbox.connectors.mastodon`` asks: ``POST /api/v1/statuses`` honouring
  ``Idempotency-Key`` per access token (the same key returns the first
  status, never a second post), counting every POST; ``GET
  /api/v1/notifications`` (empty) for polling.
- ``FaultProxy``: a TCP proxy in front of PostgreSQL that can cut every
  connection, stall them, refuse new ones, or cut the one connection whose
  client sends a given SQL fragment (before forwarding it, or after
  forwarding it and swallowing the server's answer: the "did my COMMIT
  land?" case).

Everything listens on and talks to 127.0.0.1 only."""

from __future__ import annotations

import itertools
import json
import os
import selectors
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Polls ``predicate`` until it returns something truthy; returns it, or
    raises TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- processes ----------------------------------------------------------------------------


class Proc:
    """A child process started in a new session, so that it and every process
    it forks (gunicorn workers, django-q2 workers) form one group that can be
    signalled at once."""

    registry: list[Proc] = []

    def __init__(self, name: str, argv: list[str], *, env: dict, cwd: Path, log_dir: Path):
        self.name, self.argv, self.env, self.cwd = name, argv, env, cwd
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Proc:
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"\n===== start #{self.starts}: {' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        if self not in Proc.registry:
            Proc.registry.append(self)
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, sig)  # the group this process leads: only what we started
        except (ProcessLookupError, PermissionError):
            pass

    def kill(self) -> None:
        """SIGKILL to the whole group, as ``kill -9`` of a crashed host would."""
        self.signal_group(signal.SIGKILL)
        if self.popen is not None:
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self, grace: float = 8.0) -> None:
        """SIGTERM, then SIGKILL for whatever is left after ``grace`` seconds;
        the group is always sent SIGKILL at the end (orphaned workers too)."""
        if self.popen is None:
            return
        if self.alive():
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self.kill()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    @classmethod
    def kill_all(cls, grace: float = 3.0) -> None:
        """SIGTERM to every group at once, SIGKILL to all of them after ``grace``."""
        for proc in cls.registry:
            if proc.alive():
                proc.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(proc.alive() for proc in cls.registry):
            time.sleep(0.1)
        for proc in cls.registry:
            proc.kill()
        cls.registry.clear()


class RedisServer:
    def __init__(self, *, cwd: Path, log_dir: Path):
        self.port = free_port()
        self.proc = Proc("redis", ["redis-server", "--port", str(self.port), "--bind", LOOPBACK, "--save", "",
                                   "--appendonly", "no", "--dir", str(cwd), "--protected-mode", "yes"],
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, cwd=cwd, log_dir=log_dir)

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        self.proc.start()
        wait_for(self.ping, timeout=10, what=f"redis-server on port {self.port}")

    def kill(self) -> None:
        self.proc.kill()
        wait_for(lambda: not self.ping(), timeout=5, what="redis-server to go away")


# --- the fake Mastodon -----------------------------------------------------------------------


def _status(status_id: str, text: str, visibility: str, in_reply_to_id: str | None, base: str) -> dict:
    account = {
        "id": "1", "username": "brand", "acct": "brand", "display_name": "Brand", "locked": False, "bot": False,
        "discoverable": True, "group": False, "created_at": "2019-11-01T00:00:00.000Z", "note": "",
        "url": f"{base}/@brand", "avatar": f"{base}/a.png", "avatar_static": f"{base}/a.png",
        "header": f"{base}/h.png", "header_static": f"{base}/h.png", "followers_count": 10,
        "following_count": 1, "statuses_count": 1, "last_status_at": "2024-05-01", "emojis": [], "fields": [],
    }
    return {
        "id": status_id, "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "in_reply_to_id": in_reply_to_id, "in_reply_to_account_id": None, "sensitive": False, "spoiler_text": "",
        "visibility": visibility, "language": "en", "uri": f"{base}/users/brand/statuses/{status_id}",
        "url": f"{base}/@brand/{status_id}", "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
        "edited_at": None, "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
        "content": f"<p>{text}</p>", "filtered": [], "reblog": None, "application": None, "account": account,
        "media_attachments": [], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
    }


class FakeMastodon:
    """Counts every ``POST /api/v1/statuses`` and creates a status only for a
    (token, Idempotency-Key) pair it has not seen, as Mastodon does: a retry
    with the same key gets the first status back.

    ``post_delay`` seconds are spent *after* the status is created and
    before answering, so a sender killed in that window has posted without
    learning it: the case the idempotency key exists for."""

    def __init__(self):
        self.lock = threading.Lock()
        self.post_delay = 0.0
        self.posts: list[dict] = []        # every POST: token, key, status id
        self.created: list[dict] = []      # every status actually created
        self._by_key: dict[tuple[str, str], dict] = {}
        self._ids = itertools.count(110_000_000_000_000_001)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                path = urlsplit(self.path).path
                if path == "/api/v1/notifications":
                    return self._send(200, [])
                if path in ("/api/v1/instance", "/api/v2/instance"):
                    return self._send(200, {"uri": "fake.example", "title": "fake", "version": "4.2.0"})
                return self._send(404, {"error": "Record not found"})

            def do_POST(self):  # noqa: N802
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if path != "/api/v1/statuses":
                    return self._send(404, {"error": "Record not found"})
                if "json" in (self.headers.get("Content-Type") or ""):
                    form = json.loads(raw or b"{}")
                else:
                    form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
                key = self.headers.get("Idempotency-Key")
                base = f"http://{LOOPBACK}:{fake.port}"
                with fake.lock:
                    status = fake._by_key.get((token, key)) if key else None
                    if status is None:
                        status = _status(str(next(fake._ids)), str(form.get("status", "")),
                                         str(form.get("visibility") or "public"),
                                         form.get("in_reply_to_id") or None, base)
                        fake.created.append({"token": token, "key": key, "id": status["id"],
                                             "text": str(form.get("status", ""))})
                        if key:
                            fake._by_key[(token, key)] = status
                    fake.posts.append({"token": token, "key": key, "id": status["id"]})
                    delay = fake.post_delay
                if delay:
                    time.sleep(delay)
                return self._send(200, status)

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-mastodon", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def stats(self, token: str) -> dict:
        """What one account (its access token) got: every POST, the statuses
        created, and per idempotency key how many statuses it created."""
        with self.lock:
            posts = [p for p in self.posts if p["token"] == token]
            created = [c for c in self.created if c["token"] == token]
        return {"posts": len(posts), "posts_without_key": sum(1 for p in posts if not p["key"]),
                "created": len(created), "created_ids": [c["id"] for c in created],
                "created_per_key": Counter(c["key"] for c in created),
                "texts": [c["text"] for c in created]}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the fault proxy -----------------------------------------------------------------------


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket):
        self.client, self.upstream = client, upstream
        self.closed = False
        self.swallow_reply = False
        self.tail = b""

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


class FaultProxy:
    """Forwards 127.0.0.1:<port> to the database server. Connect the processes
    under test through it (with ``sslmode=disable``, so that the SQL can be
    seen) and break the connections on purpose."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((LOOPBACK, 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs: set[_Pair] = set()
        self.stalled = threading.Event()
        self.refusing = False
        self.cuts = 0
        self._trigger: tuple[bytes, str] | None = None
        self.triggered = threading.Event()
        self._closing = False
        threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True).start()

    # -- faults --

    def cut_all(self) -> int:
        """Closes every open connection at once, both ways (a database
        restart, a failover, a firewall dropping idle connections)."""
        with self.lock:
            pairs = list(self.pairs)
            self.pairs.clear()
        for pair in pairs:
            pair.close()
        self.cuts += len(pairs)
        return len(pairs)

    def refuse(self, on: bool = True) -> None:
        """New connections are accepted and closed at once while on."""
        self.refusing = on

    def stall(self, on: bool = True) -> None:
        """Stops forwarding in both directions (bytes wait in the kernel)."""
        if on:
            self.stalled.set()
        else:
            self.stalled.clear()

    def cut_on(self, fragment: bytes, *, when: str = "before") -> None:
        """Arms a one-shot fault for the first connection whose client sends
        ``fragment``: ``before`` cuts it without forwarding the statement;
        ``after_reply`` forwards it, swallows the server's answer and cuts
        (the statement ran, the client never hears so)."""
        assert when in ("before", "after_reply")
        self.triggered.clear()
        with self.lock:
            self._trigger = (fragment, when)

    def disarm(self) -> None:
        with self.lock:
            self._trigger = None

    def close(self) -> None:
        self._closing = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.cut_all()

    # -- plumbing --

    def _accept_loop(self) -> None:
        while not self._closing:
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, upstream)
            with self.lock:
                self.pairs.add(pair)
            threading.Thread(target=self._pump, args=(pair,), name="fault-proxy-pair", daemon=True).start()

    def _check_trigger(self, pair: _Pair, data: bytes) -> str | None:
        with self.lock:
            trigger = self._trigger
            if trigger is None:
                pair.tail = b""
                return None
            fragment, when = trigger
            window = pair.tail + data
            pair.tail = window[-len(fragment):]
            if fragment not in window:
                return None
            self._trigger = None
        self.triggered.set()
        return when

    def _pump(self, pair: _Pair) -> None:
        selector = selectors.DefaultSelector()
        selector.register(pair.client, selectors.EVENT_READ)
        selector.register(pair.upstream, selectors.EVENT_READ)
        try:
            while not pair.closed:
                if self.stalled.is_set():
                    time.sleep(0.02)
                    continue
                for key, _events in selector.select(0.1):
                    source = key.fileobj
                    try:
                        data = source.recv(65536)
                    except OSError:
                        data = b""
                    if not data:
                        pair.close()
                        break
                    if source is pair.client:
                        when = self._check_trigger(pair, data)
                        if when == "before":
                            self.cuts += 1
                            pair.close()
                            break
                        if when == "after_reply":
                            pair.swallow_reply = True
                        pair.upstream.sendall(data)
                    else:
                        if pair.swallow_reply:
                            self.cuts += 1
                            pair.close()
                            break
                        pair.client.sendall(data)
        except OSError:
            pair.close()
        finally:
            selector.close()
            with self.lock:
                self.pairs.discard(pair)
