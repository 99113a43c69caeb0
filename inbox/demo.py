"""The demo inbox: service windows, triage and routing settings, saved
replies and about 2,000 realistic messages over the last thirty days, with
the history of a team that works: most conversations answered and resolved
in the past, by the right people, inside their SLA; a few late and
escalated; a handful new or open now (``inbox.demo_history``).

Loaded by ``seed_demo`` (registered in ``accounts.demo_hooks.SEEDERS``)
after the demo people and social accounts exist. Idempotent: settings are
get-or-create, every message has a deterministic platform id ("demo-00001")
so the one ingest service counts a second load as duplicates, and the
history is only written for conversations this very load created.

The messages are generated from templates with ``random.Random(2026)``;
only their times move with "now" (more of them recently, and more while each
channel is staffed), so every page shows a live team whenever the demo is
loaded. Ingest goes through ``ingest_messages`` (the same triage, routing and
SLA code as production) in batches of 500."""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import Department, User
from security.audit import audit_write
from security.models import SocialAccount

from . import sla
from .clock import WindowSpec, is_open_at
from .ingest import ingest_messages, thread_key_for, validate_item
from .models import (
    Conversation,
    Intent,
    MessageKind,
    Priority,
    QueueSettings,
    RoutingRule,
    SavedReply,
    ServicePeriod,
    ServiceWindow,
    TriageSettings,
)

SEED = 2026
DEFAULT_MESSAGES = 2000
BATCH_SIZE = 500
DAYS = 30
# Share of the messages drawn outside staffed hours that are kept: customers write at night and at the
# weekend too, only less.
QUIET_HOURS_KEPT = 0.05
PREFIX = "demo-"

MADRID, NEW_YORK, COPENHAGEN = "Europe/Madrid", "America/New_York", "Europe/Copenhagen"
MASTODON, X, LINKEDIN = "@brand@social.example", "@brand_care", "brand-careers"
WEEKDAYS = range(5)

# handle -> (time zone, 24/7, holiday country, [(weekday, opens_minute, closes_minute)])
WINDOWS = {
    MASTODON: (MADRID, True, "", []),
    X: (NEW_YORK, False, "US", [(d, o, c) for d in WEEKDAYS for o, c in ((9 * 60, 13 * 60), (14 * 60, 18 * 60))]),
    LINKEDIN: (COPENHAGEN, False, "DK", [(d, 8 * 60, 16 * 60) for d in WEEKDAYS]),
}

# name, position, conditions, department slug, priority
ROUTING_RULES = [
    ("Sales leads to Sales", 10, {"intent": Intent.SALES_LEAD}, "sales", Priority.HIGH),
    ("Billing and refunds to Finance", 20, {"keywords": "invoice, billing, refund, factura, reembolso"},
     "finance", Priority.NORMAL),
    ("Praise to Marketing", 30, {"intent": Intent.PRAISE}, "marketing", Priority.LOW),
    ("Indonesian to Customer service", 40, {"language": "id"}, "customer-service", Priority.NORMAL),
    ("Jobs and careers to HR", 50, {"keywords": "job, career, vacancy, empleo"}, "hr", Priority.NORMAL),
]

# department slug, title, language, body
SAVED_REPLIES = [
    ("customer-service", "Order status: ask for the number", "en",
     "Hi! Sorry for the wait. Could you send us your order number by direct message? We'll check it right away."),
    ("customer-service", "Refund under way", "en",
     "Thanks for your patience. Your refund has been approved and should reach your account in 3-5 working days."),
    ("customer-service", "Damaged item: replacement", "en",
     "We're sorry it arrived damaged. Please send us a photo and your order number by DM and we'll ship a "
     "replacement at no cost."),
    ("customer-service", "Estado del pedido: número", "es",
     "¡Hola! Perdona la espera. ¿Nos envías el número de pedido por mensaje privado? Lo revisamos enseguida."),
    ("customer-service", "Reembolso en curso", "es",
     "Gracias por tu paciencia. Tu reembolso está aprobado y llegará en 3-5 días laborables."),
    ("sales", "Quote request: contact details", "en",
     "Thanks for your interest! Our sales team prepares quotes for volume orders within one working day. "
     "Could you DM us your company name and an email address?"),
    ("hr", "Open positions", "en",
     "Thanks for your interest in working with us! All open positions are listed on our careers page; "
     "you can apply there directly."),
    ("hr", "Application status", "en",
     "Thanks for applying! Our recruiters answer every application within 15 working days. "
     "We'll be in touch by email."),
]

