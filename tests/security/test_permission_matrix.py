"""Every role x every capability x an account with the right and one
without, on the pages and the API: 404 for what the user may not see, 403
for what they see but may not do."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from security import services
from security.models import Capability
from security.permissions import has_capability
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory

ROLES = [Role.DEPARTMENT_REPRESENTATIVE, Role.COMMUNITY_MANAGER, Role.SPECIALIST, Role.SOCIAL_MEDIA_MANAGER]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("capability", list(Capability))
def test_role_capability_matrix(role, capability, make_member, admin_user, client_for, api_for):
    mine, other = SocialAccountFactory(), SocialAccountFactory()
    person = make_member(role)
    TrainingRecordFactory(user=person)
    services.grant_create(actor=admin_user, account=mine, capability=capability, user=person, reason="matrix",
                          reauthenticated_at=timezone.now())
    person = User.objects.get(pk=person.pk)

    # the right itself
    assert has_capability(person, capability, mine)
    assert not has_capability(person, capability, other)
    for other_capability in set(Capability) - {capability}:
        assert not has_capability(person, other_capability, mine)

    client, api = client_for(person), api_for(person)
    # seeing: the account with the right is visible, the other is a 404
    assert client.get(reverse("security:account-detail", args=[mine.pk])).status_code == 200
    assert client.get(reverse("security:account-detail", args=[other.pk])).status_code == 404
    assert api.get(f"/api/social-accounts/{mine.pk}/").status_code == 200
    assert api.get(f"/api/social-accounts/{other.pk}/").status_code == 404
    access = client.get(reverse("security:my-access")).content.decode()
    assert str(mine) in access and str(capability.label) in access and str(other) not in access

    # doing: only `manage` grants on its own account; elsewhere 404, without it 403
    workgroup = person.memberships.get().workgroup
    target = make_member(workgroup=workgroup)  # a colleague: the people a manage holder may choose from
    grant_post = {"capability": "draft", "user": target.pk, "reason": "help"}
    response = client.post(reverse("security:grant-create", args=[mine.pk]), grant_post)
    assert response.status_code == (302 if capability == Capability.MANAGE else 403)
    assert client.post(reverse("security:grant-create", args=[other.pk]), grant_post).status_code == 404
    if capability == Capability.MANAGE:
        stranger = make_member()  # outside the holder's workgroups: not offered on the page
        response = client.post(reverse("security:grant-create", args=[mine.pk]), {**grant_post, "user": stranger.pk})
        assert response.status_code == 400 and 'data-field="user"' in response.content.decode()
    api_response = api.post("/api/grants/", {**grant_post, "account": mine.pk,
                                             "user": make_member(workgroup=workgroup).pk}, format="json")
    assert api_response.status_code == (201 if capability == Capability.MANAGE else 403)

    # the admin-only pages stay closed whatever the right
    assert client.get(reverse("security:account-create")).status_code == 403
    assert client.get(reverse("security:audit")).status_code == 403
    assert api.get("/api/audit-events/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", ["security:account-list", "security:my-access", "security:audit",
                                      "security:training", "security:custody"])
def test_anonymous_is_sent_to_login(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_executive_sees_every_account_but_cannot_grant(make_member, client_for, admin_user):
    account = SocialAccountFactory()
    executive = make_member(Role.EXECUTIVE)
    client = client_for(executive)
    assert client.get(reverse("security:account-detail", args=[account.pk])).status_code == 200
    assert client.get(reverse("security:audit")).status_code == 200
    response = client.post(reverse("security:grant-create", args=[account.pk]),
                           {"capability": "draft", "user": make_member().pk, "reason": "x"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_department_members_see_the_accounts_their_department_uses(make_member, client_for, admin_user):
    from tests.accounts.factories import DepartmentFactory

    sales = DepartmentFactory(name="Sales")
    account = services.account_create(actor=admin_user, platform="mastodon", handle="@sales@example.social",
                                      departments=[sales])
    member = make_member(department=sales)
    assert client_for(member).get(reverse("security:account-detail", args=[account.pk])).status_code == 200
    outsider = make_member()
    assert client_for(outsider).get(reverse("security:account-detail", args=[account.pk])).status_code == 404
