"""Django's ``flush``, for a database whose audit tables refuse TRUNCATE.

On PostgreSQL the audit log and its checkpoints refuse TRUNCATE (migration
0004), and ``flush`` is one TRUNCATE of every table. The test runner flushes
after every transactional test, so on a *test* database, as a superuser,
the TRUNCATE runs with triggers off (``session_replication_role =
replica``, which only a superuser may set and who could switch the triggers
off by hand anyway). Anywhere else ``flush`` fails with the trigger's
refusal: emptying the audit log is not something a command does quietly."""

from django.core.management.commands import flush
from django.db import connections, transaction
from django.db.backends.base.creation import TEST_DATABASE_PREFIX


def _is_test_database(connection) -> bool:
    name = connection.settings_dict.get("NAME") or ""
    test_name = (connection.settings_dict.get("TEST") or {}).get("NAME")
    return name.startswith(TEST_DATABASE_PREFIX) or (test_name is not None and name == test_name)


def _is_superuser(connection) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        if connection.vendor != "postgresql" or not _is_test_database(connection):
            return super().handle(**options)
        ops = connection.ops
        execute_sql_flush = ops.execute_sql_flush

        def flush_with_triggers_off(sql_list):
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                triggers_off = _is_superuser(connection)
                if triggers_off:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                execute_sql_flush(sql_list)
                if triggers_off:
                    # Back on at once, also when this runs inside a longer transaction.
                    cursor.execute("SET LOCAL session_replication_role = DEFAULT")

        ops.execute_sql_flush = flush_with_triggers_off
        try:
            return super().handle(**options)
        finally:
            del ops.execute_sql_flush
