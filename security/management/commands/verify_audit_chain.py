from django.core.management.base import BaseCommand, CommandError

from security.audit import verify_chain


class Command(BaseCommand):
    help = "Checks the audit log's hash chain and reports the first broken link."

    def handle(self, *args, **options):
        report = verify_chain()
        if report.intact:
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events checked."))
            return
        raise CommandError(
            f"Audit chain BROKEN at event #{report.broken_at}: {report.problem}. "
            f"{report.checked} events before it are intact."
        )
