"""Trained sentiment (per language) and offensive-language models, shipped
as files in ``inbox/models_data/`` and rebuilt by ``manage.py train_models``
from the labelled folders in ``../shared/datasets`` (see docs/MODEL_CARD.md).

Prediction is vectorised: one ``predict_proba`` per language present in a
batch, never one per message. A language without a trained model gets a
clearly labelled lexicon answer ("lexicon: vader", for English-looking text)
or ``unknown``, never a confident "neutral". A missing or unreadable model
file raises :class:`ModelUnavailableError`, which callers catch to fall back
to VADER alone.

Standalone on purpose: nothing here touches the database."""

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

MODELS_DIR = Path(__file__).resolve().parent / "models_data"
SENTIMENT_FILE = "sentiment.joblib"
OFFENSIVE_FILE = "offensive.joblib"
FORMAT_VERSION = 1
RANDOM_STATE = 0

LABELS = ("negative", "neutral", "positive")
UNKNOWN = "unknown"
SOURCE_LEXICON = "lexicon: vader"

# The training folders per language, relative to the datasets directory: (train, val) pairs. The val of the
# first pair is the one reported (and the one bench/bench_triage.py measures).
SENTIMENT_SOURCES: dict[str, list[str]] = {
    "en": ["sentiment_en_semeval2017", "sentiment_multilingual_umsab/english"],
    "es": ["sentiment_multilingual_umsab/spanish"],
    "id": ["sentiment_id_smsa"],
    "pt": ["sentiment_multilingual_umsab/portuguese"],
    "it": ["sentiment_multilingual_umsab/italian"],
    "fr": ["sentiment_multilingual_umsab/french"],
    "de": ["sentiment_multilingual_umsab/german"],
    "ar": ["sentiment_multilingual_umsab/arabic"],
}
OFFENSIVE_SOURCE = "offensive_en_olid"

# Function words that make a text "English-looking" enough for VADER, when no trained model covers its language.
_ENGLISH_WORDS = frozenset(
    "the a an is are was were be been to of and or but not no it this that i you he she we they my your "
    "with for on in at have has had do does did can will would should very so just".split())
_WORD = re.compile(r"[^\W\d_]+")


class ModelUnavailableError(RuntimeError):
    """The model file is missing, unreadable or of another format: fall back to the lexicon (VADER)."""


# --- features ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_features(texts) -> np.ndarray:
    """VADER's compound, positive, negative and neutral scores, one row per text (for the English model)."""
    analyzer = _vader()
    rows = []
    for text in texts:
        s = analyzer.polarity_scores(text or "")
        rows.append((s["compound"], s["pos"], s["neg"], s["neu"]))
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), 4)


def build_pipeline(*, with_vader: bool, word_features: int, char_features: int, c: float,
                   fold_accents: bool = False):
    """TF-IDF word 1-2 and char_wb 2-5 n-grams (sublinear, float32), optionally VADER's four scores, then a
    class-balanced logistic regression (probabilities without a separate calibration step). Accents are
    folded for languages whose tweets drop them inconsistently (Spanish "increible" / "increíble")."""
    strip = "unicode" if fold_accents else None
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer

    parts = [
        ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=True, min_df=2, sublinear_tf=True,
                                 strip_accents=strip, max_features=word_features, dtype=np.float32,
                                 token_pattern=r"(?u)[#@]?\b\w+\b|[!?]")),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), lowercase=True, min_df=2,
                                 sublinear_tf=True, strip_accents=strip, max_features=char_features,
                                 dtype=np.float32)),
    ]
    if with_vader:
        parts.append(("vader", FunctionTransformer(vader_features)))
    return Pipeline([
        ("features", FeatureUnion(parts)),
        ("model", LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=RANDOM_STATE)),
    ])