# --- templates -------------------------------------------------------------

# language -> intent -> texts; placeholders: order, product, city, day, qty, url, paper, agent
TEMPLATES: dict[str, dict[str, list[str]]] = {
    "en": {
        Intent.SIMPLE_QUERY: [
            "What are your opening hours on {day}?",
            "Do you ship to {country}?",
            "Where is your nearest store in {city}?",
            "When do you open on public holidays?",
            "What time does the {city} store close today?",
            "Do you ship the {product} to the islands?",
            "Is there a size guide for the {product}?",
        ],
        Intent.INQUIRY: [
            "Hi, my order #{order} was marked as shipped on {day} but the tracking page shows nothing yet. "
            "Could you check?",
            "Order number {order}: I need to change the delivery details to my office in {city}. "
            "Who can help with that?",
            "Can you confirm whether order #{order} includes the charger for the {product}?",
            "I sent back order #{order} last week, how long until the return is processed on your side?",
            "Could someone look into order no. {order}? The invoice shows a different {product} colour.",
            "Billing question about order #{order}: the VAT number on the invoice is missing.",
            "My order #{order} arrived without the manual for the {product}. Can you email me a copy?",
        ],
        Intent.COMPLAINT: [
            "My {product} arrived broken and nobody answers my emails. Really disappointed.",
            "Still waiting for my refund for order #{order}, it has been three weeks. Unacceptable.",
            "Worst customer service ever. The {product} stopped working after two days.",
            "I was charged twice for order #{order}. Please fix this.",
            "The app is not working again, I can't log in since {day}.",
            "Parcel never arrived and the courier says it was delivered. Awful experience.",
            "Terrible quality, the strap of my {product} snapped on day one.",
        ],
        Intent.PRAISE: [
            "Thank you {agent}! The team sorted my {product} issue in minutes.",
            "Love the new {product}, great job on the design!",
            "Amazing service at the {city} store today, well done to the staff.",
            "Excellent support, my issue was solved on the first reply. Thanks!",
            "Awesome packaging, the {product} arrived a day early.",
        ],
        Intent.SALES_LEAD: [
            "How much is the {product} for a bulk order of {qty} units?",
            "Can we get a quote for {qty} {product}s for our office in {city}?",
            "We're looking to buy {qty} units for our team. What is your pricing for companies?",
            "Interested in a purchase for our school in {city}. Who should I talk to about pricing?",
        ],
        Intent.SENSITIVE: [
            "My lawyer will be in touch about order #{order}. I am considering legal action.",
            "If this isn't fixed by {day} I will sue. I have already spoken to an attorney.",
            "The {product} overheated and caught fire in my kitchen. This is dangerous.",
            "My son was injured by the {product}, the edge is sharp and unsafe.",
            "I received someone else's parcel with their name and phone on it. Is this a data breach?",
            "My account was hacked and my personal data is visible to strangers. GDPR request incoming.",
            "Hi, I'm a journalist at {paper} working on delivery delays. Could your press office comment?",
            "Reporter from {paper} here: press enquiry about the rumoured {product} recall.",
        ],
        Intent.SPAM: [
            "Crypto giveaway!!! Click here to claim free money {url}",
            "Follow back and DM for promo, earn $500 a day from home {url}",
            "Click here for 10k followers in one day {url}",
        ],
        Intent.OTHER: [
            "Just saw your billboard in {city} 👀",
            "Your {product} ad keeps showing up on my timeline.",
            "Happy {day} everyone!",
            "Our whole office uses the {product} every day.",
            "Spotted your stand at the trade fair in {city}.",
        ],
    },
    "es": {
        Intent.SIMPLE_QUERY: [
            "¿Cuál es el horario de la tienda de {city}?",
            "¿Hacen envíos a {country}?",
            "¿Dónde está la tienda más cercana en {city}?",
            "¿A qué hora abren el {day}?",
        ],
        Intent.INQUIRY: [
            "Hola, mi pedido #{order} sigue en tránsito desde el {day}. ¿Podéis revisarlo?",
            "Pedido #{order}: necesito cambiar la dirección de entrega a mi oficina de {city}.",
            "Necesito la factura del pedido #{order} con los datos de mi empresa.",
            "¿El pedido #{order} incluye el cargador del {product}?",
        ],
        Intent.COMPLAINT: [
            "Mi {product} llegó roto y nadie responde. Muy decepcionado.",
            "Todavía espero el reembolso del pedido #{order}. Inaceptable.",
            "El {product} no funciona desde el primer día, pésimo servicio.",
            "Horrible experiencia, el paquete nunca llegó.",
        ],
        Intent.PRAISE: [
            "¡Gracias por la ayuda tan rápida! Me encanta el {product}.",
            "Excelente atención en la tienda de {city}, genial el equipo.",
            "Increíble servicio, gracias {agent}.",
        ],
        Intent.SALES_LEAD: [
            "¿Cuánto cuesta el {product} si compramos {qty} unidades?",
            "Queremos comprar {qty} unidades para nuestra oficina, ¿nos pasáis un presupuesto?",
            "¿Tenéis descuento para empresas? Nos interesa el {product}.",
        ],
        Intent.SENSITIVE: [
            "Mi abogado ya tiene el caso del pedido #{order}, vamos a presentar una demanda.",
            "El {product} se sobrecalentó y provocó un pequeño incendio. Es peligroso.",
            "Han publicado mis datos personales, esto es una filtración de datos.",
            "Soy periodista de {paper} y preparo un reportaje sobre los retrasos. ¿Podemos hablar?",
        ],
        Intent.SPAM: [
            "¡Dinero gratis! Haz clic aquí {url}",
            "Gana dinero gratis desde casa, haz clic aquí {url}",
        ],
        Intent.OTHER: [
            "Acabo de ver vuestro anuncio en {city} 😄",
            "Buenos días desde {city}.",
            "Mi hermano también tiene el {product}.",
        ],
    },
    "ro": {
        Intent.SIMPLE_QUERY: ["La ce oră deschideți {day}?", "Unde este magazinul din {city}?"],
        Intent.INQUIRY: ["Bună ziua, comanda #{order} nu a fost livrată încă. Puteți verifica?",
                         "Comanda #{order} a ajuns fără cablul pentru {product}. Ce pot face?"],
        Intent.COMPLAINT: ["Produsul a venit stricat și nimeni nu răspunde. Sunt foarte dezamăgit.",
                           "Aștept rambursare pentru comanda #{order} de trei săptămâni."],
        Intent.PRAISE: ["Mulțumesc pentru ajutor, echipa voastră este super!", "Serviciu excelent, mulțumesc!"],
        Intent.SALES_LEAD: ["Cât costă {qty} bucăți pentru firma noastră?", "Vrem o ofertă pentru {qty} bucăți."],
        Intent.SENSITIVE: ["Am vorbit deja cu un avocat despre comanda #{order}.",
                           "Aparatul a luat foc, este periculos!",
                           "Sunt jurnalist la {paper} și aș vrea un punct de vedere."],
        Intent.SPAM: ["Bani gratis! Intră pe {url}"],
        Intent.OTHER: ["Salutări din {city}!", "Am văzut reclama voastră azi."],
    },
    "id": {
        Intent.SIMPLE_QUERY: ["Jam buka toko di {city} hari Minggu?", "Kapan buka lagi setelah libur?",
                              "Toko terdekat di mana?"],
        Intent.INQUIRY: ["Pesanan #{order} saya belum sampai, bisa dicek statusnya?",
                         "Mohon bantu cek pesanan #{order}, alamat pengiriman salah."],
        Intent.COMPLAINT: ["Barang yang saya terima rusak, sangat kecewa.",
                           "Aplikasi tidak berfungsi sejak kemarin, buruk sekali."],
        Intent.PRAISE: ["Terima kasih, pelayanannya luar biasa!", "Mantap, produknya keren!"],
        Intent.SALES_LEAD: ["Berapa harga untuk {qty} unit?", "Mau beli {qty} unit untuk kantor, ada diskon?"],
        Intent.SENSITIVE: ["Saya akan tuntut perusahaan ini lewat pengacara.",
                           "Produk ini berbahaya, anak saya terluka.",
                           "Saya wartawan dari {paper}, ingin konfirmasi soal penarikan produk."],
        Intent.SPAM: ["Uang gratis! Klik di sini {url}"],
        Intent.OTHER: ["Salam dari {city}!", "Iklannya lucu sekali 😂"],
    },
    "da": {
        Intent.SIMPLE_QUERY: ["Hvad er jeres åbningstider i weekenden?", "Hvor er jeres butik i {city}?"],
        Intent.INQUIRY: ["Min ordre #{order} er ikke kommet endnu. Kan I se på den?",
                         "Ordre #{order} mangler opladeren til {product}. Hvad gør jeg?"],
        Intent.COMPLAINT: ["Varen kom i stykker, og ingen svarer. Meget skuffet.", "Appen virker ikke igen."],
        Intent.PRAISE: ["Tak for den hurtige hjælp, fantastisk service!", "Super godt produkt, elsker det."],
        Intent.SALES_LEAD: ["Hvad koster {qty} stk. til vores kontor?", "Kan vi få et tilbud på {qty} enheder?"],
        Intent.SENSITIVE: ["Min advokat kontakter jer om ordre #{order}.",
                           "Opladeren startede en brand, det er farligt.",
                           "Jeg er journalist på {paper} og vil gerne høre om et datalæk hos jer."],
        Intent.SPAM: ["Gratis penge! Klik her {url}"],
        Intent.OTHER: ["Hilsner fra {city}.", "Så jeres reklame i toget i morges."],
    },
}

