import pytest
from django.urls import reverse

from accounts.roles import Role
from accounts.services import notify
from security import services
from tests.security.factories import SocialAccountFactory


@pytest.mark.django_db
def test_admin_dashboard_shows_accounts_with_too_few_custodians(admin_user, make_member, client_for):
    account = SocialAccountFactory(handle="@lonely@example.social")
    services.custodian_add(actor=admin_user, account=account, user=make_member(Role.COMMUNITY_MANAGER))
    html = client_for(admin_user).get(reverse("dashboard")).content.decode()
    assert 'data-testid="panel-custody-at-risk"' in html and "@lonely@example.social" in html
    assert "only 1 custodian" in html and "no executive" in html
    # a representative's dashboard does not show it
    rep_html = client_for(make_member()).get(reverse("dashboard")).content.decode()
    assert "panel-custody-at-risk" not in rep_html


@pytest.mark.django_db
def test_custodian_sees_reveal_requests_waiting(admin_user, make_member, client_for):
    account = SocialAccountFactory()
    first, second = make_member(Role.COMMUNITY_MANAGER), make_member(Role.EXECUTIVE)
    for person in (first, second):
        services.custodian_add(actor=admin_user, account=account, user=person)
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret="pw-123456")
    services.reveal_request_create(actor=first, credential=credential, reason="campaign login needed")
    html = client_for(second).get(reverse("dashboard")).content.decode()
    assert 'data-testid="panel-reveals"' in html and "campaign login needed" in html
    assert "pw-123456" not in html


@pytest.mark.django_db
def test_notification_bell_counts_and_marks_read(make_member, client_for):
    user = make_member()
    notify(recipient=user, kind="test", text="<b>Crisis</b> alert", level="alert")
    client = client_for(user)
    html = client.get(reverse("dashboard")).content.decode()
    assert '<span class="count">1</span>' in html
    page = client.get(reverse("notifications")).content.decode()
    assert "&lt;b&gt;Crisis&lt;/b&gt; alert" in page
    client.post(reverse("notifications"))
    assert '<span class="count">' not in client.get(reverse("dashboard")).content.decode()
