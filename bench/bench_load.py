"""Load benchmark: agents, bulk ingest and signed webhooks at 10, 50 and 100
concurrent users against gunicorn (gthread) on PostgreSQL, driven by locust
in headless mode (bench/locustfile.py).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/socialops_bench_load \\
        .venv/bin/python bench/bench_load.py          # or: make bench-load

What it does, in one run:

1. drops and creates the database named in DATABASE_URL (its name must start
   with ``socialops_bench_``), migrates it with ``manage.py migrate`` and
   loads the demo (``seed_demo``: the organisation, rights, and a 2,000
   message inbox); gives the Mastodon demo account a webhook secret and
   opens a pool of sessions for the department representatives;
2. starts what production runs, on loopback: a Redis of its own on a free
   port (cache + broker), ``gunicorn socialops.wsgi`` with gthread workers
   and a ``manage.py qcluster``, with ``socialops.settings.production``
   (DEBUG off, persistent connections; static files collected once into
   var/bench-load/static);
3. signs in once through ``/login/`` as a representative (no second factor
   needed) and creates the bridges' API token through ``POST
   /api/auth/token/`` as the demo admin with the demo authenticator's code;
4. runs locust for each user count (ramp-up excluded from the figures) and
   reads every request it made;
5. checks that every message sent was stored exactly once, and every
   accepted webhook delivery recorded once.

Progress goes to stderr; stdout gets ONE JSON line. Never gates on time:
the exit code is 0 whatever the figures (non-zero only if something broke
before the load ran). Everything listens on and talks to 127.0.0.1 only.
Knobs: BENCH_LOAD_USERS (10,50,100), BENCH_LOAD_SECONDS (60 per stage),
BENCH_LOAD_WORKERS (2 x CPUs), BENCH_LOAD_THREADS (8), BENCH_LOAD_AGENT_WAIT
(2,8: seconds an agent reads between clicks)."""

import base64
import hashlib
import hmac
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BIN = Path(sys.executable).parent
DB_PREFIX = "socialops_bench_"
LOOPBACK = "127.0.0.1"
USERS = [int(n) for n in os.environ.get("BENCH_LOAD_USERS", "10,50,100").split(",") if n.strip()]
SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "60"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", str(2 * (os.cpu_count() or 1))))
THREADS = int(os.environ.get("BENCH_LOAD_THREADS", "8"))
# Department representatives of the demo: no publish, approve or manage rights, so no second factor.
AGENTS = ["rita", "sven", "paula", "leo", "fiona", "mark", "ivan"]
READ_P95_TARGET_MS = 500
AGENT_WAIT = [float(s) for s in os.environ.get("BENCH_LOAD_AGENT_WAIT", "2,8").split(",")]

_started = time.perf_counter()
_children: list[subprocess.Popen] = []


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered))) - 1))], 1)


def totp(base32_key: str, at: float | None = None) -> str:
    """RFC 6238, as the demo authenticator (30 s, 6 digits, SHA-1) computes it."""
    counter = int(at if at is not None else time.time()) // 30
    digest = hmac.new(base64.b32decode(base32_key), counter.to_bytes(8, "big"), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(int.from_bytes(digest[offset:offset + 4], 'big') & 0x7FFFFFFF) % 1_000_000:06d}"


# --- database ---------------------------------------------------------------------------------


def database() -> dict:
    import environ

    url = os.environ.get("DATABASE_URL", "")
    config = environ.Env.db_url_config(url) if url else {}
    if "postgresql" not in config.get("ENGINE", ""):
        sys.exit("bench_load: DATABASE_URL must point at PostgreSQL, e.g. "
                 "postgres://postgres@127.0.0.1:5432/socialops_bench_load")
    if not config["NAME"].startswith(DB_PREFIX):
        sys.exit(f"bench_load: the database is dropped and recreated, so its name must start with {DB_PREFIX!r}")
    if (config.get("HOST") or LOOPBACK) not in (LOOPBACK, "localhost"):
        sys.exit("bench_load: loopback only; DATABASE_URL must name 127.0.0.1")
    return {"url": url, "name": config["NAME"], "host": LOOPBACK, "port": int(config.get("PORT") or 5432),
            "user": config.get("USER") or "postgres", "password": config.get("PASSWORD") or None}


