"""What the demo's team wrote: answers in the customer's language, internal
notes, and the tags a conversation's words give it (``inbox.demo_history``)."""

import random

from accounts.models import User

from .models import Conversation, Intent

# --- what the team wrote --------------------------------------------------------

# language -> kind of conversation -> first answer. {name}: the customer's first name, {sign}: the agent's initials.
FIRST_REPLIES = {
    "en": {
        "query": "Hi {name}! Our stores open 10:00-21:00 Monday to Saturday, and we ship to most of Europe and "
                 "North America. Anything else we can help with? ^{sign}",
        "order": "Hi {name}, thanks for the details. Could you DM us your order number and postcode? We'll check "
                 "it with the courier right away. ^{sign}",
        "complaint": "Hi {name}, we're really sorry about this. Please DM us your order number and we'll put it "
                     "right today. ^{sign}",
        "praise": "Thank you so much, {name}! We'll pass this on to the team. ^{sign}",
        "sales": "Hi {name}, thanks for your interest! Our business team prepares volume quotes within one "
                 "working day. Could you DM us your company name and an email address? ^{sign}",
        "sensitive": "Hi {name}, we're sorry to read this and we take it seriously. A specialist from our team "
                     "will contact you by DM today. ^{sign}",
        "careers": "Hi {name}, thanks for your interest in working with us! Every open position is on our careers "
                   "page, and our recruiters answer each application within 15 working days. ^{sign}",
        "other": "Thanks for the shout-out, {name}! ^{sign}",
    },
    "es": {
        "query": "¡Hola {name}! Nuestras tiendas abren de 10:00 a 21:00 de lunes a sábado y enviamos a casi toda "
                 "Europa. ¿Te ayudamos con algo más? ^{sign}",
        "order": "Hola {name}, gracias por los detalles. ¿Nos mandas por privado el número de pedido y tu código "
                 "postal? Lo revisamos con la mensajería ahora mismo. ^{sign}",
        "complaint": "Hola {name}, sentimos mucho lo ocurrido. Envíanos por privado el número de pedido y lo "
                     "solucionamos hoy. ^{sign}",
        "praise": "¡Muchas gracias, {name}! Se lo pasamos al equipo. ^{sign}",
        "sales": "Hola {name}, ¡gracias por tu interés! Nuestro equipo de empresas prepara presupuestos en un día "
                 "laborable. ¿Nos mandas por privado el nombre de tu empresa y un correo? ^{sign}",
        "sensitive": "Hola {name}, lamentamos leer esto y nos lo tomamos muy en serio. Una persona especialista "
                     "de nuestro equipo te escribirá hoy por privado. ^{sign}",
        "careers": "Hola {name}, ¡gracias por tu interés! Todas las ofertas están en nuestra página de empleo y "
                   "respondemos cada candidatura en 15 días laborables. ^{sign}",
        "other": "¡Gracias, {name}! ^{sign}",
    },
    "ro": {"default": "Bună {name}, mulțumim pentru mesaj! Ne poți trimite detaliile în privat? Revenim azi. ^{sign}"},
    "id": {"default": "Halo {name}, terima kasih sudah menghubungi kami. Boleh kirim detailnya lewat DM? "
                      "Kami bantu hari ini. ^{sign}"},
    "da": {"default": "Hej {name}, tak for din besked! Send os gerne detaljerne i en DM, så hjælper vi i dag. "
                      "^{sign}"},
}

CLOSING_REPLIES = {
    "en": ["Thanks, {name}! All sorted on our side: you'll get a confirmation email shortly. ^{sign}",
           "Done, {name}: we've fixed it and the details are in your inbox. Have a great day! ^{sign}",
           "Thanks for confirming, {name}. We're closing this one, but write to us any time. ^{sign}"],
    "es": ["¡Gracias, {name}! Ya está resuelto: te llegará un correo de confirmación. ^{sign}",
           "Listo, {name}: lo hemos solucionado y tienes los detalles en tu correo. ¡Buen día! ^{sign}"],
    "ro": ["Mulțumim, {name}! Am rezolvat, vei primi un e-mail de confirmare. ^{sign}"],
    "id": ["Terima kasih, {name}! Sudah kami selesaikan, cek email konfirmasinya ya. ^{sign}"],
    "da": ["Tak, {name}! Det er ordnet, og du får en bekræftelse på mail. ^{sign}"],
}

# Internal notes (the team writes them in English). {who}: a colleague who can see the conversation.
APPROVAL_NOTES = ["@{who} drafted an answer, could you approve it?",
                  "@{who} the answer is ready for your approval, thanks!"]
SENSITIVE_NOTES = ["@{who} answering with the agreed holding line; the follow-up goes by DM.",
                   "@{who} FYI: same wording as the last legal threat, logged in the case file."]
TEAM_NOTES = ["@{who} could you double-check this one? Looks like the courier delay from this week.",
              "@{who} second message from this customer this week, keeping an eye on it.",
              "@{who} FYI, replied with the saved reply, adjusted for the order."]
PLAIN_NOTES = ["Checked the order in the shop system: shipped on time, courier delay.",
               "Customer confirmed by DM, nothing else needed.",
               "Refund already approved by Finance last Tuesday."]

# (tag, words that give it) in the languages of the demo
TAG_WORDS = [
    ("order", ("order", "pedido", "comanda", "pesanan", "ordre")),
    ("refund", ("refund", "reembolso", "rambursare")),
    ("damaged-item", ("broken", "damaged", "snapped", "roto", "stricat", "rusak", "i stykker")),
    ("billing", ("invoice", "billing", "charged", "factura", "vat")),
    ("delivery", ("courier", "tracking", "parcel", "delivered", "arrived", "paquete", "livrată", "sampai")),
    ("app", ("app ", "the app", "aplikasi", "appen")),
]


def _first_name(conversation: Conversation) -> str:
    name = (conversation.author.display_name or conversation.author.handle or "").strip()
    return name.split()[0].lstrip("@").split("@")[0] if name else ""


def _sign(user: User) -> str:
    return ("".join(part[0] for part in user.get_full_name().split()) or user.username[:2]).upper()


def _kind_of(conversation: Conversation) -> str:
    if conversation.is_sensitive:
        return "sensitive"
    if conversation.department_id and conversation.department.slug == "hr":
        return "careers"
    return {Intent.SIMPLE_QUERY: "query", Intent.INQUIRY: "order", Intent.COMPLAINT: "complaint",
            Intent.PRAISE: "praise", Intent.SALES_LEAD: "sales"}.get(conversation.intent, "other")


def reply_text(conversation: Conversation, author: User, rng: random.Random, *, first: bool) -> str:
    language = conversation.language if conversation.language in FIRST_REPLIES else "en"
    if first:
        texts = FIRST_REPLIES[language]
        template = texts.get(_kind_of(conversation)) or texts.get("default") or FIRST_REPLIES["en"]["other"]
    else:
        template = rng.choice(CLOSING_REPLIES[language])
    return template.format(name=_first_name(conversation) or "there", sign=_sign(author))


def tags_of(conversation: Conversation) -> list[str]:
    text = f" {conversation.subject.lower()} "
    tags = [tag for tag, words in TAG_WORDS if any(word in text for word in words)]
    if conversation.intent == Intent.SALES_LEAD:
        tags.append("lead")
    if conversation.department_id and conversation.department.slug == "hr":
        tags.append("careers")
    tags.extend(conversation.sensitive_categories or [])
    if conversation.is_influencer:
        tags.append("influencer")
    return list(dict.fromkeys(tags))[:3]
