"""Terms of a message for the reports' topics (inbox.models.TopicDay).

Plain rules, so a reader can tell why a term is there: lowercase and
accent-folded words of at least three letters; hashtags count as their word;
web addresses, @mentions (and e-mail addresses) and numbers are left out, as
are the function words of the message's language (and of English, which
social media mixes in) and the generic words of a chat ("hello", "thanks",
"gracias"). At most ``MAX_TERMS`` terms per message, in the order they first
appear."""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connections, router

MAX_TERMS = 12
MIN_LENGTH = 3
MAX_LENGTH = 40  # TopicDay.term; longer runs of letters are not words anyone searches for

# Web addresses and anything with an @ (a mention such as @ana or @ana@mastodon.social, an e-mail address).
_DROPPED = re.compile(r"(?:https?://|www\.)\S+|\S*@\S+", re.IGNORECASE)
# Runs of letters (no digits, no underscore): "#envío2" gives "envio", "3rd" gives nothing.
_LETTERS = re.compile(r"[^\W\d_]+")

# Function words, written accent-folded (as the text is folded before the lookup). Words shorter than
# MIN_LENGTH never become terms, so they are not listed.
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("""
        the and for are but not you your yours with this that these those have has had having was were been being
        from they them their theirs there here what which who whom whose when where why how all any can could would
        should will shall may might must our ours out its his her hers him she about into onto over under again
        then than too very just also only some such does did doing done get got yet still because while each both
        more most other own same off upon via per once ever even now one ive youre dont doesnt didnt isnt wasnt
        arent werent wont cant don doesn didn isn wasn aren weren won couldn wouldn shouldn haven hasn hadn
        let lets myself yourself itself ourselves themselves since without much really someone anyone every
    """.split()),
    "es": frozenset("""
        que para por con una uno unos unas los las del como pero mas muy sin sobre este esta esto estos estas ese
        esa eso esos esas aquel aquella son fue ser estar estoy estas estan estaba han hay has hemos tengo tiene
        tienen mis sus tus nos les porque cuando donde quien cual cuales entre hasta desde tambien todo toda todos
        todas nada otro otra otros otras ella ellos ellas usted ustedes nosotros vosotros mucho mucha poco algo
        sido era eran sea ademas aun asi ante bajo cada mismo misma tan tanto alguna alguno algunos algunas aqui
        alli ahi todavia
    """.split()),
    "ro": frozenset("""
        care este sunt pentru din cum mai dar sau fie fost prin spre catre asta acest aceasta acesta aceste
        acestea acel acea cel cea cei cele lui lor mea meu mele mei tau noi voi ele iar deci daca cand unde avea
        are aveti nici doar inca foarte tot toate toti intr intre dupa fara sub peste langa cine ceva ati avem
        eram era sunteti suntem vreau vreo vreun
    """.split()),
    "da": frozenset("""
        det der den som for med har ikke jeg min mit mine til fra var vil kan skal men eller hvor hvad hvem
        hvorfor hvordan nar ogsa efter over under sin sit sine hun han dem deres jer jeres ved blev bliver
        vaere være hos end mig dig sig noget nogen alle meget mere her dette disse havde vaeret været kun bare
        lige dit din dine vores hans hendes
    """.split()),
    "id": frozenset("""
        dan yang saya tidak ini itu dengan untuk ada sudah belum dari pada akan juga atau karena tapi tetapi bisa
        kami kita anda mereka dia aku kamu sini sana para oleh sebagai dalam lagi masih hanya sangat lebih apa
        siapa bagaimana kenapa mengapa kapan dimana agar supaya jika kalau maka saat telah sedang harus nya pun
        lah kah sih dong deh kok sama buat udah gak nggak tak tdk dgn lewat
    """.split()),
}

