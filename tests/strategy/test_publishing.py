"""Exactly-once publishing (``strategy.publishing``) against a local fake Mastodon server that counts what it was
sent (``tests.strategy.fake_mastodon``): a due post goes out once with its image, and stays once with the same
post's task run twice at the same time, a worker killed between the platform's answer and the save, a 500 before a
200, a 429 with Retry-After; a permanent error fails the post with the platform's words; a post whose account,
approver or credential is no longer good at publish time goes back to review; the sandbox, the publish-by-hand
queue and the instance's own length limit."""

import io
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from inbox.connectors.mastodon import MastodonConnector
from inbox.models import ConnectorState, SandboxPost
from security import services as security_services
from security.models import Credential, PublishingGrant, SocialAccount
from strategy import publishing
from strategy.models import Post, PostTarget
from strategy.platforms import fits
from strategy.services import posts as svc
from tests.inbox.test_concurrency import together
from tests.strategy.conftest import grant
from tests.strategy.fake_mastodon import FakeMastodon

TOKEN = "publish-token-123"
TEXT = "Our winter opening hours are online: Monday to Saturday, 9 to 20."
ON_POSTGRES = "postgresql" in settings.DATABASES["default"]["ENGINE"]
needs_postgres = pytest.mark.skipif(
    not ON_POSTGRES, reason="real concurrent transactions need PostgreSQL: SQLite has no row locks and its "
                            "in-memory test database is one connection's")


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


class Killed(BaseException):
    """The worker dies (SIGKILL, out of memory): nothing after this point runs, no except clause sees it."""


def killed(*args, **kwargs):
    raise Killed


# --- fixtures and helpers --------------------------------------------------------------------------------------

@pytest.fixture
def fake(httpserver):
    return FakeMastodon(httpserver)


@pytest.fixture
def masto(team, httpserver):
    """A real (not sandbox) Mastodon account with the organisation's API token and the server's address; the
    team holds the same rights on it as on the sandbox channels."""
    admin = team["admin"]
    account = security_services.account_create(actor=admin, platform="mastodon", handle="@brand@social.example",
                                                display_name="Brand Mastodon")
    security_services.credential_set(actor=admin, account=account, kind="api_token", secret=TOKEN)
    ConnectorState.objects.create(account=account, base_url=httpserver.url_for("/").rstrip("/"))
    for name in ("author", "approver", "publisher"):
        grant(admin, account, "draft", team[name])
    for name in ("approver", "publisher"):
        grant(admin, account, "approve", team[name])
    grant(admin, account, "publish", team["publisher"])
    return account