# The careers channel: job questions in the languages it sees (routed to HR by keyword).
CAREERS_TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "en": [
        (Intent.SIMPLE_QUERY, "Is there a vacancy in your marketing team in {city}?"),
        (Intent.INQUIRY, "I applied for the {role} job three weeks ago and have not heard back. "
                         "Could you tell me where my application stands?"),
        (Intent.INQUIRY, "What does the career path look like for a {role} at your company, "
                         "and how often are people promoted?"),
        (Intent.SIMPLE_QUERY, "Do you offer internships or junior jobs for graduates?"),
        (Intent.PRAISE, "Loved the career day at your {city} office, thanks to the HR team!"),
    ],
    "es": [
        (Intent.SIMPLE_QUERY, "¿Hay alguna oferta de empleo en {city}?"),
        (Intent.INQUIRY, "Envié mi candidatura para el puesto de {role} hace dos semanas, "
                         "¿sabéis algo del proceso de empleo?"),
    ],
    "da": [(Intent.SIMPLE_QUERY, "Har I ledige job i {city}?")],
}

FOLLOW_UPS = {
    "en": ["Any update on this?", "I sent you a DM with the details.", "Adding a photo of the box.",
           "Same problem for my sister, by the way.", "Thanks, DM sent."],
    "es": ["¿Alguna novedad?", "Os he enviado los detalles por privado.", "Gracias, ya os escribí por privado."],
    "ro": ["Vreo noutate?", "V-am trimis detaliile în privat."],
    "id": ["Ada kabar?", "Sudah saya kirim detailnya lewat DM."],
    "da": ["Noget nyt?", "Jeg har sendt detaljerne i en DM."],
}

