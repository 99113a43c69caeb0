
"""The custody pages: overview, account custody, reveal requests, the
one-time reveal, break-glass and TOTP setup."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Notification
from accounts.roles import Role
from security import services
from security.models import Credential, Custodian, RevealRequest
from tests.accounts.factories import PASSWORD, UserFactory
from tests.helpers import reauthenticate

SECRET = "Xq7-vault-Secret-Value-93kd"


# --- helpers ------------------------------------------------------------------

def _account(admin, handle="@brand@example.social"):
    return services.account_create(actor=admin, platform="mastodon", handle=handle)


def _confirmed_totp(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)).zfill(device.digits)


def _wrong_code(device: TOTPDevice) -> str:
    return f"{(int(_code(device)) + 500_000) % 1_000_000:06d}"


def _html(response) -> str:
    return response.content.decode()


@pytest.fixture
def custody(make_member, admin_user):
    """Account A with an executive and a manager as custodians and one
    stored password; account B with its own custodian."""
    executive = make_member(Role.EXECUTIVE)
    manager = make_member(Role.SOCIAL_MEDIA_MANAGER)
    other = make_member(Role.SOCIAL_MEDIA_MANAGER)
    account_a = _account(admin_user, "@brand@example.social")
    account_b = _account(admin_user, "@other@example.social")
    services.custodian_add(actor=admin_user, account=account_a, user=executive)
    services.custodian_add(actor=admin_user, account=account_a, user=manager)
    services.custodian_add(actor=admin_user, account=account_b, user=other)
    credential = services.credential_set(actor=admin_user, account=account_a, kind=Credential.Kind.PASSWORD,
                                         secret=SECRET)
    credential_b = services.credential_set(actor=admin_user, account=account_b, kind=Credential.Kind.PASSWORD,
                                           secret="b-" + SECRET)
    return {"admin": admin_user, "executive": executive, "manager": manager, "other": other,
            "a": account_a, "b": account_b, "credential": credential, "credential_b": credential_b}


def _approved_request(custody, requester=None, approver=None):
    requester = requester or custody["manager"]
    approver = approver or custody["executive"]
    request = services.reveal_request_create(actor=requester, credential=custody["credential"],
                                             reason="Platform support needs the login to restore 2FA")
    return services.reveal_request_decide(actor=approver, request=request, approve=True,
                                          reauthenticated_at=timezone.now())


# --- who may see what ---------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "args"), [
    ("security:custody", []),
    ("security:custody-account", [1]),
    ("security:reveal-detail", [1]),
    ("security:break-glass", [1]),
    ("security:totp", []),
])
def test_anonymous_is_sent_to_login(client, url_name, args):
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_representative_without_custody_is_refused(make_member, client_for, custody):
    client = client_for(make_member(Role.DEPARTMENT_REPRESENTATIVE))
    assert client.get(reverse("security:custody")).status_code == 403
    assert client.get(reverse("security:custody-account", args=[custody["a"].pk])).status_code == 403
    assert client.post(reverse("security:reveal-request-create", args=[custody["credential"].pk]),
                       {"reason": "I would like to see it please"}).status_code == 403
    assert not RevealRequest.objects.exists()


@pytest.mark.django_db
def test_custodian_of_a_gets_404_on_b(client_for, custody):
    client = client_for(custody["manager"])
    assert client.get(reverse("security:custody-account", args=[custody["a"].pk])).status_code == 200
    assert client.get(reverse("security:custody-account", args=[custody["b"].pk])).status_code == 404
    request_b = services.reveal_request_create(actor=custody["other"], credential=custody["credential_b"],
                                               reason="Needed for the platform's support form")
    assert client.get(reverse("security:reveal-detail", args=[request_b.pk])).status_code == 404
    assert client.post(reverse("security:reveal-request-create", args=[custody["credential_b"].pk]),
                       {"reason": "Trying to reach someone else's secret"}).status_code == 404
    assert client.post(reverse("security:credential-set", args=[custody["b"].pk]), {
        "kind": "password", "secret": "overwrite-it", "secret_confirm": "overwrite-it"}).status_code == 404
    overview = _html(client.get(reverse("security:custody")))
    assert "@brand@example.social" in overview and "@other@example.social" not in overview


@pytest.mark.django_db
def test_overview_flags_accounts_at_risk_and_waiting_requests(client_for, custody):
    services.reveal_request_create(actor=custody["manager"], credential=custody["credential"],
                                   reason="Platform support needs the login to restore 2FA")
    html = _html(client_for(custody["executive"]).get(reverse("security:custody")))
    a_card = html.split(f'data-account="{custody["a"].pk}"')[1].split("</section>")[0]
    assert "no TOTP set up" in a_card  # custodians who cannot reveal are a risk too
    for person in (custody["executive"], custody["manager"]):
        TOTPDevice.objects.create(user=person, name="phone", confirmed=True)
    html = _html(client_for(custody["executive"]).get(reverse("security:custody")))
    # A has two custodians with TOTP, one an executive; B has one custodian and no executive.
    a_card = html.split(f'data-account="{custody["a"].pk}"')[1].split("</section>")[0]
    b_card = html.split(f'data-account="{custody["b"].pk}"')[1].split("</section>")[0]
    assert 'data-testid="at-risk"' not in a_card
    assert 'data-testid="at-risk"' in b_card and "at least 2 needed" in b_card and "no executive" in b_card
    assert 'data-testid="waiting-for-me"' in html and "restore 2FA" in html
    assert 'data-testid="rotation-due"' not in html
    # The requester does not see their own request as waiting for them.
    assert 'data-testid="waiting-for-me"' not in _html(client_for(custody["manager"]).get(reverse("security:custody")))


@pytest.mark.django_db
def test_overview_query_count_does_not_grow_with_accounts(client_for, custody):
    client = client_for(custody["admin"])
    client.get(reverse("security:custody"))  # warm up session and caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("security:custody")).status_code == 200
    for n in range(3):
        account = _account(custody["admin"], f"@more{n}@example.social")
        services.custodian_add(actor=custody["admin"], account=account, user=custody["manager"])
        services.credential_set(actor=custody["admin"], account=account, kind="api_token", secret=f"tok-{n}")
        services.reveal_request_create(actor=custody["manager"], credential=account.credentials.get(),
                                       reason="Needed to re-link the scheduler app")
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("security:custody")).status_code == 200
    assert len(many) == len(few)


@pytest.mark.django_db
def test_only_admins_appoint_and_remove_custodians(client_for, custody, make_member):
    newcomer = make_member(Role.EXECUTIVE)
    url = reverse("security:custodian-add", args=[custody["a"].pk])
    assert client_for(custody["manager"]).post(url, {"user": newcomer.pk}).status_code == 403
    admin = client_for(custody["admin"])
    assert admin.post(url, {"user": newcomer.pk}).status_code == 302
    assert Custodian.objects.filter(account=custody["a"], user=newcomer, removed_at__isnull=True).exists()
    again = admin.post(url, {"user": newcomer.pk})
    assert again.status_code == 400 and "already a custodian" in _html(again)

    custodian = Custodian.objects.get(account=custody["a"], user=custody["manager"], removed_at__isnull=True)
    remove = reverse("security:custodian-remove", args=[custodian.pk])
    assert client_for(custody["executive"]).post(remove).status_code == 403
    response = admin.post(remove, follow=True)
    assert response.status_code == 200
    assert not Custodian.objects.filter(pk=custodian.pk, removed_at__isnull=True).exists()


@pytest.mark.django_db
def test_executive_who_is_not_custodian_cannot_set_a_credential(client_for, custody, make_member):
    executive = make_member(Role.EXECUTIVE)
    response = client_for(executive).post(reverse("security:credential-set", args=[custody["a"].pk]), {
        "kind": "api_token", "secret": "abc-123", "secret_confirm": "abc-123"})
    assert response.status_code == 403
    assert not Credential.objects.filter(account=custody["a"], kind="api_token").exists()


# --- secrets stay secret -----------------------------------------------------

@pytest.mark.django_db
def test_secret_set_through_the_page_never_appears_in_a_get(client_for, custody):
    secret = "page-Set-Secret-4k2j-ZZ"
    manager = client_for(custody["manager"])
    detail_url = reverse("security:custody-account", args=[custody["a"].pk])
    form = _html(manager.get(detail_url))
    assert 'type="password"' in form and 'autocomplete="off"' in form

    response = manager.post(reverse("security:credential-set", args=[custody["a"].pk]), {
        "kind": "api_token", "label": "scheduler", "secret": secret, "secret_confirm": secret})
    assert response.status_code == 302 and secret not in _html(response)
    credential = Credential.objects.get(account=custody["a"], kind="api_token", label="scheduler")
    assert secret not in credential.ciphertext
    assert services.credential_for_connector(account=custody["a"], kind="api_token", label="scheduler") == secret

    # A mismatched second entry is refused, and neither entry comes back.
    refused = manager.post(reverse("security:credential-set", args=[custody["a"].pk]), {
        "kind": "api_token", "label": "scheduler", "secret": secret + "x", "secret_confirm": secret})
    assert refused.status_code == 400 and secret not in _html(refused)

    manager.post(reverse("security:reveal-request-create", args=[credential.pk]),
                 {"reason": "Checking the scheduler integration"})
    reveal = RevealRequest.objects.get(credential=credential)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    pages = [
        (manager, reverse("security:custody")),
        (manager, detail_url),
        (manager, reverse("security:reveal-detail", args=[reveal.pk])),
        (client_for(custody["executive"]), reverse("security:reveal-detail", args=[reveal.pk])),
        (client_for(custody["admin"]), detail_url),
        (client_for(superuser), reverse("admin:security_credential_changelist")),
        (client_for(superuser), reverse("admin:security_credential_change", args=[credential.pk])),
    ]
    for client, url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = _html(response)
        assert secret not in html, url
        assert SECRET not in html, url
        assert credential.ciphertext not in html, url


# --- the reveal flow -------------------------------------------------------------

@pytest.mark.django_db
def test_full_reveal_flow_through_the_pages(client_for, custody):
    manager, executive = custody["manager"], custody["executive"]
    device = _confirmed_totp(manager)
    credential = custody["credential"]
    requester = client_for(manager)

    short = requester.post(reverse("security:reveal-request-create", args=[credential.pk]), {"reason": "need"})
    assert short.status_code == 400 and 'data-field="reason"' in _html(short)

    response = requester.post(reverse("security:reveal-request-create", args=[credential.pk]),
                              {"reason": "Platform support needs the login to restore 2FA"})
    reveal = RevealRequest.objects.get(credential=credential, requester=manager)
    assert response.status_code == 302
    assert response["Location"] == reverse("security:reveal-detail", args=[reveal.pk])
    assert 'data-testid="approve"' not in _html(requester.get(response["Location"]))

    approver = reauthenticate(client_for(executive))
    page = _html(approver.get(reverse("security:reveal-detail", args=[reveal.pk])))
    assert 'data-testid="approve"' in page and 'data-testid="reject"' in page
    decided = approver.post(reverse("security:reveal-decide", args=[reveal.pk]), {"decision": "approve"})
    assert decided.status_code == 302
    reveal.refresh_from_db()
    assert reveal.status == RevealRequest.Status.APPROVED and reveal.decided_by == executive

    page = _html(requester.get(reverse("security:reveal-detail", args=[reveal.pk])))
    assert 'data-testid="reveal-submit"' in page and SECRET not in page

    shown = requester.post(reverse("security:reveal-detail", args=[reveal.pk]),
                           {"password": PASSWORD, "otp_token": _code(device)})
    assert shown.status_code == 200
    html = _html(shown)
    assert html.count(SECRET) == 1
    assert "no-store" in shown["Cache-Control"]
    assert "Visible until" in html and "reveal_countdown.js" in html
    reveal.refresh_from_db()
    assert reveal.status == RevealRequest.Status.REVEALED

    # Never again: not on reload, not by posting the form a second time.
    for client in (requester, approver):
        again = client.get(reverse("security:reveal-detail", args=[reveal.pk]))
        assert again.status_code == 200 and SECRET not in _html(again)
    repost = requester.post(reverse("security:reveal-detail", args=[reveal.pk]),
                            {"password": PASSWORD, "otp_token": _code(device)})
    assert repost.status_code == 400 and SECRET not in _html(repost)
    assert "not approved" in _html(repost)

    for url in (reverse("security:custody"), reverse("security:custody-account", args=[custody["a"].pk])):
        html = _html(approver.get(url))
        row = html.split(f'data-credential="{credential.pk}"')[1].split("</tr>")[0].split("</article>")[0]
        assert 'data-testid="rotation-due"' in row, url
        assert SECRET not in html


@pytest.mark.django_db
def test_wrong_totp_is_refused_next_to_the_field(client_for, custody):
    device = _confirmed_totp(custody["manager"])
    reveal = _approved_request(custody)
    response = client_for(custody["manager"]).post(reverse("security:reveal-detail", args=[reveal.pk]),
                                                   {"password": PASSWORD, "otp_token": _wrong_code(device)})
    assert response.status_code == 400
    html = _html(response)
    assert 'class="field-error" data-field="otp_token"' in html
    assert SECRET not in html
    reveal.refresh_from_db()
    assert reveal.status == RevealRequest.Status.APPROVED


@pytest.mark.django_db
def test_wrong_password_is_refused_next_to_the_field(client_for, custody):
    device = _confirmed_totp(custody["manager"])
    reveal = _approved_request(custody)
    response = client_for(custody["manager"]).post(reverse("security:reveal-detail", args=[reveal.pk]),
                                                   {"password": "not-my-password", "otp_token": _code(device)})
    assert response.status_code == 400
    assert 'data-field="password"' in _html(response) and SECRET not in _html(response)


@pytest.mark.django_db
def test_only_the_requester_may_reveal(client_for, custody):
    device = _confirmed_totp(custody["executive"])
    reveal = _approved_request(custody)
    response = client_for(custody["executive"]).post(reverse("security:reveal-detail", args=[reveal.pk]),
                                                     {"password": PASSWORD, "otp_token": _code(device)})
    assert response.status_code == 403


@pytest.mark.django_db
def test_requester_cannot_approve_their_own_request(client_for, custody):
    reveal = services.reveal_request_create(actor=custody["manager"], credential=custody["credential"],
                                            reason="Platform support needs the login to restore 2FA")
    response = client_for(custody["manager"]).post(reverse("security:reveal-decide", args=[reveal.pk]),
                                                   {"decision": "approve"})
    assert response.status_code == 403
    reveal.refresh_from_db()
    assert reveal.status == RevealRequest.Status.PENDING


@pytest.mark.django_db
def test_requester_cancels_and_another_custodian_rejects(client_for, custody):
    reveal = services.reveal_request_create(actor=custody["manager"], credential=custody["credential"],
                                            reason="Platform support needs the login to restore 2FA")
    assert client_for(custody["executive"]).post(reverse("security:reveal-cancel", args=[reveal.pk])).status_code \
        == 403
    assert client_for(custody["manager"]).post(reverse("security:reveal-cancel", args=[reveal.pk])).status_code \
        == 302
    reveal.refresh_from_db()
    assert reveal.status == RevealRequest.Status.CANCELLED

    second = services.reveal_request_create(actor=custody["manager"], credential=custody["credential"],
                                            reason="Second try: the support form still needs it")
    response = client_for(custody["executive"]).post(reverse("security:reveal-decide", args=[second.pk]),
                                                     {"decision": "reject", "note": "use the portal instead"})
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.status == RevealRequest.Status.REJECTED
    late = client_for(custody["executive"]).post(reverse("security:reveal-decide", args=[second.pk]),
                                                 {"decision": "approve"})
    assert late.status_code == 400 and "no longer waiting" in _html(late)


# --- break-glass ---------------------------------------------------------------------

@pytest.mark.django_db
def test_break_glass_by_an_executive(client_for, custody):
    executive = custody["executive"]
    device = _confirmed_totp(executive)
    credential = custody["credential"]
    client = reauthenticate(client_for(executive))
    url = reverse("security:break-glass", args=[credential.pk])

    page = client.get(url)
    assert page.status_code == 200
    html = _html(page)
    assert "alerted at once" in html and "due for rotation" in html and "audit" in html
    assert SECRET not in html

    mail.outbox.clear()
    response = client.post(url, {"reason": "Account hijack attempt, locking it down now",
                                 "password": PASSWORD, "otp_token": _code(device)})
    assert response.status_code == 200
    assert _html(response).count(SECRET) == 1
    assert "no-store" in response["Cache-Control"]

    alerted = set(Notification.objects.filter(kind="reveal.break_glass").values_list("recipient_id", flat=True))
    assert {custody["manager"].pk, custody["admin"].pk} <= alerted
    assert executive.pk not in alerted
    assert mail.outbox
    assert {custody["manager"].email, custody["admin"].email} <= {r for m in mail.outbox for r in m.to}
    for message in mail.outbox:
        assert SECRET not in message.body and SECRET not in message.subject
    credential.refresh_from_db()
    assert credential.is_rotation_due
    assert RevealRequest.objects.get(credential=credential, is_break_glass=True).status == "revealed"
    assert SECRET not in _html(client.get(url))


@pytest.mark.django_db
def test_break_glass_with_a_wrong_code_reveals_nothing(client_for, custody):
    device = _confirmed_totp(custody["executive"])
    response = reauthenticate(client_for(custody["executive"])).post(
        reverse("security:break-glass", args=[custody["credential"].pk]),
        {"reason": "Account hijack attempt, locking it down now", "password": PASSWORD,
         "otp_token": _wrong_code(device)})
    assert response.status_code == 400
    assert 'data-field="otp_token"' in _html(response) and SECRET not in _html(response)
    assert not Notification.objects.filter(kind="reveal.break_glass").exists()


@pytest.mark.django_db
def test_break_glass_refused_to_non_executives(client_for, custody):
    url = reverse("security:break-glass", args=[custody["credential"].pk])
    for user in (custody["manager"], custody["admin"]):
        _confirmed_totp(user)
        client = client_for(user)
        assert client.get(url).status_code == 403
        response = client.post(url, {"reason": "I think this is an emergency", "password": PASSWORD,
                                     "otp_token": "123456"})
        assert response.status_code == 403
        assert SECRET not in _html(response)
    assert not RevealRequest.objects.filter(is_break_glass=True).exists()


# --- TOTP setup --------------------------------------------------------------------------

@pytest.mark.django_db
def test_totp_setup_confirms_with_a_right_code(client_for, make_member):
    user = make_member(Role.SOCIAL_MEDIA_MANAGER)
    client = client_for(user)
    page = client.get(reverse("security:totp"))
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    html = _html(page)
    assert 'src="data:image/svg+xml;base64,' in html and 'data-testid="totp-secret"' in html
    assert "no-store" in page["Cache-Control"]
    # Reloading reuses the same unconfirmed device instead of piling up new ones.
    client.get(reverse("security:totp"))
    assert TOTPDevice.objects.filter(user=user).count() == 1

    # the password is asked too: a stolen session alone cannot enrol a phone
    response = client.post(reverse("security:totp"), {"otp_token": _code(device), "password": "wrong-password"})
    assert response.status_code == 400 and 'data-field="password"' in _html(response)
    device.refresh_from_db()
    assert not device.confirmed
    response = client.post(reverse("security:totp"), {"otp_token": _code(device), "password": PASSWORD})
    assert response.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    # ten recovery codes, shown this once, never cached, each usable once in place of a code
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", _html(response))
    assert len(codes) == 10 and "no-store" in response["Cache-Control"]
    from django_otp.plugins.otp_static.models import StaticToken

    assert set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == set(codes)
    assert codes[0] not in _html(client.get(reverse("my-security")))
    from security.models import AuditEvent

    assert AuditEvent.objects.filter(action="totp.confirm", actor=user).count() == 1
    html = _html(client.get(reverse("security:totp")))
    assert "TOTP set up" in html and "data:image/svg+xml" not in html


@pytest.mark.django_db
def test_totp_setup_wrong_code_is_400(client_for, make_member):
    user = make_member(Role.SOCIAL_MEDIA_MANAGER)
    client = client_for(user)
    client.get(reverse("security:totp"))
    device = TOTPDevice.objects.get(user=user)
    response = client.post(reverse("security:totp"), {"otp_token": _wrong_code(device), "password": PASSWORD})
    assert response.status_code == 400
    assert 'data-field="otp_token"' in _html(response)
    device.refresh_from_db()
    assert not device.confirmed


@pytest.mark.django_db
def test_custody_pages_link_to_totp_setup(client_for, custody):
    html = _html(client_for(custody["manager"]).get(reverse("security:custody")))
    assert reverse("security:totp") in html



@pytest.mark.django_db
def test_expired_approval_offers_no_reveal(client_for, custody):
    device = _confirmed_totp(custody["manager"])
    reveal = _approved_request(custody)
    RevealRequest.objects.filter(pk=reveal.pk).update(decided_at=reveal.decided_at - timedelta(days=2))
    client = client_for(custody["manager"])
    page = _html(client.get(reverse("security:reveal-detail", args=[reveal.pk])))
    assert 'data-testid="approval-expired"' in page and 'data-testid="reveal-submit"' not in page
    response = client.post(reverse("security:reveal-detail", args=[reveal.pk]),
                           {"password": PASSWORD, "otp_token": _code(device)})
    assert response.status_code == 400
    assert "expired" in _html(response) and SECRET not in _html(response)


@pytest.mark.django_db
def test_custody_pages_need_no_inline_script_or_style(client_for, custody):
    device = _confirmed_totp(custody["manager"])
    reveal = _approved_request(custody)
    client = client_for(custody["manager"])
    pages = [client.get(reverse("security:custody")),
             client.get(reverse("security:custody-account", args=[custody["a"].pk])),
             client.get(reverse("security:reveal-detail", args=[reveal.pk])),
             client.post(reverse("security:reveal-detail", args=[reveal.pk]),
                         {"password": PASSWORD, "otp_token": _code(device)}),
             client_for(custody["executive"]).get(reverse("security:break-glass", args=[custody["credential"].pk])),
             client_for(custody["other"]).get(reverse("security:totp"))]
    for response in pages:
        assert response.status_code == 200
        html = _html(response)
        assert " style=" not in html and " onclick=" not in html and " onload=" not in html
        for tag in html.split("<script")[1:]:
            assert tag.lstrip().startswith("src=") or " src=" in tag.split(">")[0], tag[:80]