def png(size=(40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile("winter.png", buffer.getvalue(), content_type="image/png")


def scheduled(team, accounts, *, text=TEXT, media=(), visibility=None, minutes=60) -> Post:
    """A post drafted by the author, approved by the approver, scheduled ``minutes`` from now."""
    at = timezone.now() + timedelta(minutes=minutes)
    post = svc.post_create(actor=team["author"], text=text, accounts=accounts, scheduled_at=at, media=media)
    if visibility:
        Post.objects.filter(pk=post.pk).update(visibility=visibility)
    svc.post_submit(actor=team["author"], post=post)
    svc.post_approve(actor=team["approver"], post=post)
    post = fresh(post)
    assert post.state == Post.State.SCHEDULED
    return post


def fresh(post) -> Post:
    return Post.objects.get(pk=post.pk)


def target_of(post) -> PostTarget:
    return PostTarget.objects.get(post=post)


def due(post, seconds=60):
    """An instant ``seconds`` after the post's time."""
    return post.scheduled_at + timedelta(seconds=seconds)


def kinds(user) -> list[str]:
    return list(user.notifications.values_list("kind", flat=True))


# --- the whole way, once -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_due_post_is_published_once_with_its_image_and_the_author_is_told(team, masto, fake):
    post = scheduled(team, [masto], media=[(png(), "A shop window with winter opening hours")],
                     visibility=Post.Visibility.UNLISTED)
    fake.now = due(post)

    early = publishing.publish_due(now=post.scheduled_at - timedelta(seconds=1))
    assert early == {"started": 0, "attempted": 0, "published": 0}
    assert fake.status_posts == 0 and fresh(post).state == Post.State.SCHEDULED

    outcome = publishing.publish_due(now=due(post))

    assert outcome == {"started": 1, "attempted": 1, "published": 1}
    assert fake.status_posts == 1 and fake.created == 1
    status = fake.statuses[0]
    sent = fake.status_requests[0]
    assert sent["status"] == TEXT and sent["visibility"] == "unlisted"
    assert sent["authorization"] == f"Bearer {TOKEN}"
    assert sent["idempotency_key"] == str(target_of(post).idempotency_key)
    assert len(fake.media) == 1 and sent["media_ids"] == [fake.media[0]["id"]]
    assert fake.media[0]["description"] == "A shop window with winter opening hours"
    assert fake.media[0]["content_type"] == "image/png" and fake.media[0]["size"] > 0
    assert status["media_attachments"][0]["id"] == fake.media[0]["id"]
    target = target_of(post)
    assert target.state == PostTarget.State.PUBLISHED
    assert target.platform_id == status["id"] and target.url == status["url"]
    assert target.attempts == 1 and target.lease_until is None and target.last_error == ""
    post = fresh(post)
    assert post.state == Post.State.PUBLISHED and post.published_at is not None
    note = team["author"].notifications.get(kind="post.published")
    assert note.url == f"/strategy/posts/{post.pk}/"

    # The next sweeps find nothing to do.
    assert publishing.publish_due(now=due(post, 3600))["attempted"] == 0
    assert publishing.publish_post(post.pk, now=due(post, 3600)) == Post.State.PUBLISHED
    assert fake.status_posts == 1 and fake.created == 1
    assert kinds(team["author"]).count("post.published") == 1


@pytest.mark.django_db
def test_publish_post_before_its_time_does_nothing(team, masto, fake):
    post = scheduled(team, [masto])
    assert publishing.publish_post(post.pk, now=post.scheduled_at - timedelta(minutes=1)) == Post.State.SCHEDULED
    assert fake.status_posts == 0


# --- the same post's task twice at once ---------------------------------------------------------------------------

@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_posts_task_run_twice_at_once_publishes_once(team, masto, fake):
    for attempt in range(3):  # a few rounds: the two tasks meet at a different point each time
        post = scheduled(team, [masto], text=f"{TEXT} Round {attempt}.")
        fake.now = due(post)
        task = lambda post=post: publishing.publish_post(post.pk, now=due(post))  # noqa: E731
        results, errors = together(task, task)
        assert errors == [None, None]
        assert fresh(post).state == Post.State.PUBLISHED
        assert Post.State.PUBLISHED in results
        assert fake.created == attempt + 1 and fake.status_posts == attempt + 1
        assert target_of(post).platform_id == fake.statuses[-1]["id"] and target_of(post).attempts == 1
        assert kinds(team["author"]).count("post.published") == attempt + 1


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_taking_the_same_started_target_at_once_call_the_platform_once(team, masto, fake):
    for attempt in range(3):
        post = scheduled(team, [masto], text=f"{TEXT} Take {attempt}.")
        fake.now = due(post)
        assert publishing.start_due(now=due(post), post_id=post.pk) == 1
        target = target_of(post)
        take = lambda target=target, post=post: publishing.publish_target(target.pk, now=due(post))  # noqa: E731
        assert together(take, take)[1] == [None, None]
        assert fake.status_posts == attempt + 1 and fake.created == attempt + 1
        assert target_of(post).attempts == 1 and fresh(post).state == Post.State.PUBLISHED


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_take_waiting_on_the_first_ones_row_lock_does_not_take_it_too(team, masto, fake):
    """The claim is one conditional UPDATE: a worker whose UPDATE waited for another's to commit re-reads the row
    and finds it held (PostgreSQL re-checks only the conditions on the updated row itself)."""
    from django.db import transaction

    post = scheduled(team, [masto])
    now = due(post)
    publishing.start_due(now=now, post_id=post.pk)
    target = target_of(post)
    first_took = threading.Event()

    def first():
        with transaction.atomic():
            took = publishing._take(target.pk, now)
            first_took.set()
            time.sleep(0.5)  # the second UPDATE waits on this row meanwhile
        return took

    def second():
        assert first_took.wait(10)
        return publishing._take(target.pk, now)

    results, errors = together(first, second)
    assert errors == [None, None]
    assert results == [True, False]
    assert target_of(post).attempts == 1


# --- a worker killed between the platform's answer and the save ---------------------------------------------------

@pytest.mark.django_db
def test_a_worker_killed_after_the_platform_answered_is_not_posted_again(team, masto, fake, monkeypatch):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    with monkeypatch.context() as patched:
        patched.setattr(publishing, "_succeeded", killed)  # the status is made, the save never happens
        with pytest.raises(Killed):
            publishing.publish_due(now=now)
    assert fake.created == 1 and fake.status_posts == 1
    target = target_of(post)
    assert target.state == PostTarget.State.PUBLISHING and target.platform_id == "" and target.attempts == 1

    # While the dead worker's lease runs, nobody takes the target.
    assert publishing.publish_due(now=now + timedelta(seconds=publishing.lease_seconds() - 1))["attempted"] == 0
    outcome = publishing.publish_due(now=now + timedelta(seconds=publishing.lease_seconds() + 1))

    assert outcome["published"] == 1
    assert fake.created == 1 and fake.status_posts == 1  # found on the platform, not posted again
    target = target_of(post)
    assert target.state == PostTarget.State.PUBLISHED and target.attempts == 2
    assert target.platform_id == fake.statuses[0]["id"] and target.url == fake.statuses[0]["url"]
    assert fresh(post).state == Post.State.PUBLISHED
    assert kinds(team["author"]).count("post.published") == 1


@pytest.mark.django_db
def test_when_the_platform_does_not_list_it_the_idempotency_key_returns_the_first_status(team, masto, fake,
                                                                                         monkeypatch):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    with monkeypatch.context() as patched:
        patched.setattr(publishing, "_succeeded", killed)
        with pytest.raises(Killed):
            publishing.publish_due(now=now)
    monkeypatch.setattr(MastodonConnector, "find_published", lambda self, account, **kwargs: None)

    publishing.publish_due(now=now + timedelta(seconds=publishing.lease_seconds() + 1))

    assert fake.status_posts == 2 and fake.created == 1  # the second POST carried the same key
    assert fake.status_requests[0]["idempotency_key"] == fake.status_requests[1]["idempotency_key"]
    assert target_of(post).platform_id == fake.statuses[0]["id"]
    assert fresh(post).state == Post.State.PUBLISHED


@pytest.mark.django_db
def test_an_older_status_with_the_same_text_is_not_taken_for_this_post(team, masto, fake, monkeypatch):
    """Last week's "Happy Monday!" is not this week's: a worker that died before its call reached the platform is
    followed by a real post, not by the old status."""
    post = scheduled(team, [masto], text="Happy Monday!")
    old = fake.add_status("Happy Monday!", created_at=post.scheduled_at - timedelta(days=7))
    fake.now = now = due(post)
    with monkeypatch.context() as patched:
        patched.setattr(MastodonConnector, "publish", killed)  # dies before the status request
        with pytest.raises(Killed):
            publishing.publish_due(now=now)
    assert fake.status_posts == 0

    publishing.publish_due(now=now + timedelta(seconds=publishing.lease_seconds() + 1))

    assert fake.status_posts == 1 and fake.created == 2
    target = target_of(post)
    assert target.state == PostTarget.State.PUBLISHED
    assert target.platform_id == fake.statuses[-1]["id"] != old["id"]


# --- transient and permanent failures --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_500_then_a_200_publishes_once_after_the_back_off(team, masto, fake):
    post = scheduled(team, [masto], media=[(png(), "Winter hours")])
    fake.now = now = due(post)
    fake.fail(500)

    publishing.publish_due(now=now)

    target = target_of(post)
    assert fake.status_posts == 1 and fake.created == 0
    assert target.state == PostTarget.State.PENDING and target.attempts == 1 and target.lease_until is None
    assert target.next_attempt_at == now + timedelta(seconds=publishing.BACKOFF_SECONDS[0])
    assert "HTTP 500" in target.last_error and TOKEN not in target.last_error
    post = fresh(post)
    assert post.state == Post.State.PUBLISHING and post.last_error == ""
    assert "post.failed" not in kinds(team["author"])

    assert publishing.publish_due(now=target.next_attempt_at - timedelta(seconds=1))["attempted"] == 0
    assert fake.status_posts == 1

    outcome = publishing.publish_due(now=target.next_attempt_at)

    assert outcome["published"] == 1
    assert fake.status_posts == 2 and fake.created == 1
    target = target_of(post)
    assert target.state == PostTarget.State.PUBLISHED and target.attempts == 2 and target.last_error == ""
    assert target.platform_id == fake.statuses[0]["id"]
    assert len(fake.statuses[0]["media_attachments"]) == 1
    assert fresh(post).state == Post.State.PUBLISHED


@pytest.mark.django_db
def test_a_503_is_retried_too(team, masto, fake):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    fake.fail(503)
    publishing.publish_due(now=now)
    target = target_of(post)
    assert target.state == PostTarget.State.PENDING and "HTTP 503" in target.last_error
    publishing.publish_due(now=target.next_attempt_at)
    assert fake.created == 1 and fresh(post).state == Post.State.PUBLISHED


@pytest.mark.django_db
def test_a_429_waits_exactly_what_retry_after_says(team, masto, fake):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    fake.fail(429, retry_after=120)

    publishing.publish_due(now=now)

    target = target_of(post)
    assert fake.status_posts == 1 and fake.created == 0
    assert target.state == PostTarget.State.PENDING
    assert target.next_attempt_at == now + timedelta(seconds=120)  # the server's word, not our back-off (60)
    assert "120 s" in target.last_error
    assert publishing.publish_due(now=now + timedelta(seconds=119))["attempted"] == 0

    publishing.publish_due(now=now + timedelta(seconds=120))

    assert fake.status_posts == 2 and fake.created == 1
    assert fresh(post).state == Post.State.PUBLISHED


@pytest.mark.django_db
def test_transient_failures_back_off_then_fail_the_post_after_the_last_attempt(team, masto, fake):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    fake.fail(503, times=publishing.MAX_ATTEMPTS)
    waits = []
    for _ in range(publishing.MAX_ATTEMPTS):
        publishing.publish_due(now=now)
        target = target_of(post)
        if target.next_attempt_at:
            waits.append((target.next_attempt_at - now).total_seconds())
            now = target.next_attempt_at

    assert waits == [60, 300, 900, 3600]
    assert fake.status_posts == publishing.MAX_ATTEMPTS and fake.created == 0
    assert target_of(post).state == PostTarget.State.FAILED
    post = fresh(post)
    assert post.state == Post.State.FAILED and "HTTP 503" in post.last_error
    assert "post.failed" in kinds(team["author"])


@pytest.mark.django_db
def test_a_permanent_error_fails_the_post_with_the_platforms_words_and_tells_the_author(team, masto, fake):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    fake.fail(422, error="Validation failed: Text character limit of 500 exceeded")

    publishing.publish_due(now=now)

    target = target_of(post)
    assert target.state == PostTarget.State.FAILED and target.attempts == 1 and target.next_attempt_at is None
    post = fresh(post)
    assert post.state == Post.State.FAILED
    assert "Text character limit of 500 exceeded" in post.last_error and str(masto) in post.last_error
    note = team["author"].notifications.get(kind="post.failed")
    assert "Text character limit of 500 exceeded" in note.text and note.level == "alert"
    assert note.url == f"/strategy/posts/{post.pk}/"
    publishing.publish_due(now=now + timedelta(hours=2))
    assert fake.status_posts == 1 and fake.created == 0  # a failed target is not retried on its own

    # Someone with publish tries it again: it goes out once.
    with pytest.raises(PermissionDenied):
        publishing.retry_failed(actor=team["approver"], post=post)
    publishing.retry_failed(actor=team["publisher"], post=post)
    publishing.publish_post(post.pk, now=now + timedelta(hours=2))
    assert fake.created == 1 and fresh(post).state == Post.State.PUBLISHED


# --- checks at publish time ------------------------------------------------------------------------------------------

def assert_back_in_review(team, post, fake, *words):
    post = fresh(post)
    assert fake.status_posts == 0 and fake.created == 0
    assert post.state == Post.State.IN_REVIEW and post.version == 2 and post.approved_at is None
    for word in words:
        assert word in post.review_reason
    note = team["author"].notifications.get(kind="post.back_to_review")
    for word in words:
        assert word in note.text
    assert target_of(post).attempts == 0
    assert post.comments.filter(kind="system", text=post.review_reason).exists()
    # It does not go out later either, until someone approves it again.
    publishing.publish_due(now=post.scheduled_at + timedelta(hours=1))
    assert fake.status_posts == 0


@pytest.mark.django_db
def test_a_suspended_account_at_publish_time_sends_the_post_back_to_review(team, masto, fake):
    post = scheduled(team, [masto])
    security_services.account_update(actor=team["admin"], account=masto, status=SocialAccount.Status.SUSPENDED)
    outcome = publishing.publish_due(now=due(post))
    assert outcome["started"] == 0
    assert_back_in_review(team, post, fake, str(masto), "suspended")


@pytest.mark.django_db
def test_a_revoked_approve_grant_of_the_approver_sends_the_post_back_to_review(team, masto, fake):
    post = scheduled(team, [masto])
    approve = PublishingGrant.objects.get(user=team["approver"], account=masto, capability="approve",
                                          revoked_at__isnull=True)
    security_services.grant_revoke(actor=team["admin"], grant=approve, reason="Moved to another team")
    publishing.publish_due(now=due(post))
    assert_back_in_review(team, post, fake, str(team["approver"]), "approve")


@pytest.mark.django_db
def test_a_credential_whose_rotation_was_forced_sends_the_post_back_to_review(team, masto, fake):
    post = scheduled(team, [masto])
    Credential.objects.filter(account=masto).update(rotation_forced_at=timezone.now(),
                                                    rotation_forced_reason="revealed")
    publishing.publish_due(now=due(post))
    assert_back_in_review(team, post, fake, str(masto), "credential")


@pytest.mark.django_db
def test_a_credential_past_its_rotation_period_at_publish_time_sends_the_post_back_to_review(team, masto, fake):
    # Rotated 89 days ago on a 90-day policy: still good now, expired by the time the post (two days away) is due.
    post = scheduled(team, [masto], minutes=2 * 24 * 60)
    Credential.objects.filter(account=masto).update(last_rotated_at=timezone.now() - timedelta(days=89))
    publishing.publish_due(now=due(post))
    assert_back_in_review(team, post, fake, str(masto), "credential")


# --- the sandbox ------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_sandbox_post_is_recorded_once_even_when_its_task_runs_twice(team, fake):
    post = scheduled(team, [team["mastodon"]])
    now = due(post)

    assert publishing.publish_post(post.pk, now=now) == Post.State.PUBLISHED
    assert publishing.publish_post(post.pk, now=now) == Post.State.PUBLISHED

    assert SandboxPost.objects.count() == 1
    sent = SandboxPost.objects.get()
    target = target_of(post)
    assert sent.kind == "post" and sent.text == TEXT and sent.account == team["mastodon"]
    assert target.platform_id == sent.platform_id and target.state == PostTarget.State.PUBLISHED
    assert fake.status_posts == 0  # a sandbox channel never reaches the platform
    assert "post.published" in kinds(team["author"])


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_sandbox_posts_task_run_twice_at_once_records_it_once(team):
    post = scheduled(team, [team["mastodon"], team["x"]])
    task = lambda: publishing.publish_post(post.pk, now=due(post))  # noqa: E731
    results, errors = together(task, task)
    assert errors == [None, None]
    assert SandboxPost.objects.count() == 2  # one per account
    assert fresh(post).state == Post.State.PUBLISHED
    assert set(PostTarget.objects.filter(post=post).values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_a_sandbox_post_whose_worker_died_after_recording_it_is_recorded_once(team, monkeypatch):
    post = scheduled(team, [team["mastodon"], team["x"]])
    now = due(post)
    with monkeypatch.context() as patched:
        patched.setattr(publishing, "_succeeded", killed)
        with pytest.raises(Killed):
            publishing.publish_post(post.pk, now=now)
    assert SandboxPost.objects.count() == 1
    later = now + timedelta(seconds=publishing.lease_seconds() + 1)
    publishing.publish_due(now=later)
    publishing.publish_due(now=later)
    assert SandboxPost.objects.count() == 2  # one per account
    assert set(SandboxPost.objects.values_list("account", flat=True)) == {team["mastodon"].pk, team["x"].pk}
    assert fresh(post).state == Post.State.PUBLISHED
    assert kinds(team["author"]).count("post.published") == 1


# --- no connector: publish by hand ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_platform_without_a_connector_waits_for_someone_to_publish_it_by_hand(team, masto, fake, api_for):
    from tests.security.factories import SocialAccountFactory

    linkedin = SocialAccountFactory(platform="linkedin", handle="acme-company", display_name="Acme LinkedIn")
    for name in ("author", "approver", "publisher"):
        grant(team["admin"], linkedin, "draft", team[name])
    grant(team["admin"], linkedin, "approve", team["approver"])
    grant(team["admin"], linkedin, "publish", team["publisher"])
    post = scheduled(team, [masto, linkedin])
    fake.now = now = due(post)

    publishing.publish_due(now=now)

    by_hand = PostTarget.objects.get(post=post, account=linkedin)
    assert by_hand.state == PostTarget.State.BY_HAND and by_hand.attempts == 0 and by_hand.platform_id == ""
    assert PostTarget.objects.get(post=post, account=masto).state == PostTarget.State.PUBLISHED
    assert fake.created == 1  # the Mastodon one only
    assert fresh(post).state == Post.State.PUBLISHING  # not published until the by-hand one is
    assert "post.by_hand" in kinds(team["author"])
    publishing.publish_due(now=now + timedelta(hours=1))
    assert PostTarget.objects.get(pk=by_hand.pk).state == PostTarget.State.BY_HAND and fake.status_posts == 1

    for someone in (team["outsider"], team["approver"]):  # no publish right on LinkedIn
        with pytest.raises(PermissionDenied):
            publishing.mark_published_by_hand(actor=someone, target=by_hand,
                                              url="https://www.linkedin.com/feed/update/1")
    address = f"/api/posts/by-hand/{by_hand.pk}/published/"
    refused = api_for(team["approver"]).post(address, {"url": "https://www.linkedin.com/feed/update/1"},
                                             format="json")
    assert refused.status_code == 403
    assert [row["id"] for row in api_for(team["publisher"]).get("/api/posts/by-hand/").json()] == [by_hand.pk]
    assert api_for(team["approver"]).get("/api/posts/by-hand/").json() == []  # not theirs to post
    bad = api_for(team["publisher"]).post(address, {"url": "javascript:alert(1)"}, format="json")
    assert bad.status_code == 400 and "url" in bad.json()
    assert PostTarget.objects.get(pk=by_hand.pk).state == PostTarget.State.BY_HAND

    done = api_for(team["publisher"]).post(
        address, {"url": "https://www.linkedin.com/feed/update/urn:li:activity:1"}, format="json")

    assert done.status_code == 200, done.content
    by_hand = PostTarget.objects.get(pk=by_hand.pk)
    assert by_hand.state == PostTarget.State.PUBLISHED and by_hand.published_by_hand == team["publisher"]
    assert by_hand.url == "https://www.linkedin.com/feed/update/urn:li:activity:1"
    assert fresh(post).state == Post.State.PUBLISHED
    assert kinds(team["author"]).count("post.published") == 1
    with pytest.raises(ValidationError):  # once
        publishing.mark_published_by_hand(actor=team["publisher"], target=by_hand, url="https://example.com/2")


# --- the instance's own limit ---------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_instance_max_characters_reads_the_servers_configuration(masto, fake):
    fake.max_characters = 1000
    assert MastodonConnector().instance_max_characters(masto) == 1000
    fake.max_characters = None
    assert MastodonConnector().instance_max_characters(masto) is None


@pytest.mark.django_db
def test_publishing_stores_the_instance_limit_and_the_length_check_then_uses_it(team, masto, fake):
    fake.max_characters = 1000
    long_text = "a" * 600
    assert fits(long_text, [masto])[0].over  # 500 until the instance told us otherwise
    post = scheduled(team, [masto])
    fake.now = due(post)

    publishing.publish_due(now=due(post))

    assert ConnectorState.objects.get(account=masto).max_characters == 1000
    fit = fits(long_text, [masto])[0]
    assert fit.limit == 1000 and not fit.over
    # A limit already known is not asked for again, nor overwritten.
    ConnectorState.objects.filter(account=masto).update(max_characters=800)
    asked = sum(1 for method, path in fake.requests if "instance" in path)
    second = scheduled(team, [masto], text="Another post.")
    publishing.publish_due(now=due(second))
    assert ConnectorState.objects.get(account=masto).max_characters == 800
    assert sum(1 for method, path in fake.requests if "instance" in path) == asked


@pytest.mark.django_db
def test_an_instance_that_does_not_answer_its_limit_does_not_stop_the_post(team, masto, fake):
    fake.max_characters = None
    post = scheduled(team, [masto])
    fake.now = due(post)
    publishing.publish_due(now=due(post))
    assert fresh(post).state == Post.State.PUBLISHED and fake.created == 1
    assert ConnectorState.objects.get(account=masto).max_characters is None


@pytest.mark.django_db
def test_an_image_goes_out_even_when_the_instance_endpoint_fails(team, masto, fake):
    """The upload and the limit do not hang on the instance's description: no version discovery (which, with the
    instance endpoint failing, asked it again and again), one question for the limit at most."""
    post = scheduled(team, [masto], media=[(png(), "Winter hours")])
    fake.now = due(post)
    for path in ("/api/v1/instance", "/api/v2/instance"):
        fake.fail(503, path=path, times=50)

    publishing.publish_due(now=due(post))

    assert fake.created == 1 and fresh(post).state == Post.State.PUBLISHED
    assert fake.statuses[0]["media_attachments"][0]["description"] == "Winter hours"
    assert sum(1 for method, path in fake.requests if "instance" in path) <= 1
    assert ConnectorState.objects.get(account=masto).max_characters is None  # asked again next time


@pytest.mark.django_db
def test_a_lost_answer_is_found_on_the_platform_before_posting_again(team, masto, fake):
    """The status was made but the answer never came back (a proxy's 504): the retry finds it and records it."""
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    fake.fail(504, after_creating=True)

    publishing.publish_due(now=now)

    target = target_of(post)
    assert fake.created == 1 and target.state == PostTarget.State.PENDING and "HTTP 504" in target.last_error
    publishing.publish_due(now=target.next_attempt_at)
    assert fake.created == 1 and fake.status_posts == 1
    target = target_of(post)
    assert target.state == PostTarget.State.PUBLISHED and target.platform_id == fake.statuses[0]["id"]
    assert fresh(post).state == Post.State.PUBLISHED


@pytest.mark.django_db
def test_a_status_with_mentions_links_and_hashtags_is_recognised_on_the_platform(team, masto, fake, monkeypatch):
    """Mastodon shows ``@ana@example.social`` as ``@ana`` and cuts links into spans: the retry still knows its
    status from the text it sent, without a second request."""
    text = ("Winter hours with @ana@example.social and @bob!\n"
            "See https://example.com/winter/opening-hours-2026?from=social #Winter\n\nThanks <3 & see you")
    post = scheduled(team, [masto], text=text)
    fake.now = now = due(post)
    with monkeypatch.context() as patched:
        patched.setattr(publishing, "_succeeded", killed)
        with pytest.raises(Killed):
            publishing.publish_due(now=now)

    publishing.publish_due(now=now + timedelta(seconds=publishing.lease_seconds() + 1))

    assert fake.status_posts == 1 and fake.created == 1
    assert target_of(post).platform_id == fake.statuses[0]["id"]
    assert fresh(post).state == Post.State.PUBLISHED


# --- found in review: no second post, no post on an account that stopped qualifying ---------------------------------

@pytest.mark.django_db
def test_a_suspended_account_during_the_back_off_fails_the_target_instead_of_publishing(team, masto, fake):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    fake.fail(503)
    publishing.publish_due(now=now)
    assert target_of(post).state == PostTarget.State.PENDING
    SocialAccount.objects.filter(pk=masto.pk).update(status=SocialAccount.Status.SUSPENDED)

    publishing.publish_due(now=target_of(post).next_attempt_at)

    target = target_of(post)
    assert fake.created == 0 and target.state == PostTarget.State.FAILED and "suspended" in target.last_error
    assert fresh(post).state == Post.State.FAILED
    # "Try again" says why it cannot, and leaves everything as it was.
    with pytest.raises(ValidationError, match="suspended"):
        publishing.retry_failed(actor=team["publisher"], post=post)
    assert fake.status_posts == 1


@pytest.mark.django_db
def test_try_again_after_an_unknown_outcome_looks_for_the_post_before_posting(team, masto, fake, monkeypatch):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    publishing.publish_due(now=now)
    assert fake.created == 1
    # As if that attempt's answer had been lost and the target given up on: failed, with the outcome unknown.
    PostTarget.objects.filter(post=post).update(state=PostTarget.State.FAILED, platform_id="", url="", attempts=5,
                                                last_error="Not published after 5 attempts: the last one never "
                                                           "finished.")
    Post.objects.filter(pk=post.pk).update(state=Post.State.FAILED)
    monkeypatch.setattr(publishing, "enqueue_publish", lambda post: None)

    publishing.retry_failed(actor=team["publisher"], post=post)
    publishing.publish_due(now=timezone.now() + timedelta(seconds=1))

    assert fake.created == 1 and fake.status_posts == 1  # found, not posted again
    assert target_of(post).platform_id == fake.statuses[0]["id"] and fresh(post).state == Post.State.PUBLISHED


@pytest.mark.django_db
def test_a_failed_post_already_out_on_one_account_is_never_posted_there_again(team, masto, fake, monkeypatch):
    post = scheduled(team, [masto, team["x"]])
    fake.now = now = due(post)
    publishing.publish_due(now=now)
    assert fake.created == 1 and fresh(post).state == Post.State.PUBLISHED
    sandbox_target = PostTarget.objects.get(post=post, account=team["x"])
    PostTarget.objects.filter(pk=sandbox_target.pk).update(state=PostTarget.State.FAILED, platform_id="", url="",
                                                           last_error="503")
    Post.objects.filter(pk=post.pk).update(state=Post.State.FAILED)
    # Its content cannot change any more: what went out stays as it is.
    with pytest.raises(ValidationError, match="Already published on"):
        svc.post_update(actor=team["author"], post=post, text="A different text")
    with pytest.raises(ValidationError, match="Already published on"):
        svc.post_update(actor=team["author"], post=post, accounts=[team["x"]])
    monkeypatch.setattr(publishing, "enqueue_publish", lambda post: None)
    publishing.retry_failed(actor=team["publisher"], post=post)
    publishing.publish_due(now=timezone.now() + timedelta(seconds=1))
    assert fake.created == 1 and fresh(post).state == Post.State.PUBLISHED
    assert PostTarget.objects.get(post=post, account=masto).platform_id == fake.statuses[0]["id"]


@pytest.mark.django_db
def test_a_target_recorded_after_the_post_was_given_up_makes_it_published(team, masto, fake):
    post = scheduled(team, [masto])
    fake.now = now = due(post)
    publishing.publish_due(now=now)
    Post.objects.filter(pk=post.pk).update(state=Post.State.FAILED)  # as _give_up_stuck left it
    publishing._finish(post.pk)
    assert fresh(post).state == Post.State.PUBLISHED
    with pytest.raises(ValidationError, match="waiting to be tried again"):
        Post.objects.filter(pk=post.pk).update(state=Post.State.FAILED)
        publishing.retry_failed(actor=team["publisher"], post=post)


@pytest.mark.django_db
def test_a_specialist_who_left_the_team_before_publish_time_sends_the_post_back(team, masto, fake):
    from accounts.models import Membership

    post = svc.post_create(actor=team["author"], text="Our statement on the lawsuit", accounts=[masto],
                           scheduled_at=timezone.now() + timedelta(hours=1))
    svc.post_submit(actor=team["author"], post=post)
    svc.post_approve(actor=team["approver"], post=post)
    svc.post_approve(actor=team["specialist"], post=post)
    assert fresh(post).state == Post.State.SCHEDULED
    Membership.objects.filter(user=team["specialist"]).update(ended_at=timezone.now() - timedelta(minutes=1))

    publishing.publish_due(now=due(fresh(post)))

    post = fresh(post)
    assert fake.status_posts == 0 and post.state == Post.State.IN_REVIEW and "specialist" in post.review_reason
