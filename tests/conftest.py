import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import Role
from tests.accounts.factories import DepartmentFactory, MembershipFactory, UserFactory, WorkgroupFactory


@pytest.fixture
def make_member(db):
    """A person holding ``role`` in ``workgroup`` for ``department``."""

    def _make(role=Role.DEPARTMENT_REPRESENTATIVE, *, workgroup=None, department=None, user=None, **user_kwargs):
        user = user or UserFactory(**user_kwargs)
        department = department or DepartmentFactory()
        if workgroup is None and role not in (Role.ADMIN, Role.EXECUTIVE):
            workgroup = WorkgroupFactory()
        MembershipFactory(user=user, role=role, department=department, workgroup=workgroup)
        return user

    return _make


@pytest.fixture
def admin_user(make_member):
    return make_member(Role.ADMIN, username="admin-" + UserFactory.build().username)


@pytest.fixture
def client_for():
    def _client(user):
        client = Client()
        client.force_login(user)
        return client

    return _client


@pytest.fixture
def api_for():
    def _client(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return _client
