import pytest
from django.urls import reverse

from accounts.models import User
from security.models import PublishingGrant, SocialAccount
from security.permissions import has_capability
from tests.helpers import reauthenticate
from tests.security.factories import SocialAccountFactory, TrainingRecordFactory


@pytest.mark.django_db
def test_admin_adds_and_retires_an_account(admin_user, client_for):
    client = client_for(admin_user)
    response = client.post(reverse("security:account-create"), {
        "platform": "mastodon", "handle": "@care@example.social", "max_publishers": 3, "rotation_days": 90})
    account = SocialAccount.objects.get(handle="@care@example.social")
    assert response["Location"] == reverse("security:account-detail", args=[account.pk])
    assert account.owner_organisation  # the organisation, never a person
    response = client.post(reverse("security:account-edit", args=[account.pk]), {
        "display_name": "Care", "max_publishers": 2, "rotation_days": 30, "status": "retired"})
    account.refresh_from_db()
    assert account.status == "retired" and account.retired_at and account.max_publishers == 2


@pytest.mark.django_db
def test_duplicate_account_is_a_400_naming_the_handle(admin_user, client_for):
    SocialAccountFactory(handle="@care@example.social")
    response = client_for(admin_user).post(reverse("security:account-create"), {
        "platform": "mastodon", "handle": "@care@example.social", "max_publishers": 3, "rotation_days": 90})
    assert response.status_code == 400
    assert 'data-field="handle"' in response.content.decode()


@pytest.mark.django_db
def test_matrix_shows_who_granted_what_and_warnings(admin_user, make_member, client_for):
    account = SocialAccountFactory(max_publishers=1)
    person = make_member(first_name="Paula", last_name="Press")
    TrainingRecordFactory(user=person)
    client = reauthenticate(client_for(admin_user))
    response = client.post(reverse("security:grant-create", args=[account.pk]),
                           {"capability": "publish", "user": person.pk, "reason": "press office"})
    assert response.status_code == 302
    html = client.get(reverse("security:account-detail", args=[account.pk])).content.decode()
    assert "Paula Press" in html and "press office" in html and str(admin_user) in html
    assert "1 of 1 publishers" in html
    # a second publisher is refused with the reason next to the field
    other = make_member()
    TrainingRecordFactory(user=other)
    response = client.post(reverse("security:grant-create", args=[account.pk]),
                           {"capability": "publish", "user": other.pk, "reason": "x"})
    assert response.status_code == 400
    assert 'data-field="capability"' in response.content.decode()


@pytest.mark.django_db
def test_grant_without_reason_is_refused(admin_user, make_member, client_for):
    account = SocialAccountFactory()
    response = client_for(admin_user).post(reverse("security:grant-create", args=[account.pk]),
                                           {"capability": "draft", "user": make_member().pk, "reason": ""})
    assert response.status_code == 400 and 'data-field="reason"' in response.content.decode()
    assert not PublishingGrant.objects.exists()


@pytest.mark.django_db
def test_revoke_needs_a_reason_and_works_on_the_next_request(admin_user, make_member, client_for):
    account = SocialAccountFactory()
    person = make_member()
    client = client_for(admin_user)
    client.post(reverse("security:grant-create", args=[account.pk]),
                {"capability": "reply", "user": person.pk, "reason": "cover"})
    grant = PublishingGrant.objects.get()
    person_client = client_for(person)
    assert "Reply" in person_client.get(reverse("security:my-access")).content.decode()
    assert client.post(reverse("security:grant-revoke", args=[grant.pk]), {"reason": ""}).status_code == 400
    assert client.post(reverse("security:grant-revoke", args=[grant.pk]), {"reason": "left"}).status_code == 302
    html = person_client.get(reverse("security:my-access")).content.decode()
    assert "You hold no rights" in html
    assert not has_capability(User.objects.get(pk=person.pk), "reply", account)


@pytest.mark.django_db
def test_training_page_records_training(admin_user, make_member, client_for):
    person = make_member()
    client = client_for(admin_user)
    response = client.post(reverse("security:training"), {"user": person.pk, "course": "Social media 101",
                                                           "completed_on": "2026-01-10"})
    assert response.status_code == 302
    assert person.training_records.get().course == "Social media 101"
    response = client.post(reverse("security:training"), {"user": person.pk, "course": "x",
                                                           "completed_on": "2999-01-01"})
    assert response.status_code == 400 and 'data-field="completed_on"' in response.content.decode()
    assert client_for(person).get(reverse("security:training")).status_code == 403


@pytest.mark.django_db
def test_account_list_query_count_is_fixed(admin_user, client_for, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(admin_user)
    SocialAccountFactory()
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("security:account-list"))
    for _ in range(15):
        SocialAccountFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("security:account-list"))
