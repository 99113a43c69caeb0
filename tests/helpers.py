"""Small helpers shared by the test modules."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User


def fresh(user):
    """The same person as the next request would load them (no permission caches)."""
    return User.objects.get(pk=user.pk)


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response):
    return {row["id"] for row in results(response)}


def reauthenticate(client, *, ago: timedelta = timedelta(0)):
    """Marks ``client``'s session as having confirmed password + second
    factor ``ago`` (as the confirm-access page does), for the actions that
    need a recent re-authentication. Works for Client and APIClient."""
    from accounts.twofactor import SESSION_REAUTH_AT_KEY

    session = client.session
    session[SESSION_REAUTH_AT_KEY] = (timezone.now() - ago).isoformat()
    session.save()
    return client
