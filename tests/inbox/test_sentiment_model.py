"""The shipped sentiment/offensive models (inbox/models_data/, docs/MODEL_CARD.md): they load, predict in
batches, get plain complaints and praise right in Spanish and Indonesian, label their fallback, and the
training command builds model files from a tiny synthetic dataset. Fast, no database, no network.
Every sentence here is written for the test, none comes from a dataset."""

import random

import pytest
from django.core.management import call_command

from inbox import sentiment_model
from inbox.sentiment_model import ModelUnavailableError, predict_offensive, predict_sentiment

SHIPPED = sentiment_model.MODELS_DIR


def test_shipped_models_load_and_are_small():
    assert {"en", "es", "id"} <= set(sentiment_model.trained_languages())
    total = sum((SHIPPED / name).stat().st_size
                for name in (sentiment_model.SENTIMENT_FILE, sentiment_model.OFFENSIVE_FILE))
    assert total < 10_000_000


def test_batch_prediction_shapes_and_sources():
    texts = ["I love this, thank you!", "Pelayanan sangat buruk", "No me gusta nada", "Das ist gut", "ok"]
    languages = ["en", "id", "es-MX", "de", "en"]
    results = predict_sentiment(texts, languages)
    assert len(results) == len(texts)
    for label, confidence, source in results:
        assert label in {"negative", "neutral", "positive"}
        assert 0.0 <= confidence <= 1.0
        assert source.startswith("model:")
    assert [r[2] for r in results] == ["model:en", "model:id", "model:es", "model:de", "model:en"]
    assert predict_sentiment([], []) == []
    with pytest.raises(ValueError):
        predict_sentiment(["one"], [])


@pytest.mark.parametrize(("text", "language", "expected"), [
    ("El pedido llegó roto, nadie me responde y estoy harto. Es una vergüenza, quiero mi dinero ya.", "es",
     "negative"),
    ("¡Muchas gracias! El equipo fue increíble y el servicio excelente, me encanta.", "es", "positive"),
    ("pelayanan nya sangat buruk , barang rusak dan saya kecewa sekali , tidak akan beli lagi", "id",
     "negative"),
    ("terima kasih , pelayanan nya sangat bagus dan ramah , saya puas sekali", "id", "positive"),
    ("The worst support ever, my order never arrived and nobody answers. Awful.", "en", "negative"),
    ("Thank you so much, the team was amazing and fixed it in minutes!", "en", "positive"),
])
def test_plain_complaints_and_praise(text, language, expected):
    [(label, confidence, source)] = predict_sentiment([text], [language])
    assert (label, source) == (expected, f"model:{language}")
    assert confidence > 0.5


def test_language_without_model_falls_back_with_a_label_never_a_confident_neutral():
    results = predict_sentiment(
        ["Comanda a venit stricată și nimeni nu răspunde.", "This is a terrible experience, I am so angry.",
         "Vi ses i morgen klokken ti."],
        ["ro", "xx", "da"])
    assert results[0] == ("unknown", 0.0, "unknown")
    assert results[1][0] == "negative" and results[1][2] == "lexicon: vader"
    assert results[2] == ("unknown", 0.0, "unknown")
    for label, confidence, _source in results:
        assert not (label == "neutral" and confidence > 0)


def test_offensive_batch():
    results = predict_offensive(["You are a pathetic idiot and a disgrace, shut up.",
                                 "Thanks for the quick reply, have a nice day!"])
    assert len(results) == 2
    (insult, p_insult), (polite, p_polite) = results
    assert insult is True and polite is False
    assert 0.0 <= p_polite < p_insult <= 1.0
    assert predict_offensive([]) == []


def test_missing_model_file_raises_a_catchable_error(tmp_path):
    with pytest.raises(ModelUnavailableError):
        predict_sentiment(["hola"], ["es"], models_dir=tmp_path)
    with pytest.raises(ModelUnavailableError):
        predict_offensive(["hello"], models_dir=tmp_path)


def test_leaves_out_training_rows_that_copy_a_val_row():
    texts, labels, removed = sentiment_model.without_copies_of(
        ["RT @user Great stuff!! http://x.co", "Another thing entirely"], ["positive", "neutral"],
        {sentiment_model.loose_key("great stuff")})
    assert (texts, labels, removed) == (["Another thing entirely"], ["neutral"], 1)


# --- training on a tiny synthetic dataset -------------------------------------------------------

WORDS = {
    "en": {"positive": ["great", "love", "thanks", "excellent"], "negative": ["awful", "broken", "hate", "worst"],
           "neutral": ["tuesday", "office", "meeting", "schedule"]},
    "es": {"positive": ["genial", "gracias", "excelente", "encanta"], "negative": ["roto", "horrible", "queja",
                                                                                 "pésimo"],
           "neutral": ["martes", "oficina", "reunión", "horario"]},
    "id": {"positive": ["bagus", "mantap", "puas", "keren"], "negative": ["buruk", "rusak", "kecewa", "jelek"],
           "neutral": ["selasa", "kantor", "rapat", "jadwal"]},
}


def write_split(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{label}\t{text}\n" for label, text in rows), encoding="utf-8")


def synthetic_rows(words, count, seed):
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        label = sorted(words)[i % len(words)]
        rows.append((label, f"{' '.join(rng.sample(words[label], 2))} item{i % 7}"))
    return rows


def test_train_command_builds_model_files_from_a_tiny_dataset(tmp_path):
    data, output = tmp_path / "datasets", tmp_path / "models"
    folders = {"en": "sentiment_en_semeval2017", "es": "sentiment_multilingual_umsab/spanish",
               "id": "sentiment_id_smsa"}
    for language, folder in folders.items():
        write_split(data / folder / "train.tsv", synthetic_rows(WORDS[language], 60, 1))
        write_split(data / folder / "val.tsv", synthetic_rows(WORDS[language], 12, 2))
    offensive = {"offensive": ["idiot", "stupid", "moron", "loser"], "not": ["hello", "thanks", "nice", "please"]}
    write_split(data / "offensive_en_olid" / "train.tsv", synthetic_rows(offensive, 40, 3))
    write_split(data / "offensive_en_olid" / "val.tsv", synthetic_rows(offensive, 10, 4))

    call_command("train_models", datasets=data, output=output)

    assert (output / sentiment_model.SENTIMENT_FILE).is_file()
    assert (output / sentiment_model.OFFENSIVE_FILE).is_file()
    assert sentiment_model.trained_languages(output) == ["en", "es", "id"]
    [(label, _confidence, source)] = predict_sentiment(["horrible queja roto"], ["es"], models_dir=output)
    assert (label, source) == ("negative", "model:es")
    [(flag, _probability)] = predict_offensive(["stupid idiot moron"], models_dir=output)
    assert flag is True


def test_train_command_refuses_a_missing_folder(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("train_models", datasets=tmp_path / "nowhere", output=tmp_path / "models")
