from django.core.management.base import BaseCommand

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

    def handle(self, *args, if_empty=False, quiet_logins=False, **options):
        if if_empty and User.objects.exists():
            self.stdout.write("Database already has people: demo data not loaded.")
        else:
            created = load_demo_organisation()
            summary = ", ".join(f"{n} {what}" for what, n in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo organisation loaded (new: {summary})."))
            for hook in _extra_seeders():
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


def _extra_seeders():
    """Higher apps add their demo data through ``accounts.demo_hooks``."""
    from accounts import demo_hooks

    return list(demo_hooks.SEEDERS)
