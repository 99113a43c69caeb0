import pytest
from django.test import override_settings
from django.urls import reverse

from accounts import services
from tests.accounts.factories import PASSWORD


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.django_db
def test_login_lands_on_dashboard(client, make_member):
    user = make_member()
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


@pytest.mark.django_db
def test_wrong_password_shows_an_error(client, make_member):
    user = make_member()
    response = _login(client, user.username, "wrong-password")
    assert response.status_code == 200
    assert 'data-testid="login-error"' in response.content.decode()


@pytest.mark.django_db
def test_five_failures_lock_the_user_at_that_address(client, make_member, admin_user, client_for):
    user = make_member()
    for attempt in range(1, 5):
        response = _login(client, user.username, f"wrong-{attempt}")
        assert 'data-testid="login-error"' in response.content.decode()
    response = _login(client, user.username, "wrong-5")
    assert response.status_code == 429 and 'data-testid="locked-out"' in response.content.decode()
    # even the right password is refused now
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 429
    assert not client.get(reverse("dashboard")).wsgi_request.user.is_authenticated

    # an admin unlocks, then the right password works
    assert services.user_unlock(actor=admin_user, username=user.username) >= 1
    assert _login(client, user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_admin_unlocks_from_the_people_page(client, make_member, admin_user, client_for):
    user = make_member()
    for attempt in range(5):
        _login(client, user.username, f"wrong-{attempt}")
    admin = client_for(admin_user)
    assert user.username in admin.get(reverse("people-list")).content.decode()
    assert admin.post(reverse("person-unlock"), {"username": user.username}).status_code == 302
    assert _login(client, user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_logout_needs_post_and_ends_the_session(client, make_member):
    user = make_member()
    _login(client, user.username, PASSWORD)
    client.post(reverse("logout"))
    assert client.get(reverse("dashboard")).status_code == 302


@pytest.mark.django_db
def test_absolute_session_lifetime(client, make_member, monkeypatch):
    user = make_member()
    _login(client, user.username, PASSWORD)
    assert client.get(reverse("dashboard")).status_code == 200
    import socialops.middleware as mw

    real_time = mw.time.time
    monkeypatch.setattr(mw.time, "time", lambda: real_time() + 13 * 3600)
    assert client.get(reverse("dashboard")).status_code == 302


@pytest.mark.django_db
@override_settings(SESSION_COOKIE_AGE=600)
def test_idle_timeout_slides_with_activity_without_a_write_per_request(client, make_member, monkeypatch):
    import socialops.middleware as mw

    user = make_member()
    _login(client, user.username, PASSWORD)
    client.get(reverse("dashboard"))
    first_expiry = client.session.get_expiry_date()
    assert client.cookies["sessionid"]["max-age"] == 600
    # within a minute: no session write, so no new cookie
    client.cookies["sessionid"]["max-age"] = ""
    response = client.get(reverse("dashboard"))
    assert "sessionid" not in response.cookies
    # five idle-free minutes later the expiry moves forward
    real_time = mw.time.time
    monkeypatch.setattr(mw.time, "time", lambda: real_time() + 300)
    from django.utils import timezone

    later = timezone.now() + timezone.timedelta(seconds=300)
    monkeypatch.setattr(timezone, "now", lambda: later)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200 and "sessionid" in response.cookies
    assert client.session.get_expiry_date() > first_expiry


@pytest.mark.django_db
def test_password_change(client_for, make_member):
    user = make_member()
    client = client_for(user)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "a-much-better-pass-42", "new_password2": "a-much-better-pass-42",
    })
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-much-better-pass-42")


@pytest.mark.django_db
def test_pages_carry_a_csp_without_inline_script(client):
    response = client.get(reverse("login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in response.content.decode()