def connect(db: dict, name: str | None = None):
    import psycopg

    return psycopg.connect(host=db["host"], port=db["port"], user=db["user"], password=db["password"],
                           dbname=name or db["name"], autocommit=True)


def recreate(db: dict) -> None:
    with connect(db, "postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db["name"]}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db["name"]}"')


# --- processes --------------------------------------------------------------------------------


def start(name: str, argv: list[str], env: dict, logs: Path) -> subprocess.Popen:
    out = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's lifetime
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    _children.append(proc)
    return proc


def stop_all() -> None:
    for proc in reversed(_children):
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # its own group: only what this script started
            except ProcessLookupError:
                continue
    deadline = time.monotonic() + 10
    for proc in reversed(_children):
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((LOOPBACK, port)) == 0


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench_load: timed out waiting for {what}")
        time.sleep(0.3)


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          input=stdin, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"bench_load: manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def collectstatic(env: dict, var_dir: Path) -> None:
    """Once per set of static files (it takes a minute or two): DEBUG off serves the hashed names."""
    import django

    files = sorted(p for p in ROOT.glob("*/static/**/*") if p.is_file())
    fingerprint = hashlib.sha256("\n".join([django.get_version(), *(f"{p}:{p.stat().st_mtime_ns}:{p.stat().st_size}"
                                                                       for p in files)]).encode()).hexdigest()
    stamp = var_dir / "static.fingerprint"
    manifest = var_dir / "static" / "staticfiles.json"
    if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
        return
    log("collecting static files (once; this takes a while)")
    manage(env, "collectstatic", "--noinput", "--clear", "--verbosity", "0")
    stamp.write_text(fingerprint)


SEED = """
import json
from django.test import Client
from accounts.demo import DEMO_TOTP_BASE32
from accounts.models import User
from security import services
from security.models import SocialAccount

CONFIG = json.loads({config!r})
admin = User.objects.get(username="ada")
mastodon = SocialAccount.objects.get(handle="@brand@social.example")
x = SocialAccount.objects.get(handle="@brand_care")
services.credential_set(actor=admin, account=mastodon, kind="webhook_secret", secret=CONFIG["webhook_secret"])
agents = [User.objects.get(username=name) for name in CONFIG["agents"]]
sessions = []
for n in range(CONFIG["sessions"]):
    client = Client()
    client.force_login(agents[n % len(agents)], backend="accounts.backends.RoleBackend")
    sessions.append(client.cookies["sessionid"].value)
print(json.dumps({{"webhook_account": mastodon.pk, "bulk_account": x.pk, "sessions": sessions,
                  "totp_key": DEMO_TOTP_BASE32}}))
"""


# --- HTTP checks before the load ----------------------------------------------------------------


def sign_in_once(base: str, username: str, password: str) -> None:
    """One real sign-in through the login page (the pool of sessions used by
    the load is made directly, so password hashing does not dominate it)."""
    import requests

    headers = {"X-Forwarded-Proto": "https", "Origin": base.replace("http://", "https://")}
    page = requests.get(f"{base}/login/", headers=headers, timeout=30)
    csrf = page.cookies.get("csrftoken")
    response = requests.post(f"{base}/login/", data={"username": username, "password": password,
                                                     "csrfmiddlewaretoken": csrf},
                             headers={**headers, "Cookie": f"csrftoken={csrf}", "Referer": f"https://{base[7:]}/login/"},
                             allow_redirects=False, timeout=30)
    session = response.cookies.get("sessionid")
    if response.status_code != 302 or not session:
        raise SystemExit(f"bench_load: signing in as {username} failed: HTTP {response.status_code}")
    home = requests.get(f"{base}/inbox/", headers={**headers, "Cookie": f"sessionid={session}"},
                        allow_redirects=False, timeout=30)
    if home.status_code != 200:
        raise SystemExit(f"bench_load: {username}'s inbox after signing in: HTTP {home.status_code}")


def api_token(base: str, totp_key: str) -> str:
    import requests

    for _ in range(2):  # a code may be refused at the very edge of its 30 s step
        response = requests.post(f"{base}/api/auth/token/", timeout=30, headers={"X-Forwarded-Proto": "https"},
                                 json={"username": "ada", "password": "demo-pass-2026", "otp_token": totp(totp_key),
                                       "name": f"bench-load {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
                                       "expires_in_days": 1})
        if response.status_code == 201:
            return response.json()["token"]
        time.sleep(31)
    raise SystemExit(f"bench_load: POST /api/auth/token/ failed: HTTP {response.status_code} {response.text[:200]}")


# --- one user alone -----------------------------------------------------------------------------------


def solo(base: str, session: str, rounds: int = 8) -> dict:
    """Median time of each read with nobody else on the server: what one
    request costs, so the stages' queueing can be told from the work itself."""
    import requests

    headers = {"X-Forwarded-Proto": "https", "Connection": "close", "Cookie": f"sessionid={session}"}
    listing = requests.get(f"{base}/api/conversations/?status=open&page_size=50", headers=headers, timeout=60)
    pk = listing.json()["results"][0]["id"]
    urls = {"inbox_page": "/inbox/", "api_list": "/api/conversations/?status=open&page_size=50",
            "conversation_page": f"/inbox/c/{pk}/", "presence": f"/inbox/c/{pk}/presence/"}
    result = {}
    for name, url in urls.items():
        times = []
        for _ in range(rounds + 2):
            started = time.perf_counter()
            response = requests.get(base + url, headers=headers, timeout=60, allow_redirects=False)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"bench_load: {url} answered {response.status_code} before the load")
        result[name] = percentile(times[2:], 0.5)  # the first two warm the worker up
    log(f"one user alone, median ms: {result}")
    return result


