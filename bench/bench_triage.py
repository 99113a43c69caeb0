"""Triage benchmark: how well the CURRENT engine (``inbox.triage.triage_text``)
does on messages it was not written against, and how fast it is.

    .venv/bin/python bench/bench_triage.py        # or: make bench-triage

Measured:

- on ``bench/triage_data/eval.jsonl`` (hand-written, labelled; see its
  README; never used to write rules or train): intent accuracy and
  macro-F1 overall, per class and per language; sensitive recall and
  precision overall and per category; language detection accuracy on the
  non-English messages (no language hint given, as for a channel that sends
  none); the share routed to the right queue under the demo's routing
  rules (``inbox.demo.ROUTING_RULES`` plus the specialist team for
  sensitive messages, as ``inbox.routing.RuleBook`` decides), the expected
  queue computed from the labels with the same rules;
- on the ``val`` splits in ``$SOCIALOPS_DATASETS`` (default
  ``../shared/datasets`` next to the repository): sentiment macro-recall
  (English SemEval-2017, Spanish UMSAB, Indonesian SmSA) and offensive
  macro-F1 (OLID); a missing folder gives null and a reason;
- the new standalone sensitive detector (``inbox.sensitive``, not yet used
  by ``triage_text``): ``sensitive_detector`` on the chosen set and
  ``sensitive_detector_dev`` on the development set, recall and precision
  overall and per category, negations flagged, and its own throughput;
- full-triage throughput: the eval texts repeated to about 5,000 messages,
  one process pinned to one core, terms looked up once as ingest does.

``--data dev`` measures the development set instead (what tuning may use).
Django runs on the test settings with an in-memory SQLite database, migrated
and empty (so the engine uses its default sensitive terms and no trained
model, as a fresh installation does). Progress goes to stderr; stdout gets
ONE JSON line. Never gates: the exit code is 0 whatever the figures."""

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA_DIR = ROOT / "bench" / "triage_data"
THROUGHPUT_MESSAGES = 5000
SPECIALISTS = "specialists"


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def datasets_dir() -> Path:
    configured = os.environ.get("SOCIALOPS_DATASETS", "../shared/datasets")
    path = Path(configured)
    return path if path.is_absolute() else (ROOT / path).resolve()


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            if text:
                rows.append((label, text))
    return rows


def r4(value) -> float | None:
    return None if value is None else round(float(value), 4)


# --- routing --------------------------------------------------------------------------------

def expected_queue(intent: str, sensitive: bool, language: str, text: str, rules) -> str:
    """The queue ``inbox.routing.RuleBook.decide`` picks with the demo's rules: the specialist team for
    a sensitive message, else the first rule whose conditions all hold, else the default queue."""
    if sensitive:
        return SPECIALISTS
    lowered = (text or "").lower()
    for _name, _position, conditions, department, _priority in sorted(rules, key=lambda r: r[1]):
        if conditions.get("intent") and conditions["intent"] != intent:
            continue
        if conditions.get("language") and conditions["language"] != language:
            continue
        keywords = [k.strip().lower() for k in conditions.get("keywords", "").split(",") if k.strip()]
        if keywords and not any(k in lowered for k in keywords):
            continue
        return department
    return "customer-service"  # the demo sets it as TriageSettings.default_department


# --- the evaluation set ---------------------------------------------------------------------