NAMES = {
    "en": ["Olivia Brown", "James Carter", "Emma Wilson", "Noah Davies", "Ava Taylor", "Liam Evans",
           "Mia Thomas", "Ethan Walker", "Grace Hughes", "Lucas Wright", "Chloe King", "Henry Scott"],
    "es": ["María García", "Javier López", "Lucía Martínez", "Pablo Sánchez", "Carmen Ruiz", "Diego Torres",
           "Elena Navarro", "Sergio Romero", "Laura Gil", "Andrés Molina"],
    "ro": ["Andrei Popescu", "Ioana Ionescu", "Mihai Dumitru", "Elena Stan", "Radu Georgescu"],
    "id": ["Budi Santoso", "Siti Rahmawati", "Agus Pratama", "Dewi Lestari", "Rizky Hidayat"],
    "da": ["Mette Jensen", "Lars Nielsen", "Sofie Hansen", "Mads Pedersen", "Freja Andersen"],
}
FILL = {
    "product": ["wireless headphones", "smart kettle", "running shoes", "coffee grinder", "backpack",
                "phone case", "desk lamp", "robot vacuum", "fitness watch"],
    "city": ["Madrid", "Barcelona", "Valencia", "New York", "Boston", "Copenhagen", "Aarhus", "Bucharest",
             "Cluj", "Jakarta", "Bandung", "London"],
    "country": ["Portugal", "Canada", "Mexico", "Norway", "Romania", "Indonesia"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "paper": ["The Daily Ledger", "El Diario Digital", "Metro News", "Berlingske Online", "Kompas Daily"],
    "role": ["data analyst", "store manager", "UX designer", "warehouse lead", "marketing specialist"],
    "agent": ["Cora", "Rita", "Sam", "Lina"],
}

LANGUAGE_WEIGHTS = {MASTODON: {"en": 42, "es": 33, "ro": 9, "id": 8, "da": 8},
                    X: {"en": 60, "es": 25, "ro": 5, "id": 10},
                    LINKEDIN: {"en": 55, "es": 15, "da": 25, "ro": 5}}
ACCOUNT_WEIGHTS = {MASTODON: 50, X: 35, LINKEDIN: 15}
INTENT_WEIGHTS = {Intent.SIMPLE_QUERY: 17, Intent.INQUIRY: 18, Intent.COMPLAINT: 20, Intent.PRAISE: 13,
                  Intent.SALES_LEAD: 10, Intent.SENSITIVE: 7, Intent.SPAM: 6, Intent.OTHER: 9}
INSTANCES = ["mastodon.social", "social.example", "fosstodon.org", "mas.to"]


@dataclass
class DemoThread:
    """One generated conversation: what ``demo_history`` needs to give it a past."""

    handle: str            # the social account's handle
    thread_key: str
    language: str
    author_handle: str
    started_at: datetime
    last_at: datetime
    intent: str            # the template's intent (triage decides the conversation's own)
    first_pmid: str = ""
    number: int = 0        # seeds the thread's own random streams


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()), k=1)[0]


