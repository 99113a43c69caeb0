"""The security REST API: who sees what, who writes what, the policy refusals
as 400s naming the field, the reveal flow, and secrets that never leak."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.roles import Role
from security import services
from security.audit import audit_write
from security.models import (
    AuditEvent,
    Credential,
    PublishingGrant,
    RevealRequest,
    SocialAccount,
    TrainingRecord,
)
from security.permissions import can_publish
from tests.accounts.factories import PASSWORD, DepartmentFactory, UserFactory
from tests.helpers import fresh, ids, reauthenticate, results
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory, totp_code, totp_device

SECRET = "hunter2-Very-Secret-Value-7f3a9c"


@pytest.fixture
def dept(db):
    return DepartmentFactory()


@pytest.fixture
def account_a(dept):
    account = SocialAccountFactory()
    account.departments.add(dept)
    return account


@pytest.fixture
def account_b(db):
    return SocialAccountFactory()


@pytest.fixture
def representative(make_member, dept):
    """Sees account A through their department; holds no right anywhere."""
    return make_member(Role.DEPARTMENT_REPRESENTATIVE, department=dept)


def trained(make_member, role=Role.SOCIAL_MEDIA_MANAGER, **kwargs):
    user = make_member(role, **kwargs)
    TrainingRecordFactory(user=user)
    return user


# --- anonymous ---------------------------------------------------------------------

ANONYMOUS_CALLS = [
    ("get", "/api/social-accounts/"),
    ("get", "/api/social-accounts/1/"),
    ("post", "/api/social-accounts/"),
    ("patch", "/api/social-accounts/1/"),
    ("get", "/api/grants/"),
    ("get", "/api/grants/1/"),
    ("post", "/api/grants/"),
    ("post", "/api/grants/1/revoke/"),
    ("get", "/api/training-records/"),
    ("post", "/api/training-records/"),
    ("get", "/api/credentials/"),
    ("get", "/api/credentials/1/"),
    ("post", "/api/credentials/1/break-glass/"),
    ("get", "/api/reveal-requests/"),
    ("get", "/api/reveal-requests/1/"),
    ("post", "/api/reveal-requests/"),
    ("post", "/api/reveal-requests/1/approve/"),
    ("post", "/api/reveal-requests/1/reject/"),
    ("post", "/api/reveal-requests/1/reveal/"),
    ("get", "/api/audit-events/"),
    ("get", "/api/audit-events/1/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ANONYMOUS_CALLS)
def test_anonymous_gets_401(api_for, method, path):
    SocialAccountFactory()
    response = getattr(api_for(), method)(path, {}, format="json")
    assert response.status_code == 401


# --- social accounts -------------------------------------------------------------


@pytest.mark.django_db
def test_accounts_visible_through_department_others_404(api_for, representative, account_a, account_b):
    client = api_for(representative)
    assert ids(client.get("/api/social-accounts/")) == {account_a.pk}
    body = client.get(f"/api/social-accounts/{account_a.pk}/").json()
    assert body["handle"] == account_a.handle and body["departments"] == list(account_a.departments.values_list(
        "pk", flat=True))
    assert client.get(f"/api/social-accounts/{account_b.pk}/").status_code == 404


@pytest.mark.django_db
def test_account_filters(api_for, admin_user):
    mastodon = SocialAccountFactory(platform="mastodon")
    bluesky = SocialAccountFactory(platform="bluesky")
    suspended = SocialAccountFactory(platform="bluesky", status=SocialAccount.Status.SUSPENDED)
    client = api_for(admin_user)
    assert ids(client.get("/api/social-accounts/?platform=bluesky")) == {bluesky.pk, suspended.pk}
    assert ids(client.get("/api/social-accounts/?status=suspended")) == {suspended.pk}
    assert mastodon.pk in ids(client.get("/api/social-accounts/?platform=mastodon&status=active"))


@pytest.mark.django_db
def test_admin_creates_and_updates_accounts(api_for, admin_user, dept, settings):
    client = api_for(admin_user)
    response = client.post("/api/social-accounts/", {
        "platform": "mastodon", "handle": " @city@social.example ", "display_name": "City",
        "departments": [dept.pk], "max_publishers": 2, "rotation_days": 30,
        "owner_organisation": "Someone Else", "status": "retired",
    }, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["handle"] == "@city@social.example"
    assert body["owner_organisation"] == settings.SOCIALOPS_ORGANISATION_NAME
    assert body["status"] == "active" and body["departments"] == [dept.pk] and body["max_publishers"] == 2
    assert AuditEvent.objects.filter(action="account.create", target_id=str(body["id"])).exists()

    other = DepartmentFactory()
    response = client.patch(f"/api/social-accounts/{body['id']}/", {
        "display_name": "City Hall", "status": "suspended", "departments": [other.pk], "handle": "@renamed",
    }, format="json")
    assert response.status_code == 200, response.content
    account = SocialAccount.objects.get(pk=body["id"])
    assert (account.display_name, account.status, account.handle) == ("City Hall", "suspended",
                                                                       "@city@social.example")
    assert list(account.departments.all()) == [other]
    assert response.json()["departments"] == [other.pk]
    update = AuditEvent.objects.get(action="account.update", target_id=str(account.pk))
    assert update.after["departments"] == [other.pk] and update.before["status"] == "active"


@pytest.mark.django_db
def test_account_refusals_name_the_field(api_for, admin_user, account_a):
    client = api_for(admin_user)
    response = client.post("/api/social-accounts/", {"platform": account_a.platform,
                                                      "handle": account_a.handle.upper()}, format="json")
    assert response.status_code == 400 and "handle" in response.json()
    response = client.post("/api/social-accounts/", {"platform": "mastodon", "handle": "@x", "max_publishers": 0},
                           format="json")
    assert response.status_code == 400 and "max_publishers" in response.json()
    response = client.patch(f"/api/social-accounts/{account_a.pk}/", {"max_publishers": 0}, format="json")
    assert response.status_code == 400 and "max_publishers" in response.json()
    response = client.post("/api/social-accounts/", {"platform": "myspace", "handle": "@x"}, format="json")
    assert response.status_code == 400 and "platform" in response.json()


@pytest.mark.django_db
def test_non_admins_do_not_write(api_for, make_member, representative, account_a, dept):
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER, department=dept)
    executive = make_member(Role.EXECUTIVE)
    for user in (representative, manager, executive):
        client = api_for(user)
        assert client.post("/api/social-accounts/", {"platform": "x", "handle": "@new"},
                           format="json").status_code == 403
        assert client.patch(f"/api/social-accounts/{account_a.pk}/", {"display_name": "Mine"},
                            format="json").status_code == 403
        assert client.post("/api/training-records/", {"user": user.pk, "completed_on": str(timezone.localdate())},
                           format="json").status_code == 403
        assert client.post("/api/grants/", {"account": account_a.pk, "capability": "draft", "user": manager.pk,
                                            "reason": "help"}, format="json").status_code == 403
    assert not SocialAccount.objects.filter(handle="@new").exists()
    assert SocialAccount.objects.get(pk=account_a.pk).display_name != "Mine"
    assert not TrainingRecord.objects.exists() and not PublishingGrant.objects.exists()
    # Neither a representative nor a manager is a custodian or an executive.
    for user in (representative, manager):
        assert api_for(user).post("/api/reveal-requests/", {"credential": 1, "reason": "x" * 20},
                                  format="json").status_code == 403
    assert api_for(manager).post("/api/credentials/1/break-glass/", {}, format="json").status_code == 403


# --- publishing rights -----------------------------------------------------------


@pytest.mark.django_db
def test_grants_on_visible_accounts_only(api_for, admin_user, make_member, representative, account_a,
                                         account_b):
    holder = make_member(Role.SOCIAL_MEDIA_MANAGER)
    on_a = services.grant_create(actor=admin_user, account=account_a, capability="draft", user=holder,
                                 reason="drafts for A")
    on_b = services.grant_create(actor=admin_user, account=account_b, capability="draft", user=holder,
                                 reason="drafts for B")
    client = api_for(representative)
    assert ids(client.get("/api/grants/")) == {on_a.pk}
    assert client.get(f"/api/grants/{on_a.pk}/").json()["reason"] == "drafts for A"
    assert client.get(f"/api/grants/{on_b.pk}/").status_code == 404
    # The holder sees B through the grant itself.
    assert ids(api_for(holder).get("/api/grants/")) == {on_a.pk, on_b.pk}
    admin = api_for(admin_user)
    assert ids(admin.get(f"/api/grants/?account={account_b.pk}")) == {on_b.pk}
    assert ids(admin.get(f"/api/grants/?user={holder.pk}&capability=draft")) == {on_a.pk, on_b.pk}
    assert ids(admin.get("/api/grants/?capability=publish")) == set()


@pytest.mark.django_db
def test_grant_create_and_revoke_round_trip(api_for, admin_user, make_member, account_a):
    person = trained(make_member)
    client = reauthenticate(api_for(admin_user))
    expires = (timezone.now() + timezone.timedelta(days=30)).isoformat()
    response = client.post("/api/grants/", {"account": account_a.pk, "capability": "publish", "user": person.pk,
                                            "reason": "campaign lead", "expires_at": expires}, format="json")
    assert response.status_code == 201, response.content
    grant = response.json()
    assert grant["granted_by"] == admin_user.pk and grant["is_current"] and grant["revoked_at"] is None
    assert can_publish(fresh(person), account_a)
    assert ids(client.get("/api/grants/?current=true")) == {grant["id"]}

    response = client.post(f"/api/grants/{grant['id']}/revoke/", {}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post(f"/api/grants/{grant['id']}/revoke/", {"reason": "campaign over"}, format="json")
    assert response.status_code == 200, response.content
    revoked = response.json()
    assert revoked["revoked_at"] and revoked["revoked_by"] == admin_user.pk and not revoked["is_current"]
    assert revoked["revoke_reason"] == "campaign over"
    assert not can_publish(fresh(person), account_a)
    assert ids(client.get("/api/grants/?current=true")) == set()
    assert ids(client.get("/api/grants/?current=false")) == {grant["id"]}
    assert list(AuditEvent.objects.filter(target_id=str(grant["id"]), target_type="security.publishinggrant")
                .order_by("id").values_list("action", flat=True)) == ["grant.create", "grant.revoke"]


@pytest.mark.django_db
def test_expired_grant_is_not_current(api_for, admin_user, make_member, account_a):
    person = make_member(Role.SPECIALIST)
    grant = services.grant_create(actor=admin_user, account=account_a, capability="draft", user=person,
                                  reason="cover", expires_at=timezone.now() + timezone.timedelta(hours=1))
    PublishingGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timezone.timedelta(minutes=1))
    client = api_for(admin_user)
    assert ids(client.get("/api/grants/?current=true")) == set()
    assert ids(client.get("/api/grants/?current=false")) == {grant.pk}


@pytest.mark.django_db
def test_grant_policy_refusals_name_the_field(api_for, admin_user, make_member, account_a, dept):
    client = reauthenticate(api_for(admin_user))

    def post(**body):
        return client.post("/api/grants/", {"account": account_a.pk, "reason": "on record", **body}, format="json")

    response = post(capability="draft", user=admin_user.pk)
    assert response.status_code == 400 and "user" in response.json()
    untrained = make_member(Role.SOCIAL_MEDIA_MANAGER)
    response = post(capability="publish", user=untrained.pk)
    assert response.status_code == 400 and "training" in response.json()["user"][0]
    response = post(capability="publish", department=dept.pk)
    assert response.status_code == 400 and "department" in response.json()
    response = post(capability="draft")
    assert response.status_code == 400 and "user" in response.json()
    response = post(capability="fly", user=untrained.pk)
    assert response.status_code == 400 and "capability" in response.json()
    response = post(capability="draft", user=untrained.pk, reason="")
    assert response.status_code == 400 and "reason" in response.json()
    response = post(capability="draft", user=untrained.pk,
                    expires_at=(timezone.now() - timezone.timedelta(days=1)).isoformat())
    assert response.status_code == 400 and "expires_at" in response.json()

    SocialAccount.objects.filter(pk=account_a.pk).update(max_publishers=1)
    first, second = trained(make_member), trained(make_member)
    assert post(capability="publish", user=first.pk).status_code == 201
    response = post(capability="publish", user=first.pk)
    assert response.status_code == 400 and "capability" in response.json()
    response = post(capability="publish", user=second.pk)
    assert response.status_code == 400 and "capability" in response.json()
    assert "1 of 1 publishers" in response.json()["capability"][0]
    assert PublishingGrant.objects.filter(capability="publish").count() == 1
    # Draft may go to a department.
    assert post(capability="draft", department=dept.pk).status_code == 201


@pytest.mark.django_db
def test_manage_holder_grants_on_their_account_only(api_for, admin_user, make_member, dept, account_a, account_b):
    """A `manage` holder grants on that account; on another account they can
    see it is a 403; an account they cannot see is a 400 on `account`, the
    same answer as for an id that does not exist."""
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER, department=dept)
    services.grant_create(actor=admin_user, account=account_a, capability="manage", user=manager,
                          reason="runs A", reauthenticated_at=timezone.now())
    account_c = SocialAccountFactory()
    account_c.departments.add(dept)  # visible to the manager, but not theirs to manage
    helper = make_member(Role.SPECIALIST, workgroup=manager.memberships.get().workgroup)  # a colleague
    client = api_for(fresh(manager))
    body = {"capability": "draft", "user": helper.pk, "reason": "helps with drafts"}
    response = client.post("/api/grants/", {"account": account_a.pk, **body}, format="json")
    assert response.status_code == 201, response.content
    assert client.post("/api/grants/", {"account": account_c.pk, **body}, format="json").status_code == 403
    response = client.post("/api/grants/", {"account": account_b.pk, **body}, format="json")
    assert response.status_code == 400 and "account" in response.json()
    response = client.post("/api/grants/", {"account": 999999, **body}, format="json")
    assert response.status_code == 400 and "account" in response.json()
    assert set(PublishingGrant.objects.filter(user=helper).values_list("account_id", flat=True)) == {account_a.pk}

    # Revoking: theirs yes; a grant on an account they see but do not manage, no.
    on_c = services.grant_create(actor=admin_user, account=account_c, capability="draft", user=helper,
                                 reason="drafts for C")
    assert client.post(f"/api/grants/{on_c.pk}/revoke/", {"reason": "no"}, format="json").status_code == 403
    (mine,) = results(client.get(f"/api/grants/?account={account_a.pk}&user={helper.pk}"))
    assert client.post(f"/api/grants/{mine['id']}/revoke/", {"reason": "done"}, format="json").status_code == 200
    on_b = services.grant_create(actor=admin_user, account=account_b, capability="draft", user=helper,
                                 reason="drafts for B")
    assert client.post(f"/api/grants/{on_b.pk}/revoke/", {"reason": "no"}, format="json").status_code == 404
    assert PublishingGrant.objects.get(pk=on_b.pk).revoked_at is None


# --- training --------------------------------------------------------------------


@pytest.mark.django_db
def test_training_records(api_for, admin_user, make_member, representative):
    client = api_for(admin_user)
    last_month = (timezone.localdate() - timezone.timedelta(days=30)).isoformat()
    response = client.post("/api/training-records/", {"user": representative.pk, "completed_on": last_month,
                                                      "course": "Crisis comms"}, format="json")
    assert response.status_code == 201, response.content
    mine = response.json()
    assert mine["recorded_by"] == admin_user.pk and mine["course"] == "Crisis comms"
    other = TrainingRecordFactory()
    future = (timezone.localdate() + timezone.timedelta(days=2)).isoformat()
    response = client.post("/api/training-records/", {"user": representative.pk, "completed_on": future},
                           format="json")
    assert response.status_code == 400 and "completed_on" in response.json()

    own = api_for(representative)
    assert ids(own.get("/api/training-records/")) == {mine["id"]}
    assert own.get(f"/api/training-records/{other.pk}/").status_code == 404
    executive = api_for(make_member(Role.EXECUTIVE))
    assert ids(executive.get("/api/training-records/")) == {mine["id"], other.pk}
    assert ids(client.get(f"/api/training-records/?user={other.user_id}")) == {other.pk}


# --- credentials and reveals ---------------------------------------------------


@pytest.fixture
def custody(admin_user, make_member, account_a, account_b):
    """Account A kept by two custodians, each with an authenticator; both
    accounts hold a secret."""
    first = make_member(Role.SOCIAL_MEDIA_MANAGER)
    second = make_member(Role.COMMUNITY_MANAGER)
    for user in (first, second):
        services.custodian_add(actor=admin_user, account=account_a, user=user)
    credential_a = services.credential_set(actor=admin_user, account=account_a, kind="password", secret=SECRET)
    credential_b = services.credential_set(actor=admin_user, account=account_b, kind="password",
                                           secret=SECRET + "-b")
    return {"first": first, "second": second, "credential_a": credential_a, "credential_b": credential_b,
            "device": totp_device(first)}


@pytest.mark.django_db
def test_credentials_list_shows_metadata_never_the_secret(api_for, admin_user, custody, representative):
    credential = custody["credential_a"]
    client = api_for(custody["first"])
    response = client.get("/api/credentials/")
    (row,) = results(response)
    assert set(row) == {"id", "account", "kind", "label", "last_rotated_at", "rotation_due_at", "is_rotation_due"}
    assert row["id"] == credential.pk and row["is_rotation_due"] is False
    assert client.get(f"/api/credentials/{custody['credential_b'].pk}/").status_code == 404
    assert ids(api_for(admin_user).get("/api/credentials/")) == {credential.pk, custody["credential_b"].pk}
    assert results(api_for(representative).get("/api/credentials/")) == []
    for body in (response.content, client.get(f"/api/credentials/{credential.pk}/").content):
        assert SECRET.encode() not in body and credential.ciphertext.encode() not in body


@pytest.mark.django_db
def test_reveal_flow_end_to_end(api_for, admin_user, custody, account_a):
    first, second = api_for(custody["first"]), reauthenticate(api_for(custody["second"]))
    credential = custody["credential_a"]

    response = first.post("/api/reveal-requests/", {"credential": credential.pk, "reason": "short"},
                          format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = first.post("/api/reveal-requests/", {"credential": credential.pk,
                                                    "reason": "The platform asks us to log in again"},
                          format="json")
    assert response.status_code == 201, response.content
    request_id = response.json()["id"]
    assert response.json()["status"] == "pending" and response.json()["account"] == account_a.pk
    response = first.post("/api/reveal-requests/", {"credential": credential.pk, "reason": "once more, please"},
                          format="json")
    assert response.status_code == 400 and "credential" in response.json()

    # Nobody approves their own request, and nothing is revealed before approval.
    assert first.post(f"/api/reveal-requests/{request_id}/approve/").status_code == 403
    response = first.post(f"/api/reveal-requests/{request_id}/reveal/",
                          {"password": PASSWORD, "otp_token": totp_code(custody["device"])}, format="json")
    assert response.status_code == 400 and "status" in response.json()

    assert request_id in ids(second.get("/api/reveal-requests/?status=pending"))
    response = second.post(f"/api/reveal-requests/{request_id}/approve/", {"note": "go ahead"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved" and response.json()["decided_by"] == custody["second"].pk
    assert second.post(f"/api/reveal-requests/{request_id}/reject/").status_code == 400

    # Only the requester reveals, and only with the right password and code.
    assert second.post(f"/api/reveal-requests/{request_id}/reveal/",
                       {"password": PASSWORD, "otp_token": "123456"}, format="json").status_code == 403
    response = first.post(f"/api/reveal-requests/{request_id}/reveal/", {"otp_token": "123456"}, format="json")
    assert response.status_code == 400 and "password" in response.json()
    response = first.post(f"/api/reveal-requests/{request_id}/reveal/",
                          {"password": "wrong", "otp_token": "123456"}, format="json")
    assert response.status_code == 400 and "password" in response.json()
    code = totp_code(custody["device"])
    wrong_code = str((int(code) + 1) % 1_000_000).zfill(6)
    response = first.post(f"/api/reveal-requests/{request_id}/reveal/",
                          {"password": PASSWORD, "otp_token": wrong_code}, format="json")
    assert response.status_code == 400 and "otp_token" in response.json()
    custody["device"].throttle_reset()  # django-otp backs off after a wrong code; this test does not wait

    response = first.post(f"/api/reveal-requests/{request_id}/reveal/",
                          {"password": PASSWORD, "otp_token": code}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["secret"] == SECRET and response.json()["visible_until"]
    assert "no-store" in response["Cache-Control"]
    response = first.post(f"/api/reveal-requests/{request_id}/reveal/",
                          {"password": PASSWORD, "otp_token": totp_code(custody["device"])}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    assert SECRET.encode() not in response.content

    reveal = RevealRequest.objects.get(pk=request_id)
    assert reveal.status == RevealRequest.Status.REVEALED
    credential.refresh_from_db()
    assert credential.rotation_forced_at is not None
    assert results(first.get(f"/api/credentials/?account={account_a.pk}"))[0]["is_rotation_due"] is True

    # The secret appears in no other response, whoever reads.
    admin = api_for(fresh(admin_user))
    for client in (first, second, admin):
        for path in ["/api/credentials/", f"/api/credentials/{credential.pk}/", "/api/reveal-requests/",
                     f"/api/reveal-requests/{request_id}/", "/api/grants/", f"/api/social-accounts/{account_a.pk}/"]:
            body = client.get(path).content
            assert SECRET.encode() not in body and credential.ciphertext.encode() not in body, path
    audit = admin.get("/api/audit-events/?page_size=200")
    assert audit.status_code == 200 and SECRET.encode() not in audit.content
    actions = [row["action"] for row in audit.json()["results"]]
    assert {"reveal.request", "reveal.approve", "reveal.perform"} <= set(actions)


@pytest.mark.django_db
def test_reject_ends_the_request(api_for, custody):
    first, second = api_for(custody["first"]), api_for(custody["second"])
    request_id = first.post("/api/reveal-requests/", {"credential": custody["credential_a"].pk,
                                                      "reason": "Need to update the bio"}, format="json").json()["id"]
    response = second.post(f"/api/reveal-requests/{request_id}/reject/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    response = first.post(f"/api/reveal-requests/{request_id}/reveal/",
                          {"password": PASSWORD, "otp_token": totp_code(custody["device"])}, format="json")
    assert response.status_code == 400 and SECRET.encode() not in response.content


@pytest.mark.django_db
def test_expired_approval_lets_the_requester_ask_again(api_for, custody, settings):
    first = api_for(custody["first"])
    request = services.reveal_request_create(actor=custody["first"], credential=custody["credential_a"],
                                             reason="Need to rotate it now")
    services.reveal_request_decide(actor=custody["second"], request=request, approve=True,
                                   reauthenticated_at=timezone.now())
    too_old = timezone.now() - timezone.timedelta(hours=settings.SOCIALOPS_REVEAL_APPROVAL_VALID_HOURS + 1)
    RevealRequest.objects.filter(pk=request.pk).update(decided_at=too_old)
    response = first.post(f"/api/reveal-requests/{request.pk}/reveal/",
                          {"password": PASSWORD, "otp_token": totp_code(custody["device"])}, format="json")
    assert response.status_code == 400 and "expired" in response.json()["status"][0]
    assert SECRET.encode() not in response.content
    assert first.get(f"/api/reveal-requests/{request.pk}/").json()["status"] == "expired"
    response = first.post("/api/reveal-requests/", {"credential": custody["credential_a"].pk,
                                                    "reason": "Asking again, as told"}, format="json")
    assert response.status_code == 201, response.content


@pytest.mark.django_db
def test_reveal_requests_visible_on_custody_only(api_for, admin_user, make_member, custody, representative):
    outsider = make_member(Role.EXECUTIVE)
    on_b = services.reveal_request_create(actor=outsider, credential=custody["credential_b"],
                                          reason="Vendor needs the login")
    on_a = services.reveal_request_create(actor=outsider, credential=custody["credential_a"],
                                          reason="Vendor needs the login")
    client = api_for(custody["first"])
    assert ids(client.get("/api/reveal-requests/")) == {on_a.pk}
    assert client.get(f"/api/reveal-requests/{on_b.pk}/").status_code == 404
    assert client.post(f"/api/reveal-requests/{on_b.pk}/approve/").status_code == 404
    assert client.post(f"/api/reveal-requests/{on_b.pk}/reveal/", {"password": PASSWORD, "otp_token": "000000"},
                       format="json").status_code == 404
    # A credential the custodian cannot see cannot be asked for: 400 on the field.
    response = client.post("/api/reveal-requests/", {"credential": custody["credential_b"].pk,
                                                     "reason": "Just curious about it"}, format="json")
    assert response.status_code == 400 and "credential" in response.json()
    assert results(api_for(representative).get("/api/reveal-requests/")) == []
    assert api_for(representative).get(f"/api/reveal-requests/{on_a.pk}/").status_code == 404
    assert ids(api_for(admin_user).get(f"/api/reveal-requests/?credential={custody['credential_b'].pk}")) == {
        on_b.pk}


@pytest.mark.django_db
def test_break_glass(api_for, admin_user, make_member, custody):
    credential = custody["credential_b"]
    executive = make_member(Role.EXECUTIVE)
    device = totp_device(executive)
    client = reauthenticate(api_for(executive))
    path = f"/api/credentials/{credential.pk}/break-glass/"
    response = client.post(path, {"reason": "too short", "password": PASSWORD, "otp_token": "1"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    response = client.post(path, {"reason": "The account is posting spam right now", "password": PASSWORD,
                                  "otp_token": "not-a-code"}, format="json")
    assert response.status_code == 400 and "otp_token" in response.json()
    assert client.post("/api/credentials/999999/break-glass/", {}, format="json").status_code == 404
    # Admins see the credential but do not break the glass.
    assert api_for(admin_user).post(path, {"reason": "The account is posting spam right now",
                                           "password": PASSWORD, "otp_token": "123456"},
                                    format="json").status_code == 403

    # The wrong code above was counted: django-otp throttles the device until the delay passes.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    response = client.post(path, {"reason": "The account is posting spam right now", "password": PASSWORD,
                                  "otp_token": totp_code(device)}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["secret"] == SECRET + "-b" and "no-store" in response["Cache-Control"]
    reveal = RevealRequest.objects.get(credential=credential, is_break_glass=True)
    assert reveal.status == RevealRequest.Status.REVEALED
    for path in ["/api/credentials/", "/api/reveal-requests/", f"/api/reveal-requests/{reveal.pk}/",
                 "/api/audit-events/?action=reveal."]:
        body = client.get(path).content
        assert SECRET.encode() not in body, path
    assert AuditEvent.objects.filter(action="reveal.break_glass").count() == 1


@pytest.mark.django_db
def test_reveal_attempts_are_throttled(api_for, custody, settings):
    """Wrong passwords and codes roll back with the service's transaction, so
    the endpoint itself bounds the guesses."""
    first = api_for(custody["first"])
    request = services.reveal_request_create(actor=custody["first"], credential=custody["credential_a"],
                                             reason="Need to rotate it now")
    services.reveal_request_decide(actor=custody["second"], request=request, approve=True,
                                   reauthenticated_at=timezone.now())
    codes = [first.post(f"/api/reveal-requests/{request.pk}/reveal/", {"password": "guess", "otp_token": "1"},
                        format="json").status_code for _ in range(12)]
    assert codes[:10] == [400] * 10 and codes[10:] == [429, 429]


# --- audit -------------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_events_for_admins_and_executives_only(api_for, admin_user, make_member, representative,
                                                     account_a, account_b):
    services.account_update(actor=admin_user, account=account_a, display_name="A renamed")
    between = timezone.now()
    services.account_update(actor=admin_user, account=account_b, display_name="B renamed")
    audit_write(actor=None, action="vault.rotate_keys", after={"credentials": 0})
    assert api_for(representative).get("/api/audit-events/").status_code == 403
    assert api_for(make_member(Role.SOCIAL_MEDIA_MANAGER)).get("/api/audit-events/").status_code == 403
    event = AuditEvent.objects.filter(action="account.update", account_id=account_a.pk).get()
    assert api_for(representative).get(f"/api/audit-events/{event.pk}/").status_code == 403

    for user in (admin_user, make_member(Role.EXECUTIVE)):
        client = api_for(user)
        row = client.get(f"/api/audit-events/{event.pk}/").json()
        assert {f.name for f in AuditEvent._meta.fields} <= set(row)
        assert row["after"] == {"display_name": "A renamed"} and row["hash"] == event.hash
        assert ids(client.get(f"/api/audit-events/?account_id={account_a.pk}")) == {event.pk}
        assert len(ids(client.get("/api/audit-events/?action=account."))) == 2
        assert ids(client.get("/api/audit-events/?action=vault")) == set(
            AuditEvent.objects.filter(action="vault.rotate_keys").values_list("pk", flat=True))
        assert ids(client.get(f"/api/audit-events/?actor_name={admin_user.username.upper()}")) == set(
            AuditEvent.objects.filter(actor=admin_user).values_list("pk", flat=True))

    # The log is append-only (PostgreSQL refuses UPDATE): split it by a moment between two writes.
    client = api_for(admin_user)
    later = set(AuditEvent.objects.filter(created_at__gte=between).values_list("pk", flat=True))
    assert later and event.pk not in later
    assert ids(client.get("/api/audit-events/", {"since": between.isoformat()})) == later
    assert ids(client.get("/api/audit-events/", {"until": between.isoformat()})) == {event.pk}
    assert ids(client.get("/api/audit-events/", {"since": between.isoformat(), "action": "account."})) == set(
        AuditEvent.objects.filter(action="account.update", account_id=account_b.pk).values_list("pk", flat=True))
    response = client.get("/api/audit-events/", {"since": "not a date"})
    assert response.status_code == 400 and "since" in response.json()
    assert client.post("/api/audit-events/", {}, format="json").status_code == 405


# --- schema and query counts ---------------------------------------------------


@pytest.mark.django_db
def test_schema_lists_the_security_endpoints(api_for, representative):
    response = api_for(representative).get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    for path in ["/api/social-accounts/", "/api/social-accounts/{id}/", "/api/grants/", "/api/grants/{id}/",
                 "/api/grants/{id}/revoke/", "/api/training-records/", "/api/credentials/",
                 "/api/credentials/{id}/", "/api/credentials/{id}/break-glass/", "/api/reveal-requests/",
                 "/api/reveal-requests/{id}/", "/api/reveal-requests/{id}/approve/",
                 "/api/reveal-requests/{id}/reject/", "/api/reveal-requests/{id}/reveal/",
                 "/api/audit-events/", "/api/audit-events/{id}/"]:
        assert f"{path}:" in schema, path
    assert "RevealResult" in schema and "ciphertext" not in schema


def _populate(admin, count=32):
    departments = [DepartmentFactory() for _ in range(2)]
    holders = [UserFactory() for _ in range(2)]
    for i in range(count):
        account = SocialAccountFactory()
        account.departments.add(*departments)
        PublishingGrant.objects.create(account=account, capability="draft", user=holders[i % 2], granted_by=admin,
                                       reason="bulk")
        TrainingRecordFactory(user=holders[i % 2], recorded_by=admin)
        credential = Credential.objects.create(account=account, kind="password", ciphertext="not-a-real-token",
                                               set_by=admin)
        RevealRequest.objects.create(credential=credential, requester=holders[i % 2], reason="bulk reveal")
        audit_write(actor=admin, action="bulk.test", account_id=account.pk, after={"i": i})


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/social-accounts/", "/api/grants/", "/api/training-records/",
                                  "/api/credentials/", "/api/reveal-requests/", "/api/audit-events/"])
def test_list_query_count_does_not_grow_with_page_size(api_for, make_member, django_assert_num_queries, path):
    executive = make_member(Role.EXECUTIVE)  # sees every row of every list
    _populate(executive)
    client = api_for(executive)
    assert client.get(f"{path}?page_size=2").status_code == 200
    with CaptureQueriesContext(connection) as small:
        assert len(results(client.get(f"{path}?page_size=2"))) == 2
    with django_assert_num_queries(len(small.captured_queries)):
        body = client.get(f"{path}?page_size=30").json()
    assert len(body["results"]) == 30 and body["next"]
