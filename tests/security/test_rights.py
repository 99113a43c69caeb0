"""Publishing rights: policy, enforcement, revocation and expiry."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from accounts.roles import Role
from security import services
from security.models import Capability, PublishingGrant
from security.permissions import has_capability
from security.selectors import accounts_with_capability, my_access
from tests.accounts.factories import DepartmentFactory, MembershipFactory, UserFactory
from tests.helpers import fresh
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory


@pytest.fixture
def account(db):
    return SocialAccountFactory()


@pytest.fixture
def trained(make_member):
    user = make_member(Role.DEPARTMENT_REPRESENTATIVE)
    TrainingRecordFactory(user=user)
    return user


@pytest.mark.django_db
def test_grant_gives_the_capability_and_revoke_takes_it_away(admin_user, trained, account):
    other = SocialAccountFactory()
    grant = services.grant_create(actor=admin_user, account=account, capability="publish", user=trained,
                                  reason="runs the service channel", reauthenticated_at=timezone.now())
    assert has_capability(fresh(trained), "publish", account)
    assert not has_capability(fresh(trained), "publish", other)
    assert not has_capability(fresh(trained), "approve", account)
    assert list(accounts_with_capability(fresh(trained), "publish")) == [account]
    services.grant_revoke(actor=admin_user, grant=grant, reason="moved team")
    assert not has_capability(fresh(trained), "publish", account)
    assert list(accounts_with_capability(fresh(trained), "publish")) == []
    grant.refresh_from_db()
    assert grant.revoked_by == admin_user and grant.revoke_reason == "moved team"


@pytest.mark.django_db
def test_expired_grant_stops_working_without_any_job(admin_user, trained, account, monkeypatch):
    services.grant_create(actor=admin_user, account=account, capability="reply", user=trained,
                          reason="cover", expires_at=timezone.now() + timezone.timedelta(hours=1))
    assert has_capability(fresh(trained), "reply", account)
    later = timezone.now() + timezone.timedelta(hours=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert not has_capability(fresh(trained), "reply", account)
    assert my_access(fresh(trained)) == []


@pytest.mark.django_db
def test_guardian_permission_alone_is_not_enough(trained, account):
    from guardian.shortcuts import assign_perm

    assign_perm(Capability.PUBLISH.perm, trained, account)  # a permission with no grant on record
    assert not has_capability(fresh(trained), "publish", account)


@pytest.mark.django_db
def test_nobody_grants_to_themselves(make_member, account):
    admin = make_member(Role.ADMIN)
    TrainingRecordFactory(user=admin)
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin, account=account, capability="publish", user=admin, reason="me")
    assert "themselves" in exc.value.message_dict["user"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("capability", ["publish", "approve"])
def test_publish_and_approve_need_current_training(admin_user, make_member, account, capability):
    untrained = make_member()
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability=capability, user=untrained, reason="x")
    assert "training" in exc.value.message_dict["user"][0]
    stale = make_member()
    TrainingRecordFactory(user=stale, completed_on=timezone.localdate() - timezone.timedelta(days=400))
    with pytest.raises(ValidationError):
        services.grant_create(actor=admin_user, account=account, capability=capability, user=stale, reason="x")
    # draft and reply need no training
    services.grant_create(actor=admin_user, account=account, capability="draft", user=untrained, reason="x")


@pytest.mark.django_db
@override_settings(SOCIALOPS_TRAINING_VALIDITY_DAYS=30)
def test_training_validity_is_configurable(admin_user, make_member, account):
    user = make_member()
    TrainingRecordFactory(user=user, completed_on=timezone.localdate() - timezone.timedelta(days=60))
    with pytest.raises(ValidationError):
        services.grant_create(actor=admin_user, account=account, capability="publish", user=user, reason="x")


@pytest.mark.django_db
def test_maximum_publishers_per_account(admin_user, make_member):
    account = SocialAccountFactory(max_publishers=2)
    people = [make_member() for _ in range(3)]
    for person in people:
        TrainingRecordFactory(user=person)
    now = timezone.now()
    services.grant_create(actor=admin_user, account=account, capability="publish", user=people[0], reason="a",
                          reauthenticated_at=now)
    services.grant_create(actor=admin_user, account=account, capability="publish", user=people[1], reason="b",
                          reauthenticated_at=now)
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability="publish", user=people[2], reason="c",
                              reauthenticated_at=now)
    assert "2 of 2 publishers" in exc.value.message_dict["capability"][0]
    assert PublishingGrant.objects.current().filter(account=account, capability="publish").count() == 2


@pytest.mark.django_db
def test_only_draft_goes_to_a_department(admin_user, make_member, account):
    department = DepartmentFactory(name="Sales")
    member = make_member(department=department)
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability="publish", department=department,
                              reason="x")
    assert "department" in exc.value.message_dict
    services.grant_create(actor=admin_user, account=account, capability="draft", department=department,
                          reason="sales drafts offers")
    assert has_capability(fresh(member), "draft", account)
    assert [row["source"] for row in my_access(fresh(member))] == ["department Sales"]
    # leaving the department ends the right
    membership = member.memberships.get()
    from accounts.services import membership_end

    membership_end(actor=admin_user, membership=membership)
    assert not has_capability(fresh(member), "draft", account)


@pytest.mark.django_db
def test_department_grant_reaches_a_new_member(admin_user, account):
    department = DepartmentFactory()
    services.grant_create(actor=admin_user, account=account, capability="draft", department=department, reason="x")
    newcomer = UserFactory()
    MembershipFactory(user=newcomer, department=department)
    assert has_capability(fresh(newcomer), "draft", account)


@pytest.mark.django_db
def test_manage_holder_grants_on_their_account_only(admin_user, make_member, account):
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    services.grant_create(actor=admin_user, account=account, capability="manage", user=manager, reason="channel lead",
                          reauthenticated_at=timezone.now())
    rep = make_member(workgroup=manager.memberships.get().workgroup)
    services.grant_create(actor=fresh(manager), account=account, capability="draft", user=rep, reason="helps")
    stranger = make_member()  # not in the manager's workgroups: only an admin grants to them
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=fresh(manager), account=account, capability="reply", user=stranger, reason="x")
    assert "user" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        services.grant_create(actor=fresh(manager), account=SocialAccountFactory(), capability="draft", user=rep,
                              reason="x")


@pytest.mark.django_db
def test_representative_cannot_grant(make_member, account):
    rep = make_member()
    with pytest.raises(PermissionDenied):
        services.grant_create(actor=rep, account=account, capability="draft", user=UserFactory(), reason="x")


@pytest.mark.django_db
def test_retired_account_cannot_be_published_to(admin_user, trained, account):
    services.grant_create(actor=admin_user, account=account, capability="publish", user=trained, reason="x",
                          reauthenticated_at=timezone.now())
    services.account_retire(actor=admin_user, account=account)
    account.refresh_from_db()
    assert not has_capability(fresh(trained), "publish", account)


@pytest.mark.django_db
def test_duplicate_grant_is_refused(admin_user, make_member, account):
    rep = make_member()
    services.grant_create(actor=admin_user, account=account, capability="draft", user=rep, reason="x")
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability="draft", user=rep, reason="x")
    assert "already granted" in exc.value.message_dict["capability"][0]


@pytest.mark.django_db
def test_reason_is_required(admin_user, make_member, account):
    with pytest.raises(ValidationError) as exc:
        services.grant_create(actor=admin_user, account=account, capability="draft", user=make_member(), reason=" ")
    assert "reason" in exc.value.message_dict


@pytest.mark.django_db
def test_department_right_reaches_a_membership_that_starts_later(admin_user, account, monkeypatch):
    from accounts.services import membership_create

    department = DepartmentFactory()
    services.grant_create(actor=admin_user, account=account, capability="draft", department=department, reason="x")
    from tests.accounts.factories import WorkgroupFactory

    person = UserFactory()
    starts = timezone.now() + timezone.timedelta(days=1)
    membership_create(actor=admin_user, user=person, department=department, workgroup=WorkgroupFactory(),
                      role="department_representative", started_at=starts)
    assert not has_capability(fresh(person), "draft", account)
    later = starts + timezone.timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert has_capability(fresh(person), "draft", account)
    assert list(accounts_with_capability(fresh(person), "draft")) == [account]
