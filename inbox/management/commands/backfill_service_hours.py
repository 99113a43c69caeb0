"""Sets Message.outside_service_hours for inbound messages stored before the field existed.

    python manage.py backfill_service_hours [--account <id>] [--all] [--batch 2000]

By default only the messages received before the field existed (before migration
inbox.0010_message_outside_service_hours was applied): ingest flagged the later ones with the window of their
moment, and a later change to a window does not rewrite history. ``--all`` checks every inbound message.
Each message is checked against its channel's service window as it is configured now (the history of a
window is not kept). Messages are read in batches by id, the window's open intervals are built once per batch
(inbox.ingest.outside_service_hours) and only the rows whose flag changes are written, so running it again
changes nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.migrations.recorder import MigrationRecorder

from inbox.clock import spec_for_account
from inbox.ingest import outside_service_hours
from inbox.models import Message
from security.models import SocialAccount

FIELD_MIGRATION = "0010_message_outside_service_hours"


class Command(BaseCommand):
    help = "Sets outside_service_hours on existing inbound messages from their channel's service window."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="Only this social account (id).")
        parser.add_argument("--all", action="store_true", dest="every",
                            help="Every inbound message, not only those received before the field existed.")
        parser.add_argument("--batch", type=int, default=2000, help="Messages per batch (default 2000).")

    def handle(self, *args, account=None, every=False, batch=2000, **options):
        if batch < 1:
            raise CommandError("--batch must be 1 or more.")
        before = None if every else field_added_at()
        accounts = SocialAccount.objects.order_by("pk").prefetch_related(
            "service_window__periods", "service_window__closures")
        if account is not None:
            accounts = accounts.filter(pk=account)
            if not accounts.exists():
                raise CommandError(f"No social account with id {account}.")
        checked = changed = 0
        for channel in accounts:
            spec = spec_for_account(channel)
            inbound = Message.objects.filter(account=channel, direction=Message.Direction.INBOUND)
            if before is not None:
                inbound = inbound.filter(received_at__lt=before)
            after = 0
            while True:
                rows = list(inbound.filter(pk__gt=after).order_by("pk")
                            .values_list("pk", "sent_at", "outside_service_hours")[:batch])
                if not rows:
                    break
                after = rows[-1][0]
                flags = outside_service_hours(spec, [sent_at for _pk, sent_at, _flag in rows])
                now_outside = [pk for (pk, _s, flag), outside in zip(rows, flags, strict=True) if outside and not flag]
                now_inside = [pk for (pk, _s, flag), outside in zip(rows, flags, strict=True) if flag and not outside]
                with transaction.atomic():
                    if now_outside:
                        Message.objects.filter(pk__in=now_outside).update(outside_service_hours=True)
                    if now_inside:
                        Message.objects.filter(pk__in=now_inside).update(outside_service_hours=False)
                checked += len(rows)
                changed += len(now_outside) + len(now_inside)
        self.stdout.write(f"Checked {checked} inbound messages; changed {changed}.")


def field_added_at():
    """When migration inbox.0010 (the field) was applied here; None if unknown (then every message is checked)."""
    recorder = MigrationRecorder(connections[DEFAULT_DB_ALIAS])
    row = recorder.migration_qs.filter(app="inbox", name=FIELD_MIGRATION).values_list("applied", flat=True).first()
    return row
