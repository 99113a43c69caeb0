"""Seeds what one fault test needs, in the suite's throw-away database, through
the portal's own services (no management command). Run by the suite as

    python tests/reliability/bootstrap.py '<json spec>'

with the same environment as the processes under test; prints one JSON line.

Specs:
- ``{"what": "org"}``: one department (the default queue), an admin and four
  department representatives (no second factor needed), an API token for each
  and a signed-in session for each agent.
- ``{"what": "account", "tag": ..., "base_url": ..., "conversations": N}``: a
  Mastodon account on the fake server with its own access token and webhook
  secret, ``reply`` for every agent, N conversations (one inbound message
  each) in the department's queue.
- ``{"what": "everything", "base_url": ..., "accounts": {tag: N, ...}}``: both,
  one account per test, in one process start (each start costs seconds)."""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "socialops.settings.local")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts import signin  # noqa: E402
from accounts.models import Department, Membership, User, Workgroup  # noqa: E402
from accounts.roles import Role  # noqa: E402
from accounts.services import sync_department_groups  # noqa: E402
from inbox.ingest import ingest_messages  # noqa: E402
from inbox.models import ConnectorState, Conversation, Message  # noqa: E402
from security import services as security_services  # noqa: E402

AGENTS = ["rel-agent-1", "rel-agent-2", "rel-agent-3", "rel-agent-4"]
ADMIN = "rel-admin"
DEPARTMENT = "rel-service"


def _person(username: str, role: str, department: Department, workgroup: Workgroup | None) -> User:
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org",
                                                                      "first_name": username})
    user.set_unusable_password()  # the suite signs in with sessions and tokens made here
    user.save()
    Membership.objects.get_or_create(user=user, department=department, workgroup=workgroup, role=role,
                                     ended_at=None,
                                     defaults={"started_at": timezone.now() - timedelta(days=1)})
    sync_department_groups(user)
    return user


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user, backend="accounts.backends.RoleBackend")
    return client.cookies["sessionid"].value


def _token(user: User, name: str, *, verified: bool) -> str:
    _token_row, plaintext = signin.api_token_create(actor=user, name=name, expires_in_days=1,
                                                    second_factor_verified=verified)
    return plaintext


def org(spec: dict) -> dict:
    department, _ = Department.objects.get_or_create(slug=DEPARTMENT, defaults={"name": "Service (reliability)"})
    workgroup, _ = Workgroup.objects.get_or_create(slug="rel-workgroup", defaults={"name": "Reliability"})
    admin = _person(ADMIN, Role.ADMIN, department, None)
    agents = [_person(name, Role.DEPARTMENT_REPRESENTATIVE, department, workgroup) for name in AGENTS]
    return {
        "department": department.pk,
        # Token creation asks an admin for the second factor; this stands for a token made after one.
        "admin": {"id": admin.pk, "token": _token(admin, "reliability ingest", verified=True)},
        "agents": [{"id": a.pk, "username": a.username, "token": _token(a, "reliability", verified=False),
                    "session": _session_cookie(a)} for a in agents],
    }


def account(spec: dict) -> dict:
    tag = spec["tag"]
    admin = User.objects.get(username=ADMIN)
    department = Department.objects.get(slug=DEPARTMENT)
    acct = security_services.account_create(actor=admin, platform="mastodon", handle=f"@brand-{tag}@fake.example",
                                            display_name=f"Brand {tag}", departments=[department])
    access_token = f"fake-token-{tag}"
    webhook_secret = f"webhook-secret-{tag}"
    security_services.credential_set(actor=admin, account=acct, kind="api_token", secret=access_token)
    security_services.credential_set(actor=admin, account=acct, kind="webhook_secret", secret=webhook_secret)
    ConnectorState.objects.create(account=acct, base_url=spec["base_url"], polling_enabled=False)
    for username in spec.get("agents", AGENTS):
        security_services.grant_create(actor=admin, account=acct, capability="reply",
                                       user=User.objects.get(username=username), reason="reliability suite")
    count = int(spec.get("conversations", 0))
    sent_at = (timezone.now() - timedelta(hours=2)).isoformat()
    items = [{"platform_message_id": f"{tag}-m{n}", "text": f"Hello, where is my order number {n}?",
              "sent_at": sent_at, "kind": "mention", "thread_id": f"{tag}-t{n}", "language": "en",
              "author": {"id": f"{tag}-a{n}", "handle": f"customer{n}@other.example", "followers": 5}}
             for n in range(count)]
    if items:
        result = ingest_messages(account=acct, items=items, source="test")
        assert result.created == count and not result.errors, result.as_dict()
    ids = dict(Message.objects.filter(account=acct).values_list("platform_message_id", "conversation_id"))
    conversations = [ids[f"{tag}-m{n}"] for n in range(count)]
    assert Conversation.objects.filter(pk__in=conversations, department=department).count() == count
    return {"account": acct.pk, "access_token": access_token, "webhook_secret": webhook_secret,
            "conversations": conversations, "threads": [f"{tag}-t{n}" for n in range(count)]}


def everything(spec: dict) -> dict:
    """The organisation and every test's account, in one process start."""
    result = org(spec)
    result["accounts"] = {tag: account({"tag": tag, "base_url": spec["base_url"], "conversations": count})
                          for tag, count in spec["accounts"].items()}
    return result


if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    result = {"org": org, "account": account, "everything": everything}[spec["what"]](spec)
    print(json.dumps(result))
