from django.core.management.base import BaseCommand, CommandError

from security.audit import verify_chain


class Command(BaseCommand):
    help = ("Checks the audit log's hash chain and compares it with the checkpoints; reports the first broken "
            "link, or a log that shrank or was rebuilt since a checkpoint.")

    def handle(self, *args, **options):
        report = verify_chain()
        if report.intact:
            checkpoint = report.checkpoint
            against = (f" Matches checkpoint #{checkpoint.pk} of {checkpoint.created_at:%Y-%m-%d %H:%M} UTC "
                       f"({checkpoint.event_count} events)." if checkpoint else " No checkpoint written yet.")
            self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events checked.{against}"))
            return
        if not report.fails_checkpoint:
            raise CommandError(
                f"Audit chain BROKEN at event #{report.broken_at}: {report.problem}. "
                f"{report.checked} events before it are intact."
            )
        raise CommandError(
            f"Audit log FAILS its checkpoint: {report.problem}. Its hash links hold ({report.checked} events "
            f"checked), so it was cut short or rebuilt rather than edited in place."
        )
