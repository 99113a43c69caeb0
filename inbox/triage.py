"""Triage: sentiment (VADER), intent (transparent rules, then the
organisation's own trained classifier when there is one), influencer and
sensitive flags. Every result says which version decided it."""

import pickle  # noqa: S403 - only ever loads pipelines this app trained and stored itself
import re
from dataclasses import dataclass, field
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from .models import Intent, SensitiveTerm, Sentiment, TriageModel, TriageSettings

RULES_VERSION = "rules-1"

# Keywords per language. Transparent on purpose: an agent can read why.
INTENT_KEYWORDS: dict[str, dict[str, list[str]]] = {
    Intent.COMPLAINT: {
        "en": ["broken", "refund", "worst", "terrible", "disappointed", "complaint", "not working", "still waiting",
               "never arrived", "awful", "unacceptable", "scam", "cancel my", "charged twice"],
        "es": ["roto", "reembolso", "queja", "pésimo", "horrible", "no funciona", "decepcionado", "todavía espero",
               "nunca llegó", "inaceptable"],
        "ro": ["stricat", "rambursare", "reclamație", "nu funcționează", "groaznic", "dezamăgit"],
        "id": ["rusak", "pengembalian dana", "keluhan", "tidak berfungsi", "kecewa", "buruk"],
        "da": ["i stykker", "refusion", "klage", "virker ikke", "skuffet", "elendig"],
    },
    Intent.PRAISE: {
        "en": ["thank you", "thanks", "love", "great job", "amazing", "awesome", "excellent", "well done"],
        "es": ["gracias", "me encanta", "excelente", "genial", "increíble"],
        "ro": ["mulțumesc", "excelent", "minunat", "super"],
        "id": ["terima kasih", "mantap", "keren", "luar biasa"],
        "da": ["tak", "fantastisk", "super godt", "elsker"],
    },
    Intent.SALES_LEAD: {
        "en": ["price", "pricing", "quote", "buy", "purchase", "discount", "demo", "bulk order", "how much"],
        "es": ["precio", "presupuesto", "comprar", "descuento", "cuánto cuesta"],
        "ro": ["preț", "ofertă", "cumpăr", "reducere", "cât costă"],
        "id": ["harga", "beli", "diskon", "berapa"],
        "da": ["pris", "tilbud", "købe", "rabat", "hvad koster"],
    },
    Intent.SPAM: {
        "en": ["click here", "free money", "crypto giveaway", "follow back", "dm for promo", "earn $"],
        "es": ["dinero gratis", "haz clic aquí"],
        "ro": ["bani gratis"],
        "id": ["uang gratis", "klik di sini"],
        "da": ["gratis penge"],
    },
    Intent.SIMPLE_QUERY: {
        "en": ["opening hours", "what time", "where is", "do you ship", "is there", "when do you open", "address"],
        "es": ["horario", "a qué hora", "dónde está", "hacen envíos"],
        "ro": ["program", "la ce oră", "unde este"],
        "id": ["jam buka", "di mana", "kapan buka"],
        "da": ["åbningstider", "hvornår", "hvor er"],
    },
}

DEFAULT_SENSITIVE_TERMS: dict[str, dict[str, list[str]]] = {
    "en": {"legal": ["lawyer", "attorney", "sue", "lawsuit", "legal action", "court"],
           "safety": ["injured", "fire", "explosion", "unsafe", "dangerous", "poisoning", "recall"],
           "privacy": ["data breach", "leaked", "my personal data", "gdpr", "hacked", "privacy"],
           "harassment": ["harassment", "harassed", "threatened", "abuse"],
           "self_harm": ["suicide", "kill myself", "self-harm", "end my life"],
           "press": ["journalist", "reporter", "press enquiry", "for a story", "newspaper"]},
    "es": {"legal": ["abogado", "demanda", "denunciar", "acción legal", "tribunal"],
           "safety": ["herido", "incendio", "peligroso", "intoxicación"],
           "privacy": ["filtración de datos", "mis datos personales", "hackeado", "privacidad"],
           "harassment": ["acoso", "amenazado"],
           "self_harm": ["suicidio", "quitarme la vida"],
           "press": ["periodista", "reportaje", "prensa"]},
    "ro": {"legal": ["avocat", "proces", "instanță"], "safety": ["rănit", "incendiu", "periculos"],
           "privacy": ["date personale", "scurgere de date"], "harassment": ["hărțuire"],
           "self_harm": ["sinucidere"], "press": ["jurnalist", "presă"]},
    "id": {"legal": ["pengacara", "gugatan", "tuntut"], "safety": ["terluka", "kebakaran", "berbahaya"],
           "privacy": ["kebocoran data", "data pribadi"], "harassment": ["pelecehan"],
           "self_harm": ["bunuh diri"], "press": ["wartawan", "jurnalis"]},
    "da": {"legal": ["advokat", "retssag", "sagsøge"], "safety": ["kvæstet", "brand", "farlig"],
           "privacy": ["datalæk", "persondata"], "harassment": ["chikane"],
           "self_harm": ["selvmord"], "press": ["journalist", "presse"]},
}

_STOPWORDS = {
    "en": {"the", "and", "is", "my", "you", "your", "to", "it", "not", "of", "this", "have", "what", "with"},
    "es": {"el", "la", "que", "de", "y", "mi", "no", "es", "por", "para", "con", "una", "los", "pedido"},
    "ro": {"și", "este", "nu", "de", "la", "mea", "meu", "cu", "pentru", "care", "o", "un", "să"},
    "id": {"dan", "yang", "saya", "tidak", "di", "ini", "itu", "dengan", "untuk", "ada", "sudah", "belum"},
    "da": {"og", "er", "jeg", "ikke", "det", "min", "mit", "på", "til", "med", "har", "en", "hvor"},
}
_ORDER_NUMBER = re.compile(r"(?:#|\border\s*(?:no\.?|number|nr\.?)?\s*)\d{4,}", re.IGNORECASE)
_WORD = re.compile(r"[\w'-]+", re.UNICODE)