# Words of any chat, in any of the languages: greetings, thanks, please, yes/no.
GENERIC_WORDS = frozenset("""
    hello hey hiya thanks thank thx please pls plz dear regards cheers okay yes yeah yep nope lol omg hii
    hola gracias favor porfa buenas buenos dias tardes noches saludos vale
    buna salut multumesc multumim rog mersi
    hej tak tusind venlig hilsen
    halo terima kasih tolong mohon selamat pagi siang sore malam
""".split())

_ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())


def fold(text: str) -> str:
    """Lowercase without accents: "Envío" -> "envio", "și" -> "si" (letters without a decomposition, such as
    the Danish "ø", stay as they are)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _stopwords_for(language: str) -> frozenset[str]:
    language = (language or "").split("-")[0].lower()
    if language not in STOPWORDS:
        return _ALL_STOPWORDS  # unknown language: every list, they are function words only
    return STOPWORDS[language] | STOPWORDS["en"]


def terms_of(text: str, language: str) -> set[str]:
    """The message's topic terms (see the module's docstring)."""
    if not text:
        return set()
    stopwords = _stopwords_for(language)
    terms: dict[str, None] = {}  # insertion-ordered: the first MAX_TERMS distinct terms
    for word in _LETTERS.findall(fold(_DROPPED.sub(" ", text))):
        if not MIN_LENGTH <= len(word) <= MAX_LENGTH or word in stopwords or word in GENERIC_WORDS:
            continue
        terms[word] = None
        if len(terms) >= MAX_TERMS:
            break
    return set(terms)


def day_of(instant: datetime, tz: ZoneInfo | None = None) -> date:
    """The TopicDay day of a message sent at ``instant``: its date in settings.TIME_ZONE."""
    return instant.astimezone(tz or ZoneInfo(settings.TIME_ZONE)).date()


def topic_counts(messages: Iterable[tuple[int, int | None, datetime, str, str]]) -> Counter:
    """(day, account id, department key, term) -> number of messages, for messages given as
    (account id, department id or None, sent_at, text, language)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    counts: Counter = Counter()
    for account_id, department_id, sent_at, text, language in messages:
        day = day_of(sent_at, tz)
        for term in terms_of(text, language):
            counts[(day, account_id, department_id or 0, term)] += 1
    return counts


def add_topic_counts(counts: Counter) -> None:
    """Adds ``counts`` to the TopicDay rollup and their sums over channels and departments to TopicDayTotal:
    one INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite) per chunk of rows, never one query per
    message. Runs in the caller's transaction."""
    from .models import TopicDay, TopicDayTotal

    if not counts:
        return
    totals: Counter = Counter()
    for (day, _account_id, _department_key, term), number in counts.items():
        totals[(day, term)] += number
    _add(TopicDay, ("day", "account_id", "department_key", "term"), counts)
    # Every channel's ingest adds to the same total rows: in a fixed order, so two writers never deadlock.
    _add(TopicDayTotal, ("day", "term"), totals)


def _add(model, keys: tuple[str, ...], counts: Counter) -> None:
    """``messages += n`` for each ``key -> n`` of ``counts``, inserting the rows that are missing."""
    connection = connections[router.db_for_write(model)]
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    columns = (*keys, "messages")
    max_params = connection.features.max_query_params or 5000
    chunk = max(1, min(1000, max_params // len(columns)))
    rows = sorted(counts.items())  # a fixed order: two writers meet the rows in the same order
    # Only quoted identifiers and placeholders are formatted in; every value is a parameter.
    names, key_names, count = ", ".join(qn(c) for c in columns), ", ".join(qn(c) for c in keys), qn("messages")
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        sql = (f"INSERT INTO {table} ({names}) VALUES {', '.join([placeholders] * len(part))} "  # noqa: S608
               f"ON CONFLICT ({key_names}) DO UPDATE SET {count} = {table}.{count} + EXCLUDED.{count}")
        params: list = []
        for key, number in part:
            params.extend((connection.ops.adapt_datefield_value(key[0]), *key[1:], number))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