def _fill(rng: random.Random, template: str) -> str:
    values = {key: rng.choice(options) for key, options in FILL.items()}
    values.update(order=str(rng.randint(100_000, 999_999)), qty=str(rng.choice([20, 50, 100, 250, 500])),
                  url=f"https://bit.example/{rng.randrange(16**6):06x}")
    return template.format(**values)


class _Authors:
    """New people mostly, some returning customers; a few influencers."""

    def __init__(self, rng: random.Random):
        self.rng, self.by_account, self.count = rng, {}, 0
        self.language_of: dict[str, str] = {}  # a returning customer writes in their own language

    def pick(self, handle: str, platform: str, language: str) -> dict:
        pool = self.by_account.setdefault(handle, [])
        if pool and self.rng.random() < 0.2:
            return self.rng.choice(pool)
        rng = self.rng
        self.count += 1
        name = rng.choice(NAMES[language])
        slug = name.lower().replace(" ", "_").encode("ascii", "ignore").decode() + str(rng.randint(1, 999))
        if platform == "mastodon":
            user_handle = f"@{slug}@{rng.choice(INSTANCES)}"
        elif platform == "linkedin":
            user_handle = slug.replace("_", "-")
        else:
            user_handle = f"@{slug}"
        influencer = rng.random() < 0.035
        followers = rng.randint(10_000, 450_000) if influencer else min(int(rng.lognormvariate(5.0, 1.4)), 9_500)
        author = {"id": f"{PREFIX}{platform}-{self.count:05d}", "handle": user_handle, "display_name": name,
                  "followers": followers, "verified": influencer and rng.random() < 0.5 or rng.random() < 0.005}
        pool.append(author)
        self.language_of[author["id"]] = language
        return author


