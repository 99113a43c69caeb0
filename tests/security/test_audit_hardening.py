"""An audit log that cannot be emptied quietly: TRUNCATE refused on
PostgreSQL, hourly checkpoints in their own append-only table, a
verification that fails loudly when the log shrank or was rebuilt since a
checkpoint, and the executives' weekly digest that carries the head."""

from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone
from django_q.models import Schedule

from accounts.models import Notification
from accounts.roles import Role
from security import tasks
from security.audit import AuditCheckpointError, audit_checkpoint_write, audit_write, compute_hash, verify_chain
from security.digest import security_digest
from security.models import AuditCheckpoint, AuditEvent

ONLY_POSTGRESQL = "the append-only triggers exist on PostgreSQL only (CI runs this on PostgreSQL)"


def _tamper(sql: str, params: list | None = None):
    """Changes the tables behind the application's back, as someone with
    database superuser rights would (triggers off for the session)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params or [])
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def _events(n: int) -> list[AuditEvent]:
    return [audit_write(actor=None, action="test.event", after={"n": i}) for i in range(n)]


# --- TRUNCATE and the checkpoint table on PostgreSQL -----------------------------

@pytest.mark.django_db
def test_postgresql_refuses_truncate_of_the_audit_log():
    if connection.vendor != "postgresql":
        pytest.skip(ONLY_POSTGRESQL)
    event = audit_write(actor=None, action="test.event")
    for statement in ("TRUNCATE security_auditevent", "TRUNCATE TABLE security_auditevent RESTART IDENTITY CASCADE"):
        with pytest.raises(DatabaseError, match="security_auditevent is append-only: TRUNCATE refused"), \
                transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    call_command("verify_audit_chain")


@pytest.mark.django_db
def test_flush_empties_the_audit_tables_on_a_test_database_only_through_our_command():
    """The test runner flushes after every transactional test (one TRUNCATE of
    every table): Django's own flush is refused by the triggers, security's
    override runs it with the triggers off, on a test database, as superuser."""
    if connection.vendor != "postgresql":
        pytest.skip(ONLY_POSTGRESQL)
    from django.core.management.commands.flush import Command as DjangoFlush

    _events(2)
    audit_checkpoint_write()
    with pytest.raises(CommandError) as refused:
        call_command(DjangoFlush(), interactive=False, verbosity=0, allow_cascade=True)
    assert "append-only: TRUNCATE refused" in str(refused.value.__cause__)
    assert AuditEvent.objects.count() == 2
    call_command("flush", interactive=False, verbosity=0, allow_cascade=True)
    assert not AuditEvent.objects.exists() and not AuditCheckpoint.objects.exists()
    with connection.cursor() as cursor:  # the triggers are on again for the rest of the transaction
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"
        with pytest.raises(DatabaseError, match="TRUNCATE refused"), transaction.atomic():
            cursor.execute("TRUNCATE security_auditevent")


@pytest.mark.django_db
def test_checkpoints_are_append_only_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip(ONLY_POSTGRESQL)
    _events(2)
    checkpoint = audit_checkpoint_write()
    with pytest.raises(DatabaseError, match="security_auditcheckpoint is append-only: UPDATE refused"), \
            transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(event_count=0)
    with pytest.raises(DatabaseError, match="security_auditcheckpoint is append-only: DELETE refused"), \
            transaction.atomic():
        AuditCheckpoint.objects.filter(pk=checkpoint.pk).delete()
    with pytest.raises(DatabaseError, match="security_auditcheckpoint is append-only: TRUNCATE refused"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE security_auditcheckpoint")
    assert AuditCheckpoint.objects.get(pk=checkpoint.pk).event_count == 2


# --- checkpoints and verification ---------------------------------------------------

@pytest.mark.django_db
def test_checkpoint_records_head_and_count_and_growth_verifies(capsys):
    empty = audit_checkpoint_write()
    assert (empty.event_count, empty.head_id, empty.head_hash) == (0, None, "")
    events = _events(3)
    checkpoint = audit_checkpoint_write()
    assert (checkpoint.event_count, checkpoint.head_id, checkpoint.head_hash) == (3, events[-1].pk, events[-1].hash)
    _events(2)  # the log grows after the checkpoint: normal
    report = verify_chain()
    assert report.intact and report.checked == 5 and report.checkpoint == checkpoint
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "intact: 5 events" in out and f"checkpoint #{checkpoint.pk}" in out and "(3 events)" in out


@pytest.mark.django_db
def test_log_that_shrank_after_a_checkpoint_is_detected():
    """Removing the newest rows leaves a chain whose links all hold; only the
    checkpoint shows that events are missing."""
    events = _events(5)
    checkpoint = audit_checkpoint_write()
    _tamper("DELETE FROM security_auditevent WHERE id >= %s", [events[3].pk])
    assert AuditEvent.objects.count() == 3
    report = verify_chain()
    assert not report.intact and report.fails_checkpoint
    assert f"the log has 3 events but checkpoint #{checkpoint.pk}" in report.problem
    assert "counted 5" in report.problem and f"event #{events[4].pk}" in report.problem
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit_chain")
    message = str(raised.value)
    assert message.startswith("Audit log FAILS its checkpoint:")
    assert "events were removed or the table was emptied" in message and "is missing" in message


@pytest.mark.django_db
def test_emptied_log_no_longer_reports_intact_zero_events():
    """The issue's finding: TRUNCATE (by someone who can switch the triggers
    off) used to leave 'intact: 0 events'."""
    _events(4)
    checkpoint = audit_checkpoint_write()
    if connection.vendor == "postgresql":
        _tamper("TRUNCATE security_auditevent")
    else:
        _tamper("DELETE FROM security_auditevent")
    assert not AuditEvent.objects.exists()
    with pytest.raises(CommandError, match=f"the log has 0 events but checkpoint #{checkpoint.pk} .* counted 4"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_rebuilt_chain_with_the_same_count_but_another_head_is_detected():
    """The newest event rewritten and re-hashed: every link holds and the
    count is the same, but the head no longer carries the recorded hash."""
    events = _events(4)
    checkpoint = audit_checkpoint_write()
    head = AuditEvent.objects.get(pk=events[-1].pk)
    head.after = {"n": "forged"}
    forged_hash = compute_hash(head)
    _tamper("UPDATE security_auditevent SET after = %s, hash = %s WHERE id = %s",
            ['{"n": "forged"}', forged_hash, head.pk])
    assert AuditEvent.objects.count() == checkpoint.event_count
    report = verify_chain()
    assert not report.intact and report.broken_at == head.pk and report.fails_checkpoint
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit_chain")
    assert f"event #{head.pk} does not carry the hash checkpoint #{checkpoint.pk}" in str(raised.value)
    assert "the log was rebuilt" in str(raised.value)


@pytest.mark.django_db
def test_chain_rebuilt_from_scratch_is_detected():
    """Emptied, then as many events written again: the count matches, the
    recorded head is gone."""
    _events(3)
    checkpoint = audit_checkpoint_write()
    _tamper("DELETE FROM security_auditevent")
    _events(3)
    report = verify_chain()
    assert report.checked == 3 and not report.intact
    assert f"event #{checkpoint.head_id}, the head recorded by checkpoint #{checkpoint.pk}" in report.problem
    with pytest.raises(CommandError, match="the log shrank or was rebuilt"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_a_changed_row_is_still_reported_as_a_broken_link():
    events = _events(4)
    audit_checkpoint_write()
    _tamper("UPDATE security_auditevent SET after = %s WHERE id = %s", ['{"n": 99}', events[1].pk])
    with pytest.raises(CommandError, match=f"BROKEN at event #{events[1].pk}: its content does not match"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_next_checkpoint_refuses_to_bless_a_shrunk_log_and_alerts(make_member):
    admin, executive, representative = (make_member(Role.ADMIN), make_member(Role.EXECUTIVE), make_member())
    events = _events(3)
    first = audit_checkpoint_write()
    _tamper("DELETE FROM security_auditevent WHERE id = %s", [events[-1].pk])
    with pytest.raises(AuditCheckpointError, match="the log has 2 events"):
        audit_checkpoint_write()
    outcome = tasks.audit_checkpoint_task()
    assert "the log has 2 events" in outcome["refused"]
    tasks.audit_checkpoint_task()  # still refused an hour later: the alert is not repeated while unread
    assert list(AuditCheckpoint.objects.values_list("pk", flat=True)) == [first.pk]
    alerted = set(Notification.objects.filter(kind="audit.checkpoint_refused").values_list("recipient", flat=True))
    assert alerted == {admin.pk, executive.pk} and representative.pk not in alerted
    assert Notification.objects.filter(kind="audit.checkpoint_refused").count() == 2
    assert AuditEvent.objects.filter(action="audit.checkpoint_refused").count() == 2
    with pytest.raises(CommandError, match="FAILS its checkpoint"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_hourly_task_writes_a_checkpoint():
    _events(2)
    outcome = tasks.audit_checkpoint_task()
    checkpoint = AuditCheckpoint.objects.get(pk=outcome["checkpoint"])
    assert checkpoint.event_count == 2 and outcome["events"] == 2


# --- schedules -------------------------------------------------------------------

def _security_schedules():
    return {s.func: s for s in Schedule.objects.filter(func__in=[tasks.CHECKPOINT_FUNC, tasks.DIGEST_FUNC])}


@pytest.mark.django_db
def test_migrate_creates_the_hourly_checkpoint_and_weekly_digest_schedules():
    # Created by the post_migrate hook when the test database was migrated...
    assert set(_security_schedules()) == {tasks.CHECKPOINT_FUNC, tasks.DIGEST_FUNC}
    # ...and again by migrate itself, once, whatever was there before.
    Schedule.objects.filter(func=tasks.CHECKPOINT_FUNC).delete()
    Schedule.objects.filter(func=tasks.DIGEST_FUNC).update(schedule_type=Schedule.DAILY)
    call_command("migrate", verbosity=0)
    call_command("migrate", verbosity=0)
    schedules = _security_schedules()
    assert Schedule.objects.filter(func__in=[tasks.CHECKPOINT_FUNC, tasks.DIGEST_FUNC]).count() == 2
    checkpoint, digest = schedules[tasks.CHECKPOINT_FUNC], schedules[tasks.DIGEST_FUNC]
    assert (checkpoint.schedule_type, checkpoint.repeats) == (Schedule.HOURLY, -1)
    assert (digest.schedule_type, digest.repeats) == (Schedule.WEEKLY, -1)


def test_weekly_digest_first_runs_on_a_monday_morning():
    from datetime import datetime

    for now in (datetime(2026, 11, 30, 6, 0, tzinfo=UTC), datetime(2026, 11, 30, 7, 0, tzinfo=UTC),
                datetime(2026, 12, 3, 15, 0, tzinfo=UTC)):
        run = tasks._next_digest_run(now)
        assert run > now and run - now <= timedelta(days=7)
        assert (run.weekday(), run.hour, run.minute) == (0, 7, 0)


# --- the executives' weekly digest ----------------------------------------------

@pytest.fixture
def people(make_member):
    return {
        "executive": make_member(Role.EXECUTIVE, email="erik@example.org"),
        "executive_without_mail": make_member(Role.EXECUTIVE, email=""),
        "admin": make_member(Role.ADMIN, email="ada@example.org"),
        "representative": make_member(email="rita@example.org"),
    }


def _week_of_security_events():
    for action, n in (("auth.login_failed", 3), ("reveal.perform", 2), ("reveal.break_glass", 1),
                      ("grant.create", 4), ("authz.denied", 5), ("grant.revoke", 7)):
        for _ in range(n):
            audit_write(actor=None, action=action)
    audit_write(actor=None, action="authz.denied_suppressed", after={"dropped": 30})


@pytest.mark.django_db
def test_digest_lists_head_checkpoints_and_counts_and_reaches_executives_only(people):
    AuditCheckpoint.objects.create(created_at=timezone.now() - timedelta(days=9), event_count=0)  # last week's
    _week_of_security_events()
    first = audit_checkpoint_write()
    audit_write(actor=None, action="auth.login_failed")
    last = audit_checkpoint_write()
    head = AuditEvent.objects.order_by("-id").first()

    reached = tasks.security_digest_task()

    assert reached == 2
    notified = set(Notification.objects.filter(kind="security.digest").values_list("recipient", flat=True))
    assert notified == {people["executive"].pk, people["executive_without_mail"].pk}
    assert [m.to for m in mail.outbox] == [["erik@example.org"]]
    body = mail.outbox[0].body
    assert "Verification: intact" in body and f"Events: {AuditEvent.objects.count()}" in body
    assert f"event #{head.pk}, hash {head.hash}" in body
    assert "CHECKPOINTS THIS WEEK: 2" in body
    assert f"First: #{first.pk}" in body and first.head_hash in body
    assert f"Last:  #{last.pk}" in body and last.head_hash in body
    for label, n in (("Failed logins", 4), ("Credential reveals", 2), ("Break-glass reveals", 1),
                     ("Publishing grants", 4), ("Denied authorisations", 35)):
        assert f"{label}:".ljust(24) + str(n) in body, label
    notification = Notification.objects.get(recipient=people["executive"], kind="security.digest")
    assert "audit chain intact" in notification.text and f"head #{head.pk}" in notification.text
    assert "2 checkpoints this week" in notification.text


@pytest.mark.django_db
def test_digest_says_so_when_the_log_fails_verification(people):
    events = _events(3)
    audit_checkpoint_write()
    _tamper("DELETE FROM security_auditevent WHERE id = %s", [events[-1].pk])
    digest = security_digest()
    assert not digest.intact and "the log has 2 events" in digest.problem
    tasks.security_digest_task()
    assert mail.outbox[0].subject.endswith("AUDIT LOG FAILS VERIFICATION")
    assert "Verification: FAILS: the log has 2 events" in mail.outbox[0].body
    assert Notification.objects.get(recipient=people["executive"], kind="security.digest").level == "alert"


@pytest.mark.django_db
def test_digest_without_checkpoints_says_the_hourly_job_did_not_run(people):
    _events(1)
    tasks.security_digest_task()
    assert "CHECKPOINTS THIS WEEK: 0" in mail.outbox[0].body and "did not run" in mail.outbox[0].body
