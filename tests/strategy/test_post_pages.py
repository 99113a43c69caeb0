"""The post pages as people use them: the composer with an image and its preview, bad input refused next to
its field with nothing saved, the four-eyes flow through the detail page and the approval queue, a return with
its reason on the thread, an edit after approval showing the approvals as outdated, the images streamed only to
people who may see the post, and the publish-by-hand queue."""

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from strategy import publishing
from strategy.models import Post, PostComment, PostMedia, PostTarget
from strategy.services import posts as svc
from tests.conftest import sign_in
from tests.strategy.conftest import grant

MADRID = ZoneInfo("Europe/Madrid")
NEW = reverse("strategy:post-new")


def png_bytes(size=(40, 30), kind="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


def upload(name="photo.png", content=None, content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes() if content is None else content, content_type=content_type)


def later(days=3):
    return timezone.localtime(timezone.now() + timedelta(days=days), MADRID)


def composer_data(team, **overrides) -> dict:
    when = later()
    data = {"text": "Our winter opening hours are online.", "accounts": [a.pk for a in team["accounts"]],
            "scheduled_date": when.date().isoformat(), "scheduled_time": "10:30", "labels": "winter, hours",
            "campaign": "", "objective": ""}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def csrf_client(user) -> Client:
    return sign_in(Client(enforce_csrf_checks=True), user)


def csrf_token(client, url) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)


def action(client, post, name, **fields):
    return client.post(reverse("strategy:post-action", args=[post.pk]), {"action": name, **fields})


@pytest.fixture
def madrid_author(team):
    author = team["author"]
    author.time_zone = "Europe/Madrid"
    author.save(update_fields=["time_zone"])
    return author


def draft(team, text="Our winter opening hours are online.", **kwargs) -> Post:
    kwargs.setdefault("accounts", team["accounts"])
    return svc.post_create(actor=team["author"], text=text, **kwargs)


