"""Every guard of the security services, tested where every caller goes
through: the service itself, called directly, without a page or the API in
front of it (which repeat some checks and so hid deliberate bugs).

Each test gives the caller everything else the action needs (training, a
recent re-authentication, a valid code), so the guard under test is the only
thing that can refuse it: deleting that guard makes the test fail."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from accounts.twofactor import ReauthRequired
from security import services
from security.models import AuditEvent, Credential, PublishingGrant, RevealRequest, SocialAccount
from security.permissions import has_capability
from tests.accounts.factories import PASSWORD, DepartmentFactory, MembershipFactory, UserFactory, WorkgroupFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory, totp_code, totp_device

SECRET = "guarded-Secret-Value-4e1b"


def now():
    return timezone.now()


def ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


@pytest.fixture
def account(db):
    return SocialAccountFactory()


@pytest.fixture
def workgroup(db):
    return WorkgroupFactory()


@pytest.fixture
def manager(make_member, admin_user, account, workgroup):
    """A social media manager holding `manage` on ``account`` (not an admin)."""
    person = make_member(Role.SOCIAL_MEDIA_MANAGER, workgroup=workgroup)
    TrainingRecordFactory(user=person)
    services.grant_create(actor=admin_user, account=account, capability="manage", user=person, reason="runs it",
                          reauthenticated_at=now())
    return fresh(person)


def trained(make_member, role=Role.DEPARTMENT_REPRESENTATIVE, **kwargs):
    person = make_member(role, **kwargs)
    TrainingRecordFactory(user=person)
    return person


def errors(exc_info, field: str) -> str:
    return " ".join(exc_info.value.message_dict[field])


# --- grant_create: the admin's guards ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_nobody_grants_to_themselves_not_even_an_admin(make_member, account):
    admin = trained(make_member, Role.ADMIN)
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin, account=account, capability="publish", user=admin, reason="me",
                              reauthenticated_at=now())
    assert "themselves" in errors(exc, "user")
    assert not PublishingGrant.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["publish", "approve"])
def test_publish_and_approve_need_training_on_record(admin_user, make_member, account, capability):
    untrained = make_member()
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability=capability, user=untrained,
                              reason="x", reauthenticated_at=now())
    assert "training" in errors(exc, "user")
    stale = make_member()
    TrainingRecordFactory(user=stale, completed_on=timezone.localdate() - timedelta(days=366))
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability=capability, user=stale,
                              reason="x", reauthenticated_at=now())
    assert "training" in errors(exc, "user")
    # a training within the validity window is enough
    recent = make_member()
    TrainingRecordFactory(user=recent, completed_on=timezone.localdate() - timedelta(days=364))
    services.grant_create(actor=admin_user, account=account, capability=capability, user=recent, reason="x",
                          reauthenticated_at=now())
    assert not PublishingGrant.objects.filter(user__in=[untrained, stale]).exists()


@pytest.mark.django_db
def test_no_more_publishers_than_the_account_allows(admin_user, make_member):
    account = SocialAccountFactory(max_publishers=1)
    first, second = trained(make_member), trained(make_member)
    services.grant_create(actor=admin_user, account=account, capability="publish", user=first, reason="a",
                          reauthenticated_at=now())
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability="publish", user=second, reason="b",
                              reauthenticated_at=now())
    assert "1 of 1 publishers" in errors(exc, "capability")
    assert not has_capability(fresh(second), "publish", account)
    # other capabilities do not take a publisher seat
    services.grant_create(actor=admin_user, account=account, capability="approve", user=second, reason="b",
                          reauthenticated_at=now())


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["reply", "publish", "approve", "manage"])
def test_only_draft_goes_to_a_department(admin_user, account, capability):
    department = DepartmentFactory()
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability=capability, department=department,
                              reason="x", reauthenticated_at=now())
    assert "department" in exc.value.message_dict
    assert not PublishingGrant.objects.exists()


@pytest.mark.django_db
def test_no_grant_on_a_retired_account(admin_user, make_member, account):
    services.account_retire(actor=admin_user, account=account)
    account.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability="draft", user=make_member(), reason="x")
    assert "retired" in errors(exc, "account")
    assert not PublishingGrant.objects.exists()


@pytest.mark.django_db
def test_no_grant_to_a_deactivated_person(admin_user, make_member, account):
    gone = make_member()
    User.objects.filter(pk=gone.pk).update(is_active=False)
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability="draft", user=fresh(gone), reason="x")
    assert "deactivated" in errors(exc, "user")


@pytest.mark.django_db
def test_someone_without_manage_grants_nothing(make_member, account, workgroup):
    rep = make_member(workgroup=workgroup)
    with pytest.raises(PermissionDenied):
        services.grant_create(actor=rep, account=account, capability="draft", user=make_member(workgroup=workgroup),
                              reason="x")
    assert not PublishingGrant.objects.exists()


# --- grant_create: what a `manage` holder may grant ------------------------------------------------------------------


@pytest.mark.django_db
def test_only_admins_grant_manage(manager, make_member, account, workgroup):
    colleague = trained(make_member, workgroup=workgroup)
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=manager, account=account, capability="manage", user=colleague, reason="x",
                              reauthenticated_at=now())
    assert "Only admins grant manage" in errors(exc, "capability")
    assert not has_capability(fresh(colleague), "manage", account)


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["publish", "approve"])
def test_a_manage_holder_does_not_grant_publish_or_approve(manager, make_member, account, workgroup, capability):
    """Otherwise two managers could grant each other publish and so get
    round the self-grant rule."""
    colleague = trained(make_member, Role.SOCIAL_MEDIA_MANAGER, workgroup=workgroup)
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=manager, account=account, capability=capability, user=colleague, reason="x",
                              reauthenticated_at=now())
    assert "draft and reply" in errors(exc, "capability")
    assert not PublishingGrant.objects.filter(user=colleague).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["draft", "reply"])
def test_a_manage_holder_grants_draft_and_reply_to_colleagues_only(manager, make_member, account, workgroup,
                                                                   capability):
    colleague = make_member(workgroup=workgroup)
    grant = services.grant_create(actor=manager, account=account, capability=capability, user=colleague,
                                  reason="helps")  # draft and reply need no re-authentication
    assert grant.granted_by == manager and has_capability(fresh(colleague), capability, account)
    stranger = make_member()  # in another workgroup
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=manager, account=account, capability=capability, user=stranger, reason="x")
    assert "own workgroups" in errors(exc, "user")


@pytest.mark.django_db
def test_a_manage_holder_grants_draft_to_departments_of_their_workgroups_only(manager, account, workgroup):
    inside = DepartmentFactory(name="Sales")
    member = UserFactory()
    MembershipFactory(user=member, department=inside, workgroup=workgroup)
    services.grant_create(actor=manager, account=account, capability="draft", department=inside, reason="offers")
    assert has_capability(fresh(member), "draft", account)

    outside = DepartmentFactory(name="Legal")  # active, but in another workgroup
    MembershipFactory(user=UserFactory(), department=outside, workgroup=WorkgroupFactory())
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=manager, account=account, capability="draft", department=outside, reason="x")
    assert "own workgroups" in errors(exc, "department")
    assert not PublishingGrant.objects.filter(department=outside).exists()


@pytest.mark.django_db
def test_a_department_counts_only_through_its_own_memberships_in_the_workgroup(manager, account, workgroup):
    """A colleague who sits in the manager's workgroup for one department
    does not bring in another department they also belong to elsewhere: the
    grant would reach that whole department."""
    represented, elsewhere = DepartmentFactory(), DepartmentFactory()
    colleague = UserFactory()
    MembershipFactory(user=colleague, department=represented, workgroup=workgroup)
    MembershipFactory(user=colleague, department=elsewhere, workgroup=WorkgroupFactory())
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=manager, account=account, capability="draft", department=elsewhere, reason="x")
    assert "department" in exc.value.message_dict
    # a membership that has ended does not count either
    ended = DepartmentFactory()
    MembershipFactory(user=UserFactory(), department=ended, workgroup=workgroup,
                      started_at=now() - timedelta(days=10), ended_at=now() - timedelta(days=1))
    with pytest.raises(ValidationError):
        services.grant_create(actor=manager, account=account, capability="draft", department=ended, reason="x")
    services.grant_create(actor=manager, account=account, capability="draft", department=represented, reason="x")


@pytest.mark.django_db
def test_a_manage_holder_does_not_give_reply_to_a_department(manager, account, workgroup):
    department = DepartmentFactory()
    MembershipFactory(user=UserFactory(), department=department, workgroup=workgroup)
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=manager, account=account, capability="reply", department=department, reason="x")
    assert "department" in exc.value.message_dict


@pytest.mark.django_db
def test_admins_grant_anything_to_anyone(admin_user, make_member, account):
    stranger = trained(make_member)
    services.grant_create(actor=admin_user, account=account, capability="manage", user=stranger, reason="x",
                          reauthenticated_at=now())
    lonely = DepartmentFactory()  # no members anywhere
    services.grant_create(actor=admin_user, account=account, capability="draft", department=lonely, reason="x")
    assert has_capability(fresh(stranger), "manage", account)


@pytest.mark.django_db
def test_manage_on_one_account_grants_nothing_on_another(manager, make_member, workgroup):
    with pytest.raises(PermissionDenied):
        services.grant_create(actor=manager, account=SocialAccountFactory(), capability="draft",
                              user=make_member(workgroup=workgroup), reason="x")


# --- grant_revoke ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_revoke_guards(admin_user, manager, make_member, account, workgroup):
    colleague = make_member(workgroup=workgroup)
    grant = services.grant_create(actor=admin_user, account=account, capability="draft", user=colleague,
                                  reason="x")
    rep = make_member(workgroup=workgroup)
    with pytest.raises(PermissionDenied):
        services.grant_revoke(actor=rep, grant=grant, reason="not mine to take")
    elsewhere = services.grant_create(actor=admin_user, account=SocialAccountFactory(), capability="draft",
                                      user=colleague, reason="x")
    with pytest.raises(PermissionDenied):
        services.grant_revoke(actor=manager, grant=elsewhere, reason="not my account")
    with pytest.raises(ValidationError) as exc:
        services.grant_revoke(actor=manager, grant=grant, reason="  ")
    assert "reason" in exc.value.message_dict
    assert PublishingGrant.objects.filter(revoked_at__isnull=False).count() == 0
    assert has_capability(fresh(colleague), "draft", account)

    services.grant_revoke(actor=manager, grant=grant, reason="done")
    assert not has_capability(fresh(colleague), "draft", account)
    assert AuditEvent.objects.filter(action="grant.revoke").count() == 1
    # revoking again changes nothing and writes no second event
    services.grant_revoke(actor=manager, grant=PublishingGrant.objects.get(pk=grant.pk), reason="again")
    assert AuditEvent.objects.filter(action="grant.revoke").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["publish", "approve", "manage"])
def test_a_manage_holder_revokes_only_what_they_may_grant(admin_user, manager, make_member, account, workgroup,
                                                          capability):
    colleague = trained(make_member, workgroup=workgroup)
    grant = services.grant_create(actor=admin_user, account=account, capability=capability, user=colleague,
                                  reason="x", reauthenticated_at=timezone.now())
    with pytest.raises(PermissionDenied, match="Only admins"):
        services.grant_revoke(actor=manager, grant=grant, reason="taking it away")
    assert has_capability(fresh(colleague), capability, account)
    services.grant_revoke(actor=admin_user, grant=grant, reason="admins may")
    assert not has_capability(fresh(colleague), capability, account)


# --- re-authentication windows ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["publish", "approve", "manage"])
def test_sensitive_grants_need_a_recent_reauthentication(admin_user, make_member, account, capability):
    person = trained(make_member)
    for stamp in (None, ago(6)):
        with pytest.raises(ReauthRequired) as exc:
            services.grant_create(actor=admin_user, account=account, capability=capability, user=person,
                                  reason="x", reauthenticated_at=stamp)
        assert exc.value.code == "reauth_required"
        assert not PublishingGrant.objects.exists()
    services.grant_create(actor=admin_user, account=account, capability=capability, user=person, reason="x",
                          reauthenticated_at=ago(4))
    assert has_capability(fresh(person), capability, account)


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["draft", "reply"])
def test_draft_and_reply_grants_need_no_reauthentication(admin_user, make_member, account, capability):
    person = make_member()
    services.grant_create(actor=admin_user, account=account, capability=capability, user=person, reason="x",
                          reauthenticated_at=None)
    assert has_capability(fresh(person), capability, account)


@pytest.mark.django_db
def test_the_reauthentication_window_follows_the_setting(admin_user, make_member, account, settings):
    settings.SOCIALOPS_REAUTH_SECONDS = 60
    person = trained(make_member)
    with pytest.raises(ReauthRequired):
        services.grant_create(actor=admin_user, account=account, capability="publish", user=person, reason="x",
                              reauthenticated_at=ago(2))


# --- custody: reveal requests ---------------------------------------------------------------------------------------


@pytest.fixture
def custody(admin_user, make_member, account):
    """``account`` kept by a manager and an executive (both custodians), each
    with an authenticator; one stored password."""
    first = make_member(Role.SOCIAL_MEDIA_MANAGER)
    second = make_member(Role.EXECUTIVE)
    for person in (first, second):
        services.custodian_add(actor=admin_user, account=account, user=person)
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret=SECRET)
    return {"first": first, "second": second, "credential": credential,
            "first_device": totp_device(first), "second_device": totp_device(second)}


def _request(custody, reason="The platform asks us to log in again"):
    return services.reveal_request_create(actor=custody["first"], credential=custody["credential"], reason=reason)


@pytest.mark.django_db
def test_reveal_request_create_guards(custody, make_member):
    with pytest.raises(ValidationError) as exc:
        _request(custody, reason="too short")
    assert "reason" in exc.value.message_dict
    outsider = make_member(Role.SOCIAL_MEDIA_MANAGER)  # neither custodian, admin nor executive
    with pytest.raises(PermissionDenied):
        services.reveal_request_create(actor=outsider, credential=custody["credential"],
                                       reason="I would like to see it please")
    _request(custody)
    with pytest.raises(ValidationError) as exc:
        _request(custody)
    assert "credential" in exc.value.message_dict
    assert RevealRequest.objects.count() == 1


@pytest.mark.django_db
def test_four_eyes_the_requester_never_approves_their_own_request(custody):
    request = _request(custody)
    with pytest.raises(PermissionDenied):
        services.reveal_request_decide(actor=custody["first"], request=request, approve=True,
                                       reauthenticated_at=now())
    assert RevealRequest.objects.get(pk=request.pk).status == RevealRequest.Status.PENDING
    assert not AuditEvent.objects.filter(action="reveal.approve").exists()


@pytest.mark.django_db
def test_only_a_custodian_of_the_account_decides(custody, admin_user, make_member):
    request = _request(custody)
    executive = make_member(Role.EXECUTIVE)  # may ask for reveals, but keeps no custody of this account
    custodian_elsewhere = make_member(Role.SOCIAL_MEDIA_MANAGER)
    services.custodian_add(actor=admin_user, account=SocialAccountFactory(), user=custodian_elsewhere)
    for actor in (admin_user, executive, custodian_elsewhere):
        for approve in (True, False):
            with pytest.raises(PermissionDenied):
                services.reveal_request_decide(actor=actor, request=request, approve=approve,
                                               reauthenticated_at=now())
    assert RevealRequest.objects.get(pk=request.pk).status == RevealRequest.Status.PENDING


@pytest.mark.django_db
def test_a_decided_request_is_not_decided_again(custody):
    request = _request(custody)
    services.reveal_request_decide(actor=custody["second"], request=request, approve=False)
    with pytest.raises(ValidationError) as exc:
        services.reveal_request_decide(actor=custody["second"], request=request, approve=True,
                                       reauthenticated_at=now())
    assert "status" in exc.value.message_dict
    assert RevealRequest.objects.get(pk=request.pk).status == RevealRequest.Status.REJECTED


@pytest.mark.django_db
def test_approving_a_reveal_needs_a_recent_reauthentication_rejecting_does_not(custody):
    request = _request(custody)
    for stamp in (None, ago(6)):
        with pytest.raises(ReauthRequired):
            services.reveal_request_decide(actor=custody["second"], request=request, approve=True,
                                           reauthenticated_at=stamp)
        assert RevealRequest.objects.get(pk=request.pk).status == RevealRequest.Status.PENDING
    approved = services.reveal_request_decide(actor=custody["second"], request=request, approve=True,
                                              reauthenticated_at=ago(4))
    assert approved.status == RevealRequest.Status.APPROVED and approved.decided_by == custody["second"]

    services.reveal_request_cancel(actor=custody["first"], request=approved)
    other = _request(custody, reason="Asking again, for the bio update")
    rejected = services.reveal_request_decide(actor=custody["second"], request=other, approve=False,
                                              reauthenticated_at=None)
    assert rejected.status == RevealRequest.Status.REJECTED


# --- custody: reveal_perform ----------------------------------------------------------------------------------------


@pytest.fixture
def approved(custody):
    request = _request(custody)
    return services.reveal_request_decide(actor=custody["second"], request=request, approve=True,
                                          reauthenticated_at=now())


@pytest.mark.django_db
def test_reveal_with_password_and_code_works_once(custody, approved):
    secret, visible_until = services.reveal_perform(actor=custody["first"], request=approved, password=PASSWORD,
                                                    otp_token=totp_code(custody["first_device"]))
    assert secret == SECRET and visible_until > now()
    with pytest.raises(ValidationError) as exc:
        services.reveal_perform(actor=custody["first"], request=approved, password=PASSWORD,
                                otp_token=totp_code(custody["first_device"]))
    assert "status" in exc.value.message_dict


@pytest.mark.django_db
def test_only_the_requester_reveals(custody, approved):
    with pytest.raises(PermissionDenied):
        services.reveal_perform(actor=custody["second"], request=approved, password=PASSWORD,
                                otp_token=totp_code(custody["second_device"]))
    assert RevealRequest.objects.get(pk=approved.pk).status == RevealRequest.Status.APPROVED


@pytest.mark.django_db
def test_a_pending_request_reveals_nothing(custody):
    request = _request(custody)
    with pytest.raises(ValidationError) as exc:
        services.reveal_perform(actor=custody["first"], request=request, password=PASSWORD,
                                otp_token=totp_code(custody["first_device"]))
    assert "status" in exc.value.message_dict


@pytest.mark.django_db
def test_an_expired_approval_reveals_nothing(custody, approved, settings):
    hours = settings.SOCIALOPS_REVEAL_APPROVAL_VALID_HOURS
    RevealRequest.objects.filter(pk=approved.pk).update(decided_at=now() - timedelta(hours=hours, minutes=1))
    with pytest.raises(ValidationError) as exc:
        services.reveal_perform(actor=custody["first"], request=approved, password=PASSWORD,
                                otp_token=totp_code(custody["first_device"]))
    assert "expired" in errors(exc, "status")
    assert RevealRequest.objects.get(pk=approved.pk).status == RevealRequest.Status.EXPIRED
    assert AuditEvent.objects.filter(action="reveal.expire").count() == 1


@pytest.mark.django_db
def test_an_approval_just_inside_its_validity_still_reveals(custody, approved, settings):
    hours = settings.SOCIALOPS_REVEAL_APPROVAL_VALID_HOURS
    RevealRequest.objects.filter(pk=approved.pk).update(decided_at=now() - timedelta(hours=hours, minutes=-1))
    secret, _until = services.reveal_perform(actor=custody["first"], request=approved, password=PASSWORD,
                                             otp_token=totp_code(custody["first_device"]))
    assert secret == SECRET


@pytest.mark.django_db
def test_a_wrong_code_or_password_reveals_nothing(custody, approved):
    code = totp_code(custody["first_device"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError) as exc:
        services.reveal_perform(actor=custody["first"], request=approved, password=PASSWORD, otp_token=wrong)
    assert "otp_token" in exc.value.message_dict
    custody["first_device"].refresh_from_db()
    custody["first_device"].throttle_reset()
    with pytest.raises(ValidationError) as exc:
        services.reveal_perform(actor=custody["first"], request=approved, password="not-it", otp_token=code)
    assert "password" in exc.value.message_dict
    assert RevealRequest.objects.get(pk=approved.pk).status == RevealRequest.Status.APPROVED
    assert Credential.objects.get(pk=custody["credential"].pk).rotation_forced_at is None


@pytest.mark.django_db
def test_no_reveal_without_an_authenticator(custody, approved):
    custody["first_device"].delete()
    with pytest.raises(ValidationError) as exc:
        services.reveal_perform(actor=custody["first"], request=approved, password=PASSWORD, otp_token="123456")
    assert "otp_token" in exc.value.message_dict


# --- custody: break-glass -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_break_glass_is_for_executives_only_inside_the_service(custody, admin_user):
    """An admin and a custodian bring a valid password, code and a fresh
    re-authentication: only the executive check can stop them."""
    for actor in (admin_user, custody["first"]):
        device = totp_device(actor) if actor == admin_user else custody["first_device"]
        with pytest.raises(PermissionDenied):
            services.break_glass(actor=actor, credential=custody["credential"], reason="Account hijack, lock it now",
                                 password=PASSWORD, otp_token=totp_code(device), reauthenticated_at=now())
    assert not RevealRequest.objects.filter(is_break_glass=True).exists()
    assert Credential.objects.get(pk=custody["credential"].pk).rotation_forced_at is None


@pytest.mark.django_db
def test_break_glass_by_an_executive(custody):
    secret, _until, request = services.break_glass(
        actor=custody["second"], credential=custody["credential"], reason="Account hijack, lock it now",
        password=PASSWORD, otp_token=totp_code(custody["second_device"]), reauthenticated_at=ago(4))
    assert secret == SECRET and request.is_break_glass and request.status == RevealRequest.Status.REVEALED
    assert Credential.objects.get(pk=custody["credential"].pk).is_rotation_due


@pytest.mark.django_db
def test_break_glass_needs_a_reason_a_right_code_and_a_recent_reauthentication(custody):
    executive, device = custody["second"], custody["second_device"]
    with pytest.raises(ValidationError) as exc:
        services.break_glass(actor=executive, credential=custody["credential"], reason="urgent", password=PASSWORD,
                             otp_token=totp_code(device), reauthenticated_at=now())
    assert "reason" in exc.value.message_dict
    for stamp in (None, ago(6)):
        with pytest.raises(ReauthRequired):
            services.break_glass(actor=executive, credential=custody["credential"],
                                 reason="Account hijack, lock it now", password=PASSWORD,
                                 otp_token=totp_code(device), reauthenticated_at=stamp)
    code = totp_code(device)
    with pytest.raises(ValidationError) as exc:
        services.break_glass(actor=executive, credential=custody["credential"], reason="Account hijack, lock it now",
                             password=PASSWORD, otp_token=f"{(int(code) + 1) % 1_000_000:06d}",
                             reauthenticated_at=now())
    assert "otp_token" in exc.value.message_dict
    assert not RevealRequest.objects.filter(is_break_glass=True).exists()


# --- credentials: the scheduled rotation -------------------------------------------------------------------------


@pytest.mark.django_db
def test_rotation_falls_due_after_the_accounts_rotation_days_not_a_day_before(admin_user):
    account = SocialAccountFactory(rotation_days=30)
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret=SECRET)
    rotated = timezone.now()

    def as_of(days_ago):
        Credential.objects.filter(pk=credential.pk).update(last_rotated_at=rotated - timedelta(days=days_ago))
        return Credential.objects.select_related("account").get(pk=credential.pk)

    assert not as_of(0).is_rotation_due
    assert not as_of(29).is_rotation_due
    due = as_of(30)
    assert due.is_rotation_due
    assert due.rotation_due_at == due.last_rotated_at + timedelta(days=30)
    assert as_of(31).is_rotation_due
    # the account's policy is read when asked: a longer period makes it not due again
    SocialAccount.objects.filter(pk=account.pk).update(rotation_days=60)
    assert not as_of(31).is_rotation_due


@pytest.mark.django_db
def test_a_forced_rotation_is_due_at_once_and_rotating_clears_it(admin_user):
    account = SocialAccountFactory(rotation_days=90)
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret=SECRET)
    Credential.objects.filter(pk=credential.pk).update(rotation_forced_at=now() - timedelta(seconds=1))
    credential = Credential.objects.get(pk=credential.pk)
    assert credential.is_rotation_due
    Credential.objects.filter(pk=credential.pk).update(last_rotated_at=now() - timedelta(days=100),
                                                       rotation_forced_at=None)
    assert Credential.objects.get(pk=credential.pk).is_rotation_due
    rotated = services.credential_set(actor=admin_user, account=account, kind="password", secret=SECRET + "-new")
    assert not rotated.is_rotation_due and rotated.rotation_forced_at is None
    assert rotated.rotation_due_at > now() + timedelta(days=89)


# --- offboarding --------------------------------------------------------------------------------------------------


@pytest.fixture
def leaver(make_member):
    return make_member(Role.COMMUNITY_MANAGER)


@pytest.mark.django_db
def test_only_admins_offboard(make_member, leaver):
    for actor in (make_member(Role.EXECUTIVE), make_member(Role.SOCIAL_MEDIA_MANAGER)):
        with pytest.raises(PermissionDenied):
            services.offboard_user(actor=actor, user=leaver, reason="contract ended", reauthenticated_at=now())
    assert fresh(leaver).is_active


@pytest.mark.django_db
def test_nobody_offboards_themselves(make_member):
    admin = make_member(Role.ADMIN)
    make_member(Role.ADMIN)  # another admin exists, so this is not about the last admin
    with pytest.raises(ValidationError) as exc:
        services.offboard_user(actor=admin, user=admin, reason="leaving", reauthenticated_at=now())
    assert "themselves" in errors(exc, "user")
    assert fresh(admin).is_active


@pytest.mark.django_db
def test_offboarding_needs_a_reason(admin_user, leaver):
    with pytest.raises(ValidationError) as exc:
        services.offboard_user(actor=admin_user, user=leaver, reason="   ", reauthenticated_at=now())
    assert "reason" in exc.value.message_dict
    assert fresh(leaver).is_active


@pytest.mark.django_db
def test_offboarding_needs_a_recent_reauthentication(admin_user, leaver):
    for stamp in (None, ago(6)):
        with pytest.raises(ReauthRequired):
            services.offboard_user(actor=admin_user, user=leaver, reason="contract ended", reauthenticated_at=stamp)
        assert fresh(leaver).is_active
    assert not AuditEvent.objects.filter(action__startswith="offboard.").exists()
    report = services.offboard_user(actor=admin_user, user=leaver, reason="contract ended",
                                    reauthenticated_at=ago(4))
    assert not fresh(leaver).is_active
    assert report["end_sessions"]["sessions_ended"] is True
