import pytest
from django.core.management import call_command

from accounts.models import Department, Membership, User, Workgroup
from accounts.roles import Role


@pytest.mark.django_db
def test_seed_demo_is_complete_and_idempotent():
    call_command("seed_demo", quiet_logins=True)
    counts = (User.objects.count(), Department.objects.count(), Workgroup.objects.count(), Membership.objects.count())
    call_command("seed_demo", quiet_logins=True)
    assert counts == (User.objects.count(), Department.objects.count(), Workgroup.objects.count(),
                      Membership.objects.count())
    assert User.objects.count() >= 14
    assert Department.objects.count() >= 8
    assert Workgroup.objects.count() == 2
    assert set(Membership.objects.values_list("role", flat=True)) == set(Role.values)
    hybrid = [u for u in User.objects.all() if u.memberships.values("role").distinct().count() >= 2]
    assert hybrid
    for workgroup in Workgroup.objects.all():
        assert workgroup.supervisors.exists()
        assert Membership.objects.filter(workgroup=workgroup).values("department").distinct().count() >= 2


@pytest.mark.django_db
def test_if_empty_leaves_an_existing_database_alone(make_member):
    make_member()
    call_command("seed_demo", if_empty=True, quiet_logins=True)
    assert not User.objects.filter(username="ada").exists()
