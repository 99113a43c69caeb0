import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from inbox.sentiment_model import MODELS_DIR, train_all


def default_datasets() -> Path:
    configured = Path(os.environ.get("SOCIALOPS_DATASETS", "../shared/datasets"))
    return configured if configured.is_absolute() else (Path(settings.BASE_DIR) / configured).resolve()


class Command(BaseCommand):
    help = ("Trains the shipped sentiment (per language) and offensive-language models from the labelled "
            "train splits in the datasets folder, reports their figures on the val splits and writes them to "
            "inbox/models_data/ (see docs/MODEL_CARD.md).")

    def add_arguments(self, parser):
        parser.add_argument("--datasets", type=Path, default=None,
                            help="Datasets folder (default: $SOCIALOPS_DATASETS or ../shared/datasets).")
        parser.add_argument("--output", type=Path, default=MODELS_DIR, help="Where the model files go.")

    def handle(self, *args, datasets, output, **options):
        datasets = datasets or default_datasets()
        if not datasets.is_dir():
            raise CommandError(f"{datasets} is not a folder: pass --datasets or set SOCIALOPS_DATASETS")
        report = train_all(datasets, output)
        if not report.files:
            raise CommandError(f"No training data found under {datasets}")
        for language, figure in sorted(report.sentiment.items()):
            recall = "n/a" if figure["macro_recall"] is None else f"{figure['macro_recall']:.3f}"
            self.stdout.write(f"sentiment {language}: trained on {figure['train']} rows "
                              f"({figure['removed_copies_of_val']} copies of val rows left out); "
                              f"val macro-recall {recall} on {figure['val'] or 0} rows")
        if report.offensive:
            f1 = "n/a" if report.offensive["macro_f1"] is None else f"{report.offensive['macro_f1']:.3f}"
            self.stdout.write(f"offensive en: trained on {report.offensive['train']} rows; threshold "
                              f"{report.offensive['threshold']} (cross-validated on train); val macro-F1 {f1}")
        if report.skipped:
            self.stdout.write(self.style.WARNING(f"No data for: {', '.join(report.skipped)}"))
        sizes = ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in report.files.items())
        self.stdout.write(self.style.SUCCESS(f"Wrote {sizes} to {output}"))