# --- the composer ---------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_post_with_an_image_is_created_through_the_page_and_its_image_served_only_to_those_who_see_it(
        team, client_for, madrid_author):
    client = client_for(madrid_author)
    page = client.get(NEW)
    assert page.status_code == 200
    assert "Europe/Madrid" in page.content.decode()  # times are typed in the author's zone, and it says so
    image = png_bytes()
    response = client.post(NEW, composer_data(team, media_1=SimpleUploadedFile("photo.png", image, "image/png"),
                                              alt_1="A red square on the shop window"))
    assert response.status_code == 302, response.content.decode()[:3000]
    post = Post.objects.get()
    assert response["Location"] == reverse("strategy:post-detail", args=[post.pk])
    assert post.state == Post.State.DRAFT and post.author == madrid_author and post.labels == ["winter", "hours"]
    assert post.time_zone == "Europe/Madrid"
    local = timezone.localtime(post.scheduled_at, MADRID)
    assert (local.date(), local.hour, local.minute) == (later().date(), 10, 30)
    media = PostMedia.objects.get(post=post)

    detail = client.get(response["Location"]).content.decode()
    assert "Our winter opening hours are online." in detail
    assert "A red square on the shop window" in detail
    media_url = reverse("strategy:post-media", args=[post.pk, media.pk])
    assert f'src="{media_url}"' in detail

    served = client.get(media_url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == image
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("inline")

    approver = client_for(team["approver"])  # no time zone of their own: the portal's (UTC)
    assert approver.get(media_url).status_code == 200  # may see the post: may see its image
    seen = approver.get(reverse("strategy:post-detail", args=[post.pk])).content.decode()
    assert re.search(r"(08|09):30</time> \(UTC\)", seen)  # 10:30 in Madrid, in summer or in winter
    assert re.search(r'data-testid="own-zone-time">[^<]*10:30 \(Europe/Madrid', seen)
    outsider = client_for(team["outsider"])
    assert outsider.get(media_url).status_code == 404
    assert outsider.get(reverse("strategy:post-detail", args=[post.pk])).status_code == 404
    assert Client().get(media_url).status_code == 302  # anonymous: to the sign-in page
    other = draft(team)
    assert client.get(reverse("strategy:post-media", args=[other.pk, media.pk])).status_code == 404


@pytest.mark.django_db
def test_the_composer_is_prefilled_from_the_calendar_and_shows_each_platforms_count(team, client_for):
    client = client_for(team["author"])
    page = client.get(NEW, {"date": "2031-05-04", "time": "09:15"}).content.decode()
    assert 'value="2031-05-04"' in page and 'value="09:15"' in page
    assert "/ 500" in page and "/ 280" in page  # one preview per account, with its platform's limit
    assert "composer.js" in page
    assert client.get(NEW, {"date": "2031-02-30", "time": "25:99"}).status_code == 200  # unreadable: left out


@pytest.mark.django_db
def test_the_preview_counts_as_each_platform_and_warns_per_target(team, client_for):
    text = "漢" * 200 + " https://example.com/a/very/long/path/that/counts/as/twenty-three"
    post = draft(team, text=text)  # over X's 280 (CJK weighs 2) but not Mastodon's 500: a draft may be
    page = client_for(team["author"]).get(reverse("strategy:post-edit", args=[post.pk])).content.decode()
    x_card = re.search(rf'data-preview="{team["x"].pk}".*?</div>', page, re.S).group(0)
    mastodon_card = re.search(rf'data-preview="{team["mastodon"].pk}".*?</div>', page, re.S).group(0)
    assert "<span data-count>424</span> / 280" in x_card  # 200 × 2 + 1 space + 23 for the address
    assert re.search(r'data-over>', x_card)  # the warning is shown (not hidden)
    assert "<span data-count>224</span> / 500" in mastodon_card
    assert re.search(r"data-over hidden", mastodon_card)


# --- bad input: a clear message next to the field, a 400, nothing saved ------------------------------------------

def _bad_inputs(team, closed_account):
    yesterday = timezone.localtime(timezone.now() - timedelta(days=1), MADRID).date().isoformat()
    return [
        ("past time", {"scheduled_date": yesterday, "scheduled_time": "10:00"}, "scheduled_time",
         "The time has passed"),
        ("over every limit", {"text": "a" * 501}, "text", "over the 280 that"),
        ("forged target", {"accounts": [team["mastodon"].pk, closed_account.pk]}, "accounts",
         "You may not draft posts for"),
        ("50 MB upload", {"media_1": upload("huge.png", b"\x89PNG\r\n\x1a\n" + b"0" * (50 * 1024 * 1024)),
                          "alt_1": "huge"}, "media_1", "an image may be at most 8 MB"),
        ("SVG", {"media_1": upload("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)'
                                               b'</script></svg>', "image/svg+xml"), "alt_1": "logo"},
         "media_1", "is not a JPEG, PNG, GIF or WebP image"),
        ("a PNG that says it is a JPEG", {"media_1": upload("photo.jpg", content_type="image/jpeg"),
                                          "alt_1": "photo"}, "media_1", "says it is"),
        ("no alt text", {"media_1": upload(), "alt_1": ""}, "alt_1", "alt text"),
        ("no text", {"text": "   "}, "text", "Write the post"),
        ("a label too long", {"labels": "fine, " + "x" * 41}, "labels", "at most 40 characters"),
        ("no account", {"accounts": []}, "accounts", "Choose at least one account"),
        ("a date without a time", {"scheduled_time": ""}, "scheduled_time", "Give the time too"),
        ("the year 9999", {"scheduled_date": "9999-12-31", "scheduled_time": "23:00"}, "scheduled_time",
         "two years"),
    ]


@pytest.mark.django_db
def test_every_bad_input_is_refused_next_to_its_field_with_nothing_saved(team, client_for, madrid_author):
    from tests.security.factories import SocialAccountFactory

    closed_account = SocialAccountFactory(platform="mastodon", sandbox=True)  # active, but no right on it
    client = client_for(madrid_author)
    for name, overrides, field, message in _bad_inputs(team, closed_account):
        response = client.post(NEW, composer_data(team, **overrides))
        page = response.content.decode()
        assert response.status_code == 400, name
        errors = " ".join(re.findall(rf'<p class="field-error" data-field="{field}">([^<]*)</p>', page))
        assert message in errors.replace("&#x27;", "'"), (name, errors)
        assert Post.objects.count() == 0 and PostTarget.objects.count() == 0 and PostMedia.objects.count() == 0, name


@pytest.mark.django_db
def test_a_forged_target_is_refused_with_csrf_enforced(team, madrid_author):
    from tests.security.factories import SocialAccountFactory

    closed_account = SocialAccountFactory(platform="x", sandbox=True)
    client = csrf_client(madrid_author)
    token = csrf_token(client, NEW)
    assert f'value="{closed_account.pk}"' not in client.get(NEW).content.decode()  # not offered
    response = client.post(NEW, {**composer_data(team, accounts=[closed_account.pk]), "csrfmiddlewaretoken": token})
    assert response.status_code == 400
    assert f"You may not draft posts for {closed_account}" in response.content.decode()
    assert Post.objects.count() == 0


@pytest.mark.django_db
def test_when_the_service_refuses_after_writing_the_whole_post_is_rolled_back(team, client_for, monkeypatch):
    """The form's own image check passes this file; the service's refuses it after the post row was written:
    the page says why next to the image field and nothing is left behind."""
    from strategy import forms_posts

    monkeypatch.setattr(forms_posts, "validate_image", lambda upload, alt: {})
    client = client_for(team["author"])
    response = client.post(NEW, composer_data(team, media_1=upload("logo.svg", b"<svg/>", "image/svg+xml"),
                                              alt_1="logo"))
    assert response.status_code == 400
    assert re.search(r'data-field="media_1">[^<]*is not a JPEG, PNG, GIF or WebP', response.content.decode())
    assert Post.objects.count() == 0 and PostTarget.objects.count() == 0 and PostMedia.objects.count() == 0


@pytest.mark.django_db
def test_daylight_saving_a_missing_time_is_refused_and_a_repeated_one_takes_the_first(team, client_for,
                                                                                       madrid_author):
    client = client_for(madrid_author)
    year = timezone.now().year + 1
    # Madrid: clocks jump from 02:00 to 03:00 on the last Sunday of March, back from 03:00 to 02:00 in October.
    spring = max(d for d in (datetime(year, 3, day) for day in range(25, 32)) if d.weekday() == 6).date()
    autumn = max(d for d in (datetime(year, 10, day) for day in range(25, 32)) if d.weekday() == 6).date()
    refused = client.post(NEW, composer_data(team, scheduled_date=spring.isoformat(), scheduled_time="02:30"))
    assert refused.status_code == 400
    assert "does not exist" in refused.content.decode() and Post.objects.count() == 0
    taken = client.post(NEW, composer_data(team, scheduled_date=autumn.isoformat(), scheduled_time="02:30"),
                        follow=True)
    assert taken.status_code == 200
    post = Post.objects.get()
    assert post.scheduled_at == datetime(autumn.year, autumn.month, autumn.day, 0, 30, tzinfo=ZoneInfo("UTC"))
    assert "happens twice" in taken.content.decode()


# --- the four-eyes flow -------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_four_eyes_through_the_pages(team, client_for):
    post = draft(team, scheduled_at=timezone.now() + timedelta(days=2))
    detail_url = reverse("strategy:post-detail", args=[post.pk])

    author = csrf_client(team["author"])
    token = csrf_token(author, detail_url)
    page = author.get(detail_url).content.decode()
    assert 'data-testid="action-submit"' in page and 'data-testid="action-approve"' not in page
    response = author.post(reverse("strategy:post-action", args=[post.pk]),
                           {"action": "submit", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW

    page = author.get(detail_url).content.decode()
    assert 'data-testid="action-approve"' not in page  # the author is not offered their own approval
    assert "an approval from someone with the approve right on every account" in page
    forged = author.post(reverse("strategy:post-action", args=[post.pk]),
                         {"action": "approve", "version": post.version, "csrfmiddlewaretoken": token})
    assert forged.status_code == 403
    assert "Someone other than the author approves a post" in forged.content.decode()
    assert author.post(reverse("strategy:post-action", args=[post.pk]),
                       {"action": "approve", "version": post.version}).status_code == 403  # no CSRF token
    assert author.get(reverse("strategy:post-review-queue")).content.decode().count("queue-post-") == 0

    approver = csrf_client(team["approver"])
    queue_url = reverse("strategy:post-review-queue")
    token = csrf_token(approver, queue_url)
    queue = approver.get(queue_url).content.decode()
    assert f'data-testid="queue-post-{post.pk}"' in queue
    approved = approver.post(reverse("strategy:post-action", args=[post.pk]), {
        "action": "approve", "version": post.version, "next": queue_url, "csrfmiddlewaretoken": token})
    assert approved.status_code == 302 and approved["Location"] == queue_url
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED
    assert f"queue-post-{post.pk}" not in approver.get(queue_url).content.decode()
    page = approver.get(detail_url).content.decode()
    assert 'data-testid="approval-current"' in page and str(team["approver"]) in page


@pytest.mark.django_db
def test_the_queue_lists_only_what_i_may_approve_oldest_first(team, client_for, make_member):
    first = svc.post_submit(actor=team["author"], post=draft(team, text="First"))
    second = svc.post_submit(actor=team["author"], post=draft(team, text="Second"))
    own = svc.post_submit(actor=team["approver"], post=svc.post_create(
        actor=team["approver"], text="The approver's own", accounts=team["accounts"]))
    queue = client_for(team["approver"]).get(reverse("strategy:post-review-queue")).content.decode()
    assert queue.index(f"queue-post-{first.pk}") < queue.index(f"queue-post-{second.pk}")
    assert f"queue-post-{own.pk}" not in queue
    assert "Nothing waits for your approval" in client_for(team["outsider"]).get(
        reverse("strategy:post-review-queue")).content.decode()


@pytest.mark.django_db
def test_a_return_with_a_comment_shows_on_the_thread(team, client_for):
    post = svc.post_submit(actor=team["author"], post=draft(team))
    approver = client_for(team["approver"])
    refused = action(approver, post, "return", reason="   ")
    assert refused.status_code == 400
    assert re.search(r'data-field="reason">Say what to change', refused.content.decode())
    assert Post.objects.get(pk=post.pk).state == Post.State.IN_REVIEW

    assert action(approver, post, "return", reason="Say which shops, please.").status_code == 302
    post.refresh_from_db()
    assert post.state == Post.State.DRAFT
    page = client_for(team["author"]).get(reverse("strategy:post-detail", args=[post.pk])).content.decode()
    thread = page[page.index('data-testid="review-thread"'):]
    assert "Say which shops, please." in thread and "Returned" in thread
    assert action(client_for(team["author"]), post, "comment", text="Done: Madrid and Lisbon.").status_code == 302
    assert PostComment.objects.filter(post=post, kind=PostComment.Kind.COMMENT, text="Done: Madrid and Lisbon.")


@pytest.mark.django_db
def test_an_edit_after_approval_shows_the_approvals_as_outdated(team, client_for):
    post = svc.post_submit(actor=team["author"], post=draft(team, scheduled_at=timezone.now() + timedelta(days=2)))
    svc.post_approve(actor=team["approver"], post=post, version=post.version)
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED and post.version == 1
    client = client_for(team["author"])
    edit_url = reverse("strategy:post-edit", args=[post.pk])
    page = client.get(edit_url).content.decode()
    assert 'name="version" value="1"' in page and 'data-testid="review-warning"' in page
    local = timezone.localtime(post.scheduled_at, ZoneInfo(post.time_zone))
    response = client.post(edit_url, composer_data(
        team, text="Our winter opening hours are online: from 9 to 18.", version=1,
        scheduled_date=local.date().isoformat(), scheduled_time=local.strftime("%H:%M")), follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "back to review" in page
    post.refresh_from_db()
    assert post.state == Post.State.IN_REVIEW and post.version == 2
    assert 'data-testid="approval-outdated"' in page and "outdated (version 1)" in page
    assert 'data-testid="approval-current"' not in page
    thread = page[page.index('data-testid="review-thread"'):]
    assert "Portal" in thread and "the approvals given so far are outdated" in thread


@pytest.mark.django_db
def test_a_concurrent_change_is_refused_not_overwritten(team, client_for):
    post = svc.post_submit(actor=team["author"], post=draft(team))
    client = client_for(team["author"])
    edit_url = reverse("strategy:post-edit", args=[post.pk])
    assert 'name="version" value="1"' in client.get(edit_url).content.decode()
    svc.post_update(actor=team["approver"], post=post, text="The approver's better text.")  # version 2 now
    response = client.post(edit_url, composer_data(team, text="My text", version=1, scheduled_date="",
                                                   scheduled_time=""))
    assert response.status_code == 400
    assert "Someone changed this post since you opened it" in response.content.decode()
    assert Post.objects.get(pk=post.pk).text == "The approver's better text."


@pytest.mark.django_db
def test_an_edit_can_remove_an_image_and_add_another(team, client_for):
    post = draft(team, media=[(upload(), "Old photo")])
    old = post.media.get()
    client = client_for(team["author"])
    response = client.post(reverse("strategy:post-edit", args=[post.pk]), composer_data(
        team, version=post.version, scheduled_date="", scheduled_time="", remove_media=[old.pk],
        media_1=upload("new.png"), alt_1="New photo"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(post.media.values_list("alt_text", flat=True)) == ["New photo"]


@pytest.mark.django_db
def test_people_without_rights_get_404_or_403(team, client_for):
    post = draft(team)
    outsider = client_for(team["outsider"])
    for name in ("strategy:post-detail", "strategy:post-edit"):
        assert outsider.get(reverse(name, args=[post.pk])).status_code == 404
    assert action(outsider, post, "submit").status_code == 404
    assert outsider.get(NEW).status_code == 403  # the draft right on no account
    executive = client_for(team["executive"])  # sees every post, drafts on none
    assert executive.get(reverse("strategy:post-detail", args=[post.pk])).status_code == 200
    assert executive.get(reverse("strategy:post-edit", args=[post.pk])).status_code == 403
    assert Client().get(reverse("strategy:post-detail", args=[post.pk])).status_code == 302


@pytest.mark.django_db
def test_my_posts_by_state(team, client_for):
    draft(team, text="A draft of mine")
    svc.post_submit(actor=team["author"], post=draft(team, text="One in review"))
    page = client_for(team["author"]).get(reverse("strategy:post-mine")).content.decode()
    assert 'data-testid="mine-draft"' in page and 'data-testid="mine-in_review"' in page
    assert "A draft of mine" in page and "One in review" in page
    assert "You have written no post yet" in client_for(team["approver"]).get(
        reverse("strategy:post-mine")).content.decode()


# --- publishing by hand ---------------------------------------------------------------------------------------------

@pytest.fixture
def by_hand_target(team):
    """A LinkedIn account (no connector posts there) with a post whose time has come: waiting to be published by
    hand."""
    from tests.security.factories import SocialAccountFactory

    linkedin = SocialAccountFactory(platform="linkedin", handle="acme-company", sandbox=False)
    grant(team["admin"], linkedin, "draft", team["author"])
    grant(team["admin"], linkedin, "approve", team["approver"])
    grant(team["admin"], linkedin, "publish", team["publisher"])
    when = timezone.now() + timedelta(hours=1)
    post = svc.post_create(actor=team["author"], text="We are hiring in Madrid.", accounts=[linkedin],
                           scheduled_at=when, media=[(upload(), "Our Madrid office")])
    svc.post_submit(actor=team["author"], post=post)
    svc.post_approve(actor=team["approver"], post=post, version=1)
    assert publishing.start_due(now=when + timedelta(minutes=1)) == 1
    target = PostTarget.objects.get(post=post)
    assert target.state == PostTarget.State.BY_HAND
    return target


@pytest.mark.django_db
def test_the_by_hand_queue_marks_a_target_published_with_its_address(team, client_for, by_hand_target):
    url = reverse("strategy:post-by-hand")
    publisher = csrf_client(team["publisher"])
    token = csrf_token(publisher, url)
    page = publisher.get(url).content.decode()
    assert f'data-testid="by-hand-{by_hand_target.pk}"' in page
    assert "We are hiring in Madrid." in page and "Our Madrid office" in page and "data-copy=" in page
    media = by_hand_target.post.media.get()
    assert reverse("strategy:post-media", args=[by_hand_target.post_id, media.pk]) in page

    bad = publisher.post(url, {"target": by_hand_target.pk, "url": "javascript:alert(1)",
                               "csrfmiddlewaretoken": token})
    assert bad.status_code == 400
    assert re.search(r'data-field="url">Give the post&#x27;s address on the platform', bad.content.decode())
    assert PostTarget.objects.get(pk=by_hand_target.pk).state == PostTarget.State.BY_HAND

    address = "https://www.linkedin.com/feed/update/urn:li:activity:1234/"
    done = publisher.post(url, {"target": by_hand_target.pk, "url": address, "csrfmiddlewaretoken": token})
    assert done.status_code == 302
    target = PostTarget.objects.get(pk=by_hand_target.pk)
    assert target.state == PostTarget.State.PUBLISHED and target.url == address
    assert target.published_by_hand == team["publisher"]
    assert Post.objects.get(pk=target.post_id).state == Post.State.PUBLISHED
    detail = publisher.get(reverse("strategy:post-detail", args=[target.post_id])).content.decode()
    assert f'href="{address}"' in detail
    assert "Nothing to publish by hand" in publisher.get(url).content.decode()


@pytest.mark.django_db
def test_only_publishers_see_the_by_hand_queue_and_mark_it(team, client_for, by_hand_target):
    url = reverse("strategy:post-by-hand")
    author = client_for(team["author"])
    assert f"by-hand-{by_hand_target.pk}" not in author.get(url).content.decode()
    refused = author.post(url, {"target": by_hand_target.pk, "url": "https://www.linkedin.com/x"})
    assert refused.status_code == 403
    assert client_for(team["outsider"]).post(url, {"target": by_hand_target.pk,
                                                   "url": "https://www.linkedin.com/x"}).status_code == 404
    assert PostTarget.objects.get(pk=by_hand_target.pk).state == PostTarget.State.BY_HAND


@pytest.mark.django_db
def test_only_a_publisher_is_offered_publish_now_and_it_schedules_the_post_for_now(team, client_for):
    post = svc.post_submit(actor=team["author"], post=draft(team))
    svc.post_approve(actor=team["approver"], post=post, version=post.version)
    detail_url = reverse("strategy:post-detail", args=[post.pk])
    author_page = client_for(team["author"]).get(detail_url).content.decode()
    assert 'data-testid="action-publish-now"' not in author_page
    assert 'data-testid="action-approve"' not in author_page  # approved already
    assert action(client_for(team["author"]), post, "publish_now").status_code == 403
    publisher = client_for(team["publisher"])
    assert 'data-testid="action-publish-now"' in publisher.get(detail_url).content.decode()
    response = action(publisher, post, "publish_now")
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.state == Post.State.SCHEDULED and post.scheduled_at <= timezone.now()
    refused = action(publisher, post, "submit")  # not a draft any more
    assert refused.status_code == 400 and "Only a draft is submitted for review" in refused.content.decode()


@pytest.mark.django_db
def test_visibility_is_chosen_in_the_composer(team, client_for):
    client = client_for(team["author"])
    assert 'name="visibility"' in client.get(NEW).content.decode()
    assert client.post(NEW, composer_data(team, visibility="private")).status_code == 302
    post = Post.objects.get()
    assert post.visibility == Post.Visibility.PRIVATE
    assert "Followers only" in client.get(reverse("strategy:post-detail", args=[post.pk])).content.decode()
    refused = client.post(NEW, composer_data(team, visibility="everyone-everywhere"))
    assert refused.status_code == 400 and re.search(r'data-field="visibility">', refused.content.decode())
    assert Post.objects.count() == 1


@pytest.mark.django_db
def test_the_queues_and_my_posts_run_a_fixed_number_of_queries(team, client_for, by_hand_target):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(client, url):
        client.get(url)  # the session's once-a-minute refresh and other first-request work out of the way
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    approver, author = client_for(team["approver"]), client_for(team["author"])
    review, mine = reverse("strategy:post-review-queue"), reverse("strategy:post-mine")
    svc.post_submit(actor=team["author"], post=draft(team, media=[(upload(), "A photo")]))
    few = queries(approver, review), queries(author, mine)
    for n in range(6):
        post = svc.post_submit(actor=team["author"], post=draft(team, text=f"Post {n}", media=[(upload(), "A")]))
        svc.post_comment(actor=team["approver"], post=post, text="Looks good")
    draft(team, text="Another draft")
    assert (queries(approver, review), queries(author, mine)) == few
    assert approver.get(review).content.decode().count("queue-post-") == 7
