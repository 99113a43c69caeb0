"""Re-authentication before the most sensitive actions, on the pages and in
the API (the services' own windows are in test_service_guards.py), and the
grant form offering only what the actor may grant.

Pages without a recent confirmation are sent to /confirm-access/ with a
``next`` back to where the person was; the API answers 403 with
``"code": "reauth_required"``. Within 5 minutes the action goes through."""

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.roles import Role
from security import services
from security.forms import GrantForm
from security.models import Capability, PublishingGrant, RevealRequest
from tests.accounts.factories import PASSWORD, DepartmentFactory, MembershipFactory, UserFactory
from tests.helpers import fresh, reauthenticate
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory, totp_code, totp_device

SECRET = "reauth-Secret-Value-90ac"
FOUR_MINUTES, SIX_MINUTES = timedelta(minutes=4), timedelta(minutes=6)


def assert_sent_to_confirm_access(response, back_to: str):
    assert response.status_code == 302, response.status_code
    location = urlparse(response["Location"])
    assert location.path == reverse("confirm-access")
    assert parse_qs(location.query)["next"] == [back_to]


def assert_reauth_required(response):
    assert response.status_code == 403, response.content
    body = response.json()
    assert body["code"] == "reauth_required"
    assert "5 minutes" in body["detail"]


@pytest.fixture
def account(db):
    return SocialAccountFactory()


@pytest.fixture
def person(make_member):
    user = make_member(first_name="Paula", last_name="Press")
    TrainingRecordFactory(user=user)
    return user


# --- granting on the channel page ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["publish", "approve", "manage"])
def test_page_grant_of_a_sensitive_right_asks_to_confirm_access(admin_user, client_for, account, person,
                                                                 capability):
    client = client_for(admin_user)
    url = reverse("security:grant-create", args=[account.pk])
    channel = "http://testserver" + reverse("security:account-detail", args=[account.pk])
    post = {"capability": capability, "user": person.pk, "reason": "press office"}
    assert_sent_to_confirm_access(client.post(url, post, HTTP_REFERER=channel), channel)
    reauthenticate(client, ago=SIX_MINUTES)
    assert_sent_to_confirm_access(client.post(url, post, HTTP_REFERER=channel), channel)
    assert not PublishingGrant.objects.exists()

    reauthenticate(client, ago=FOUR_MINUTES)
    response = client.post(url, post, HTTP_REFERER=channel)
    assert response.status_code == 302 and response["Location"] == reverse("security:account-detail",
                                                                           args=[account.pk])
    assert PublishingGrant.objects.get().capability == capability


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["draft", "reply"])
def test_page_grant_of_draft_or_reply_needs_no_confirmation(admin_user, client_for, account, person, capability):
    response = client_for(admin_user).post(reverse("security:grant-create", args=[account.pk]),
                                           {"capability": capability, "user": person.pk, "reason": "helps"})
    assert response.status_code == 302
    assert PublishingGrant.objects.get().capability == capability


@pytest.mark.django_db
def test_page_refusal_comes_before_the_confirmation(admin_user, client_for, account, make_member):
    """A grant the rules refuse says why at once, instead of asking for a
    confirmation first and refusing after."""
    untrained = make_member()
    response = client_for(admin_user).post(reverse("security:grant-create", args=[account.pk]),
                                           {"capability": "publish", "user": untrained.pk, "reason": "x"})
    assert response.status_code == 400 and 'data-field="user"' in response.content.decode()


# --- the grant form offers what the actor may grant ------------------------------------------------------------------


def _capability_options(html: str) -> set[str]:
    select = html.split('name="capability"')[1].split("</select>")[0]
    return {value for value in Capability.values if f'value="{value}"' in select}


@pytest.mark.django_db
def test_the_grant_form_offers_an_admin_every_right(admin_user, client_for, account):
    html = client_for(admin_user).get(reverse("security:account-detail", args=[account.pk])).content.decode()
    assert _capability_options(html) == set(Capability.values)


