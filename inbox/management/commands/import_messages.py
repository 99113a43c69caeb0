"""Imports messages from a file through the one ingest service.

    python manage.py import_messages FILE --account <id or handle> [--format jsonl|csv] [--batch 500]

JSONL: one message object per line, in the ingest format. CSV: a header row
with the columns platform_message_id, text, sent_at, kind, author_id,
author_handle, author_display_name, author_followers, author_verified,
thread_id, in_reply_to, language, url (only the first five are required).

Safe to run again on the same file: what is already stored counts as a
duplicate. Bad lines are reported with their line number, field and reason
and the rest is imported; the exit code is 0 unless the file cannot be read
or the account is unknown."""

import csv
import json
import os
import sys
from dataclasses import dataclass, field

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from inbox.ingest import MAX_BATCH, ingest_messages
from security.models import SocialAccount
from socialops.text import is_number

CSV_COLUMNS = ("platform_message_id", "text", "sent_at", "kind", "author_id", "author_handle",
               "author_display_name", "author_followers", "author_verified", "thread_id", "in_reply_to",
               "language", "url")
CSV_REQUIRED = ("platform_message_id", "text", "sent_at", "author_id", "author_handle")
SHOWN_ERRORS = 20
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"", "0", "false", "no", "n", "f"}


@dataclass
class LineError:
    line: int
    field: str
    reason: str


@dataclass
class Totals:
    created: int = 0
    duplicates: int = 0
    rejected_lines: set[int] = field(default_factory=set)
    errors: list[LineError] = field(default_factory=list)

    def reject(self, line: int, field_name: str, reason: str) -> None:
        self.rejected_lines.add(line)
        self.errors.append(LineError(line, field_name, reason))


class _UnreadableError(Exception):
    pass


def _decoded(handle, bar, *, first_line: int = 1):
    """(line number, text) for each physical line of a binary file, with the
    progress bar advanced by bytes read. Bytes that are not UTF-8 give None."""
    for number, raw in enumerate(handle, start=first_line):
        bar.update(len(raw))
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None


def _csv_item(row: dict) -> tuple[dict | None, tuple[str, str] | None]:
    def value(name):
        text = row.get(name)
        return text.strip() if isinstance(text, str) and name != "text" else text

    followers_raw = (value("author_followers") or "").strip()
    followers: int | str = 0
    if followers_raw:
        followers = int(followers_raw) if is_number(followers_raw) else followers_raw
    verified_raw = (value("author_verified") or "").strip().lower()
    if verified_raw not in _TRUE | _FALSE:
        return None, ("author.verified", "Must be true or false.")
    item = {
        "platform_message_id": value("platform_message_id") or None,
        "text": value("text"),
        "sent_at": value("sent_at") or None,
        "kind": value("kind") or None,
        "author": {
            "id": value("author_id") or None,
            "handle": value("author_handle") or None,
            "display_name": value("author_display_name") or None,
            "followers": followers,
            "verified": verified_raw in _TRUE,
        },
    }
    for name in ("thread_id", "in_reply_to", "language", "url"):
        if value(name):
            item[name] = value(name)
    return item, None