def window_specs() -> dict[str, WindowSpec]:
    """The demo channels' service windows as the clock describes them (what
    ``_load_configuration`` stores), for generating without a database."""
    return {handle: WindowSpec(time_zone=tz, always_open=always_open, holiday_country=country,
                               periods={d: tuple((o, c) for day, o, c in periods if day == d)
                                        for d in {day for day, _o, _c in periods}})
            for handle, (tz, always_open, country, periods) in WINDOWS.items()}


def _staffed(spec: WindowSpec, instant: datetime) -> bool:
    """When people write most: while the channel is staffed, or in the
    local daytime (08:00-22:59) of a channel watched around the clock."""
    if spec.always_open:
        return 8 <= instant.astimezone(spec.tz).hour <= 22
    return is_open_at(spec, instant)


def _start_time(rng: random.Random, now: datetime, spec: WindowSpec) -> datetime:
    """A thread's first message: over the last ``DAYS`` days, three times as
    dense today as a month ago, mostly while the channel is staffed."""
    span = DAYS * 24 * 60 - 3
    for _attempt in range(20):
        # Inverse of the CDF of the density (3 - 2x) / 2 on [0, 1], x = age / span: newest 3x oldest.
        x = (3 - math.sqrt(9 - 8 * rng.random())) / 2
        started = now - timedelta(minutes=3 + x * span)
        if _staffed(spec, started) or rng.random() < QUIET_HOURS_KEPT:
            return started
    return started


