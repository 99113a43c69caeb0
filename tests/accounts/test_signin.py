"""Signing in with a second factor on every path (login page, session API,
Django admin, API token creation), recovery codes, tokens that cannot be
copied and end with the password, sign out everywhere, password reset by
email with the second factor, and the two-admin second-factor reset."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import signin, twofactor
from accounts.models import ApiToken, SecondFactorReset, User
from accounts.roles import Role
from security.models import AuditEvent
from tests.accounts.factories import PASSWORD


def _device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)).zfill(device.digits)


def _wait_out_throttle(device) -> None:
    """django-otp slows guessing down after a failure (2 s, then 4 s...); a
    person waits for the next code, a test moves on."""
    type(device).objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def _login(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": PASSWORD})


def _actions(user=None):
    qs = AuditEvent.objects.all()
    if user is not None:
        qs = qs.filter(actor=user)
    return list(qs.order_by("id").values_list("action", flat=True))


# --- the login page -------------------------------------------------------

@pytest.mark.django_db
def test_executive_with_an_authenticator_needs_the_code_everywhere(make_member):
    executive = make_member(Role.EXECUTIVE)
    device = _device(executive)
    client = Client()
    response = _login(client, executive)
    assert response.status_code == 302
    # the password alone reaches nothing: pages, the session API and the admin all ask for the code
    page = client.get(reverse("dashboard"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("login-verify"))
    api = client.get("/api/me/")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"
    assert client.get("/admin/").status_code == 302
    assert client.get("/audit/").status_code == 302

    wrong = client.post(reverse("login-verify"), {"otp_token": _wrong(_code(device)), "next": "/audit/"})
    assert wrong.status_code == 400 and 'data-field="otp_token"' in wrong.content.decode()
    assert "auth.second_factor_failed" in _actions(executive)
    assert client.get(reverse("dashboard")).status_code == 302
    # a right code straight after a wrong one is refused: guessing is throttled
    throttled = client.post(reverse("login-verify"), {"otp_token": _code(device), "next": "/audit/"})
    assert throttled.status_code == 400 and "Too many wrong codes: wait" in throttled.content.decode()
    _wait_out_throttle(device)

    ok = client.post(reverse("login-verify"), {"otp_token": _code(device), "next": "/audit/"})
    assert ok.status_code == 302 and ok["Location"] == "/audit/"
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get("/api/me/").status_code == 200
    assert "auth.second_factor" in _actions(executive)


@pytest.mark.django_db
def test_verify_step_does_not_redirect_off_site(make_member):
    executive = make_member(Role.EXECUTIVE)
    device = _device(executive)
    client = Client()
    _login(client, executive)
    response = client.post(reverse("login-verify"), {"otp_token": _code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")


@pytest.mark.django_db
def test_admin_without_an_authenticator_enrols_at_first_sign_in(make_member):
    admin = make_member(Role.ADMIN)
    client = Client()
    _login(client, admin)
    response = client.get(reverse("people-list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("security:totp"))
    setup = client.get(response["Location"])
    assert setup.status_code == 200 and 'data-testid="totp-setup"' in setup.content.decode()
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    done = client.post(reverse("security:totp"), {"password": PASSWORD, "otp_token": _code(device),
                                                  "next": reverse("people-list")})
    assert done.status_code == 200
    assert len(re.findall(r"<li><code>[a-z2-7]{8}</code></li>", done.content.decode())) == 10
    assert client.get(reverse("people-list")).status_code == 200


@pytest.mark.parametrize("role", [Role.DEPARTMENT_REPRESENTATIVE, Role.COMMUNITY_MANAGER])
@pytest.mark.django_db
def test_people_without_strong_rights_sign_in_with_the_password(make_member, role):
    user = make_member(role)
    client = Client()
    _login(client, user)
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_opting_in_makes_the_code_required(make_member):
    user = make_member()
    _device(user)
    client = Client()
    _login(client, user)
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("login-verify"))


@pytest.mark.django_db
def test_holders_of_publish_and_custodians_must_use_a_second_factor(make_member, admin_user):
    from security.models import Capability, Custodian, PublishingGrant
    from tests.security.factories import SocialAccountFactory

    account = SocialAccountFactory()
    publisher, custodian, drafter = make_member(), make_member(), make_member()
    PublishingGrant.objects.create(account=account, capability=Capability.PUBLISH, user=publisher,
                                   granted_by=admin_user, reason="r")
    PublishingGrant.objects.create(account=account, capability=Capability.DRAFT, user=drafter,
                                   granted_by=admin_user, reason="r")
    Custodian.objects.create(account=account, user=custodian, added_by=admin_user)
    assert "publish" in twofactor.requirement_reason(User.objects.get(pk=publisher.pk))
    assert "custodian" in twofactor.requirement_reason(User.objects.get(pk=custodian.pk))
    assert twofactor.requirement_reason(User.objects.get(pk=drafter.pk)) == ""
    client = Client()
    _login(client, publisher)
    assert client.get(reverse("dashboard"))["Location"].startswith(reverse("security:totp"))


@pytest.mark.django_db
def test_recovery_code_signs_in_once(make_member):
    executive = make_member(Role.EXECUTIVE)
    _device(executive)
    codes = twofactor.recovery_codes_generate(executive)
    client = Client()
    _login(client, executive)
    response = client.post(reverse("login-verify"), {"otp_token": codes[0]})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    other = Client()
    _login(other, executive)
    assert other.post(reverse("login-verify"), {"otp_token": codes[0]}).status_code == 400
    assert twofactor.recovery_codes_left(executive) == 9


@pytest.mark.django_db
def test_django_admin_login_goes_through_the_portal_sign_in(make_member):
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- API tokens -------------------------------------------------------------

def _token_request(user, **extra):
    body = {"username": user.username, "password": PASSWORD, "name": "reporting script", **extra}
    return APIClient().post("/api/auth/token/", body, format="json")


@pytest.mark.django_db
def test_api_token_creation_asks_for_the_second_factor(make_member):
    executive = make_member(Role.EXECUTIVE)
    device = _device(executive)
    missing = _token_request(executive)
    assert missing.status_code == 400 and "otp_token" in missing.json()
    wrong = _token_request(executive, otp_token=_wrong(_code(device)))
    assert wrong.status_code == 400 and "otp_token" in wrong.json()
    assert not ApiToken.objects.filter(user=executive).exists()
    _wait_out_throttle(device)
    ok = _token_request(executive, otp_token=_code(device), expires_in_days=30)
    assert ok.status_code == 201
    plaintext = ok.json()["token"]
    token = ApiToken.objects.get(user=executive)
    # stored as a digest only, with the name and an expiry
    assert token.digest != plaintext and plaintext not in token.digest and token.name == "reporting script"
    assert timedelta(days=29) < token.expiry - timezone.now() <= timedelta(days=30)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    assert api.get("/api/me/").json()["username"] == executive.username
    listed = api.get("/api/auth/tokens/").json()
    assert [t["name"] for t in listed] == ["reporting script"] and "token" not in listed[0]
    assert plaintext not in str(listed) and token.digest not in str(listed)


@pytest.mark.django_db
def test_an_admin_without_an_authenticator_cannot_create_a_token(make_member):
    admin = make_member(Role.ADMIN)
    response = _token_request(admin)
    assert response.status_code == 400 and "authenticator" in response.json()["otp_token"][0]
    with pytest.raises(Exception, match="authenticator"):
        signin.api_token_create(actor=admin, name="x", second_factor_verified=False)


@pytest.mark.django_db
def test_wrong_password_creates_no_token(make_member):
    user = make_member()
    response = _token_request(user, password="wrong")
    assert response.status_code == 400 and "non_field_errors" in response.json()
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_token_validation_names_the_field(make_member):
    user = make_member()
    assert "expires_in_days" in _token_request(user, expires_in_days=5000).json()
    assert "name" in _token_request(user, name="").json()
    assert _token_request(user).status_code == 201
    assert "name" in _token_request(user).json()  # the same name twice


@pytest.mark.django_db
def test_expired_token_stops_working(make_member):
    user = make_member()
    token, plaintext = ApiToken.objects.create(user=user, name="short", expiry=timedelta(days=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    assert api.get("/api/me/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/me/").status_code == 401


@pytest.mark.django_db
def test_tokens_and_other_sessions_end_when_the_password_changes(make_member, client_for):
    user = make_member()
    _token, plaintext = ApiToken.objects.create(user=user, name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    other_browser = client_for(user)
    this_browser = client_for(user)
    assert api.get("/api/me/").status_code == 200 and other_browser.get("/").status_code == 200
    response = this_browser.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"})
    assert response.status_code == 302
    assert api.get("/api/me/").status_code == 401
    assert other_browser.get("/").status_code == 302  # signed out
    assert this_browser.get("/").status_code == 200  # the one that changed it stays in
    assert "auth.password_change" in _actions(user)


@pytest.mark.django_db
def test_a_password_set_anywhere_ends_the_tokens(make_member):
    user = make_member()
    ApiToken.objects.create(user=user, name="script")
    user.set_password("set-by-a-command-line")
    user.save()
    assert not ApiToken.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_security_page_shows_a_new_token_once_and_revokes_it(make_member, client_for):
    user = make_member()
    client = client_for(user)
    created = client.post(reverse("token-create"), {"name": "zapier", "expires_in_days": 7})
    assert created.status_code == 200 and "no-store" in created["Cache-Control"]
    plaintext = re.search(r'data-testid="new-token-value">([^<]+)<', created.content.decode()).group(1)
    assert plaintext.startswith("sop_")
    page = client.get(reverse("my-security")).content.decode()
    assert "zapier" in page and plaintext not in page
    token = ApiToken.objects.get(user=user)
    revoked = client.post(reverse("token-revoke", args=[token.token_key]))
    assert revoked.status_code == 302 and not ApiToken.objects.filter(user=user).exists()
    assert {"token.create", "token.revoke"} <= set(_actions(user))


@pytest.mark.django_db
def test_a_token_cannot_be_revoked_by_someone_else(make_member, client_for):
    owner, other = make_member(), make_member()
    token, _plaintext = ApiToken.objects.create(user=owner, name="script")
    client_for(other).post(reverse("token-revoke", args=[token.token_key]))
    assert ApiToken.objects.filter(pk=token.pk).exists()
    with pytest.raises(Exception, match="own tokens"):
        signin.api_token_revoke(actor=other, token=token)


@pytest.mark.django_db
def test_sign_out_everywhere_ends_every_session_and_token(make_member, client_for):
    user = make_member()
    _token, plaintext = ApiToken.objects.create(user=user, name="script")
    laptop, phone = client_for(user), client_for(user)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    response = phone.post(reverse("sign-out-everywhere"))
    assert response.status_code == 302 and response["Location"] == reverse("login")
    assert laptop.get("/").status_code == 302 and phone.get("/").status_code == 302
    assert api.get("/api/me/").status_code == 401
    assert "auth.sessions_end" in _actions(user)


@pytest.mark.django_db
def test_an_admin_ends_someone_elses_sessions(make_member, client_for, admin_user):
    user = make_member()
    browser = client_for(user)
    response = client_for(admin_user).post(reverse("person-end-sessions", args=[user.pk]), {"reason": "lost laptop"})
    assert response.status_code == 302
    assert browser.get("/").status_code == 302
    # and a colleague who is not an admin may not
    other = make_member()
    with pytest.raises(Exception, match="admins"):
        signin.sign_out_everywhere(actor=other, user=user)


# --- password reset -------------------------------------------------------

def _reset_link(client, email) -> str:
    mail.outbox.clear()
    assert client.post(reverse("password_reset"), {"email": email}).status_code == 302
    assert len(mail.outbox) == 1
    return re.search(r"https?://[^/\s]+(/password/reset/\S+/)", mail.outbox[0].body).group(1)


@pytest.mark.django_db
def test_password_reset_link_still_asks_for_the_second_factor(make_member, client_for):
    user = make_member(Role.EXECUTIVE, email="erik@example.org")
    device = _device(user)
    _token, plaintext = ApiToken.objects.create(user=user, name="script")
    old_browser = client_for(user)
    client = Client()
    link = _reset_link(client, "erik@example.org")
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and 'name="otp_token"' in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    refused = client.post(set_url, {"new_password1": "fresh-passphrase-42", "new_password2": "fresh-passphrase-42",
                                    "otp_token": _wrong(_code(device))})
    assert refused.status_code == 200 and 'data-field="otp_token"' in refused.content.decode()
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    _wait_out_throttle(device)
    done = client.post(set_url, {"new_password1": "fresh-passphrase-42", "new_password2": "fresh-passphrase-42",
                                 "otp_token": _code(device)})
    assert done.status_code == 302
    assert User.objects.get(pk=user.pk).check_password("fresh-passphrase-42")
    # everything that was signed in before has ended, and the link works once
    assert old_browser.get("/").status_code == 302
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    assert api.get("/api/me/").status_code == 401
    again = Client().get(link, follow=True)
    assert 'data-testid="reset-link-invalid"' in again.content.decode()
    assert "auth.password_reset" in _actions(user)


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_admin_sends_a_reset_link_instead_of_setting_a_password(make_member, client_for, admin_user):
    user = make_member(email="rita@example.org")
    response = client_for(admin_user).post(reverse("person-password-reset", args=[user.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rita@example.org"]
    assert "/password/reset/" in mail.outbox[0].body
    assert AuditEvent.objects.filter(action="auth.password_reset_sent", actor=admin_user).exists()


# --- second-factor reset: two admins --------------------------------------

@pytest.mark.django_db
def test_second_factor_reset_needs_a_second_admin(make_member):
    first, second = make_member(Role.ADMIN), make_member(Role.ADMIN)
    executive = make_member(Role.EXECUTIVE)
    _device(executive)
    now = timezone.now()
    with pytest.raises(twofactor.ReauthRequired):
        signin.second_factor_reset_request(actor=first, user=executive, reason="lost phone, checked by video",
                                           reauthenticated_at=None)
    reset = signin.second_factor_reset_request(actor=first, user=executive, reason="lost phone, checked by video",
                                               reauthenticated_at=now)
    assert twofactor.has_confirmed_device(executive)  # nothing happens yet
    with pytest.raises(Exception, match="second admin"):
        signin.second_factor_reset_decide(actor=first, reset=reset, approve=True, reauthenticated_at=now)
    with pytest.raises(Exception, match="Only admins"):
        signin.second_factor_reset_decide(actor=executive, reset=reset, approve=True, reauthenticated_at=now)
    assert twofactor.has_confirmed_device(executive)
    signin.second_factor_reset_decide(actor=second, reset=reset, approve=True, reauthenticated_at=now)
    assert not twofactor.has_confirmed_device(executive)
    assert SecondFactorReset.objects.get(pk=reset.pk).status == "approved"
    assert {"second_factor.reset_request", "second_factor.reset_approve"} <= set(_actions())


@pytest.mark.django_db
def test_nobody_resets_their_own_second_factor(make_member):
    admin = make_member(Role.ADMIN)
    with pytest.raises(Exception, match="their own"):
        signin.second_factor_reset_request(actor=admin, user=admin, reason="lost my phone again",
                                           reauthenticated_at=timezone.now())


@pytest.mark.django_db
def test_second_factor_reset_page_asks_to_confirm_access_first(make_member, client_for):
    admin = make_member(Role.ADMIN)
    executive = make_member(Role.EXECUTIVE)
    _device(executive)
    client = client_for(admin)
    url = reverse("person-second-factor-reset", args=[executive.pk])
    response = client.post(url, {"reason": "lost phone, checked in person"},
                           HTTP_REFERER=f"http://testserver/people/{executive.pk}/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("confirm-access"))
    assert not SecondFactorReset.objects.exists()
    confirm = client.post(reverse("confirm-access"), {"password": PASSWORD, "otp_token": "",
                                                       "next": f"/people/{executive.pk}/"})
    # an admin must give a code: this admin has no authenticator app yet
    assert confirm.status_code == 400
    device = _device(admin)
    confirm = client.post(reverse("confirm-access"), {"password": PASSWORD, "otp_token": _code(device),
                                                       "next": f"/people/{executive.pk}/"})
    assert confirm.status_code == 302 and confirm["Location"] == f"/people/{executive.pk}/"
    response = client.post(url, {"reason": "lost phone, checked in person"})
    assert response.status_code == 302 and SecondFactorReset.objects.filter(status="pending").count() == 1


# --- re-authentication window ---------------------------------------------

@pytest.mark.django_db
def test_reauthentication_window_is_five_minutes():
    now = timezone.now()
    twofactor.require_recent_reauth(now - timedelta(minutes=4, seconds=50), action="x")
    with pytest.raises(twofactor.ReauthRequired):
        twofactor.require_recent_reauth(now - timedelta(minutes=5, seconds=10), action="x")
    with pytest.raises(twofactor.ReauthRequired):
        twofactor.require_recent_reauth(None, action="x")


@pytest.mark.django_db
def test_api_reauth_stamps_the_token(make_member):
    executive = make_member(Role.EXECUTIVE)
    device = _device(executive)
    token, plaintext = ApiToken.objects.create(user=executive, name="script", second_factor_verified=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    assert api.post("/api/auth/reauth/", {"password": "wrong"}, format="json").status_code == 400
    bad = api.post("/api/auth/reauth/", {"password": PASSWORD, "otp_token": _wrong(_code(device))}, format="json")
    assert bad.status_code == 400 and "otp_token" in bad.json()
    _wait_out_throttle(device)
    ok = api.post("/api/auth/reauth/", {"password": PASSWORD, "otp_token": _code(device)}, format="json")
    assert ok.status_code == 200
    token.refresh_from_db()
    assert twofactor.is_recent(token.reauthenticated_at)


@pytest.mark.django_db
def test_demo_logins_that_need_a_code_share_one_printed_demo_key():
    import base64
    import io

    from django.core.management import call_command
    from django_otp.oath import TOTP

    from accounts.demo import DEMO_TOTP_BASE32

    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "SOCI ALOP SDEM OKEY" in out.getvalue()
    ada, rita = User.objects.get(username="ada"), User.objects.get(username="rita")
    assert twofactor.has_confirmed_device(ada) and not twofactor.has_confirmed_device(rita)
    client = Client()
    client.post(reverse("login"), {"username": "ada", "password": "demo-pass-2026"})
    assert client.get(reverse("people-list"))["Location"].startswith(reverse("login-verify"))
    code = str(TOTP(base64.b32decode(DEMO_TOTP_BASE32)).token()).zfill(6)
    assert client.post(reverse("login-verify"), {"otp_token": code}).status_code == 302
    assert client.get(reverse("people-list")).status_code == 200
    # a representative without strong rights signs in with the password alone
    rep = Client()
    rep.post(reverse("login"), {"username": "rita", "password": "demo-pass-2026"})
    assert rep.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_enrolment_says_why_and_hides_menus_that_lead_nowhere(make_member):
    admin = make_member(Role.ADMIN)
    client = Client()
    _login(client, admin)
    page = client.get(reverse("people-list"), follow=True)
    html = page.content.decode()
    assert page.redirect_chain[-1][0].startswith(reverse("security:totp"))
    assert "because you are an admin" in html
    assert 'class="sidenav"' not in html and 'role="search"' not in html
    assert reverse("logout") in html  # signing out stays possible


@pytest.mark.django_db
def test_a_token_made_before_its_owner_needed_a_second_factor_stops_working(make_member, admin_user):
    from security.models import Capability, PublishingGrant
    from tests.security.factories import SocialAccountFactory

    user = make_member()
    _token, plaintext = ApiToken.objects.create(user=user, name="script")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {plaintext}")
    assert api.get("/api/me/").status_code == 200
    PublishingGrant.objects.create(account=SocialAccountFactory(), capability=Capability.PUBLISH, user=user,
                                   granted_by=admin_user, reason="now a publisher")
    refused = api.get("/api/me/")
    assert refused.status_code == 401 and "second factor" in refused.json()["detail"]
    # a token created with the second factor keeps working
    device = _device(user)
    created = _token_request(user, otp_token=_code(device), name="after")
    api.credentials(HTTP_AUTHORIZATION=f"Token {created.json()['token']}")
    assert api.get("/api/me/").status_code == 200


@pytest.mark.django_db
def test_a_new_person_chooses_their_own_password(client_for, admin_user):
    client = client_for(admin_user)
    form = client.get(reverse("person-create")).content.decode()
    assert 'type="password"' not in form
    response = client.post(reverse("person-create"), {"username": "newbie", "email": "newbie@example.org",
                                                      "password": "chosen-by-the-admin-1"})
    assert response.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert not newbie.has_usable_password()
    assert mail.outbox[-1].to == ["newbie@example.org"] and "/password/reset/" in mail.outbox[-1].body
    assert client.post(reverse("person-create"), {"username": "noemail"}).status_code == 400
