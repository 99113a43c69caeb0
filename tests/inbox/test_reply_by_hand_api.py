"""The API's "posted by hand": the same service, its guards and its record."""

import pytest

from inbox.models import Reply
from security.models import AuditEvent
from tests.inbox.test_reply_by_hand import LINK, agent, colleague, conversation, dept, failed_reply, x_account  # noqa: F401


@pytest.mark.django_db
def test_the_api_marks_a_failed_reply_sent_by_hand(agent, failed_reply, api_for):  # noqa: F811
    response = api_for(agent).post(f"/api/replies/{failed_reply.pk}/sent-by-hand/", {"url": LINK}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "sent"
    assert body["sent_url"] == LINK
    assert body["sent_by_hand"] == agent.pk
    assert AuditEvent.objects.filter(action="conversation.reply_sent_by_hand").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["javascript:alert(1)", "not a link", ""])
def test_the_api_refuses_a_bad_link_naming_url_and_changes_nothing(agent, failed_reply, api_for, url):  # noqa: F811
    response = api_for(agent).post(f"/api/replies/{failed_reply.pk}/sent-by-hand/", {"url": url}, format="json")
    assert response.status_code == 400
    assert "url" in response.json()
    failed_reply.refresh_from_db()
    assert failed_reply.status == Reply.Status.FAILED


@pytest.mark.django_db
def test_the_api_refuses_someone_without_the_right(failed_reply, api_for, make_member):  # noqa: F811
    from accounts.roles import Role

    outsider = make_member(Role.COMMUNITY_MANAGER, username="outsider")  # sees every queue, holds no reply right
    response = api_for(outsider).post(f"/api/replies/{failed_reply.pk}/sent-by-hand/", {"url": LINK}, format="json")
    assert response.status_code == 403
    failed_reply.refresh_from_db()
    assert failed_reply.status == Reply.Status.FAILED


@pytest.mark.django_db
def test_the_conversation_history_says_it_in_words(agent, failed_reply, client_for):  # noqa: F811
    from inbox import services

    services.reply_mark_sent_by_hand(actor=agent, reply=failed_reply, url=LINK)
    page = client_for(agent).get(f"/inbox/c/{failed_reply.conversation_id}/").content.decode()
    assert "Reply posted on the platform by hand" in page
    assert f"at {LINK}" in page
    assert "reply_sent_by_hand" not in page.replace('data-kind="reply_sent_by_hand"', "")
