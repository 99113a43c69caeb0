"""Training the intent classifier from the organisation's own triage: every
correction an agent makes is a labelled example."""

import pickle
from dataclasses import dataclass

from django.db import transaction
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from .models import IntentCorrection, TriageModel

MIN_CORRECTIONS = 10


class NotEnoughCorrectionsError(Exception):
    pass


@dataclass
class TrainingReport:
    version: str
    training_size: int
    held_back: int
    accuracy: float | None
    classes: list[str]


def _latest_corrections() -> tuple[list[str], list[str]]:
    """The last correction per conversation wins (an agent may change their mind)."""
    latest: dict[int, IntentCorrection] = {}
    for correction in IntentCorrection.objects.order_by("corrected_at", "pk"):
        latest[correction.conversation_id] = correction
    texts = [c.text for c in latest.values()]
    labels = [c.new_intent for c in latest.values()]
    return texts, labels


def train(*, holdout: float = 0.2, seed: int = 2026) -> TrainingReport:
    texts, labels = _latest_corrections()
    if len(texts) < MIN_CORRECTIONS or len(set(labels)) < 2:
        raise NotEnoughCorrectionsError(
            f"Need at least {MIN_CORRECTIONS} corrections covering two intents to train; have {len(texts)} "
            f"covering {len(set(labels))}.")
    stratify = labels if min(labels.count(label) for label in set(labels)) >= 2 else None
    train_x, test_x, train_y, test_y = train_test_split(texts, labels, test_size=holdout, random_state=seed,
                                                        stratify=stratify)
    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=1, sublinear_tf=True, lowercase=True),
        LogisticRegression(max_iter=2000, class_weight="balanced"),
    )
    pipeline.fit(train_x, train_y)
    accuracy = float(pipeline.score(test_x, test_y)) if test_x else None
    # The model shipped to triage learns from every correction, held-back ones included.
    pipeline.fit(texts, labels)
    with transaction.atomic():
        number = TriageModel.objects.count() + 1
        version = f"model-{number}"
        while TriageModel.objects.filter(version=version).exists():
            number += 1
            version = f"model-{number}"
        TriageModel.objects.filter(is_active=True).update(is_active=False)
        TriageModel.objects.create(version=version, training_size=len(texts), accuracy=accuracy,
                                   pipeline=pickle.dumps(pipeline), is_active=True)
    return TrainingReport(version=version, training_size=len(texts), held_back=len(test_x), accuracy=accuracy,
                          classes=sorted(set(labels)))