def evaluate_set(rows: list[dict]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    from inbox import triage
    from inbox.demo import ROUTING_RULES
    from inbox.models import Intent

    terms = triage.sensitive_terms()
    model = triage.active_model()
    predictions = [triage.triage_text(row["text"], terms=terms, model=model) for row in rows]
    labels = list(Intent.values)
    gold = [row["intent"] for row in rows]
    pred = [p.intent for p in predictions]

    precision, recall, f1, support = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    intent = {
        "accuracy": r4(accuracy_score(gold, pred)),
        "macro_f1": r4(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {label: {"precision": r4(precision[i]), "recall": r4(recall[i]), "f1": r4(f1[i]),
                              "n": int(support[i])} for i, label in enumerate(labels)},
        "per_language": {},
        "confusions": [],
    }
    for language in sorted({row["language"] for row in rows}):
        idx = [i for i, row in enumerate(rows) if row["language"] == language]
        g, p = [gold[i] for i in idx], [pred[i] for i in idx]
        present = sorted(set(g))
        intent["per_language"][language] = {"n": len(idx), "accuracy": r4(accuracy_score(g, p)),
                                            "macro_f1": r4(f1_score(g, p, labels=present, average="macro",
                                                                    zero_division=0))}
    intent["confusions"] = [{"gold": g, "predicted": p, "n": n}
                            for (g, p), n in Counter(zip(gold, pred, strict=True)).most_common() if g != p][:10]

    # Sensitive: flagged at all (what routes to the specialists), and per category.
    gold_flag = [bool(row["sensitive"]) for row in rows]
    pred_flag = [p.is_sensitive for p in predictions]
    tp = sum(g and p for g, p in zip(gold_flag, pred_flag, strict=True))
    sensitive = {"n": sum(gold_flag), "flagged": sum(pred_flag),
                 "recall": r4(tp / max(1, sum(gold_flag))), "precision": r4(tp / sum(pred_flag)) if any(pred_flag)
                 else None, "false_positives_on_negations": 0, "per_category": {}}
    sensitive["false_positives_on_negations"] = sum(
        1 for row, p in zip(rows, predictions, strict=True)
        if p.is_sensitive and not row["sensitive"] and "negation" in row.get("style", ""))
    # The engine names categories with an underscore ("self_harm"); the labels with a hyphen.
    pred_categories = [{c.replace("_", "-") for c in p.sensitive_categories} for p in predictions]
    for category in sorted({row["category"] for row in rows if row["category"]}):
        in_gold = [i for i, row in enumerate(rows) if row["category"] == category]
        named = [i for i, cats in enumerate(pred_categories) if category in cats]
        sensitive["per_category"][category] = {
            "n": len(in_gold),
            "recall": r4(sum(pred_flag[i] for i in in_gold) / len(in_gold)),
            "recall_same_category": r4(sum(category in pred_categories[i] for i in in_gold) / len(in_gold)),
            "precision": r4(sum(rows[i]["category"] == category for i in named) / len(named)) if named else None,
            "predicted": len(named),
        }

    # Language detection without a hint, on the non-English messages.
    foreign = [(row, p) for row, p in zip(rows, predictions, strict=True) if row["language"] != "en"]
    language = {"n": len(foreign),
                "accuracy_non_english": r4(sum(p.language == row["language"] for row, p in foreign)
                                           / max(1, len(foreign))),
                "accuracy_english": r4(sum(p.language == "en" for row, p in zip(rows, predictions, strict=True)
                                           if row["language"] == "en")
                                       / max(1, sum(row["language"] == "en" for row in rows))),
                "per_language": {}}
    for code in sorted({row["language"] for row, _ in foreign}):
        pairs = [(row, p) for row, p in foreign if row["language"] == code]
        language["per_language"][code] = r4(sum(p.language == code for _, p in pairs) / len(pairs))

    expected = [expected_queue(row["intent"], row["sensitive"], row["language"], row["text"], ROUTING_RULES)
                for row in rows]
    routed = [expected_queue(p.intent, p.is_sensitive, p.language, row["text"], ROUTING_RULES)
              for row, p in zip(rows, predictions, strict=True)]
    routing = {"right_queue_share": r4(sum(e == r for e, r in zip(expected, routed, strict=True)) / len(rows)),
               "expected": dict(Counter(expected)), "routed": dict(Counter(routed)),
               "sensitive_left_in_general_queues": sum(1 for e, r in zip(expected, routed, strict=True)
                                                       if e == SPECIALISTS and r != SPECIALISTS)}

    # The plainly worded stratum (everyday words a keyword list may know) against the rest.
    by_wording = {}
    for name, keep in (("plain", True), ("varied", False)):
        idx = [i for i, row in enumerate(rows) if ("plain wording" in row.get("style", "")) == keep]
        flagged = [i for i in idx if gold_flag[i]]
        by_wording[name] = {"n": len(idx), "intent_accuracy": r4(accuracy_score([gold[i] for i in idx],
                                                                                [pred[i] for i in idx])),
                            "sensitive_n": len(flagged),
                            "sensitive_recall": r4(sum(pred_flag[i] for i in flagged) / len(flagged))
                            if flagged else None}

    # Sentiment on the labelled messages (the engine's VADER), by language, for the record.
    from sklearn.metrics import recall_score
    sentiment = {}
    for code in sorted({row["language"] for row in rows}):
        pairs = [(row["sentiment"], p.sentiment) for row, p in zip(rows, predictions, strict=True)
                 if row["language"] == code]
        sentiment[code] = r4(recall_score([g for g, _ in pairs], [p for _, p in pairs],
                                          labels=["negative", "neutral", "positive"], average="macro",
                                          zero_division=0))
    return {"n": len(rows), "languages": dict(Counter(row["language"] for row in rows)), "intent": intent,
            "sensitive": sensitive, "language_detection": language, "routing": routing, "by_wording": by_wording,
            "sentiment_macro_recall_on_set": sentiment}


# --- the new sensitive detector (inbox.sensitive), not yet wired into triage_text ---------------

def sensitive_figures(rows: list[dict], predicted: list[list[str]]) -> dict:
    """Recall and precision of "sensitive at all" and per category, as ``evaluate_set`` counts them."""
    gold_flag = [bool(row["sensitive"]) for row in rows]
    pred_flag = [bool(cats) for cats in predicted]
    pred_categories = [{c.replace("_", "-") for c in cats} for cats in predicted]
    tp = sum(g and p for g, p in zip(gold_flag, pred_flag, strict=True))
    figures = {"n": sum(gold_flag), "flagged": sum(pred_flag), "recall": r4(tp / max(1, sum(gold_flag))),
               "precision": r4(tp / sum(pred_flag)) if any(pred_flag) else None,
               "false_positives_on_negations": sum(1 for row, flag in zip(rows, pred_flag, strict=True)
                                                   if flag and not row["sensitive"]
                                                   and "negation" in row.get("style", "")),
               "negations_n": sum(1 for row in rows if "negation" in row.get("style", "")),
               "per_category": {}}
    for category in sorted({row["category"] for row in rows if row["category"]}):
        in_gold = [i for i, row in enumerate(rows) if row["category"] == category]
        named = [i for i, cats in enumerate(pred_categories) if category in cats]
        figures["per_category"][category] = {
            "n": len(in_gold),
            "recall": r4(sum(pred_flag[i] for i in in_gold) / len(in_gold)),
            "recall_same_category": r4(sum(category in pred_categories[i] for i in in_gold) / len(in_gold)),
            "precision": r4(sum(rows[i]["category"] == category for i in named) / len(named)) if named else None,
            "predicted": len(named),
        }
    return figures


def sensitive_detector_on(rows: list[dict]) -> dict:
    """``inbox.sensitive.detect`` with the message's labelled language and the configured terms (the
    defaults in a fresh database) as extra terms, as the lead will wire it; for the record also with the
    language unknown (every language's patterns) and with the patterns alone; and its speed."""
    from inbox import sensitive, triage

    extra = sensitive.compile_terms(triage.sensitive_terms())
    result = {"detector": sensitive.DETECTOR_VERSION,
              "language": "the labelled one; extra terms: the configured (default) SensitiveTerm list"}
    result.update(sensitive_figures(rows, [sensitive.detect(row["text"], row["language"], extra).categories
                                           for row in rows]))
    for key, language, terms in (("language_unknown", None, extra), ("patterns_only", "row", None)):
        figures = sensitive_figures(rows, [sensitive.detect(row["text"], row["language"] if language else "",
                                                            terms).categories for row in rows])
        result[key] = {name: figures[name] for name in ("recall", "precision", "flagged",
                                                         "false_positives_on_negations")}
    texts = [(row["text"], row["language"]) for row in rows]
    texts = (texts * (THROUGHPUT_MESSAGES // len(texts) + 1))[:THROUGHPUT_MESSAGES]
    for text, language in texts[:500]:
        sensitive.detect(text, language, extra)
    best = None
    for _ in range(3):
        started = time.perf_counter()
        for text, language in texts:
            sensitive.detect(text, language, extra)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    result["throughput"] = {"messages": len(texts), "messages_per_s": round(len(texts) / best, 1),
                            "mean_chars": round(sum(len(t) for t, _ in texts) / len(texts), 1),
                            "figure": "best of 3, one core"}
    return result


# --- the shared datasets ------------------------------------------------------------------

def sentiment_on(path: Path) -> dict:
    from sklearn.metrics import recall_score

    from inbox.triage import sentiment_of

    if not path.is_file():
        return {"macro_recall": None, "reason": f"{path} not found (set SOCIALOPS_DATASETS)"}
    rows = load_tsv(path)
    pred = [sentiment_of(text)[1] for _, text in rows]
    gold = [label for label, _ in rows]
    return {"macro_recall": r4(recall_score(gold, pred, labels=["negative", "neutral", "positive"],
                                            average="macro", zero_division=0)),
            "n": len(rows), "predicted": dict(Counter(pred))}


def offensive_on(path: Path) -> dict:
    """The engine has no offensive signal. Reported: null with the reason, and for the record the
    nearest thing it has, the harassment terms of its sensitive list, as a proxy."""
    from sklearn.metrics import f1_score

    from inbox import triage

    reason = ("the current engine has no offensive/abuse signal: only keyword lists for intent and the "
              "sensitive categories; 'proxy_harassment_terms' treats a harassment-term match as offensive")
    if not path.is_file():
        return {"macro_f1": None, "reason": f"{path} not found (set SOCIALOPS_DATASETS)"}
    rows = load_tsv(path)
    terms = triage.DEFAULT_SENSITIVE_TERMS
    pred = ["offensive" if "harassment" in triage.sensitive_categories_of(text, "en", terms) else "not"
            for _, text in rows]
    gold = [label for label, _ in rows]
    return {"macro_f1": None, "reason": reason, "n": len(rows),
            "proxy_harassment_terms_macro_f1": r4(f1_score(gold, pred, labels=["offensive", "not"],
                                                           average="macro", zero_division=0))}


def trained_models_on(base: Path) -> tuple[dict, dict]:
    """The shipped trained models (inbox/models_data/, docs/MODEL_CARD.md) on the same val splits: sentiment
    macro-recall per language (one batch per split) and offensive macro-F1. Not yet used by the engine."""
    from sklearn.metrics import f1_score, recall_score

    from inbox import sentiment_model

    splits = {"en_semeval2017": ("en", base / "sentiment_en_semeval2017" / "val.tsv"),
              "es_umsab": ("es", base / "sentiment_multilingual_umsab" / "spanish" / "val.tsv"),
              "id_smsa": ("id", base / "sentiment_id_smsa" / "val.tsv")}
    sentiment, offensive = {}, {}
    try:
        sentiment_model.sentiment_bundle()  # loaded once (about 3 s), outside the timed batches
        for name, (language, path) in splits.items():
            if not path.is_file():
                sentiment[name] = {"macro_recall": None, "reason": f"{path} not found (set SOCIALOPS_DATASETS)"}
                continue
            rows = load_tsv(path)
            started = time.perf_counter()
            pred = [label for label, _, _ in sentiment_model.predict_sentiment([t for _, t in rows],
                                                                               [language] * len(rows))]
            elapsed = time.perf_counter() - started
            sentiment[name] = {"macro_recall": r4(recall_score([g for g, _ in rows], pred,
                                                               labels=["negative", "neutral", "positive"],
                                                               average="macro", zero_division=0)),
                               "n": len(rows), "messages_per_s": round(len(rows) / elapsed, 1)}
        path = base / "offensive_en_olid" / "val.tsv"
        if path.is_file():
            rows = load_tsv(path)
            pred = ["offensive" if flag else "not"
                    for flag, _ in sentiment_model.predict_offensive([t for _, t in rows])]
            offensive = {"en_olid": {"macro_f1": r4(f1_score([g for g, _ in rows], pred,
                                                             labels=["offensive", "not"], average="macro",
                                                             zero_division=0)), "n": len(rows)}}
        else:
            offensive = {"en_olid": {"macro_f1": None, "reason": f"{path} not found (set SOCIALOPS_DATASETS)"}}
    except sentiment_model.ModelUnavailableError as exc:
        return {"reason": str(exc)}, {"reason": str(exc)}
    return sentiment, offensive


def throughput(rows: list[dict]) -> dict:
    from inbox import triage

    texts = [row["text"] for row in rows]
    texts = (texts * (THROUGHPUT_MESSAGES // len(texts) + 1))[:THROUGHPUT_MESSAGES]
    terms = triage.sensitive_terms()
    model = triage.active_model()
    for text in texts[:200]:  # warm-up: compiled patterns, VADER's lexicon
        triage.triage_text(text, terms=terms, model=model)
    best = None
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            triage.triage_text(text, terms=terms, model=model)
        elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
    return {"messages": len(texts), "messages_per_s": round(len(texts) / best, 1),
            "mean_chars": round(sum(len(t) for t in texts) / len(texts), 1), "runs": 3, "figure": "best of 3",
            "trained_model_loaded": model[1] is not None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["eval", "dev"], default="eval")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    # The test settings on an in-memory SQLite database, whatever DATABASE_URL the shell has.
    os.environ["DJANGO_SETTINGS_MODULE"] = "socialops.settings.test"
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    import django
    from django.core.management import call_command

    django.setup()
    log("migrating an in-memory SQLite database ...")
    call_command("migrate", verbosity=0, interactive=False)

    rows = load_jsonl(DATA_DIR / f"{args.data}.jsonl")
    log(f"triaging {len(rows)} messages of {args.data}.jsonl ...")
    result = {"bench": "triage", "engine": "rules-1 + VADER (as shipped)", "data": f"{args.data}.jsonl"}
    result.update(evaluate_set(rows))

    log("the new sensitive detector (inbox.sensitive) ...")
    result["sensitive_detector"] = sensitive_detector_on(rows)
    result["sensitive_detector_dev"] = sensitive_detector_on(load_jsonl(DATA_DIR / "dev.jsonl"))

    base = datasets_dir()
    log(f"datasets from {base} ...")
    result["sentiment_val"] = {
        "en_semeval2017": sentiment_on(base / "sentiment_en_semeval2017" / "val.tsv"),
        "es_umsab": sentiment_on(base / "sentiment_multilingual_umsab" / "spanish" / "val.tsv"),
        "id_smsa": sentiment_on(base / "sentiment_id_smsa" / "val.tsv"),
    }
    result["offensive_val"] = {"en_olid": offensive_on(base / "offensive_en_olid" / "val.tsv")}
    log("trained models (inbox/models_data) on the same val splits ...")
    result["sentiment_model"], result["offensive_model"] = trained_models_on(base)
    log("throughput ...")
    result["throughput"] = throughput(rows)
    print(json.dumps(result, ensure_ascii=False, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
