import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services
from accounts.audit import audit_event
from accounts.models import Membership
from accounts.roles import Role
from tests.accounts.factories import DepartmentFactory, UserFactory, WorkgroupFactory


@pytest.mark.django_db
def test_only_admins_change_structure(make_member):
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE)
    with pytest.raises(PermissionDenied):
        services.department_create(actor=rep, name="Procurement")


@pytest.mark.django_db
def test_workgroup_role_needs_a_workgroup(admin_user):
    with pytest.raises(ValidationError) as exc:
        services.membership_create(actor=admin_user, user=UserFactory(), department=DepartmentFactory(),
                                   role=Role.COMMUNITY_MANAGER)
    assert "workgroup" in exc.value.message_dict


@pytest.mark.django_db
def test_same_open_role_twice_is_refused(admin_user):
    user, dept, wg = UserFactory(), DepartmentFactory(), WorkgroupFactory()
    services.membership_create(actor=admin_user, user=user, department=dept, workgroup=wg, role=Role.SPECIALIST)
    with pytest.raises(ValidationError) as exc:
        services.membership_create(actor=admin_user, user=user, department=dept, workgroup=wg, role=Role.SPECIALIST)
    assert "role" in exc.value.message_dict
    assert Membership.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_supervisors_must_be_executives(admin_user, make_member):
    executive = make_member(Role.EXECUTIVE)
    rep = make_member(Role.DEPARTMENT_REPRESENTATIVE)
    with pytest.raises(ValidationError) as exc:
        services.workgroup_create(actor=admin_user, name="Social", supervisors=[executive, rep])
    assert "supervisors" in exc.value.message_dict
    workgroup = services.workgroup_create(actor=admin_user, name="Social", supervisors=[executive])
    assert list(workgroup.supervisors.all()) == [executive]


@pytest.mark.django_db
def test_structure_changes_are_announced_for_the_audit_log(admin_user):
    seen = []

    def receiver(**kwargs):
        seen.append(kwargs)

    audit_event.connect(receiver)
    try:
        department = services.department_create(actor=admin_user, name="Procurement")
        services.department_update(actor=admin_user, department=department, name="Purchasing")
        services.department_update(actor=admin_user, department=department, name="Purchasing")  # no change
    finally:
        audit_event.disconnect(receiver)
    assert [e["action"] for e in seen] == ["department.create", "department.update"]
    assert seen[1]["before"] == {"name": "Procurement"} and seen[1]["after"] == {"name": "Purchasing"}
    assert seen[1]["actor"] == admin_user