@pytest.mark.django_db
def test_the_grant_form_offers_a_manage_holder_draft_and_reply_in_their_workgroups(admin_user, make_member,
                                                                                  client_for, account):
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    workgroup = manager.memberships.get().workgroup
    services.grant_create(actor=admin_user, account=account, capability="manage", user=manager, reason="runs it",
                          reauthenticated_at=timezone.now())
    html = client_for(manager).get(reverse("security:account-detail", args=[account.pk])).content.decode()
    assert _capability_options(html) == {"draft", "reply"}

    inside, outside = DepartmentFactory(), DepartmentFactory()
    colleague = UserFactory()
    MembershipFactory(user=colleague, department=inside, workgroup=workgroup)
    stranger = UserFactory()
    MembershipFactory(user=stranger, department=outside)  # another workgroup
    form = GrantForm(actor=fresh(manager), account=account)
    assert [value for value, _label in form.fields["capability"].choices] == ["draft", "reply"]
    assert set(form.fields["department"].queryset) == {inside, manager.memberships.get().department}
    assert colleague in form.fields["user"].queryset and stranger not in form.fields["user"].queryset

    # a right that is not offered is refused when posted anyway, next to the field
    response = client_for(manager).post(reverse("security:grant-create", args=[account.pk]),
                                        {"capability": "manage", "user": colleague.pk, "reason": "x"})
    assert response.status_code == 400 and 'data-field="capability"' in response.content.decode()
    response = client_for(manager).post(reverse("security:grant-create", args=[account.pk]),
                                        {"capability": "draft", "department": outside.pk, "reason": "x"})
    assert response.status_code == 400 and 'data-field="department"' in response.content.decode()
    assert not PublishingGrant.objects.filter(user=colleague).exists()
    assert not PublishingGrant.objects.filter(department=outside).exists()


# --- reveal approval, break-glass and offboarding on the pages ------------------------------------------------------


@pytest.fixture
def custody(admin_user, make_member, account):
    requester = make_member(Role.SOCIAL_MEDIA_MANAGER)
    approver = make_member(Role.EXECUTIVE)
    for user in (requester, approver):
        services.custodian_add(actor=admin_user, account=account, user=user)
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret=SECRET)
    request = services.reveal_request_create(actor=requester, credential=credential,
                                             reason="The platform asks us to log in again")
    return {"requester": requester, "approver": approver, "credential": credential, "request": request}


@pytest.mark.django_db
def test_page_reveal_approval_asks_to_confirm_access_rejection_does_not(client_for, custody):
    request = custody["request"]
    client = client_for(custody["approver"])
    url = reverse("security:reveal-decide", args=[request.pk])
    detail = "http://testserver" + reverse("security:reveal-detail", args=[request.pk])
    assert_sent_to_confirm_access(client.post(url, {"decision": "approve"}, HTTP_REFERER=detail), detail)
    reauthenticate(client, ago=SIX_MINUTES)
    assert_sent_to_confirm_access(client.post(url, {"decision": "approve"}, HTTP_REFERER=detail), detail)
    assert RevealRequest.objects.get(pk=request.pk).status == RevealRequest.Status.PENDING
    reauthenticate(client, ago=FOUR_MINUTES)
    assert client.post(url, {"decision": "approve"}, HTTP_REFERER=detail).status_code == 302
    assert RevealRequest.objects.get(pk=request.pk).status == RevealRequest.Status.APPROVED


@pytest.mark.django_db
def test_page_reveal_rejection_needs_no_confirmation(client_for, custody):
    request = custody["request"]
    response = client_for(custody["approver"]).post(reverse("security:reveal-decide", args=[request.pk]),
                                                    {"decision": "reject", "note": "use the portal"})
    assert response.status_code == 302
    assert RevealRequest.objects.get(pk=request.pk).status == RevealRequest.Status.REJECTED


@pytest.mark.django_db
def test_page_break_glass_asks_to_confirm_access(client_for, custody):
    executive = custody["approver"]
    device = totp_device(executive)
    client = client_for(executive)
    url = reverse("security:break-glass", args=[custody["credential"].pk])
    body = {"reason": "Account hijack attempt, locking it down now", "password": PASSWORD}
    response = client.post(url, {**body, "otp_token": totp_code(device)}, HTTP_REFERER="http://testserver" + url)
    assert_sent_to_confirm_access(response, "http://testserver" + url)
    assert SECRET not in response.content.decode()
    assert not RevealRequest.objects.filter(is_break_glass=True).exists()
    reauthenticate(client, ago=FOUR_MINUTES)
    response = client.post(url, {**body, "otp_token": totp_code(device)})
    assert response.status_code == 200 and response.content.decode().count(SECRET) == 1


@pytest.mark.django_db
def test_page_offboarding_asks_to_confirm_access(admin_user, client_for, make_member):
    leaver = make_member(Role.COMMUNITY_MANAGER)
    client = client_for(admin_user)
    url = reverse("security:offboard", args=[leaver.pk])
    page = "http://testserver" + url
    post = {"reason": "contract ended", "confirm": "on"}
    assert_sent_to_confirm_access(client.post(url, post, HTTP_REFERER=page), page)
    reauthenticate(client, ago=SIX_MINUTES)
    assert_sent_to_confirm_access(client.post(url, post, HTTP_REFERER=page), page)
    assert User.objects.get(pk=leaver.pk).is_active
    reauthenticate(client, ago=FOUR_MINUTES)
    response = client.post(url, post)
    assert response.status_code == 200 and 'data-testid="offboard-report"' in response.content.decode()
    assert not User.objects.get(pk=leaver.pk).is_active


