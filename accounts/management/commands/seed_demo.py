import inspect
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.demo import (
    DEMO_PASSWORD,
    DEMO_TOTP_BASE32,
    demo_logins,
    ensure_demo_second_factors,
    load_demo_organisation,
)
from accounts.models import User


class Command(BaseCommand):
    help = "Loads the demo organisation. Idempotent: running it twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="Only load when the database has no users yet.")
        parser.add_argument("--quiet-logins", action="store_true", help="Do not print the demo logins.")
        parser.add_argument("--now", type=_instant, default=None, metavar="ISO-8601",
                            help="Write the demo's history up to this instant instead of the present "
                                 "(e.g. 2026-03-02T09:30:00Z; for tests and screenshots).")

    def handle(self, *args, if_empty=False, quiet_logins=False, now=None, **options):
        if isinstance(now, str):  # call_command(now="...") skips the parser's type
            now = _instant(now)
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has people: demo data not loaded.")
        else:
            created = load_demo_organisation()
            summary = ", ".join(f"{n} {what}" for what, n in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo organisation loaded (new: {summary})."))
            for hook in _extra_seeders():
                # A seeder that dates what it loads takes ``now``; the others load as they always did.
                if now is not None and "now" in inspect.signature(hook).parameters:
                    hook(self.stdout, now=now)
                else:
                    hook(self.stdout)
            ensure_demo_second_factors()
        if not quiet_logins:
            self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
            for username, roles in demo_logins():
                self.stdout.write(f"  {username:<8} {roles}")
            key = " ".join(DEMO_TOTP_BASE32[i:i + 4] for i in range(0, len(DEMO_TOTP_BASE32), 4))
            self.stdout.write(f"\nAdmins, executives, custodians and publishers also give a code from an "
                              f"authenticator app: add the demo key {key} (time-based, 6 digits) to any "
                              f"TOTP app once; it works for every demo login.")


def _instant(value) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise CommandError(f"--now: {value!r} is not an ISO-8601 date and time.") from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    if moment > timezone.now():
        raise CommandError("--now: the demo's history cannot end in the future.")
    return moment.astimezone(UTC)


def _extra_seeders():
    """Higher apps add their demo data through ``accounts.demo_hooks``."""
    from accounts import demo_hooks

    return list(demo_hooks.SEEDERS)