# --- one stage ------------------------------------------------------------------------------------


EXPECTED = {"read": 200, "presence": 200, "ingest": 201, "webhook": 200}


def stage(users: int, base: str, config: dict, out_dir: Path, env: dict) -> tuple[dict, list[dict]]:
    rate = max(1, users // 5)
    ramp = -(-users // rate)
    out = out_dir / f"locust-{users}.json"
    run_env = {**env, "BENCH_LOAD_CONFIG": json.dumps({**config, "run": f"u{users}"}), "BENCH_LOAD_OUT": str(out)}
    argv = [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "-u", str(users),
            "-r", str(rate), "-t", f"{SECONDS + ramp + 1}s", "--host", base, "--reset-stats", "--only-summary",
            "--stop-timeout", "15", "--exit-code-on-error", "0", "--loglevel", "WARNING",
            "--csv", str(out_dir / f"locust-{users}")]
    log(f"{users} users: {ramp} s ramp-up, then {SECONDS} s measured")
    with open(out_dir / f"locust-{users}.log", "wb") as locust_log:
        subprocess.run(argv, cwd=ROOT, env=run_env, stdout=locust_log, stderr=subprocess.STDOUT, check=True,
                       timeout=SECONDS + ramp + 120)
    data = json.loads(out.read_text())
    samples = data["samples"]
    duration = max(0.001, data["stopped"] - (data["since"] or data["stopped"]))
    times = [s[2] for s in samples]
    errors = [s for s in samples if s[3] != EXPECTED.get(s[1], 200)]
    result = {
        "users": users, "seconds": round(duration, 1), "requests": len(samples),
        "rps": round(len(samples) / duration, 1),
        "p50_ms": percentile(times, 0.50), "p95_ms": percentile(times, 0.95), "p99_ms": percentile(times, 0.99),
        "errors": len(errors), "error_rate": round(len(errors) / len(samples), 4) if samples else None,
        "http_5xx": sum(1 for s in samples if s[3] >= 500), "no_answer": sum(1 for s in samples if s[3] == 0),
    }
    for group in ("read", "presence", "ingest", "webhook"):
        values = [s[2] for s in samples if s[1] == group]
        result[f"{group}_requests"] = len(values)
        result[f"{group}_p50_ms"] = percentile(values, 0.50)
        result[f"{group}_p95_ms"] = percentile(values, 0.95)
        result[f"{group}_p99_ms"] = percentile(values, 0.99)
    if errors:
        result["error_kinds"] = sorted({f"{s[0]} -> {s[3]}" for s in errors})[:10]
    log(f"{users} users: {result['rps']} req/s, p95 {result['p95_ms']} ms (reads {result['read_p95_ms']} ms), "
        f"{result['errors']} errors, {result['http_5xx']} 5xx")
    return result, data["sent"]


def verify(db: dict, sent: list[dict]) -> dict:
    """Every message of a batch or delivery answered with a 2xx is stored
    exactly once; none is stored twice (whatever the answer was)."""
    accepted: dict[int, set[str]] = {}
    all_ids: dict[int, set[str]] = {}
    deliveries = []
    for entry in sent:
        ok = entry["status"] == EXPECTED["ingest" if entry["kind"] == "bulk" else "webhook"]
        all_ids.setdefault(entry["account"], set()).update(entry["ids"])
        if ok:
            accepted.setdefault(entry["account"], set()).update(entry["ids"])
            if entry["delivery"]:
                deliveries.append((entry["account"], entry["delivery"]))
    missing = duplicated = stored_once = 0
    with connect(db) as conn:
        for account, ids in all_ids.items():
            counts = dict(conn.execute(
                "SELECT platform_message_id, count(*) FROM inbox_message WHERE account_id = %s "
                "AND platform_message_id = ANY(%s) GROUP BY 1", [account, list(ids)]).fetchall())
            duplicated += sum(1 for n in counts.values() if n > 1)
            good = accepted.get(account, set())
            stored_once += sum(1 for i in good if counts.get(i) == 1)
            missing += sum(1 for i in good if i not in counts)
        recorded = 0
        for account, delivery in deliveries:
            recorded += conn.execute("SELECT count(*) FROM inbox_webhookdelivery WHERE account_id = %s "
                                     "AND delivery_id = %s", [account, delivery]).fetchone()[0] == 1
    return {"messages_sent": sum(len(v) for v in all_ids.values()),
            "messages_accepted": sum(len(v) for v in accepted.values()), "messages_stored_once": stored_once,
            "messages_missing": missing, "messages_duplicated": duplicated,
            "webhook_deliveries_accepted": len(deliveries), "webhook_deliveries_recorded_once": recorded}


def machine(db: dict) -> str:
    memory = ""
    try:
        kib = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        memory = f", {round(kib / 1024 / 1024)} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    with connect(db) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs{memory}, Python "
            f"{platform.python_version()}, PostgreSQL {version}")


# --- main -----------------------------------------------------------------------------------------


def main() -> int:
    if not (BIN / "locust").exists():
        sys.exit("bench_load: locust is not installed: make bench-load installs requirements-dev.txt")
    if shutil.which("redis-server") is None:
        sys.exit("bench_load: needs redis-server (apt-get install redis-server)")
    from cryptography.fernet import Fernet

    db = database()
    out_dir = ROOT / "bench" / "results" / f"load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    out_dir.mkdir(parents=True)
    var_dir = ROOT / "var" / "bench-load"
    var_dir.mkdir(parents=True, exist_ok=True)
    redis_port, web_port = free_port(), free_port()
    base = f"http://{LOOPBACK}:{web_port}"
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env = {**keep, "DJANGO_SETTINGS_MODULE": "socialops.settings.production", "DATABASE_URL": db["url"],
           "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_ALLOWED_HOSTS": f"{LOOPBACK},localhost",
           "SOCIALOPS_VAULT_KEYS": Fernet.generate_key().decode(), "SOCIALOPS_VAR_DIR": str(var_dir),
           "REDIS_URL": f"redis://{LOOPBACK}:{redis_port}/0", "DJANGO_CONN_MAX_AGE": "600",
           # TLS ends at the proxy in production; here requests say so with X-Forwarded-Proto.
           "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_LOG_LEVEL": "WARNING",
           # A handful of demo people stand for up to 100 users: the per-person API limit is lifted.
           "SOCIALOPS_THROTTLE_USER": "100000/min", "PYTHONUNBUFFERED": "1"}
    try:
        log(f"database {db['name']}: drop, create, migrate, load the demo")
        recreate(db)
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--quiet-logins")
        collectstatic(env, var_dir)
        config = {"agents": AGENTS, "sessions": max(USERS), "webhook_secret": secrets.token_urlsafe(32)}
        seeded = json.loads(manage(env, "shell", "--no-imports", "-c", SEED.format(config=json.dumps(config)))
                            .strip().splitlines()[-1])
        start("redis", ["redis-server", "--port", str(redis_port), "--bind", LOOPBACK, "--save", "",
                        "--appendonly", "no"], keep, out_dir)
        wait_until(lambda: port_open(redis_port), 10, "redis-server")
        start("gunicorn", [PY, "-m", "gunicorn", "socialops.wsgi:application", "--bind", f"{LOOPBACK}:{web_port}",
                           "--workers", str(WORKERS), "--worker-class", "gthread", "--threads", str(THREADS),
                           "--timeout", "60", "--keep-alive", "5", "--error-logfile", "-"], env, out_dir)
        start("qcluster", [PY, "manage.py", "qcluster"], env, out_dir)

        def web_up():
            import requests

            try:
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(web_up, 60, "gunicorn")
        sign_in_once(base, AGENTS[0], "demo-pass-2026")
        token = api_token(base, seeded["totp_key"])
        log(f"gunicorn: {WORKERS} gthread workers x {THREADS} threads; a qcluster; Redis on :{redis_port}")
        locust_config = {"sessions": seeded["sessions"], "token": token, "bulk_account": seeded["bulk_account"],
                         "webhook_account": seeded["webhook_account"], "webhook_secret": config["webhook_secret"],
                         "agent_wait": AGENT_WAIT}
        alone = solo(base, seeded["sessions"][0])
        stages, sent = [], []
        for users in USERS:
            result, stage_sent = stage(users, base, locust_config, out_dir, env)
            stages.append(result)
            sent.extend(stage_sent)
        time.sleep(1)
        checks = verify(db, sent)
        log(f"messages: {checks}")
        at = {s["users"]: s for s in stages}
        summary = {
            "solo_median_ms": alone, "stages": stages, **checks,
            "target_100_users_no_errors": (at[100]["errors"] == 0 and at[100]["http_5xx"] == 0) if 100 in at else None,
            "target_50_users_read_p95_under_500ms": (at[50]["read_p95_ms"] is not None
                                                    and at[50]["read_p95_ms"] < READ_P95_TARGET_MS) if 50 in at
            else None,
            "server": f"gunicorn gthread {WORKERS}x{THREADS}, 1 qcluster, Redis, settings.production",
            "agent_wait_s": AGENT_WAIT, "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            "machine": machine(db), "results": str(out_dir.relative_to(ROOT)),
        }
        print(json.dumps(summary))
        return 0
    finally:
        stop_all()
        log(f"logs and locust output in {out_dir.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
