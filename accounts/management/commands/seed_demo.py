from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, demo_logins, load_demo_organisation
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
        if not quiet_logins:
            self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
            for username, roles in demo_logins():
                self.stdout.write(f"  {username:<8} {roles}")


def _extra_seeders():
    """Higher apps add their demo data through ``accounts.demo_hooks``."""
    from accounts import demo_hooks

    return list(demo_hooks.SEEDERS)
