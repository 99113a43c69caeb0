"""The triage evaluation and development sets (bench/triage_data/) are
well-formed: every field, labels from the allowed sets, the counts the
benchmark relies on, no duplicates, no leak between the two sets, nothing
copied from the demo's templates. Fast, no database, no network."""

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from bench.bench_triage import SPECIALISTS, expected_queue
from inbox import demo, demo_texts
from inbox.models import Intent

DATA = Path(__file__).resolve().parents[2] / "bench" / "triage_data"
FIELDS = {"id", "text", "language", "intent", "sentiment", "sensitive", "category", "style"}
LANGUAGES = {"en", "es", "ro", "da", "id"}
SENTIMENTS = {"positive", "neutral", "negative"}
CATEGORIES = {"legal", "safety", "privacy", "harassment", "self-harm", "press"}


def load(name: str) -> list[dict]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def normalised(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@pytest.fixture(scope="module")
def eval_rows():
    return load("eval.jsonl")


@pytest.fixture(scope="module")
def dev_rows():
    return load("dev.jsonl")


@pytest.mark.parametrize("name", ["eval.jsonl", "dev.jsonl"])
def test_every_row_has_every_field_with_an_allowed_label(name):
    rows = load(name)
    for row in rows:
        assert set(row) == FIELDS, row
        assert isinstance(row["text"], str) and row["text"].strip() == row["text"] and row["text"], row
        assert row["language"] in LANGUAGES, row
        assert row["intent"] in Intent.values, row
        assert row["sentiment"] in SENTIMENTS, row
        assert isinstance(row["sensitive"], bool), row
        assert isinstance(row["style"], str) and row["style"], row
        if row["sensitive"]:
            assert row["category"] in CATEGORIES and row["intent"] == Intent.SENSITIVE, row
        else:
            assert row["category"] == "" and row["intent"] != Intent.SENSITIVE, row
        assert row["id"].startswith(name.split(".")[0] + "-" + row["language"] + "-"), row


def test_eval_has_the_required_counts(eval_rows):
    languages = Counter(row["language"] for row in eval_rows)
    assert len(eval_rows) >= 420
    assert languages["en"] >= 200
    assert all(languages[code] >= 45 for code in LANGUAGES - {"en"}), languages
    categories = Counter(row["category"] for row in eval_rows if row["sensitive"])
    assert all(categories[c] >= 15 for c in CATEGORIES), categories
    assert set(row["intent"] for row in eval_rows) == set(Intent.values)
    # Negations ("not a lawsuit, just a question") are there, and labelled not sensitive.
    negations = [row for row in eval_rows if row["style"].startswith("negation")]
    assert len(negations) >= 5 and not any(row["sensitive"] for row in negations)


def test_dev_has_the_required_counts(dev_rows):
    assert len(dev_rows) >= 200
    assert set(row["language"] for row in dev_rows) == LANGUAGES
    assert set(row["category"] for row in dev_rows if row["sensitive"]) == CATEGORIES


def test_ids_and_texts_are_unique_and_the_sets_do_not_share_a_text(eval_rows, dev_rows):
    ids = [row["id"] for row in eval_rows + dev_rows]
    assert len(ids) == len(set(ids))
    for rows in (eval_rows, dev_rows):
        texts = [normalised(row["text"]) for row in rows]
        assert len(texts) == len(set(texts))
    shared = {normalised(r["text"]) for r in eval_rows} & {normalised(r["text"]) for r in dev_rows}
    assert not shared


def _demo_strings() -> list[str]:
    """Every text the demo writes: the message templates, follow-ups and the team's texts."""
    found: list[str] = []

    def walk(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    for value in (demo.TEMPLATES, demo.CAREERS_TEMPLATES, demo.FOLLOW_UPS, demo.SAVED_REPLIES):
        walk(value)
    for name in dir(demo_texts):
        if name.isupper():
            walk(getattr(demo_texts, name))
    return [s for s in found if len(s) > 3]


def _as_pattern(template: str) -> re.Pattern:
    parts = re.split(r"\{\w+\}", normalised(template))
    return re.compile(".+".join(re.escape(p) for p in parts))


def test_no_eval_text_is_a_demo_text(eval_rows):
    patterns = [_as_pattern(t) for t in _demo_strings()]
    assert len(patterns) > 50
    copied = [row["text"] for row in eval_rows
              if any(p.fullmatch(normalised(row["text"])) for p in patterns)]
    assert not copied


@pytest.mark.parametrize("intent,sensitive,language,text,queue", [
    (Intent.COMPLAINT, True, "en", "the kettle sparked", SPECIALISTS),
    (Intent.SALES_LEAD, False, "en", "price for 40 laptops", "sales"),
    (Intent.COMPLAINT, False, "es", "¿y mi reembolso?", "finance"),
    (Intent.PRAISE, False, "en", "lovely staff", "marketing"),
    (Intent.COMPLAINT, False, "id", "paketnya rusak", "customer-service"),
    (Intent.SIMPLE_QUERY, False, "en", "any job openings in Leeds", "hr"),
    (Intent.OTHER, False, "ro", "salut", "customer-service"),
])
def test_the_benchmark_routes_labels_by_the_demo_rules(intent, sensitive, language, text, queue):
    assert expected_queue(intent, sensitive, language, text, demo.ROUTING_RULES) == queue
