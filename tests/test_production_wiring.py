"""The wiring as production runs it, not as a test URL file or a lenient
client would have it: the signed webhook through the project's own URLs
and middleware with CSRF checks enforced; the background schedules created
by ``migrate`` itself (its post_migrate hooks); the production settings
refusing to start without what they need, imported the way gunicorn does
(``socialops.wsgi``) in a process with a controlled environment; and a
dropped database connection replaced, not a 500, with persistent
connections."""

import json
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError, close_old_connections, connection
from django.test import Client, override_settings
from django_q.models import Schedule

from inbox import tasks as inbox_tasks
from inbox.models import Message, WebhookDelivery
from inbox.webhooks import signed_headers
from security import services as security_services
from security import tasks as security_tasks
from strategy import tasks as strategy_tasks

SECRET = "whsec-production-wiring"


def message(n):
    return {"platform_message_id": f"prod-{n}", "text": f"Through the real URLs {n}",
            "sent_at": "2026-03-02T10:00:00Z", "kind": "mention",
            "author": {"id": f"a-{n}", "handle": f"@customer{n}"}}


# --- the webhook ------------------------------------------------------------------------

@pytest.fixture
def hooked_account(admin_user):
    account = security_services.account_create(actor=admin_user, platform="other", handle="@prod-hooked")
    security_services.credential_set(actor=admin_user, account=account, kind="webhook_secret", secret=SECRET)
    return account


def deliver(client, account_id, body: bytes, delivery: str, **extra):
    headers = {f"HTTP_{name.upper().replace('-', '_')}": value
               for name, value in signed_headers(SECRET, body, delivery).items()}
    # The path bridges are given (docs/WEBHOOKS.md), not a reverse() of whatever the route is called.
    return client.post(f"/inbox/webhooks/{account_id}/", data=body, content_type="application/json",
                       **headers, **extra)


@pytest.mark.django_db
def test_the_signed_webhook_works_through_the_real_urls_with_csrf_enforced(hooked_account):
    assert settings.ROOT_URLCONF == "socialops.urls"
    client = Client(enforce_csrf_checks=True)
    # The control: this client does refuse a POST without a CSRF token elsewhere.
    assert client.post("/login/", {"username": "x", "password": "y"}).status_code == 403

    body = json.dumps([message(1), message(2)]).encode()
    response = deliver(client, hooked_account.pk, body, "prod-delivery-1")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    assert Message.objects.filter(account=hooked_account).count() == 2
    assert WebhookDelivery.objects.get(account=hooked_account).delivery_id == "prod-delivery-1"
    # A wrong signature is still a 401 there (the route is the signed one, not an open door).
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in
               signed_headers("not-the-secret", body, "prod-delivery-2").items()}
    refused = client.post(f"/inbox/webhooks/{hooked_account.pk}/", data=body, content_type="application/json",
                          **headers)
    assert refused.status_code == 401


@pytest.mark.django_db
def test_the_webhook_behind_the_tls_proxy_with_production_security_settings(hooked_account):
    """HTTPS redirect on, the proxy's X-Forwarded-Proto trusted, secure
    cookies: what production.py sets. A CSRF-protected view would also fail
    the strict Referer check of a secure request here."""
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"),
                           CSRF_COOKIE_SECURE=True, SESSION_COOKIE_SECURE=True, ALLOWED_HOSTS=["portal.example"]):
        client = Client(enforce_csrf_checks=True)
        body = json.dumps([message(3)]).encode()
        plain = deliver(client, hooked_account.pk, body, "tls-0", HTTP_HOST="portal.example")
        assert plain.status_code == 301 and plain["Location"].startswith("https://portal.example/inbox/webhooks/")
        response = deliver(client, hooked_account.pk, body, "tls-1", HTTP_HOST="portal.example",
                           HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 200, response.content
    assert Message.objects.filter(platform_message_id="prod-3").exists()


# --- the schedules ----------------------------------------------------------------------

INBOX_SCHEDULES = {inbox_tasks.POLL_ALL_FUNC, inbox_tasks.SLA_SWEEP_FUNC, inbox_tasks.RETRY_REPLIES_FUNC}
SECURITY_SCHEDULES = {security_tasks.CHECKPOINT_FUNC, security_tasks.DIGEST_FUNC}
STRATEGY_SCHEDULES = {strategy_tasks.REVIEW_REMINDERS_FUNC, strategy_tasks.DIGEST_FUNC, strategy_tasks.PUBLISH_DUE_FUNC}


@pytest.mark.django_db
def test_migrate_alone_creates_every_background_schedule():
    """From an empty schedule table, ``migrate`` (its post_migrate hooks, as
    on a fresh deploy) creates the inbox's every-minute schedules and the
    security ones; tests/security/test_audit_hardening.py checks the
    security schedules' own timing."""
    Schedule.objects.all().delete()
    call_command("migrate", verbosity=0)
    funcs = list(Schedule.objects.values_list("func", flat=True))
    assert sorted(funcs) == sorted(INBOX_SCHEDULES | SECURITY_SCHEDULES | STRATEGY_SCHEDULES)  # each once
    for schedule in Schedule.objects.filter(func__in=INBOX_SCHEDULES):
        assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1), \
            schedule.func
    # A second deploy changes nothing and duplicates nothing.
    before = set(Schedule.objects.values_list("pk", "func", "minutes", "schedule_type"))
    call_command("migrate", verbosity=0)
    assert set(Schedule.objects.values_list("pk", "func", "minutes", "schedule_type")) == before


