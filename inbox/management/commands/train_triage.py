from django.core.management.base import BaseCommand, CommandError

from inbox.training import NotEnoughCorrectionsError, train


class Command(BaseCommand):
    help = ("Retrains the intent classifier from agents' corrections and reports its accuracy on a held-back "
            "part of them. The new model version classifies new messages from now on.")

    def add_arguments(self, parser):
        parser.add_argument("--holdout", type=float, default=0.2, help="Share of corrections held back (0-0.5).")

    def handle(self, *args, holdout, **options):
        if not 0 < holdout <= 0.5:
            raise CommandError("--holdout must be between 0 and 0.5")
        try:
            report = train(holdout=holdout)
        except NotEnoughCorrectionsError as exc:
            raise CommandError(str(exc)) from None
        accuracy = "n/a" if report.accuracy is None else f"{report.accuracy:.1%}"
        self.stdout.write(self.style.SUCCESS(
            f"Trained {report.version} on {report.training_size} corrections ({', '.join(report.classes)}); "
            f"accuracy on held-back corrections ({report.held_back}): {accuracy}."))
