"""CSV exports neutralise cells a spreadsheet would run as a formula: a
leading =, +, -, @, tab or carriage return gets a single quote in front."""

import csv
import io

import pytest
from django.urls import reverse

from accounts.roles import Role
from security.audit import audit_write
from socialops.text import spreadsheet_safe

TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("lead", TRIGGERS, ids=["equals", "plus", "minus", "at", "tab", "carriage-return"])
def test_each_leading_formula_character_is_escaped(lead):
    assert spreadsheet_safe(f"{lead}HYPERLINK(\"http://evil\")") == f"'{lead}HYPERLINK(\"http://evil\")"


@pytest.mark.parametrize("value, expected", [
    ("plain text", "plain text"), ("1+1", "1+1"), ("a=b", "a=b"), ("", ""), (None, ""), (42, "42"),
    ("'=already quoted", "'=already quoted"), (" =leading space", " =leading space"),
])
def test_other_cells_are_left_alone(value, expected):
    assert spreadsheet_safe(value) == expected


@pytest.mark.django_db
def test_audit_csv_export_escapes_every_leading_formula_character(make_member, client_for):
    for lead in TRIGGERS:
        audit_write(actor=None, actor_name=f"{lead}cmd|' /C calc'!A0", action="test.csv", target_repr=f"{lead}2+3")
    audit_write(actor=None, actor_name="harmless", action="test.csv")
    response = client_for(make_member(Role.ADMIN)).get(reverse("security:audit-csv"), {"action": "test."})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode(), newline="")))
    by_actor = {row["actor"]: row for row in rows}
    for lead in TRIGGERS:
        row = by_actor[f"'{lead}cmd|' /C calc'!A0"]
        assert row["target"] == f"'{lead}2+3"
    assert "harmless" in by_actor
    assert not any(cell[:1] in TRIGGERS for row in rows for cell in row.values())
