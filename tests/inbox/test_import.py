"""``manage.py import_messages``: JSONL and CSV through the ingest service,
idempotent, bad lines reported with their line number."""

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inbox.models import Conversation, Message
from security import services as security_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(admin_user):
    return security_services.account_create(actor=admin_user, platform="mastodon", handle="@brand@social.example")


def item(n, **overrides):
    data = {
        "platform_message_id": f"imp-{n}",
        "text": f"Imported message {n}, with a comma and \"quotes\"",
        "sent_at": f"2024-03-01T09:{n % 60:02d}:00+01:00",
        "kind": "mention",
        "author": {"id": f"a{n % 3}", "handle": f"@person{n % 3}", "display_name": f"Person {n % 3}",
                   "followers": 5, "verified": False},
        "language": "en",
    }
    data.update(overrides)
    return data


def run(path, account, *extra):
    out, err = StringIO(), StringIO()
    call_command("import_messages", str(path), "--account", str(account), *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write_jsonl(path, lines):
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n",
                    encoding="utf-8")
    return path


def write_csv(path, rows):
    columns = ["platform_message_id", "text", "sent_at", "kind", "author_id", "author_handle",
               "author_display_name", "author_followers", "author_verified", "thread_id", "in_reply_to",
               "language", "url"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def csv_row(n, **overrides):
    row = {"platform_message_id": f"csv-{n}", "text": f"CSV message {n}, on two\nlines", "sent_at":
           f"2024-03-02T10:{n:02d}:00Z", "kind": "comment", "author_id": f"c{n}", "author_handle": f"@c{n}",
           "author_display_name": f"C {n}", "author_followers": "25000", "author_verified": "false",
           "thread_id": "post-1", "in_reply_to": "", "language": "en", "url": f"https://platform.example/c/{n}"}
    row.update(overrides)
    return row


def test_jsonl_import_three_times_gives_one_copy(tmp_path, account):
    path = write_jsonl(tmp_path / "messages.jsonl", [item(n) for n in range(1, 8)])
    out, err = run(path, account.pk, "--batch", "3")
    assert "created:    7" in out and "rejected:   0" in out
    for _ in range(2):
        out, _err = run(path, account.handle)
        assert "created:    0" in out and "duplicates: 7" in out
    assert Message.objects.filter(account=account).count() == 7
    assert Message.objects.get(platform_message_id="imp-1").text == 'Imported message 1, with a comma and "quotes"'


def test_broken_lines_are_reported_and_the_rest_imported(tmp_path, account):
    lines = [item(1), '{"platform_message_id": "imp-2", "text": ', "", item(3, sent_at="2024-03-01T09:00:00"),
             "[1, 2]", item(5)]
    path = write_jsonl(tmp_path / "mixed.jsonl", lines)
    out, _err = run(path, account.pk, "--batch", "2")
    assert "created:    2" in out and "rejected:   3" in out
    assert "line 2, line: Not valid JSON" in out
    assert "line 4, sent_at: Must include a time zone offset" in out
    assert "line 5, non_field_errors:" in out
    assert set(Message.objects.values_list("platform_message_id", flat=True)) == {"imp-1", "imp-5"}


def test_invalid_utf8_line_is_reported(tmp_path, account):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(json.dumps(item(1)).encode() + b"\n" + b'{"text": "caf\xe9"}\n' + json.dumps(item(3)).encode())
    out, _err = run(path, account.pk)
    assert "created:    2" in out and "line 2, line: Not valid UTF-8." in out


def test_only_the_first_20_errors_are_listed(tmp_path, account):
    path = write_jsonl(tmp_path / "bad.jsonl", ["not json"] * 25 + [item(1)])
    out, _err = run(path, account.pk)
    assert "rejected:   25" in out and "created:    1" in out
    assert "line 20, line:" in out and "line 21, line:" not in out
    assert "... and 5 more error(s)." in out


def test_csv_import_is_idempotent_and_reports_bad_rows(tmp_path, account):
    rows = [csv_row(1), csv_row(2, sent_at="not a date"), csv_row(3, author_verified="maybe"),
            csv_row(4, author_followers="-3"), csv_row(5, thread_id="", kind="")]
    path = write_csv(tmp_path / "export.csv", rows)
    for attempt in range(3):
        out, _err = run(path, account.pk)
        assert "rejected:   3" in out
        assert ("created:    2" in out) if attempt == 0 else ("duplicates: 2" in out)
    # Multi-line quoted texts: record n starts on line 2n (header on line 1).
    assert "line 4, sent_at: Must be an ISO 8601 date and time." in out
    assert "line 6, author.verified: Must be true or false." in out
    assert "line 8, author.followers:" in out
    assert Message.objects.filter(account=account).count() == 2
    first = Message.objects.get(platform_message_id="csv-1")
    assert first.text == "CSV message 1, on two\nlines" and first.kind == "comment"
    assert first.conversation.thread_key == "thread:post-1" and first.conversation.is_influencer
    assert Message.objects.get(platform_message_id="csv-5").kind == "mention"
    assert Conversation.objects.count() == 2


def test_csv_without_required_columns_fails(tmp_path, account):
    path = tmp_path / "wrong.csv"
    path.write_text("id,body\n1,hello\n", encoding="utf-8")
    with pytest.raises(CommandError, match="platform_message_id"):
        run(path, account.pk)


def test_format_option_overrides_the_extension(tmp_path, account):
    path = write_csv(tmp_path / "export.txt", [csv_row(1)])
    out, _err = run(path, account.pk, "--format", "csv")
    assert "created:    1" in out


def test_unknown_account_is_a_command_error(tmp_path, account):
    path = write_jsonl(tmp_path / "m.jsonl", [item(1)])
    with pytest.raises(CommandError, match="Unknown social account"):
        run(path, "@nobody@nowhere.example")
    with pytest.raises(CommandError, match="Unknown social account"):
        run(path, account.pk + 100)
    assert not Message.objects.exists()


def test_unreadable_file_is_a_command_error(tmp_path, account):
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.jsonl", account.pk)


def test_progress_bar_goes_to_stderr(tmp_path, account):
    path = write_jsonl(tmp_path / "m.jsonl", [item(n) for n in range(3)])
    out, err = run(path, account.pk)
    assert "Importing" in err and "Importing" not in out
