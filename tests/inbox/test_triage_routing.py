import pytest
from django.core.management import call_command

from accounts.models import Department
from inbox.ingest import ingest_messages
from inbox.models import Conversation, IntentCorrection, Message, RoutingRule, TriageModel, TriageSettings
from inbox.services import conversation_set_intent
from inbox.triage import RULES_VERSION, triage_text
from tests.accounts.factories import DepartmentFactory
from tests.security.factories import SocialAccountFactory


def item(pmid, text, *, followers=0, verified=False, language=""):
    return {"platform_message_id": pmid, "text": text, "sent_at": "2026-11-27T10:00:00Z", "language": language,
            "author": {"id": f"a{pmid}", "handle": f"@a{pmid}", "followers": followers, "verified": verified}}


@pytest.mark.parametrize("text,intent", [
    ("My order #123456 never arrived, this is terrible", "complaint"),
    ("What are your opening hours?", "simple_query"),
    ("Thank you, great job with the new app!", "praise"),
    ("How much is the pricing for a bulk order of 500 units?", "sales_lead"),
    ("I will contact my lawyer about this", "sensitive"),
    ("Click here for free money!!!", "spam"),
    ("Mi pedido nunca llegó, es inaceptable", "complaint"),
    ("¿Cuál es el horario de la tienda?", "simple_query"),
    ("Pesanan saya rusak, saya kecewa", "complaint"),
    ("nice weather today", "other"),
])
def test_rules_classify_and_say_which_version(text, intent, db):
    result = triage_text(text)
    assert result.intent == intent, result.reasons
    assert result.classified_by == RULES_VERSION and result.reasons


def test_sentiment_is_scored_and_labelled(db):
    assert triage_text("I love this, thank you so much!").sentiment == "positive"
    assert triage_text("This is the worst service, absolutely awful").sentiment == "negative"
    assert -1 <= triage_text("ok").sentiment_score <= 1


def test_sensitive_terms_are_detected_per_language(db):
    assert triage_text("Voy a hablar con mi abogado").sensitive_categories == ["legal"]
    assert "privacy" in triage_text("You leaked my personal data!").sensitive_categories
    assert "press" in triage_text("I'm a journalist writing for a story").sensitive_categories


@pytest.fixture
def departments(db):
    specialists = DepartmentFactory(name="Specialist team", slug="specialists", is_specialist_team=True)
    service = DepartmentFactory(name="Customer service", slug="customer-service")
    sales = DepartmentFactory(name="Sales", slug="sales")
    settings_row = TriageSettings.current()
    settings_row.default_department = service
    settings_row.influencer_followers = 5000
    settings_row.save()
    return {"specialists": specialists, "service": service, "sales": sales}


@pytest.mark.django_db
def test_routing_to_departments_specialists_and_default(departments):
    RoutingRule.objects.create(name="Leads to sales", position=1, intent="sales_lead", department=departments["sales"],
                               priority=3)
    account = SocialAccountFactory()
    ingest_messages(account=account, items=[
        item("1", "What's the price for 200 licences?"),
        item("2", "My data was leaked in a data breach"),
        item("3", "Nice product", followers=90_000),
        item("4", "hello there"),
    ])
    by_pmid = {m.platform_message_id: m.conversation for m in Message.objects.select_related("conversation")}
    assert by_pmid["1"].department == departments["sales"] and by_pmid["1"].priority == 3
    assert by_pmid["2"].department == departments["specialists"] and by_pmid["2"].is_sensitive
    assert by_pmid["3"].department == departments["specialists"] and by_pmid["3"].is_influencer
    assert by_pmid["4"].department == departments["service"]
    decision = by_pmid["1"].routing_decisions.get()
    assert decision.rule.name == "Leads to sales" and "matched" in decision.reason
    assert "influencer" in by_pmid["3"].routing_decisions.get().reason
    assert by_pmid["4"].routing_decisions.get().rule_name == "default queue"


@pytest.mark.django_db
def test_rule_conditions_keywords_language_sentiment(departments):
    finance = DepartmentFactory(name="Finance", slug="finance")
    RoutingRule.objects.create(name="Angry billing", position=1, keywords="invoice, factura", sentiment="negative",
                               language="es", department=finance)
    account = SocialAccountFactory()
    ingest_messages(account=account, items=[
        item("1", "La factura está mal, es horrible y pésimo", language="es"),
        item("2", "The invoice is wrong, horrible and awful", language="en"),
    ])
    assert Message.objects.get(platform_message_id="1").conversation.department == finance
    assert Message.objects.get(platform_message_id="2").conversation.department == departments["service"]


@pytest.mark.django_db
def test_agent_correction_is_kept_and_train_triage_learns_from_it(departments, admin_user, capsys):
    account = SocialAccountFactory()
    texts = {
        "complaint": ["the app keeps crashing on login", "payment failed and money gone", "screen froze again today",
                      "the delivery guy threw my box", "package came damaged and wet"],
        "sales_lead": ["interested in an enterprise plan for 300 seats", "can your team present to our board",
                       "we want a partnership for our stores", "looking to stock your products in our shop",
                       "need a proposal for our company"],
    }
    n = 0
    for intent, samples in texts.items():
        for text in samples * 2:
            n += 1
            ingest_messages(account=account, items=[item(str(n), f"{text} {n}")])
            conversation = Message.objects.get(platform_message_id=str(n)).conversation
            conversation_set_intent(actor=admin_user, conversation=conversation, intent=intent)
    assert IntentCorrection.objects.count() == 20
    call_command("train_triage", "--holdout", "0.25")
    out = capsys.readouterr().out
    assert "accuracy on held-back corrections" in out
    model = TriageModel.objects.get()
    assert model.training_size >= 15 and 0 <= model.accuracy <= 1
    ingest_messages(account=account, items=[item("new", "we want a proposal for 300 seats for our board")])
    fresh = Message.objects.get(platform_message_id="new")
    assert fresh.classified_by == f"{RULES_VERSION}+{model.version}"
    assert fresh.intent == "sales_lead"
    assert Conversation.objects.get(pk=fresh.conversation_id).intent_source.endswith(model.version)


@pytest.mark.django_db
def test_train_triage_refuses_with_too_few_corrections(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="corrections"):
        call_command("train_triage")
    assert not TriageModel.objects.exists()
    assert Department.objects.count() == 0
