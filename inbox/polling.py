"""The poll service: fetch what is new on a connected account, store it
through the one ingest service, and only then advance the cursor.

Safe to run twice, or twice at the same time: ingest is idempotent on the
platform message id, and a cursor is only written over the one the poll
started from (a poll that lost the race leaves the newer cursor alone).

After a transient failure (429, 5xx, network) the account backs off for the
connector's ``retry_after``, doubled for every consecutive failure and capped
at one hour; when the platform named the wait itself (``Retry-After``, a rate
limit's reset) exactly that wait, capped at six hours. A permanent failure
(bad token, no connector) backs off for the hour cap so that an admin's fix
is picked up within the hour.

A poll that fails part-way keeps what it fetched before the failing page:
those messages are stored, the cursor moves exactly as far as they go (the
connector's partial cursor), and the failure backs off as above; the next
poll resumes at the failing page. A poll that fetched nothing moves no
cursor."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from security.models import SocialAccount

from .connectors import load_builtin
from .connectors.base import ConnectorError, FetchResult, connector_for_account
from .ingest import MAX_BATCH, IngestResult, ingest_messages
from .models import ConnectorState

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 3600
MIN_BACKOFF_SECONDS = 1
# The longest wait a platform may impose with Retry-After (a guard against a nonsense date).
MAX_SERVER_WAIT_SECONDS = 6 * 3600
MAX_FAILURE_COUNT = 32767  # PositiveSmallIntegerField


def backoff_seconds(retry_after: float | None, failures: int, *, server_said: bool = False) -> float:
    """``retry_after`` doubled for each failure after the first, capped at one
    hour; a permanent failure (no ``retry_after``) waits the full hour. A wait
    the server named (``server_said``) is honoured as it is, up to six hours."""
    if retry_after is None:
        return MAX_BACKOFF_SECONDS
    base = max(float(retry_after), MIN_BACKOFF_SECONDS)
    if server_said:
        return min(base, MAX_SERVER_WAIT_SECONDS)
    return min(base * 2 ** min(max(failures - 1, 0), 16), MAX_BACKOFF_SECONDS)


def poll_account(account_id: int) -> dict:
    """Polls one account. Returns a summary: ``status`` is ``ok``,
    ``skipped`` (with a ``reason``), ``backoff`` (still waiting), ``failed``
    (nothing fetched; with the ``error`` and the new ``backoff_until``) or
    ``partial`` (what came before a failing page was stored, with the
    ingest counts, the ``error`` and the new ``backoff_until``)."""
    load_builtin()
    state = ConnectorState.objects.select_related("account").filter(account_id=account_id).first()
    if state is None:
        return {"status": "skipped", "reason": "no connector state"}
    account = state.account
    if not state.polling_enabled:
        return {"status": "skipped", "reason": "polling disabled"}
    if account.status != SocialAccount.Status.ACTIVE:
        return {"status": "skipped", "reason": f"account {account.status}"}
    now = timezone.now()
    if state.backoff_until is not None and state.backoff_until > now:
        return {"status": "backoff", "backoff_until": state.backoff_until.isoformat()}

    start_cursor = dict(state.cursor or {})
    try:
        # A sandbox channel polls the sandbox (nothing new), never its platform.
        fetched: FetchResult = connector_for_account(account).fetch(account, dict(start_cursor))
    except ConnectorError as exc:
        return _record_failure(state.pk, exc)
    except Exception as exc:
        # A bug or an unexpected client failure: logged with its traceback,
        # recorded without its message (which could carry request details).
        logger.exception("Polling account %s failed unexpectedly", account.pk)
        return _record_failure(state.pk, ConnectorError(f"Unexpected error while polling ({type(exc).__name__}).",
                                                        retry_after=60))

    result = IngestResult()
    for start in range(0, len(fetched.items), MAX_BATCH):
        chunk = ingest_messages(account=account, items=fetched.items[start:start + MAX_BATCH],
                                source=f"poll:{account.platform}")
        result.created += chunk.created
        result.duplicates += chunk.duplicates
        result.conversations_created += chunk.conversations_created
        result.conversations_reopened += chunk.conversations_reopened
        for error in chunk.errors:
            error.index += start
        result.errors.extend(chunk.errors)
    # The messages are stored: now, and only now, the cursor may move.
    error = getattr(fetched, "error", None)
    if error is not None:
        return _record_partial(state.pk, start_cursor, fetched.cursor, result, error)
    return _record_success(state.pk, start_cursor, fetched.cursor, result)


def _move_cursor(state: ConnectorState, start_cursor: dict, new_cursor: dict) -> bool:
    """Moves the (locked) state's cursor to ``new_cursor`` unless another poll
    moved it since ``start_cursor`` was read; True when it moved."""
    if (state.cursor or {}) != start_cursor:
        logger.info("Account %s: another poll moved the cursor meanwhile; keeping it", state.account_id)
        return False
    state.cursor = new_cursor or {}
    return state.cursor != start_cursor


@transaction.atomic
def _record_partial(state_pk: int, start_cursor: dict, new_cursor: dict, result: IngestResult,
                    exc: ConnectorError) -> dict:
    state = ConnectorState.objects.select_for_update().get(pk=state_pk)
    moved = _move_cursor(state, start_cursor, new_cursor)
    state.save(update_fields=["cursor"])
    summary = result.as_dict()
    logger.info("Account %s: a page failed after %s created, %s duplicates; resuming there next time",
                state.account_id, result.created, result.duplicates)
    failure = _record_failure(state_pk, exc)
    return {**summary, **failure, "status": "partial", "cursor_moved": moved}


@transaction.atomic
def _record_success(state_pk: int, start_cursor: dict, new_cursor: dict, result: IngestResult) -> dict:
    state = ConnectorState.objects.select_for_update().get(pk=state_pk)
    moved = _move_cursor(state, start_cursor, new_cursor)
    state.consecutive_failures = 0
    state.backoff_until = None
    state.last_polled_at = timezone.now()
    summary = result.as_dict()
    if result.errors:
        first = result.errors[0]
        state.last_error = (f"Last poll rejected {summary['rejected']} message(s), e.g. item {first.index}, "
                            f"{first.field}: {first.reason}")[:500]
        logger.warning("Account %s: poll rejected %s message(s): %s", state.account_id, summary["rejected"],
                       [e.as_dict() for e in result.errors[:20]])
    else:
        state.last_error = ""
    state.save(update_fields=["cursor", "consecutive_failures", "backoff_until", "last_polled_at", "last_error"])
    logger.info("Account %s polled: %s created, %s duplicates, %s rejected", state.account_id, result.created,
                result.duplicates, summary["rejected"])
    return {"status": "ok", "cursor_moved": moved, **summary}


@transaction.atomic
def _record_failure(state_pk: int, exc: ConnectorError) -> dict:
    state = ConnectorState.objects.select_for_update().get(pk=state_pk)
    now = timezone.now()
    state.consecutive_failures = min(state.consecutive_failures + 1, MAX_FAILURE_COUNT)
    delay = backoff_seconds(exc.retry_after, state.consecutive_failures,
                            server_said=getattr(exc, "server_said", False))
    state.backoff_until = now + timedelta(seconds=delay)
    state.last_error = str(exc)[:500]
    state.last_polled_at = now
    state.save(update_fields=["consecutive_failures", "backoff_until", "last_error", "last_polled_at"])
    logger.warning("Account %s: poll failed (%s in a row), next try after %s: %s", state.account_id,
                   state.consecutive_failures, state.backoff_until.isoformat(), state.last_error)
    return {"status": "failed", "error": state.last_error, "transient": exc.transient,
            "backoff_until": state.backoff_until.isoformat(), "consecutive_failures": state.consecutive_failures}
