"""The Django admin is not a back door: walk every registered model's list
and change form as a superuser and assert that none shows a secret and none
lets anything change (or be added or deleted) outside the services."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin.sites import AdminSite
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import twofactor
from accounts.models import ApiToken, User
from security import services as security_services
from security.models import AuditEvent, Credential, SocialAccount
from socialops.admin import AuditedAdminMixin, ReadOnlyAdminMixin

PLANTED_SECRET = "planted-credential-Zq8!x"


@pytest.fixture
def world(db):
    """The demo organisation plus one of every secret the admin could leak."""
    call_command("seed_demo", quiet_logins=True)
    ada = User.objects.get(username="ada")
    erik = User.objects.get(username="erik")
    device = TOTPDevice.objects.create(user=erik, name="phone", confirmed=True)
    codes = twofactor.recovery_codes_generate(erik)
    token, plaintext = ApiToken.objects.create(user=erik, name="reporting")
    account = SocialAccount.objects.order_by("pk").first()
    security_services.credential_set(actor=ada, account=account, kind="api_token", secret=PLANTED_SECRET,
                                     label="planted")
    credential = Credential.objects.get(label="planted")
    secrets = {
        "TOTP seed (hex)": device.key,
        "TOTP seed (base32)": __import__("base64").b32encode(device.bin_key).decode().rstrip("="),
        "recovery code": codes[0],
        "API token": plaintext,
        "API token digest": token.digest,
        "password hash": erik.password,
        "session stamp": erik.session_stamp,
        "credential plaintext": PLANTED_SECRET,
        "credential ciphertext": bytes(credential.ciphertext).decode(errors="ignore")[:40]
        if isinstance(credential.ciphertext, (bytes, memoryview)) else str(credential.ciphertext)[:40],
    }
    return {"ada": ada, "secrets": secrets}


def _admin_client(client_for, ada):
    return client_for(ada)


def _url(model, name, *args):
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{name}", args=args)
    except NoReverseMatch:
        return None


@pytest.mark.django_db
def test_every_admin_page_is_read_only_and_shows_no_secret(world, client_for):
    client = _admin_client(client_for, world["ada"])
    walked = 0
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, ReadOnlyAdminMixin), f"{model._meta.label} is editable in the admin"
        changelist = client.get(_url(model, "changelist"))
        assert changelist.status_code == 200, model._meta.label
        pages = [changelist.content.decode()]
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            change_url = _url(model, "change", obj.pk)
            page = client.get(change_url)
            if model is ApiToken:
                assert page.status_code == 403  # no page per token: its address would carry the digest
                continue
            assert page.status_code == 200, model._meta.label
            html = page.content.decode()
            pages.append(html)
            # nothing to submit: no editable input besides the CSRF token and the search box
            editable = re.findall(r'<(?:input|textarea|select)[^>]*name="(?!csrfmiddlewaretoken|q\b|_)[^"]+"', html)
            assert editable == [], f"{model._meta.label} change form has inputs: {editable[:3]}"
            before = model._default_manager.filter(pk=obj.pk).values().first()
            response = client.post(change_url, {"is_superuser": "on", "status": "approved", "name": "hacked"})
            assert response.status_code == 403, model._meta.label
            assert model._default_manager.filter(pk=obj.pk).values().first() == before
            assert _url(model, "delete", obj.pk) is None
            walked += 1
        assert _url(model, "add") is None, f"{model._meta.label} can be added in the admin"
        for html in pages:
            for what, secret in world["secrets"].items():
                assert secret and secret not in html, f"{what} shown on {model._meta.label}'s admin page"
    assert walked >= 25


@pytest.mark.django_db
def test_no_password_setting_and_no_totp_config_pages(world, client_for):
    client = _admin_client(client_for, world["ada"])
    erik = User.objects.get(username="erik")
    password_hash = erik.password
    assert client.get(f"/admin/accounts/user/{erik.pk}/password/").status_code in (302, 404)
    client.post(f"/admin/accounts/user/{erik.pk}/password/",
                {"password1": "x-new-pass-123", "password2": "x-new-pass-123"})
    assert User.objects.get(pk=erik.pk).password == password_hash
    device = TOTPDevice.objects.get(user=erik, name="phone")
    for page in ("config", "qrcode"):
        response = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/{page}/")
        assert response.status_code in (302, 404) and device.key not in response.content.decode()
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 404


@pytest.mark.django_db
def test_admin_actions_go_through_the_services_and_the_audit_log(world, client_for):
    from django.core import mail

    client = _admin_client(client_for, world["ada"])
    rita = User.objects.get(username="rita")
    rita.email = "rita@example.org"
    rita.save(update_fields=["email"])
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "send_password_reset_link", "_selected_action": [rita.pk]})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["rita@example.org"]]
    assert AuditEvent.objects.filter(action="auth.password_reset_sent", target_id=str(rita.pk)).exists()
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "end_sessions", "_selected_action": [rita.pk]})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.sessions_end", target_id=str(rita.pk)).exists()
    # the bulk delete action is gone everywhere
    response = client.post(reverse("admin:accounts_user_changelist"),
                           {"action": "delete_selected", "_selected_action": [rita.pk]})
    assert User.objects.filter(pk=rita.pk).exists()


@pytest.mark.django_db
def test_whatever_the_admin_still_logs_is_in_the_audit_chain(rf, admin_user):
    """The audit mixin on an editable admin (none is left in the portal, but a
    later one would be caught): every logged change is in the hash chain."""
    from accounts.models import Department

    class DepartmentAdmin(AuditedAdminMixin, admin.ModelAdmin):
        pass

    model_admin = DepartmentAdmin(Department, AdminSite())
    department = Department.objects.create(name="Logistics", slug="logistics")
    request = rf.post("/admin/")
    request.user = admin_user
    model_admin.log_change(request, department, [{"changed": {"fields": ["name"]}}])
    model_admin.log_deletions(request, Department.objects.filter(pk=department.pk))
    events = AuditEvent.objects.filter(target_id=str(department.pk), action__startswith="admin.")
    assert list(events.order_by("id").values_list("action", flat=True)) == ["admin.change", "admin.delete"]
    assert events.first().actor == admin_user


@pytest.mark.django_db
def test_the_admin_needs_the_second_factor(world):
    from django.test import Client

    from tests.accounts.factories import PASSWORD

    ada = world["ada"]
    ada.set_password(PASSWORD)
    ada.save()
    client = Client()
    client.post(reverse("login"), {"username": "ada", "password": PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302 and not response["Location"].startswith("/admin/")