# --- production settings, imported as gunicorn does ----------------------------------------

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "production-wiring-test-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "DJANGO_ALLOWED_HOSTS": "portal.example",
    "DATABASE_URL": "postgres://socialops@127.0.0.1:9/socialops",  # never connected to: startup only
    "SOCIALOPS_VAULT_KEYS": "q0P0GkqKHzWq0TPp6mK4gQbEXv7gY1zvQbLJm0Zl5nE=",
}

SHOW_SETTINGS = """
import json
from socialops.wsgi import application  # what gunicorn imports
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "module": settings.SETTINGS_MODULE, "conn_max_age": db["CONN_MAX_AGE"],
    "conn_health_checks": db["CONN_HEALTH_CHECKS"], "max_body": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
    "cache": settings.CACHES["default"]["BACKEND"],
    "parsers": settings.REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"],
    "throttles": settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"],
}))
"""


def run_production(environment: dict, tmp_path) -> subprocess.CompletedProcess:
    """A fresh interpreter with only ``environment`` (no DJANGO_SETTINGS_MODULE:
    socialops.wsgi's own default, production, applies)."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "PYTHONPATH": str(settings.BASE_DIR), "SOCIALOPS_VAR_DIR": str(tmp_path / "var"), **environment}
    return subprocess.run([sys.executable, "-c", SHOW_SETTINGS], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_starts_with_what_it_needs(tmp_path):
    """The control for the refusals below, and the database and cache
    settings production runs with."""
    result = run_production({**PRODUCTION_ENV, "DJANGO_CONN_MAX_AGE": "60", "REDIS_URL": "redis://127.0.0.1:9/0"},
                            tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["module"] == "socialops.settings.production"
    # Persistent connections are checked before reuse.
    assert shown["conn_max_age"] == 60 and shown["conn_health_checks"] is True
    assert shown["cache"] == "socialops.cache.FailSoftRedisCache"
    assert shown["parsers"][0] == "socialops.parsers.JSONParser"
    assert all(path.startswith("socialops.throttling.") for path in shown["throttles"])
    assert shown["max_body"] == 5_000 * 4 * 1024


@pytest.mark.parametrize("missing", ["DATABASE_URL", "SOCIALOPS_VAULT_KEYS", "DJANGO_SECRET_KEY",
                                     "DJANGO_ALLOWED_HOSTS"])
@pytest.mark.parametrize("how", ["unset", "empty"])
def test_production_refuses_to_start_without(missing, how, tmp_path):
    environment = {name: value for name, value in PRODUCTION_ENV.items() if name != missing}
    if how == "empty":
        environment[missing] = ""
    result = run_production(environment, tmp_path)
    assert result.returncode != 0
    assert f"django.core.exceptions.ImproperlyConfigured: {missing} must be set in production" in result.stderr


# --- a dropped database connection ---------------------------------------------------------

def _terminate_backend(pid: int) -> None:
    import psycopg

    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("health_checks", [True, False])
def test_a_dropped_persistent_connection_is_replaced_before_the_next_request(health_checks, monkeypatch):
    """What the database does on a restart or a failover: it closes the
    connections a worker keeps. The next request checks (CONN_HEALTH_CHECKS)
    and reconnects; without the check it fails once (the control)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL to terminate a connection from the server side")
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 600)
    monkeypatch.setitem(connection.settings_dict, "CONN_HEALTH_CHECKS", health_checks)
    connection.close()
    try:
        Schedule.objects.count()  # a first request opens the persistent connection
        close_old_connections()  # its end: kept, since CONN_MAX_AGE > 0
        assert connection.connection is not None
        _terminate_backend(connection.connection.info.backend_pid)

        close_old_connections()  # the next request's start (request_started)
        if health_checks:
            assert Schedule.objects.count() >= 0
        else:
            with pytest.raises(OperationalError):
                Schedule.objects.count()
    finally:
        connection.close()
