"""Secrets stay secret: encrypted at rest, never in responses, logs, audit,
admin or errors; keys rotate."""

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from security import services, vault
from security.models import AuditEvent, Credential
from tests.security.factories import SocialAccountFactory

SECRET = "Sup3r-S3cret-Passw0rd-#42"


@pytest.fixture
def credential(admin_user):
    account = SocialAccountFactory()
    return services.credential_set(actor=admin_user, account=account, kind="password", secret=SECRET)


@pytest.mark.django_db
def test_secret_is_encrypted_at_rest(credential):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT ciphertext FROM security_credential WHERE id = %s", [credential.pk])
        stored = cursor.fetchone()[0]
    assert SECRET not in stored
    assert services.credential_for_connector(account=credential.account, kind="password") == SECRET


@pytest.mark.django_db
def test_secret_never_leaks(admin_user, credential, client_for, caplog):
    caplog.set_level(logging.DEBUG)
    superuser = admin_user
    superuser.is_staff = superuser.is_superuser = True
    superuser.save()
    client = client_for(superuser)
    bodies = []
    for url in [
        reverse("security:account-detail", args=[credential.account_id]),
        reverse("security:custody"),
        reverse("security:audit"),
        reverse("security:audit-csv"),
        "/admin/security/credential/",
        f"/admin/security/credential/{credential.pk}/change/",
        "/api/credentials/",
        "/api/audit-events/",
    ]:
        response = client.get(url)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        bodies.append(content.decode())
    # rotating through the service and reading the connector's copy does not log it either
    services.credential_set(actor=admin_user, account=credential.account, kind="password", secret=SECRET + "2")
    services.credential_for_connector(account=credential.account, kind="password")
    assert not any(SECRET in body for body in bodies)
    assert SECRET not in caplog.text
    for event in AuditEvent.objects.all():
        assert SECRET not in f"{event.before}{event.after}{event.target_repr}"


@pytest.mark.django_db
def test_undecryptable_secret_is_an_explicit_error_naming_the_credential(credential):
    with override_settings(SOCIALOPS_VAULT_KEYS=[Fernet.generate_key().decode()]):
        with pytest.raises(vault.CredentialDecryptError) as exc:
            services.credential_for_connector(account=credential.account, kind="password")
    assert f"#{credential.pk}" in str(exc.value) and SECRET not in str(exc.value)


@pytest.mark.django_db
def test_key_rotation_round_trip(admin_user, credential, settings, capsys):
    old_key = settings.SOCIALOPS_VAULT_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.SOCIALOPS_VAULT_KEYS = [new_key, old_key]
    before = Credential.objects.get(pk=credential.pk).ciphertext
    call_command("rotate_credential_keys")
    assert "Re-encrypted 1 credentials" in capsys.readouterr().out
    after = Credential.objects.get(pk=credential.pk).ciphertext
    assert after != before
    settings.SOCIALOPS_VAULT_KEYS = [new_key]  # the old key can now be dropped
    assert services.credential_for_connector(account=credential.account, kind="password") == SECRET


@pytest.mark.django_db
def test_rotation_with_a_missing_key_fails_loudly_and_changes_nothing(credential, settings):
    before = Credential.objects.get(pk=credential.pk).ciphertext
    settings.SOCIALOPS_VAULT_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match=f"#{credential.pk}"):
        call_command("rotate_credential_keys")
    assert Credential.objects.get(pk=credential.pk).ciphertext == before


@pytest.mark.django_db
def test_setting_a_credential_needs_admin_or_custodian(make_member, admin_user):
    from django.core.exceptions import PermissionDenied

    account = SocialAccountFactory()
    with pytest.raises(PermissionDenied):
        services.credential_set(actor=make_member(Role.DEPARTMENT_REPRESENTATIVE), account=account,
                                kind="password", secret="x")
    custodian = make_member(Role.COMMUNITY_MANAGER)
    services.custodian_add(actor=admin_user, account=account, user=custodian)
    services.credential_set(actor=custodian, account=account, kind="api_token", secret="tok")
    assert services.credential_for_connector(account=account, kind="api_token") == "tok"


@pytest.mark.django_db
def test_wrong_authenticator_codes_are_counted_by_django_otp(admin_user, make_member):
    from security.models import RevealRequest
    from tests.accounts.factories import PASSWORD
    from tests.security.factories import totp_device

    account = SocialAccountFactory()
    first, second = make_member(Role.COMMUNITY_MANAGER), make_member(Role.EXECUTIVE)
    for person in (first, second):
        services.custodian_add(actor=admin_user, account=account, user=person)
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret=SECRET)
    device = totp_device(first)
    request = services.reveal_request_create(actor=first, credential=credential, reason="campaign login needed")
    services.reveal_request_decide(actor=second, request=request, approve=True, reauthenticated_at=timezone.now())
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.reveal_perform(actor=first, request=request, password=PASSWORD, otp_token="000000")
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert RevealRequest.objects.get(pk=request.pk).status == "approved"


@pytest.mark.django_db
def test_an_approved_reveal_dies_with_the_requesters_custody(admin_user, make_member):
    from django.core.exceptions import PermissionDenied

    from security.models import Custodian, RevealRequest
    from tests.accounts.factories import PASSWORD
    from tests.security.factories import totp_code, totp_device

    account = SocialAccountFactory()
    first, second = make_member(Role.COMMUNITY_MANAGER), make_member(Role.EXECUTIVE)
    for person in (first, second):
        services.custodian_add(actor=admin_user, account=account, user=person)
    credential = services.credential_set(actor=admin_user, account=account, kind="password", secret=SECRET)
    device = totp_device(first)
    request = services.reveal_request_create(actor=first, credential=credential, reason="campaign login needed")
    services.reveal_request_decide(actor=second, request=request, approve=True, reauthenticated_at=timezone.now())
    custody = Custodian.objects.get(account=account, user=first, removed_at__isnull=True)
    # the request is cancelled with the custody; a request approved before is refused at reveal time too
    services.custodian_remove(actor=admin_user, custodian=custody)
    assert RevealRequest.objects.get(pk=request.pk).status == "cancelled"
    RevealRequest.objects.filter(pk=request.pk).update(status="approved")
    with pytest.raises(PermissionDenied):
        services.reveal_perform(actor=first, request=request, password=PASSWORD, otp_token=totp_code(device))