def _shrink(pipeline) -> None:
    """Drop what prediction does not need and store weights as float32, so the files stay small."""
    for _name, part in pipeline.named_steps["features"].transformer_list:
        if hasattr(part, "stop_words_"):
            part.stop_words_ = None
        if hasattr(part, "idf_"):
            part.idf_ = part.idf_.astype(np.float32)
    model = pipeline.named_steps["model"]
    model.coef_ = model.coef_.astype(np.float32)
    model.intercept_ = model.intercept_.astype(np.float32)


# --- data -------------------------------------------------------------------------------------

def load_tsv(path: Path) -> tuple[list[str], list[str]]:
    """``label<TAB>text`` rows (the datasets' format), as (texts, labels)."""
    texts, labels = [], []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            if text:
                texts.append(text)
                labels.append(label)
    return texts, labels


_URL = re.compile(r"\S*https?\S*|\bhttp\b")
_NOT_WORD = re.compile(r"[\W_]+")


def loose_key(text: str) -> str:
    """The text without case, mentions, links, a leading RT, punctuation and emoji: two rows with the same key
    are the same message (a retweet, a copy with the link dropped)."""
    lowered = _URL.sub(" ", (text or "").lower()).replace("@user", " ")
    words = _NOT_WORD.sub(" ", lowered).split()
    if words and words[0] == "rt":
        words = words[1:]
    return " ".join(words)


def without_copies_of(texts: list[str], labels: list[str], held_out: set[str]) -> tuple[list[str], list[str], int]:
    """Training rows minus those whose loose key is in ``held_out`` (the val splits): the folders overlap
    (UMSAB English is drawn from the SemEval pool), and a copy of a val row in training inflates the figures."""
    kept = [(t, y) for t, y in zip(texts, labels, strict=True) if loose_key(t) not in held_out]
    return [t for t, _ in kept], [y for _, y in kept], len(texts) - len(kept)


def _val_keys(datasets: Path, folders: list[str]) -> set[str]:
    keys = set()
    for folder in folders:
        path = datasets / folder / "val.tsv"
        if path.is_file():
            keys.update(loose_key(t) for t in load_tsv(path)[0])
    keys.discard("")
    return keys


def macro_recall(gold, pred, labels) -> float:
    from sklearn.metrics import recall_score

    return float(recall_score(gold, pred, labels=list(labels), average="macro", zero_division=0))


def macro_f1(gold, pred, labels) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, pred, labels=list(labels), average="macro", zero_division=0))


# --- training ---------------------------------------------------------------------------------

@dataclass
class TrainingReport:
    sentiment: dict[str, dict] = field(default_factory=dict)  # language -> {train, val, macro_recall, sources}
    offensive: dict = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)  # file name -> bytes


def train_sentiment(datasets: Path, *, sources: dict[str, list[str]] | None = None,
                    word_features: int = 40000, char_features: int = 40000, c: float = 2.0) -> tuple[dict, dict]:
    """One pipeline per language with training data (languages share no vocabulary worth sharing with a
    linear model, and their label mixes differ). Returns (bundle to save, figures per language)."""
    models, figures, skipped = {}, {}, []
    for language, folders in (sources or SENTIMENT_SOURCES).items():
        texts, labels, used = [], [], []
        for folder in folders:
            path = datasets / folder / "train.tsv"
            if path.is_file():
                t, y = load_tsv(path)
                texts += t
                labels += y
                used.append(folder)
        texts, labels, removed = without_copies_of(texts, labels, _val_keys(datasets, folders))
        if len(set(labels)) < 2:
            skipped.append(language)
            continue
        pipeline = build_pipeline(with_vader=language == "en", word_features=word_features,
                                  char_features=char_features, c=c, fold_accents=language != "en")
        pipeline.fit(texts, labels)
        _shrink(pipeline)
        models[language] = pipeline
        figure = {"train": len(texts), "removed_copies_of_val": removed, "sources": used, "val": None,
                  "macro_recall": None}
        val = datasets / folders[0] / "val.tsv"
        if val.is_file():
            vt, vy = load_tsv(val)
            figure.update(val=len(vt), val_source=folders[0],
                          macro_recall=round(macro_recall(vy, pipeline.predict(vt), LABELS), 4))
        figures[language] = figure
    bundle = {"format": FORMAT_VERSION, "kind": "sentiment", "models": models, "figures": figures,
              "labels": LABELS}
    return bundle, {"figures": figures, "skipped": skipped}


