"""Small helpers shared by the test modules."""

from accounts.models import User


def fresh(user):
    """The same person as the next request would load them (no permission caches)."""
    return User.objects.get(pk=user.pk)


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def ids(response):
    return {row["id"] for row in results(response)}