def generate(*, now: datetime, messages: int = DEFAULT_MESSAGES, platforms: dict[str, str] | None = None,
             specs: dict[str, WindowSpec] | None = None) -> tuple[dict[str, list[dict]], list[DemoThread]]:
    """The demo messages per account handle (ingest format, oldest first) and
    the threads they form. Deterministic: the texts and people of each
    platform id never change, and the first n messages do not depend on
    ``messages``. The times follow ``now`` and the channels' service
    windows (``specs``, by default the demo's own) through a random stream
    of each thread's own, so they never shift the texts."""
    rng = random.Random(SEED)  # noqa: S311 - demo data, not security
    platforms = platforms or {MASTODON: "mastodon", X: "x", LINKEDIN: "linkedin"}
    specs = specs or window_specs()
    authors = _Authors(rng)
    items: dict[str, list[dict]] = {handle: [] for handle in ACCOUNT_WEIGHTS}
    threads: list[DemoThread] = []
    total, n_thread = 0, 0
    latest = now - timedelta(minutes=1)
    while total < messages:
        n_thread += 1
        handle = _weighted(rng, ACCOUNT_WEIGHTS)
        author = authors.pick(handle, platforms[handle], _weighted(rng, LANGUAGE_WEIGHTS[handle]))
        language = authors.language_of[author["id"]]
        if handle == LINKEDIN and language in CAREERS_TEMPLATES and rng.random() < 0.6:
            intent, template = rng.choice(CAREERS_TEMPLATES[language])
        else:
            intent = _weighted(rng, INTENT_WEIGHTS)
            template = rng.choice(TEMPLATES[language][intent])
        kind = _weighted(rng, {MessageKind.MENTION: 50, MessageKind.COMMENT: 30, MessageKind.DIRECT: 20})
        if intent == Intent.SPAM:
            kind = MessageKind.MENTION
        timing = random.Random(SEED * 1_000_003 + n_thread)  # noqa: S311 - demo data
        started = _start_time(timing, now, specs[handle])
        size = 1 if rng.random() < 0.65 else rng.choice([2, 2, 2, 3, 3, 4, 5, 6])
        thread_id = f"{PREFIX}t{n_thread:05d}"
        sent_at, previous = started, ""
        thread = None
        for position in range(size):
            if total >= messages:
                break
            total += 1
            pmid = f"{PREFIX}{total:05d}"
            text = _fill(rng, template) if position == 0 else rng.choice(FOLLOW_UPS[language])
            item = {"platform_message_id": pmid, "text": text, "sent_at": sent_at.isoformat(), "kind": kind,
                    "author": author, "language": language}
            if kind != MessageKind.DIRECT:
                item["thread_id"] = thread_id
                if previous:
                    item["in_reply_to"] = previous
                    item["kind"] = MessageKind.COMMENT
            if platforms[handle] == "mastodon" and kind != MessageKind.DIRECT:
                item["url"] = f"https://social.example/@brand/{110_000_000 + total}"
            items[handle].append(item)
            if thread is None:
                thread = DemoThread(handle=handle, thread_key="", language=language, author_handle=author["handle"],
                                    started_at=started, last_at=sent_at, intent=intent, first_pmid=pmid,
                                    number=n_thread)
            thread.last_at = sent_at
            previous = pmid
            sent_at = min(sent_at + timedelta(minutes=timing.uniform(4, 360)), latest)
        message, _errors = validate_item(0, items[handle][-1])
        thread.thread_key = thread_key_for(message)
        threads.append(thread)
    for handle_items in items.values():
        handle_items.sort(key=lambda i: i["sent_at"])
    return items, threads


# --- configuration ------------------------------------------------------------

def _load_configuration(admin: User, accounts: dict[str, SocialAccount], departments: dict[str, Department]) -> int:
    created = 0
    for handle, (tz, always_open, country, periods) in WINDOWS.items():
        window, was_created = ServiceWindow.objects.get_or_create(
            account=accounts[handle], defaults={"time_zone": tz, "always_open": always_open,
                                                "holiday_country": country})
        if was_created:
            ServicePeriod.objects.bulk_create([ServicePeriod(window=window, weekday=d, opens_minute=o, closes_minute=c)
                                               for d, o, c in periods])
            audit_write(actor=admin, action="service_window.create", target_type="inbox.servicewindow",
                        target_id=str(window.pk), target_repr=str(window), account_id=accounts[handle].pk,
                        after={"time_zone": tz, "always_open": always_open, "holiday_country": country,
                               "periods": [list(p) for p in periods]})
            created += 1
    settings_row = TriageSettings.current()
    if settings_row.default_department_id is None:
        settings_row.default_department = departments["customer-service"]
        settings_row.save(update_fields=["default_department"])
        audit_write(actor=admin, action="triage_settings.change", target_type="inbox.triagesettings",
                    target_id=str(settings_row.pk), target_repr="Triage settings",
                    after={"default_department": settings_row.default_department_id})
    queue, was_created = QueueSettings.objects.get_or_create(department=departments["customer-service"],
                                                             defaults={"auto_assign": True})
    if was_created:
        audit_write(actor=admin, action="queue_settings.create", target_type="inbox.queuesettings",
                    target_id=str(queue.pk), target_repr=str(queue), after={"auto_assign": True})
    for name, position, conditions, slug, priority in ROUTING_RULES:
        rule, was_created = RoutingRule.objects.get_or_create(
            name=name, defaults={"position": position, "department": departments[slug], "priority": priority,
                                 "created_by": admin, **conditions})
        if was_created:
            audit_write(actor=admin, action="routing_rule.create", target_type="inbox.routingrule",
                        target_id=str(rule.pk), target_repr=name,
                        after={"position": position, "department": slug, "priority": int(priority),
                               **{k: str(v) for k, v in conditions.items()}})
            created += 1
    from .services import saved_reply_create

    for slug, title, language, body in SAVED_REPLIES:
        if not SavedReply.objects.filter(department=departments[slug], title=title).exists():
            saved_reply_create(actor=admin, department=departments[slug], title=title, body=body, language=language)
            created += 1
    return created


