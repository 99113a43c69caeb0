"""The fault suite's stack: a throw-away PostgreSQL database, migrated with
the real ``manage.py migrate``; a Redis of its own on a free port; the fake
Mastodon server and the fault proxy in this process; gunicorn (gthread) with
its database connections through the proxy; a ``manage.py qcluster`` on the
Redis broker. Settings come from the environment as in a deployment
(``socialops.settings.local`` with a temporary ``SOCIALOPS_VAR_DIR``,
``DATABASE_URL``, ``REDIS_URL``, ``DJANGO_SECRET_KEY``,
``SOCIALOPS_VAULT_KEYS``).

Needs PostgreSQL (``DATABASE_URL`` names the server; the suite creates
``socialops_rel_<pid>`` beside the database named there and drops it at the
end) and ``redis-server``. Without them the tests are skipped with the
reason, or fail when ``REQUIRE_RELIABILITY=1``. Every process is killed and
the database dropped in teardown, also when a test fails."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .harness import LOOPBACK, FakeMastodon, FaultProxy, Proc, RedisServer, free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
WEB_WORKERS, WEB_THREADS = 2, 4
# How far the suite moves time forward (replies' timestamps and schedules' next runs) where a
# test must wait out a lease or the next minute of a schedule: see Stack.age().
AGE_MINUTES = 15
# Each test's own social account (on the fake Mastodon, its own access token) and how many
# conversations it starts with; seeded once, in one process, before the tests.
ACCOUNTS = {"cut": 0, "claim": 9, "double": 2, "mix": 24, "broker": 2, "kill": 12}


_EVENTS: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if _EVENTS:
        terminalreporter.write_sep("-", "reliability stack")
        for line in _EVENTS:
            terminalreporter.write_line(line)


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_RELIABILITY") == "1":
        pytest.fail(f"{reason} (REQUIRE_RELIABILITY=1)", pytrace=False)
    pytest.skip(reason)


def _postgres_server() -> dict:
    import environ

    url = os.environ.get("DATABASE_URL", "")
    config = environ.Env.db_url_config(url) if url else {}
    if "postgresql" not in config.get("ENGINE", ""):
        _unavailable("the fault suite needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> "
                     "(it creates and drops its own socialops_rel_<pid> database on that server)")
    host = config.get("HOST") or LOOPBACK
    if host not in (LOOPBACK, "localhost", "::1"):
        _unavailable(f"the fault suite talks to loopback only; DATABASE_URL names host {host!r}")
    return {"host": LOOPBACK, "port": int(config.get("PORT") or 5432), "user": config.get("USER") or "postgres",
            "password": config.get("PASSWORD") or ""}


# --- the database ----------------------------------------------------------------------------


@dataclass
class Database:
    server: dict
    name: str

    def url(self, *, port: int | None = None, sslmode: str | None = None) -> str:
        auth = self.server["user"] + (f":{self.server['password']}" if self.server["password"] else "")
        query = f"?sslmode={sslmode}" if sslmode else ""
        return f"postgres://{auth}@{LOOPBACK}:{port or self.server['port']}/{self.name}{query}"

    def _connect(self, dbname: str):
        import psycopg

        return psycopg.connect(host=LOOPBACK, port=self.server["port"], user=self.server["user"],
                               password=self.server["password"] or None, dbname=dbname, autocommit=True,
                               connect_timeout=5)

    def create(self) -> None:
        with self._connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with self._connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def query(self, sql: str, params=None) -> list[tuple]:
        with self._connect(self.name) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def value(self, sql: str, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None


# --- HTTP ---------------------------------------------------------------------------------


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action", ""), "method": attrs.get("method", "get"), "fields": {}}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and attrs.get("name"):
            self._form["fields"][attrs["name"]] = attrs.get("value") or ""
        elif self._form is not None and tag == "textarea" and attrs.get("name"):
            self._textarea = attrs["name"]
            self._form["fields"][self._textarea] = ""

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._form = None


def forms_in(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Http:
    """One client of the portal: an API token, a session cookie, or both."""

    def __init__(self, base: str, *, token: str | None = None, session: str | None = None):
        import requests

        self.base, self.token = base, token
        self.http = requests.Session()
        if session:
            self.http.cookies.set("sessionid", session)

    def api(self, method: str, path: str, *, json_body=None, data=None, headers=None, timeout=30):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        return self.http.request(method, self.base + path, json=json_body, data=data, headers=headers,
                                 timeout=timeout, allow_redirects=False)

    def page(self, path: str, *, timeout=30):
        return self.http.get(self.base + path, timeout=timeout, allow_redirects=False)

    def form(self, page_path: str, action: str) -> dict:
        """The fields of the form posting to ``action`` on the page, as the
        browser would send them (CSRF token and hidden fields included)."""
        response = self.page(page_path)
        assert response.status_code == 200, (response.status_code, response.text[:300])
        for form in forms_in(response.text):
            if form["action"] == action:
                return dict(form["fields"])
        raise AssertionError(f"no form posting to {action} on {page_path}")

    def post_form(self, action: str, fields: dict, *, timeout=30):
        return self.http.post(self.base + action, data=fields, timeout=timeout, allow_redirects=False,
                              headers={"Referer": self.base + action})


# --- the stack ------------------------------------------------------------------------------


@dataclass
class Stack:
    tmp: Path
    db: Database
    redis: RedisServer
    fake: FakeMastodon
    proxy: FaultProxy
    secret_key: str
    vault_key: str
    web_port: int = field(default_factory=free_port)
    web: Proc | None = None
    cluster: Proc | None = None
    org: dict = field(default_factory=dict)
    accounts: dict = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    _cluster_log_offset: int = 0

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.web_port}"

    def env(self, *, database_url: str, **extra) -> dict:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")}
        return {**keep, "DJANGO_SETTINGS_MODULE": "socialops.settings.local",
                "SOCIALOPS_VAR_DIR": str(self.tmp / "var"), "DJANGO_SECRET_KEY": self.secret_key,
                "SOCIALOPS_VAULT_KEYS": self.vault_key, "DATABASE_URL": database_url, "REDIS_URL": self.redis.url,
                "DJANGO_ALLOWED_HOSTS": f"{LOOPBACK},localhost", "DJANGO_LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1", **extra}

    @property
    def direct_env(self) -> dict:
        return self.env(database_url=self.db.url())

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=self.direct_env, capture_output=True,
                              text=True, timeout=timeout)
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def seed(self, **spec) -> dict:
        done = subprocess.run([PY, str(Path(__file__).with_name("bootstrap.py")), json.dumps(spec)], cwd=ROOT,
                              env=self.direct_env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"seed {spec} failed:\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    # -- gunicorn --

    def start_web(self, *, wait: bool = True) -> None:
        # Persistent connections, as a deployment behind gunicorn keeps them; through the fault proxy.
        env = self.env(database_url=self.db.url(port=self.proxy.port, sslmode="disable"), DJANGO_CONN_MAX_AGE="60")
        if self.web is None:
            self.web = Proc("gunicorn", [PY, "-m", "gunicorn", "socialops.wsgi:application",
                                         "--bind", f"{LOOPBACK}:{self.web_port}", "--workers", str(WEB_WORKERS),
                                         "--worker-class", "gthread", "--threads", str(WEB_THREADS),
                                         "--timeout", "30", "--graceful-timeout", "5",
                                         "--access-logfile", "-", "--error-logfile", "-"],
                            env=env, cwd=ROOT, log_dir=self.tmp)
        self.web.start()
        if wait:
            self.wait_web()

    def wait_web(self) -> None:
        def ready():
            import requests

            assert self.web.alive(), f"gunicorn exited:\n{self.web.tail()}"
            try:
                return requests.get(self.base_url + "/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(ready, timeout=30, what="gunicorn /healthz")

    # -- the task cluster --

    def start_cluster(self, *, wait: bool = True) -> None:
        if self.cluster is None:
            self.cluster = Proc("qcluster", [PY, "manage.py", "qcluster"], env=self.direct_env, cwd=ROOT,
                                log_dir=self.tmp)
        self._cluster_log_offset = len(self.cluster.log_text())
        self.cluster.start()
        if wait:
            self.wait_cluster()

    def wait_cluster(self) -> None:
        def running():
            assert self.cluster.alive(), f"qcluster exited:\n{self.cluster.tail()}"
            return "running" in self.cluster.log_text()[self._cluster_log_offset:]

        wait_for(running, timeout=45, what="the qcluster to run")

    def kill_cluster(self) -> None:
        self.cluster.kill()
        self.events.append("qcluster killed with SIGKILL")

    def ensure_cluster(self) -> None:
        """What a supervisor (systemd Restart=always) does: start it again if it died."""
        if not self.cluster.alive():
            self.events.append(f"qcluster had exited (code {self.cluster.popen.returncode}); restarted")
            self.start_cluster()

    # -- time --

    def age(self, reply_ids: list[int], minutes: int = AGE_MINUTES) -> None:
        """Moves the given replies and every schedule ``minutes`` into the past:
        every timestamp of those replies (whatever the lease or back-off
        columns are called) and every schedule's next run. Stands in for
        waiting that long after a crash, without the suite waiting."""
        columns = [row[0] for row in self.db.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'inbox_reply' "
            "AND data_type LIKE 'timestamp%'")]
        if reply_ids and columns:
            assignments = ", ".join(f'"{c}" = "{c}" - make_interval(mins => %s)' for c in columns)
            self.db.query(f"UPDATE inbox_reply SET {assignments} WHERE id = ANY(%s)",
                          [minutes] * len(columns) + [reply_ids])
        self.db.query("UPDATE django_q_schedule SET next_run = next_run - make_interval(mins => %s) "
                      "WHERE repeats <> 0", [minutes])
        self.events.append(f"aged {len(reply_ids)} replies and the schedules by {minutes} minutes")

    # -- clients --

    def agent(self, n: int, *, api: bool = True, pages: bool = False) -> Http:
        agent = self.org["agents"][n]
        return Http(self.base_url, token=agent["token"] if api else None,
                    session=agent["session"] if pages else None)

    def admin(self) -> Http:
        return Http(self.base_url, token=self.org["admin"]["token"])

    def logs(self) -> str:
        parts = []
        for proc in (self.web, self.cluster):
            if proc is not None:
                parts.append(f"--- {proc.name} (last lines)\n{proc.tail(25)}")
        return "\n".join(parts)


@pytest.fixture(scope="module")
def stack():
    """Up for the module's tests, torn down (every process killed, the
    database dropped) as soon as they are done."""
    server = _postgres_server()
    if shutil.which("redis-server") is None:
        _unavailable("the fault suite needs redis-server (apt-get install redis-server)")
    try:
        import gunicorn  # noqa: F401
        import requests  # noqa: F401
    except ImportError as exc:
        _unavailable(f"the fault suite needs {exc.name} (make test installs it)")
    from cryptography.fernet import Fernet

    started = time.monotonic()
    _EVENTS.clear()
    tmp = Path(tempfile.mkdtemp(prefix="socialops-rel-"))
    (tmp / "var").mkdir()
    db = Database(server, f"socialops_rel_{os.getpid()}")
    fake = FakeMastodon()
    proxy = FaultProxy(LOOPBACK, server["port"])
    redis = RedisServer(cwd=tmp, log_dir=tmp)
    stack = Stack(tmp=tmp, db=db, redis=redis, fake=fake, proxy=proxy, events=_EVENTS,
                  secret_key="reliability-" + Fernet.generate_key().decode(), vault_key=Fernet.generate_key().decode())
    db.create()
    try:
        redis.start()
        stack.manage("migrate", "--noinput", timeout=180)
        # The processes boot while the data is seeded.
        stack.start_web(wait=False)
        stack.start_cluster(wait=False)
        seeded = stack.seed(what="everything", base_url=fake.url, accounts=ACCOUNTS)
        stack.accounts = seeded.pop("accounts")
        stack.org = seeded
        stack.wait_web()
        stack.wait_cluster()
        stack.events.append(f"stack ready in {time.monotonic() - started:.1f} s")
        yield stack
    finally:
        stack.events.append(f"stack torn down after {time.monotonic() - started:.1f} s")
        Proc.kill_all()
        proxy.close()
        fake.close()
        try:
            db.drop()
        finally:
            if os.environ.get("RELIABILITY_KEEP_LOGS") != "1":
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                print(f"\nreliability logs kept in {tmp}")


@pytest.fixture
def healthy(stack):
    """Each test starts with every part up (a previous failure may have left one down)."""
    stack.proxy.stall(False)
    stack.proxy.refuse(False)
    stack.proxy.disarm()
    stack.fake.post_delay = 0.0
    if not stack.redis.ping():
        stack.redis.start()
    stack.ensure_cluster()
    if not stack.web.alive():
        stack.start_web()
    return stack
