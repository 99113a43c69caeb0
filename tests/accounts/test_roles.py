import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.models import User
from accounts.roles import ROLE_PERMISSIONS, Role, group_name
from accounts.services import membership_end


@pytest.mark.django_db
def test_every_role_has_a_group_holding_its_permissions():
    for role in Role.values:
        group = Group.objects.get(name=group_name(role))
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(ROLE_PERMISSIONS[role])


@pytest.mark.django_db
def test_permissions_follow_active_memberships(make_member, admin_user):
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE)
    assert rep.has_perm("accounts.view_workgroup")
    assert not rep.has_perm("accounts.manage_people")
    assert admin_user.has_perm("accounts.manage_people")

    membership = rep.memberships.get()
    membership_end(actor=admin_user, membership=membership)
    rep = User.objects.get(pk=rep.pk)  # a fresh object, as on the next request
    assert not rep.has_perm("accounts.view_workgroup")


@pytest.mark.django_db
def test_future_membership_grants_nothing_yet(make_member):
    user = make_member(Role.ADMIN)
    user.memberships.update(started_at=timezone.now() + timezone.timedelta(days=2))
    user = User.objects.get(pk=user.pk)
    assert not user.has_perm("accounts.manage_people")


@pytest.mark.django_db
def test_hybrid_roles_add_up(make_member):
    user = make_member(Role.DEPARTMENT_REPRESENTATIVE)
    make_member(Role.EXECUTIVE, user=user)
    user = User.objects.get(pk=user.pk)
    assert user.has_perm("accounts.supervise_workgroup")
    assert user.has_perm("accounts.view_membership")
