"""Offboarding ends access at once and loses nothing."""

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Membership, User
from accounts.roles import Role
from security import services
from security.models import AuditEvent, Custodian, PublishingGrant, RevealRequest, SocialAccountUserObjectPermission
from security.permissions import has_capability
from tests.accounts.factories import PASSWORD
from tests.conftest import sign_in
from tests.helpers import reauthenticate
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory


@pytest.fixture
def leaver_setup(admin_user, make_member):
    account = SocialAccountFactory()
    executive = make_member(Role.EXECUTIVE)
    leaver = make_member(Role.COMMUNITY_MANAGER, username="leaver")
    TrainingRecordFactory(user=leaver)
    services.grant_create(actor=admin_user, account=account, capability="publish", user=leaver, reason="cm",
                          reauthenticated_at=timezone.now())
    services.grant_create(actor=admin_user, account=account, capability="reply", user=leaver, reason="cm")
    services.custodian_add(actor=admin_user, account=account, user=leaver)
    services.custodian_add(actor=admin_user, account=account, user=executive)
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret="s3cr3t-value!")
    # a reveal they did last month, and one still pending
    past = RevealRequest.objects.create(credential=credential, requester=leaver, reason="login for campaign",
                                        status=RevealRequest.Status.REVEALED,
                                        revealed_at=timezone.now() - timezone.timedelta(days=30))
    pending = services.reveal_request_create(actor=User.objects.get(pk=leaver.pk), credential=credential,
                                             reason="need it once more")
    return {"account": account, "leaver": User.objects.get(pk=leaver.pk), "credential": credential,
            "past": past, "pending": pending}


@pytest.mark.django_db
def test_offboarding_end_to_end(admin_user, leaver_setup, client):
    leaver, account, credential = leaver_setup["leaver"], leaver_setup["account"], leaver_setup["credential"]
    # the leaver has a browser session and an API token
    assert client.post(reverse("login"), {"username": leaver.username, "password": PASSWORD}).status_code == 302
    sign_in(client, leaver)  # the second factor, which a publisher and custodian needs
    assert client.get(reverse("dashboard")).status_code == 200
    _token, plaintext = ApiToken.objects.create(user=leaver, name="script", second_factor_verified=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    assert api.get("/api/me/").status_code == 200
    audit_before = AuditEvent.objects.count()

    report = services.offboard_user(actor=admin_user, user=leaver, reason="contract ended",
                                    reauthenticated_at=timezone.now())

    # access ends at once
    assert client.get(reverse("dashboard")).status_code == 302
    assert api.get("/api/me/").status_code == 401
    leaver = User.objects.get(pk=leaver.pk)
    assert not leaver.is_active and leaver.offboarded_at
    assert not has_capability(leaver, "publish", account)
    assert not SocialAccountUserObjectPermission.objects.filter(user=leaver).exists()
    assert not PublishingGrant.objects.filter(user=leaver, revoked_at__isnull=True).exists()
    assert not Membership.objects.active().filter(user=leaver).exists()
    assert not Session.objects.filter(session_key__in=[client.session.session_key]).exists()
    assert leaver_setup["pending"].__class__.objects.get(pk=leaver_setup["pending"].pk).status == "cancelled"
    credential.refresh_from_db()
    assert credential.is_rotation_due and "offboarded" in credential.rotation_forced_reason
    assert not Custodian.objects.filter(user=leaver, removed_at__isnull=True).exists()
    assert report["remove_custodianships"]["accounts_at_risk"] == [str(account)]

    # nothing is lost: grants, memberships, reveals and audit rows all remain on record
    assert PublishingGrant.objects.filter(user=leaver).count() == 2
    assert Membership.objects.filter(user=leaver).count() == 1
    assert RevealRequest.objects.filter(requester=leaver).count() == 2
    steps = set(AuditEvent.objects.filter(action__startswith="offboard.").values_list("action", flat=True))
    assert steps >= {"offboard.deactivate", "offboard.revoke_rights", "offboard.end_memberships",
                     "offboard.end_sessions", "offboard.cancel_reveals", "offboard.flag_revealed_credentials",
                     "offboard.remove_custodianships"}
    assert AuditEvent.objects.count() > audit_before
    # the leaver can no longer log in
    assert client.post(reverse("login"), {"username": leaver.username, "password": PASSWORD}).status_code == 200


@pytest.mark.django_db
def test_offboard_command(admin_user, leaver_setup, capsys):
    call_command("offboard", "leaver", reason="left", actor=admin_user.username)
    out = capsys.readouterr().out
    assert "offboarded" in out and "revoke_rights: grants_revoked=2" in out
    assert not User.objects.get(username="leaver").is_active


@pytest.mark.django_db
def test_offboard_page(admin_user, leaver_setup, client_for, make_member):
    leaver = leaver_setup["leaver"]
    url = reverse("security:offboard", args=[leaver.pk])
    assert client_for(make_member(Role.EXECUTIVE)).post(url, {"reason": "x", "confirm": "on"}).status_code == 403
    client = reauthenticate(client_for(admin_user))
    assert url in client.get(reverse("person-detail", args=[leaver.pk])).content.decode()
    assert client.post(url, {"reason": "", "confirm": "on"}).status_code == 400
    response = client.post(url, {"reason": "contract ended", "confirm": "on"})
    assert response.status_code == 200 and 'data-testid="offboard-report"' in response.content.decode()
    assert not User.objects.get(pk=leaver.pk).is_active