class Command(BaseCommand):
    help = "Imports messages for one social account from a JSONL or CSV file, through the ingest service."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path of the JSONL or CSV file.")
        parser.add_argument("--account", required=True, help="The social account: its id or its handle.")
        parser.add_argument("--format", choices=["jsonl", "csv"], default=None,
                            help="File format (default: from the file name; .csv is CSV, anything else JSONL).")
        parser.add_argument("--batch", type=int, default=500, help=f"Messages per ingest batch (1-{MAX_BATCH}).")
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")

    def handle(self, *args, **options):
        account = self._account(options["account"])
        batch_size = options["batch"]
        if not 1 <= batch_size <= MAX_BATCH:
            raise CommandError(f"--batch must be between 1 and {MAX_BATCH}.")
        path = options["file"]
        fmt = options["format"] or ("csv" if path.lower().endswith(".csv") else "jsonl")
        try:
            size = os.path.getsize(path)
            handle = open(path, "rb")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None

        totals = Totals()
        out = getattr(self.stderr, "_out", sys.stderr)
        bar = tqdm(total=size, unit="B", unit_scale=True, desc="Importing", file=out,
                   disable=options["no_progress"], leave=False)
        try:
            with handle:
                records = self._jsonl(handle, bar, totals) if fmt == "jsonl" else self._csv(handle, bar, totals)
                self._ingest(account, records, batch_size, totals)
        except _UnreadableError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        finally:
            bar.close()
        self._report(account, totals)

    # -- input --

    @staticmethod
    def _account(value: str) -> SocialAccount:
        value = (value or "").strip()
        if is_number(value):
            account = SocialAccount.objects.filter(pk=int(value)).first()
        else:
            matches = list(SocialAccount.objects.filter(handle__iexact=value)[:2])
            if len(matches) > 1:
                raise CommandError(f"Several accounts have the handle {value!r}: use the account id.")
            account = matches[0] if matches else None
        if account is None:
            raise CommandError(f"Unknown social account {value!r}.")
        return account

    @staticmethod
    def _jsonl(handle, bar, totals: Totals):
        for number, text in _decoded(handle, bar):
            if text is None:
                totals.reject(number, "line", "Not valid UTF-8.")
                continue
            if not text.strip():
                continue
            try:
                item = json.loads(text)
            except ValueError as exc:
                totals.reject(number, "line", f"Not valid JSON ({getattr(exc, 'msg', 'syntax error')}).")
                continue
            yield number, item

    @staticmethod
    def _csv(handle, bar, totals: Totals):
        lines = _decoded(handle, bar)
        current = {"line": 0, "first": None}

        def text_lines():
            for number, text in lines:
                current["line"] = number
                if current["first"] is None and text and text.strip():
                    current["first"] = number
                if text is None:
                    raise _UnreadableError(f"Line {number} is not valid UTF-8: a CSV file must be UTF-8 encoded.")
                yield text

        reader = csv.DictReader(text_lines())
        try:
            header = reader.fieldnames
        except csv.Error as exc:
            raise _UnreadableError(f"The CSV header cannot be read: {exc}.") from None
        if not header:
            return
        header = [h.strip() for h in header]
        reader.fieldnames = header
        missing = [c for c in CSV_REQUIRED if c not in header]
        if missing:
            raise _UnreadableError(f"The CSV file lacks the column(s): {', '.join(missing)}.")
        while True:
            current["first"] = None
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                totals.reject(current["first"] or current["line"], "line", f"Not valid CSV ({exc}).")
                continue
            start = current["first"] or current["line"]
            if None in row:
                totals.reject(start, "line", f"More values than the {len(header)} columns.")
                continue
            item, error = _csv_item(row)
            if error:
                totals.reject(start, *error)
                continue
            yield start, item

    # -- ingest --

    @staticmethod
    def _ingest(account, records, batch_size: int, totals: Totals) -> None:
        batch: list = []
        lines: list[int] = []

        def flush():
            result = ingest_messages(account=account, items=batch, source="import")
            totals.created += result.created
            totals.duplicates += result.duplicates
            for error in result.errors:
                line = lines[error.index] if 0 <= error.index < len(lines) else lines[-1]
                totals.reject(line, error.field, error.reason)
            batch.clear()
            lines.clear()

        for line, item in records:
            batch.append(item)
            lines.append(line)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()

    # -- output --

    def _report(self, account, totals: Totals) -> None:
        self.stdout.write(f"Imported into {account}:")
        self.stdout.write(f"  created:    {totals.created}")
        self.stdout.write(f"  duplicates: {totals.duplicates}")
        self.stdout.write(f"  rejected:   {len(totals.rejected_lines)}")
        errors = sorted(totals.errors, key=lambda e: e.line)
        for error in errors[:SHOWN_ERRORS]:
            self.stdout.write(f"  line {error.line}, {error.field}: {error.reason}")
        if len(errors) > SHOWN_ERRORS:
            self.stdout.write(f"  ... and {len(errors) - SHOWN_ERRORS} more error(s).")