# --- the API ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["publish", "approve", "manage"])
def test_api_grant_of_a_sensitive_right_is_a_403_reauth_required(api_for, admin_user, account, person, capability):
    client = api_for(admin_user)
    body = {"account": account.pk, "capability": capability, "user": person.pk, "reason": "on record"}
    assert_reauth_required(client.post("/api/grants/", body, format="json"))
    reauthenticate(client, ago=SIX_MINUTES)
    assert_reauth_required(client.post("/api/grants/", body, format="json"))
    assert not PublishingGrant.objects.exists()
    reauthenticate(client, ago=FOUR_MINUTES)
    response = client.post("/api/grants/", body, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["draft", "reply"])
def test_api_grant_of_draft_or_reply_needs_no_confirmation(api_for, admin_user, account, person, capability):
    response = api_for(admin_user).post("/api/grants/", {"account": account.pk, "capability": capability,
                                                         "user": person.pk, "reason": "helps"}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_api_manage_holder_refusals_name_the_field(api_for, admin_user, make_member, account):
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    workgroup = manager.memberships.get().workgroup
    services.grant_create(actor=admin_user, account=account, capability="manage", user=manager, reason="runs it",
                          reauthenticated_at=timezone.now())
    colleague = make_member(workgroup=workgroup)
    TrainingRecordFactory(user=colleague)
    client = reauthenticate(api_for(fresh(manager)))
    for capability in ("manage", "publish", "approve"):
        response = client.post("/api/grants/", {"account": account.pk, "capability": capability,
                                                "user": colleague.pk, "reason": "x"}, format="json")
        assert response.status_code == 400 and "capability" in response.json(), capability
    outside = DepartmentFactory()
    MembershipFactory(user=UserFactory(), department=outside)
    response = client.post("/api/grants/", {"account": account.pk, "capability": "draft", "department": outside.pk,
                                            "reason": "x"}, format="json")
    assert response.status_code == 400 and "own workgroups" in response.json()["department"][0]
    response = client.post("/api/grants/", {"account": account.pk, "capability": "reply", "user": colleague.pk,
                                            "reason": "helps"}, format="json")
    assert response.status_code == 201, response.content
    assert set(PublishingGrant.objects.filter(user=colleague).values_list("capability", flat=True)) == {"reply"}


@pytest.mark.django_db
def test_api_reveal_approval_and_break_glass_are_403_reauth_required(api_for, custody):
    request = custody["request"]
    client = api_for(custody["approver"])
    assert_reauth_required(client.post(f"/api/reveal-requests/{request.pk}/approve/", {}, format="json"))
    assert RevealRequest.objects.get(pk=request.pk).status == RevealRequest.Status.PENDING

    device = totp_device(custody["approver"])
    path = f"/api/credentials/{custody['credential'].pk}/break-glass/"
    body = {"reason": "The account is posting spam right now", "password": PASSWORD}
    response = client.post(path, {**body, "otp_token": totp_code(device)}, format="json")
    assert_reauth_required(response)
    assert SECRET.encode() not in response.content

    reauthenticate(client, ago=FOUR_MINUTES)
    response = client.post(f"/api/reveal-requests/{request.pk}/approve/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    response = client.post(path, {**body, "otp_token": totp_code(device)}, format="json")
    assert response.status_code == 200 and response.json()["secret"] == SECRET


@pytest.mark.django_db
def test_api_token_calls_use_the_tokens_own_reauthentication(api_for, admin_user, account, person):
    """A token call is judged by the token's stamp, not by any session."""
    from rest_framework.test import APIClient

    token, plaintext = ApiToken.objects.create(user=admin_user, name="script", second_factor_verified=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    body = {"account": account.pk, "capability": "publish", "user": person.pk, "reason": "on record"}
    assert_reauth_required(client.post("/api/grants/", body, format="json"))
    ApiToken.objects.filter(pk=token.pk).update(reauthenticated_at=timezone.now() - SIX_MINUTES)
    assert_reauth_required(client.post("/api/grants/", body, format="json"))
    ApiToken.objects.filter(pk=token.pk).update(reauthenticated_at=timezone.now() - FOUR_MINUTES)
    response = client.post("/api/grants/", body, format="json")
    assert response.status_code == 201, response.content
