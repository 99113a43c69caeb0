"""On PostgreSQL the audit table also refuses TRUNCATE (a statement-level
trigger: the row triggers of 0002 do not fire for it), and the checkpoint
table refuses UPDATE, DELETE and TRUNCATE. SQLite has no TRUNCATE; there
the checkpoints are what detects a log that shrank."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION security_append_only_refuse() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS security_auditevent_no_truncate ON security_auditevent;
CREATE TRIGGER security_auditevent_no_truncate
    BEFORE TRUNCATE ON security_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION security_append_only_refuse();

DROP TRIGGER IF EXISTS security_auditcheckpoint_append_only ON security_auditcheckpoint;
CREATE TRIGGER security_auditcheckpoint_append_only
    BEFORE UPDATE OR DELETE ON security_auditcheckpoint
    FOR EACH ROW EXECUTE FUNCTION security_append_only_refuse();

DROP TRIGGER IF EXISTS security_auditcheckpoint_no_truncate ON security_auditcheckpoint;
CREATE TRIGGER security_auditcheckpoint_no_truncate
    BEFORE TRUNCATE ON security_auditcheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION security_append_only_refuse();
"""

DROP = """
DROP TRIGGER IF EXISTS security_auditcheckpoint_no_truncate ON security_auditcheckpoint;
DROP TRIGGER IF EXISTS security_auditcheckpoint_append_only ON security_auditcheckpoint;
DROP TRIGGER IF EXISTS security_auditevent_no_truncate ON security_auditevent;
DROP FUNCTION IF EXISTS security_append_only_refuse();
"""


def _run(schema_editor, sql):
    # A raw cursor with no parameters: the '%' in RAISE must not be read as a placeholder.
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)


def create_triggers(apps, schema_editor):
    _run(schema_editor, CREATE)


def drop_triggers(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("security", "0003_auditcheckpoint")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
