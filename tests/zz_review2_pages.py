import pytest
from datetime import timedelta
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.services import membership_end
from inbox.ingest import ingest_messages
from inbox.models import Conversation, SavedReply
from inbox.services import conversation_claim
from tests.accounts.factories import DepartmentFactory, MembershipFactory
from tests.security.factories import SocialAccountFactory

pytestmark = pytest.mark.django_db


def ingest(account, pmid, text="hello", department=None, handle="@ana"):
    r = ingest_messages(account=account, items=[{"platform_message_id": pmid, "text": text,
        "sent_at": (timezone.now() - timedelta(minutes=5)).isoformat(), "author": {"id": "a" + pmid, "handle": handle}}])
    assert not r.errors, r.errors
    c = Conversation.objects.get(account=account, thread_key=f"thread:{pmid}")
    if department is not None:
        Conversation.objects.filter(pk=c.pk).update(department=department)
        c.refresh_from_db()
    return c


@pytest.fixture
def world(make_member, admin_user):
    care = DepartmentFactory(name="Customer care")
    mkt = DepartmentFactory(name="Marketing")
    account = SocialAccountFactory()
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE, department=care, username="rita")
    return dict(care=care, mkt=mkt, account=account, rep=rep, admin=admin_user)


def test_triage_settings_title(world, client_for):
    r = client_for(world["admin"]).get(reverse("inbox:triage-settings"))
    html = r.content.decode()
    t = html[html.index("<title>"):html.index("</title>")]
    print("STATUS", r.status_code, "TITLE:", t[:300])


def test_my_work_after_leaving(world, client_for, make_member):
    c = ingest(world["account"], "1", "secret parcel issue", world["care"], handle="@hidden_author")
    rep = User.objects.get(pk=world["rep"].pk)
    # rep also in marketing so they keep a membership
    MembershipFactory(user=rep, department=world["mkt"], role=Role.DEPARTMENT_REPRESENTATIVE)
    conversation_claim(actor=rep, conversation=c)
    membership_end(actor=world["admin"], membership=rep.memberships.get(department=world["care"]))
    client = client_for(rep)
    print("DETAIL", client.get(reverse("inbox:conversation", args=[c.pk])).status_code)
    html = client.get(reverse("dashboard")).content.decode()
    print("DASH leaks author:", "@hidden_author" in html)
    r = client.get(reverse("inbox:list") + "?mine=1")
    print("mine count", r.content.decode().count("conv-row"))


def test_odd_inputs_pages(world, client_for):
    c = ingest(world["account"], "1", "x", world["care"])
    client = client_for(world["rep"])
    big = "9" * 30
    for url in [
        reverse("inbox:list") + "?queue=" + big,
        reverse("inbox:list") + "?department=" + big,
        reverse("inbox:list") + "?account=" + big,
        reverse("inbox:list") + "?after=null|" + big,
        reverse("inbox:list") + "?after=2025-01-01T00:00:00%2B00:00|" + big,
        reverse("inbox:list") + "?priority=abc",
        reverse("inbox:conversation", args=[c.pk]) + "?saved=abc",
        reverse("inbox:conversation", args=[c.pk]) + "?saved=" + big,
        reverse("inbox:conversation", args=[c.pk]) + "?queue=" + big,
        reverse("search") + "?q=" + "a" * 5000,
    ]:
        try:
            r = client.get(url)
            print(r.status_code, url[:90])
        except Exception as e:
            print("EXC", type(e).__name__, e, url[:90])
    for name, data in [("inbox:assign", {"assignee": "abc"}), ("inbox:assign", {"assignee": big}),
                       ("inbox:route", {"department": big}), ("inbox:route", {"department": "abc"}),
                       ("inbox:status", {}), ("inbox:intent", {"intent": "zzz"}), ("inbox:tag-remove", {}),
                       ("inbox:tag-add", {"name": "x" * 61}), ("inbox:note", {"body": "a\x00b"}),
                       ("inbox:reply", {"body": ""})]:
        try:
            r = client.post(reverse(name, args=[c.pk]), data)
            print(r.status_code, name, data if len(str(data)) < 60 else "...")
        except Exception as e:
            print("EXC", type(e).__name__, e, name)