# --- the loader -------------------------------------------------------------

def load_demo_inbox(stdout=None, messages: int = DEFAULT_MESSAGES, now: datetime | None = None) -> dict[str, int]:
    """Loads the demo inbox with its history up to ``now`` (default: this
    moment); a second call adds nothing."""
    from .demo_history import write_history

    admin = User.objects.get(username="ada")
    departments = {d.slug: d for d in Department.objects.all()}
    accounts = {a.handle: a for a in SocialAccount.objects.filter(handle__in=list(ACCOUNT_WEIGHTS))}
    with transaction.atomic():
        configured = _load_configuration(admin, accounts, departments)

    now = (now or timezone.now()).replace(microsecond=0)
    specs = {handle: sla.spec_for_account(account) for handle, account in accounts.items()}
    items, threads = generate(now=now, messages=messages, platforms={h: a.platform for h, a in accounts.items()},
                              specs=specs)
    keys = {(t.handle, t.thread_key) for t in threads}
    existing = {(h, k) for h, k in Conversation.objects.filter(
        account__in=list(accounts.values()), thread_key__in={k for _h, k in keys})
        .values_list("account__handle", "thread_key")}

    created = duplicates = 0
    for handle, handle_items in items.items():
        for start in range(0, len(handle_items), BATCH_SIZE):
            result = ingest_messages(account=accounts[handle], items=handle_items[start:start + BATCH_SIZE],
                                     source="demo")
            created, duplicates = created + result.created, duplicates + result.duplicates
            if result.errors:
                raise ValueError(f"demo messages rejected: {result.errors[:3]}")

    counts = {"messages": created, "duplicates": duplicates, "settings": configured}
    fresh, seen = [], set(existing)
    for thread in threads:  # a returning customer's direct messages join one conversation: the first thread wins
        if (thread.handle, thread.thread_key) not in seen:
            seen.add((thread.handle, thread.thread_key))
            fresh.append(thread)
    if fresh:
        with transaction.atomic():
            conversations = {(c.account.handle, c.thread_key): c for c in Conversation.objects.filter(
                account__in=list(accounts.values()), thread_key__in={t.thread_key for t in fresh})
                .select_related("account", "author", "department", "assignee")}
            conversations = {key: c for key, c in conversations.items() if key not in existing}
            counts.update(write_history(fresh, conversations, specs=specs, now=now))
            counts["conversations"] = len(conversations)
            audit_write(actor=admin, action="demo.inbox_loaded", target_type="inbox.conversation",
                        target_repr="demo inbox", after=counts)
    if stdout is not None:
        stdout.write(f"Demo inbox loaded: {created} new messages ({duplicates} already there), "
                     f"{counts.get('conversations', 0)} new conversations, {counts.get('resolved', 0)} resolved, "
                     f"{counts.get('open_now', 0)} open now.")
    return counts
