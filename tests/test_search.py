import pytest
from django.urls import reverse

from accounts.roles import Role
from inbox.ingest import ingest_messages
from inbox.models import Conversation
from tests.accounts.factories import DepartmentFactory, UserFactory
from tests.security.factories import SocialAccountFactory


@pytest.fixture
def world(db, make_member):
    service, sales = DepartmentFactory(name="Service"), DepartmentFactory(name="Sales")
    account = SocialAccountFactory(handle="@care@example.social", display_name="Care")
    ingest_messages(account=account, items=[
        {"platform_message_id": "1", "text": "Refund for <b>order</b> 1234?", "sent_at": "2026-11-27T10:00:00Z",
         "author": {"id": "x", "handle": "@xenia", "display_name": "Xenia <script>"}},
        {"platform_message_id": "2", "text": "Refund please", "sent_at": "2026-11-27T10:00:00Z",
         "author": {"id": "y", "handle": "@yusuf", "display_name": "Yusuf"}},
    ])
    Conversation.objects.filter(author__handle="@xenia").update(department=service)
    Conversation.objects.filter(author__handle="@yusuf").update(department=sales)
    return {"service": service, "rep": make_member(department=service)}


@pytest.mark.django_db
def test_search_finds_only_what_the_user_may_see(world, client_for):
    html = client_for(world["rep"]).get(reverse("search"), {"q": "refund"}).content.decode()
    assert 'data-testid="search-conversations"' in html
    assert "Xenia &lt;script&gt;" in html and "Yusuf" not in html and "<script>" not in html


@pytest.mark.django_db
def test_search_people_and_channels(world, client_for, admin_user, make_member):
    UserFactory(first_name="Zora", last_name="Zed")
    admin_html = client_for(admin_user).get(reverse("search"), {"q": "zora"}).content.decode()
    assert 'data-testid="search-people"' in admin_html and "Zora Zed" in admin_html
    rep_html = client_for(world["rep"]).get(reverse("search"), {"q": "zora"}).content.decode()
    assert "Zora Zed" not in rep_html  # not a colleague in a workgroup the rep sees
    exec_html = client_for(make_member(Role.EXECUTIVE)).get(reverse("search"), {"q": "care"}).content.decode()
    assert 'data-testid="search-channels"' in exec_html and "@care@example.social" in exec_html


@pytest.mark.django_db
def test_search_needs_two_characters_and_login(world, client, client_for):
    assert client.get(reverse("search"), {"q": "refund"}).status_code == 302
    response = client_for(world["rep"]).get(reverse("search"), {"q": "r"})
    assert response.status_code == 400 and "at least two characters" in response.content.decode()
