import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import Role
from tests.accounts.factories import DepartmentFactory, MembershipFactory, UserFactory, WorkgroupFactory


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle history and presence live in the cache; ids repeat between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


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


def sign_in(client, user, *, second_factor=True):
    """Signs ``user`` in on ``client``; with ``second_factor`` the session is
    also verified, as after the second sign-in step (through a device that is
    not an authenticator app, so pages that look for one still find none)."""
    client.force_login(user)
    if second_factor:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_static.models import StaticDevice

        device, _ = StaticDevice.objects.get_or_create(user=user, name="test session", defaults={"confirmed": True})
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@pytest.fixture
def client_for():
    def _client(user, *, second_factor=True):
        return sign_in(Client(), user, second_factor=second_factor)

    return _client


@pytest.fixture
def api_for():
    def _client(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return _client


class RecordingConnector:
    """Stands in for the Mastodon connector: records what would be posted,
    or raises ``fail`` when a test sets it."""

    platform = "mastodon"

    def __init__(self):
        self.calls: list[dict] = []
        self.fail: Exception | None = None

    def send_reply(self, account, *, conversation, text, idempotency_key):
        if self.fail is not None:
            raise self.fail
        self.calls.append({"conversation": conversation.pk, "text": text, "key": idempotency_key})
        return f"out-{len(self.calls)}"

    @property
    def texts(self) -> list[str]:
        return [call["text"] for call in self.calls]


@pytest.fixture
def connector():
    """Registers a RecordingConnector for Mastodon and puts the real one back after."""
    from inbox.connectors.base import NoConnectorError, connector_for, register, unregister

    try:
        previous = connector_for("mastodon")
    except NoConnectorError:
        previous = None
    fake = RecordingConnector()
    register(fake)
    yield fake
    if previous is not None:
        register(previous)
    else:
        unregister("mastodon")
