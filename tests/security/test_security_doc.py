"""docs/SECURITY.md says what the code does: its roles x capabilities matrix
is regenerated from the permission functions and services and must match
the document exactly; a few cells are checked against what the domain
requires, so a matrix that is merely up to date with a wrong rule fails too."""

import difflib

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.roles import Role
from security import matrix
from security.models import AuditEvent, PublishingGrant

# Every test here may build the matrix (the module fixture), so every test has the database.
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def computed(django_db_setup, django_db_blocker):
    """One matrix for the module: building it takes a few hundred queries."""
    with django_db_blocker.unblock():
        return matrix.compute_matrix()


def test_doc_holds_the_generated_matrix(computed):
    text = matrix.DOC_PATH.read_text(encoding="utf-8")
    current = matrix.extract_block(text)
    assert current is not None, (
        f"{matrix.DOC_PATH} has no {matrix.MATRIX_START} ... {matrix.MATRIX_END} block: put the markers back and "
        f"run `{matrix.REGENERATE_HINT}`.")
    expected = matrix.render_block(computed)
    if current != expected:
        diff = "\n".join(difflib.unified_diff(current.splitlines(), expected.splitlines(), "docs/SECURITY.md",
                                              "generated from the code", lineterm="", n=1))
        pytest.fail(f"docs/SECURITY.md's roles x capabilities matrix no longer says what the code does. Run "
                    f"`{matrix.REGENERATE_HINT}`, read the diff and update the prose around it if a rule "
                    f"changed.\n{diff}")


def test_every_role_and_right_has_a_row(computed):
    keys = {row.key for row in computed.rows}
    assert {role.value for role in Role} <= keys
    assert {"holds_draft", "holds_reply", "holds_publish", "holds_approve", "holds_manage", "custodian",
            "department_draft", "superuser"} <= keys


def test_department_representative_cannot_publish_or_see_custody(computed):
    row = "department_representative"
    for column in ("publish", "approve", "view_custody", "ask_reveal", "manage_rights", "grant_draft"):
        assert not computed.holds(row, column), column


def test_only_executives_break_the_glass(computed):
    assert computed.rows_holding("break_glass") == {Role.EXECUTIVE.value}


def test_second_factor_required_where_the_domain_says(computed):
    required = computed.rows_holding("second_factor")
    assert {Role.ADMIN.value, Role.EXECUTIVE.value, "superuser", "custodian",
            "holds_publish", "holds_approve", "holds_manage"} <= required
    assert not required & {"department_representative", "holds_draft", "department_draft"}


def test_nobody_publishes_by_role(computed):
    assert computed.rows_holding("publish") == {"holds_publish"}
    assert computed.rows_holding("approve") == {"holds_approve"}


def test_reveals_take_a_custodian(computed):
    assert computed.rows_holding("approve_reveal") == {"custodian"}
    assert {Role.ADMIN.value, Role.EXECUTIVE.value, "custodian"} <= computed.rows_holding("ask_reveal")
    assert not computed.holds("holds_publish", "ask_reveal")


def test_only_admins_grant_manage_and_managers_stay_in_their_workgroups(computed):
    admins = {Role.ADMIN.value, "superuser"}
    for capability in ("manage", "publish", "approve"):
        assert computed.rows_holding(f"grant_{capability}") == admins, capability
    manager = computed.row("holds_manage").cells
    assert manager["grant_draft"] and manager["grant_reply"] and manager["grant_department"]
    assert not manager["grant_outside_person"] and not manager["grant_outside_department"]
    assert all(computed.row(key).cells[c.key] for key in admins for c in matrix.GRANTS.columns)


def test_replace_block_keeps_the_prose():
    text = f"intro\n{matrix.MATRIX_START}\nold\n{matrix.MATRIX_END}\noutro\n"
    block = f"{matrix.MATRIX_START}\nnew\n{matrix.MATRIX_END}"
    assert matrix.replace_block(text, block) == f"intro\n{block}\noutro\n"
    with pytest.raises(ValueError):
        matrix.replace_block("no markers here", block)


def test_command_writes_the_block_and_leaves_the_database_as_it_was(tmp_path, computed):
    doc = tmp_path / "SECURITY.md"
    doc.write_text(f"# Doc\n\n{matrix.MATRIX_START}\nstale\n{matrix.MATRIX_END}\n\nafter\n", encoding="utf-8")
    counts = (User.objects.count(), AuditEvent.objects.count(), PublishingGrant.objects.count())
    call_command("security_matrix", "--write", "--path", str(doc))
    written = doc.read_text(encoding="utf-8")
    assert written.startswith("# Doc\n\n") and written.endswith("\n\nafter\n")
    assert matrix.extract_block(written) == matrix.render_block(computed)
    # Everything the probes created was rolled back, the audit chain included.
    assert (User.objects.count(), AuditEvent.objects.count(), PublishingGrant.objects.count()) == counts


def test_command_refuses_a_document_without_markers(tmp_path, monkeypatch, computed):
    from django.core.management.base import CommandError

    monkeypatch.setattr(matrix, "compute_matrix", lambda: computed)
    doc = tmp_path / "SECURITY.md"
    doc.write_text("# Doc without a block\n", encoding="utf-8")
    with pytest.raises(CommandError, match="block"):
        call_command("security_matrix", "--write", "--path", str(doc))
    assert doc.read_text(encoding="utf-8") == "# Doc without a block\n"