def train_offensive(datasets: Path, *, word_features: int = 40000, char_features: int = 40000,
                    c: float = 1.0) -> dict | None:
    """English offensive/not classifier (OLID level A). The decision threshold on P(offensive) is chosen by
    5-fold cross-validation on the train split only (macro-F1), never on val."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    path = datasets / OFFENSIVE_SOURCE / "train.tsv"
    if not path.is_file():
        return None
    texts, labels, removed = without_copies_of(*load_tsv(path), _val_keys(datasets, [OFFENSIVE_SOURCE]))
    if len(set(labels)) < 2:
        return None
    pipeline = build_pipeline(with_vader=True, word_features=word_features, char_features=char_features, c=c)
    folds = StratifiedKFold(n_splits=min(5, min(Counter(labels).values())), shuffle=True,
                            random_state=RANDOM_STATE)
    oof = cross_val_predict(clone(pipeline), texts, labels, cv=folds, method="predict_proba")
    offensive_column = sorted(set(labels)).index("offensive")
    threshold, best = 0.5, -1.0
    for candidate in np.arange(0.30, 0.71, 0.02):
        pred = ["offensive" if p >= candidate else "not" for p in oof[:, offensive_column]]
        score = macro_f1(labels, pred, ("offensive", "not"))
        if score > best + 1e-9:
            threshold, best = float(round(candidate, 2)), score
    pipeline.fit(texts, labels)
    _shrink(pipeline)
    figures = {"train": len(texts), "removed_copies_of_val": removed, "threshold": threshold,
               "cv_macro_f1": round(best, 4), "val": None,
               "macro_f1": None}
    val = datasets / OFFENSIVE_SOURCE / "val.tsv"
    if val.is_file():
        vt, vy = load_tsv(val)
        figures.update(val=len(vt), macro_f1=round(macro_f1(vy, _offensive_labels(pipeline, vt, threshold),
                                                             ("offensive", "not")), 4))
    return {"format": FORMAT_VERSION, "kind": "offensive", "model": pipeline, "threshold": threshold,
            "figures": figures}


def train_all(datasets: Path, output: Path | None = None) -> TrainingReport:
    """Trains both models from ``datasets`` and writes them (joblib, compressed) to ``output``."""
    import joblib

    output = output or MODELS_DIR
    output.mkdir(parents=True, exist_ok=True)
    report = TrainingReport()
    bundle, info = train_sentiment(datasets)
    report.sentiment, report.skipped = info["figures"], info["skipped"]
    if bundle["models"]:
        joblib.dump(bundle, output / SENTIMENT_FILE, compress=("xz", 9))
        report.files[SENTIMENT_FILE] = (output / SENTIMENT_FILE).stat().st_size
    offensive = train_offensive(datasets)
    if offensive is not None:
        report.offensive = offensive["figures"]
        joblib.dump(offensive, output / OFFENSIVE_FILE, compress=("xz", 9))
        report.files[OFFENSIVE_FILE] = (output / OFFENSIVE_FILE).stat().st_size
    else:
        report.skipped.append("offensive")
    _load.cache_clear()
    return report


# --- prediction -------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _load(path: str, kind: str) -> dict:
    import joblib

    file = Path(path)
    if not file.is_file():
        raise ModelUnavailableError(f"{file} not found: run `make train-models` (manage.py train_models)")
    try:
        bundle = joblib.load(file)  # only ever files this module wrote itself
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "no usable model"
        raise ModelUnavailableError(f"{file} could not be read: {exc}") from exc
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT_VERSION or bundle.get("kind") != kind:
        raise ModelUnavailableError(f"{file} is not a {kind} model of format {FORMAT_VERSION}")
    return bundle


def sentiment_bundle(models_dir: Path | None = None) -> dict:
    return _load(str((models_dir or MODELS_DIR) / SENTIMENT_FILE), "sentiment")


def offensive_bundle(models_dir: Path | None = None) -> dict:
    return _load(str((models_dir or MODELS_DIR) / OFFENSIVE_FILE), "offensive")


def trained_languages(models_dir: Path | None = None) -> list[str]:
    return sorted(sentiment_bundle(models_dir)["models"])


def _language_code(language: str) -> str:
    return (language or "").split("-")[0].split("_")[0].strip().lower()


def _looks_english(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text or "")]
    # Two function words at least: one ("a", "i", "no") is common in other languages too.
    return bool(words) and sum(w in _ENGLISH_WORDS for w in words) >= max(2, len(words) // 5)


def _lexicon(text: str) -> tuple[str, float, str]:
    """VADER for English-looking text without a model; its confidence is the compound's strength, so a
    lexicon "neutral" (no sentiment words found) never looks confident."""
    compound = _vader().polarity_scores(text or "")["compound"]
    if compound >= 0.05:
        return "positive", round(abs(compound), 4), SOURCE_LEXICON
    if compound <= -0.05:
        return "negative", round(abs(compound), 4), SOURCE_LEXICON
    return "neutral", 0.0, SOURCE_LEXICON


def predict_sentiment(texts: list[str], languages: list[str], *,
                      models_dir: Path | None = None) -> list[tuple[str, float, str]]:
    """(label, confidence, source) per text. ``source`` is ``model:<language>`` for a trained model
    (confidence = its probability for the label), ``lexicon: vader`` for English-looking text in a language
    without a model, or ``unknown`` (label ``unknown``, confidence 0). Raises ModelUnavailableError when the
    model file is missing."""
    if len(texts) != len(languages):
        raise ValueError("texts and languages must have the same length")
    bundle = sentiment_bundle(models_dir)
    results: list[tuple[str, float, str] | None] = [None] * len(texts)
    by_language: dict[str, list[int]] = {}
    for i, language in enumerate(languages):
        by_language.setdefault(_language_code(language), []).append(i)
    for code, indexes in by_language.items():
        pipeline = bundle["models"].get(code)
        if pipeline is None:
            for i in indexes:
                results[i] = _lexicon(texts[i]) if _looks_english(texts[i]) else (UNKNOWN, 0.0, UNKNOWN)
            continue
        probabilities = pipeline.predict_proba([texts[i] or "" for i in indexes])
        classes = list(pipeline.classes_)
        best = probabilities.argmax(axis=1)
        for row, i in enumerate(indexes):
            results[i] = (str(classes[best[row]]), round(float(probabilities[row, best[row]]), 4), f"model:{code}")
    return results  # type: ignore[return-value]


def _offensive_labels(pipeline, texts: list[str], threshold: float) -> list[str]:
    column = list(pipeline.classes_).index("offensive")
    return ["offensive" if p >= threshold else "not" for p in pipeline.predict_proba(texts)[:, column]]


def predict_offensive(texts: list[str], *, models_dir: Path | None = None) -> list[tuple[bool, float]]:
    """(is offensive, P(offensive)) per text, one batch call. Trained on English tweets only: other
    languages get a probability but it means little. Raises ModelUnavailableError when the file is missing."""
    if not texts:
        return []
    bundle = offensive_bundle(models_dir)
    pipeline = bundle["model"]
    column = list(pipeline.classes_).index("offensive")
    probabilities = pipeline.predict_proba([t or "" for t in texts])[:, column]
    return [(bool(p >= bundle["threshold"]), round(float(p), 4)) for p in probabilities]