@dataclass
class TriageResult:
    sentiment: str
    sentiment_score: float
    intent: str
    classified_by: str
    language: str
    is_sensitive: bool = False
    sensitive_categories: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment_of(text: str) -> tuple[float, str]:
    score = _analyzer().polarity_scores(text or "")["compound"]
    if score >= 0.05:
        return score, Sentiment.POSITIVE
    if score <= -0.05:
        return score, Sentiment.NEGATIVE
    return score, Sentiment.NEUTRAL


def detect_language(text: str, hint: str = "") -> str:
    if hint:
        return hint.split("-")[0].lower()[:8]
    words = {w.lower() for w in _WORD.findall(text or "")}
    best, best_score = "en", 0
    for language, stopwords in _STOPWORDS.items():
        score = len(words & stopwords)
        if score > best_score:
            best, best_score = language, score
    return best


@lru_cache(maxsize=512)
def _alternation(terms: tuple[str, ...]) -> re.Pattern:
    """One compiled pattern matching any of ``terms`` as whole words: a
    single scan per list instead of one search per term."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
                      + r")(?!\w)")


def _first_match(text: str, terms) -> str | None:
    if not terms:
        return None
    match = _alternation(tuple(terms)).search(text)
    return match.group(0) if match else None


def sensitive_terms() -> dict[str, dict[str, list[str]]]:
    """The organisation's configured terms, or the defaults when none are set."""
    configured: dict[str, dict[str, list[str]]] = {}
    for language, category, term in SensitiveTerm.objects.values_list("language", "category", "term"):
        configured.setdefault(language, {}).setdefault(category, []).append(term.lower())
    return configured or DEFAULT_SENSITIVE_TERMS


def sensitive_categories_of(text: str, language: str, terms=None) -> list[str]:
    terms = terms if terms is not None else sensitive_terms()
    lowered = (text or "").lower()
    found = set()
    # Terms of the message's language first; English terms too, as they cross languages on social media.
    for lang in {language, "en"}:
        for category, words in terms.get(lang, {}).items():
            if _first_match(lowered, words):
                found.add(category)
    return sorted(found)


def rule_intent(text: str, language: str) -> tuple[str, list[str]]:
    lowered = (text or "").lower()
    reasons: list[str] = []
    for intent in (Intent.SPAM, Intent.COMPLAINT, Intent.SALES_LEAD, Intent.PRAISE, Intent.SIMPLE_QUERY):
        words = INTENT_KEYWORDS[intent].get(language, []) + (INTENT_KEYWORDS[intent]["en"] if language != "en" else [])
        hit = _first_match(lowered, words)
        if hit:
            reasons.append(f"keyword '{hit}' -> {intent}")
            return intent, reasons
    if _ORDER_NUMBER.search(text or ""):
        reasons.append("order number -> inquiry")
        return Intent.INQUIRY, reasons
    if "?" in (text or ""):
        question_words = len(_WORD.findall(text))
        intent = Intent.SIMPLE_QUERY if question_words <= 12 else Intent.INQUIRY
        reasons.append(f"question of {question_words} words -> {intent}")
        return intent, reasons
    return Intent.OTHER, ["no rule matched"]


class _ModelCache:
    version: str | None = None
    pipeline = None


def active_model():
    """The newest active trained pipeline, loaded once per version."""
    row = TriageModel.objects.filter(is_active=True).only("version").order_by("-trained_at").first()
    if row is None:
        return None, None
    if _ModelCache.version != row.version:
        pipeline_bytes = TriageModel.objects.values_list("pipeline", flat=True).get(pk=row.pk)
        _ModelCache.pipeline = pickle.loads(bytes(pipeline_bytes))  # noqa: S301 - our own model
        _ModelCache.version = row.version
    return _ModelCache.version, _ModelCache.pipeline


def triage_text(text: str, *, language_hint: str = "", terms=None, model=None) -> TriageResult:
    """Classifies one text. ``terms`` and ``model`` can be passed in by bulk
    callers so they are looked up once per batch, not per message."""
    language = detect_language(text, language_hint)
    score, sentiment = sentiment_of(text)
    categories = sensitive_categories_of(text, language, terms)
    intent, reasons = rule_intent(text, language)
    classified_by = RULES_VERSION
    version, pipeline = model if model is not None else (None, None)
    if pipeline is not None and intent in (Intent.OTHER, Intent.INQUIRY, Intent.SIMPLE_QUERY):
        # Rules decide the clear cases; the organisation's model decides the ambiguous ones.
        predicted = str(pipeline.predict([text])[0])
        if predicted in Intent.values:
            reasons.append(f"model {version} -> {predicted}")
            intent = predicted
            classified_by = f"{RULES_VERSION}+{version}"
    if categories:
        reasons.append("sensitive terms: " + ", ".join(categories))
        intent = Intent.SENSITIVE
    return TriageResult(sentiment=sentiment, sentiment_score=score, intent=intent, classified_by=classified_by,
                        language=language, is_sensitive=bool(categories), sensitive_categories=categories,
                        reasons=reasons)


def is_influencer(followers: int, verified: bool, settings_row: TriageSettings | None = None) -> bool:
    settings_row = settings_row or TriageSettings.current()
    return followers >= settings_row.influencer_followers or (verified and settings_row.verified_is_influencer)
