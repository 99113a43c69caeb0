"""django-q2 entry points of the inbox. They take ids and call services;
they are enqueued with ``transaction.on_commit`` and are safe to retry."""

from functools import partial

from django.db import transaction
from django_q.models import Schedule
from django_q.tasks import async_task

from security.models import SocialAccount
from socialops.schedules import ensure_schedule

from . import polling
from .models import ConnectorState

POLL_ALL_FUNC = "inbox.tasks.poll_all_accounts"
POLL_ALL_NAME = "inbox: poll connected accounts"


def poll_account_task(account_id: int) -> dict:
    return polling.poll_account(account_id)


def poll_all_accounts() -> int:
    """Enqueues one poll per active account with polling enabled; returns
    how many. Accounts backing off are enqueued too: the poll skips them."""
    account_ids = list(
        ConnectorState.objects.filter(polling_enabled=True, account__status=SocialAccount.Status.ACTIVE)
        .order_by("account_id").values_list("account_id", flat=True)
    )
    for account_id in account_ids:
        transaction.on_commit(partial(async_task, "inbox.tasks.poll_account_task", account_id, group="inbox-poll"))
    return len(account_ids)


def ensure_schedules() -> None:
    """Creates or updates (idempotently) the every-minute schedules: polling,
    the SLA sweep and the reply sweep (replies whose task was lost or whose
    transient failure's back-off has passed). Safe to call on every deploy/migrate."""
    for func, name in ((POLL_ALL_FUNC, POLL_ALL_NAME), (SLA_SWEEP_FUNC, "inbox: SLA sweep"),
                       (RETRY_REPLIES_FUNC, "inbox: retry replies")):
        _ensure_schedule(func, name)


def _ensure_schedule(func: str, name: str) -> None:
    ensure_schedule(func, {"name": name, "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1})


def send_reply_task(reply_id: int) -> None:
    """Enqueued by ``inbox.services.replies._enqueue_send``. Running it twice,
    or beside the sweep, sends nothing twice: the send takes a lease first."""
    from .services import reply_send

    reply_send(reply_id)


SLA_SWEEP_FUNC = "inbox.tasks.sla_sweep_task"
RETRY_REPLIES_FUNC = "inbox.tasks.retry_replies_task"


def sla_sweep_task() -> dict:
    """Every minute: warnings at 80% of a target, breaches escalated. Idempotent."""
    from .services import sla_sweep

    return sla_sweep()


def retry_replies_task() -> int:
    """Every minute: sends every reply that is approved or sending with no
    live lease and past its back-off (a lost task, a worker killed mid-send,
    the broker down when it was approved, a transient failure), each exactly
    once under its own lease."""
    from .services.replies import retry_due_replies

    return retry_due_replies()
