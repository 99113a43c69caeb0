"""Fixes from the review of issue 9: digits int() refuses, polls after the
session ended, names that differ only in case in an older database, the
live list's cost, the bind check after a restart."""

import socket

import pytest
from django.apps import apps
from django.urls import reverse

from inbox.models import Conversation, RoutingRule, SavedReply
from tests.inbox.test_inbox_live import ingest, world  # noqa: F401


@pytest.mark.django_db
@pytest.mark.parametrize("path, params", [
    ("inbox:live", {"current": "²"}),
    ("inbox:list", {"queue": "²"}),
    ("inbox:live", {"queue": "١٢"}),
])
def test_digits_int_refuses_are_never_a_500(world, client_for, path, params):  # noqa: F811
    response = client_for(world["ana"]).get(reverse(path), params)
    assert response.status_code in (200, 400)


@pytest.mark.django_db
def test_bulk_with_a_superscript_id_is_a_400_naming_ids(world, client_for):  # noqa: F811
    response = client_for(world["ana"]).post(reverse("inbox:bulk"), {"ids": ["²"], "action": "resolve"})
    assert response.status_code == 400
    assert "² is not a conversation number" in response.content.decode()


@pytest.mark.django_db
def test_the_replies_poll_after_sign_out_is_a_401_not_the_sign_in_page(world, client):  # noqa: F811
    ingest(world["account"], "1", "hello", department=world["care"])
    conversation = Conversation.objects.get()
    response = client.get(reverse("inbox:reply-states", args=[conversation.pk]), {"since": "0"})
    assert response.status_code == 401
    presence = client.get(reverse("inbox:presence", args=[conversation.pk]))
    assert presence.status_code == 401


@pytest.mark.django_db
def test_watching_a_conversation_does_not_keep_the_session_alive_typing_a_reply_does(world, client_for):  # noqa: F811
    ingest(world["account"], "1", "hello", department=world["care"])
    conversation = Conversation.objects.get()
    ana = client_for(world["ana"])
    ana.get(reverse("inbox:conversation", args=[conversation.pk]))
    viewing = ana.get(reverse("inbox:presence", args=[conversation.pk]), {"state": "viewing"})
    assert viewing.status_code == 200 and "sessionid" not in viewing.cookies


@pytest.mark.django_db(transaction=True)
def test_names_differing_only_in_case_are_renamed_before_the_unique_constraints():
    """An older database may hold "Refunds" and "refunds": the migration that adds the case-insensitive
    constraints renames the later ones first instead of failing."""
    from importlib import import_module

    from django.db import connection

    from tests.accounts.factories import DepartmentFactory

    migration = import_module("inbox.migrations.0005_sandbox_unread_by_hand_unique_names")
    constraints = [(model, next(c for c in model._meta.constraints if c.name == name))
                   for model, name in ((RoutingRule, "routingrule_name_unique_ci"),
                                       (SavedReply, "savedreply_title_unique_ci"))]
    with connection.schema_editor() as editor:
        for model, constraint in constraints:
            editor.remove_constraint(model, constraint)
    try:
        care, sales = DepartmentFactory(name="Care"), DepartmentFactory(name="Sales")
        RoutingRule.objects.bulk_create([RoutingRule(name=name, department=care)
                                         for name in ("Refunds", "refunds", "REFUNDS")])
        SavedReply.objects.bulk_create([SavedReply(department=care, title="Hello", body="a"),
                                        SavedReply(department=care, title="hello", body="b"),
                                        SavedReply(department=sales, title="HELLO", body="c")])
        migration.rename_duplicates(apps, None)
        assert list(RoutingRule.objects.order_by("pk").values_list("name", flat=True)) == [
            "Refunds", "refunds (2)", "REFUNDS (3)"]
        assert list(SavedReply.objects.order_by("pk").values_list("title", flat=True)) == [
            "Hello", "hello (2)", "HELLO"]  # another department may use the same title
    finally:
        RoutingRule.objects.all().delete()
        SavedReply.objects.all().delete()
        with connection.schema_editor() as editor:
            for model, constraint in constraints:
                editor.add_constraint(model, constraint)


def test_the_bind_check_accepts_a_port_left_in_time_wait(tmp_path):
    from scripts.check_bind import main

    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.listen(1)
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server side closes first: its end of the connection waits in TIME_WAIT
    client.close()
    server.close()
    assert main(f"127.0.0.1:{port}") == 0
