import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from security.audit import audit_write, verify_chain
from security.models import AuditEvent
from tests.accounts.factories import PASSWORD


def _tamper(sql: str, params: list):
    """Changes the table behind the application's back, as an attacker with
    database access would (on PostgreSQL the append-only trigger must be
    bypassed first, which needs superuser rights)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.mark.django_db
def test_chain_is_intact_then_a_changed_row_is_found(capsys):
    events = [audit_write(actor=None, action="test.event", after={"n": n}) for n in range(5)]
    call_command("verify_audit_chain")
    assert "intact: 5 events" in capsys.readouterr().out
    _tamper("UPDATE security_auditevent SET after = %s WHERE id = %s", ['{"n": 99}', events[2].pk])
    report = verify_chain()
    assert report.broken_at == events[2].pk and "changed" in report.problem
    with pytest.raises(CommandError, match=f"BROKEN at event #{events[2].pk}"):
        call_command("verify_audit_chain")


@pytest.mark.django_db
def test_a_removed_row_is_found():
    events = [audit_write(actor=None, action="test.event", after={"n": n}) for n in range(4)]
    _tamper("DELETE FROM security_auditevent WHERE id = %s", [events[1].pk])
    report = verify_chain()
    assert report.broken_at == events[2].pk and "removed" in report.problem


@pytest.mark.django_db
def test_secret_looking_keys_are_redacted():
    event = audit_write(actor=None, action="test.event", after={"password": "hunter2", "nested": {"secret": "x"},
                                                                 "reason": "ok"})
    assert event.after == {"password": "[redacted]", "nested": {"secret": "[redacted]"}, "reason": "ok"}


@pytest.mark.django_db(transaction=True)
def test_postgresql_refuses_update_and_delete():
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger exists on PostgreSQL only (CI runs this on PostgreSQL)")
    event = audit_write(actor=None, action="test.event")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.event"


@pytest.mark.django_db
def test_logins_are_audited(client, make_member):
    user = make_member()
    client.post(reverse("login"), {"username": user.username, "password": "wrong"})
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "actor_name"))
    assert ("auth.login_failed", user.username) in actions
    assert ("auth.login", user.username) in actions
    assert all("wrong" not in str(e.after) + str(e.before) for e in AuditEvent.objects.all())
    assert verify_chain().intact


@pytest.mark.django_db
def test_structure_changes_reach_the_audit_log(admin_user):
    from accounts import services

    services.department_create(actor=admin_user, name="Procurement")
    event = AuditEvent.objects.get(action="department.create")
    assert event.actor == admin_user and event.actor_name == admin_user.username
    assert event.after["name"] == "Procurement"


@pytest.mark.django_db
def test_audit_page_filters_and_paginates_by_keyset(make_member, client_for):
    from accounts.roles import Role

    executive = make_member(Role.EXECUTIVE)
    for n in range(60):
        audit_write(actor=None, actor_name="robot", action="test.bulk", after={"n": n})
    audit_write(actor=None, actor_name="alice", action="grant.create")
    client = client_for(executive)
    html = client.get(reverse("security:audit"), {"action": "grant."}).content.decode()
    assert "grant.create" in html and "test.bulk" not in html
    first = client.get(reverse("security:audit"), {"actor": "robot"})
    assert first.context["next_before"] is not None
    second = client.get(reverse("security:audit"), {"actor": "robot", "before": first.context["next_before"]})
    assert len(first.context["events"]) == 50 and len(second.context["events"]) == 10
    assert client.get(reverse("security:audit"), {"since": "not-a-date"}).status_code == 400


@pytest.mark.django_db
def test_audit_csv_export(make_member, client_for):
    from accounts.roles import Role

    audit_write(actor=None, actor_name="=cmd|' /C calc'!A0", action="test.csv", after={"x": 1})
    response = client_for(make_member(Role.ADMIN)).get(reverse("security:audit-csv"), {"action": "test."})
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert body.splitlines()[0].startswith("id,created_at,actor,action")
    assert "test.csv" in body and ",'=cmd" in body  # formula-looking cells are neutralised
