"""The posts API: scoped to the posts the caller may see (others are 404s), the four-eyes review through its
actions, field-level rules (what the portal records is never PATCHed: a 400 naming the field, nothing changed),
the calendar range, the publish-by-hand queue, image uploads, and a list whose query count does not grow."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from strategy import publishing
from strategy.models import Post, PostMedia, PostTarget
from strategy.services import posts as svc
from tests.conftest import sign_in
from tests.strategy.conftest import grant

LATER = timezone.now() + timedelta(days=2)
POSTS = "/api/posts/"


def png(name="photo.png", content_type="image/png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


def create(api, team, **fields):
    body = {"text": "Our winter opening hours are online.", "accounts": [a.pk for a in team["accounts"]], **fields}
    return api.post(POSTS, body, format="json")


def draft(team, text="Our winter opening hours are online.", **kwargs) -> Post:
    kwargs.setdefault("accounts", team["accounts"])
    return svc.post_create(actor=team["author"], text=text, **kwargs)


def in_review(team, **kwargs) -> Post:
    return svc.post_submit(actor=team["author"], post=draft(team, **kwargs))


def approved(team, **kwargs) -> Post:
    return svc.post_approve(actor=team["approver"], post=in_review(team, **kwargs))


def url(post, action=""):
    return f"{POSTS}{post.pk}/{action + '/' if action else ''}"


def fresh(post) -> Post:
    return Post.objects.get(pk=post.pk)


# --- who sees what ------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_drafter_creates_a_post_and_only_those_who_may_see_it_find_it(team, api_for):
    response = create(api_for(team["author"]), team, scheduled_at=LATER.isoformat(), labels=["winter"])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft" and body["author"]["username"] == "marta"
    assert sorted(body["accounts"]) == sorted(a.pk for a in team["accounts"])
    assert {t["state"] for t in body["targets"]} == {"pending"} and body["labels"] == ["winter"]
    post = Post.objects.get(pk=body["id"])

    assert [p["id"] for p in api_for(team["author"]).get(POSTS).json()["results"]] == [post.pk]
    assert [p["id"] for p in api_for(team["executive"]).get(POSTS).json()["results"]] == [post.pk]
    outsider = api_for(team["outsider"])
    assert outsider.get(POSTS).json()["results"] == []
    assert outsider.get(url(post)).status_code == 404
    assert outsider.patch(url(post), {"text": "Mine now"}, format="json").status_code == 404
    assert outsider.post(url(post, "submit")).status_code == 404
    assert outsider.get(url(post, "comments")).status_code == 404
    assert fresh(post).text == "Our winter opening hours are online."
    assert api_for().get(POSTS).status_code == 401


@pytest.mark.django_db
def test_a_post_for_accounts_the_caller_may_not_draft_on_is_a_403_and_nothing_is_saved(team, api_for):
    response = create(api_for(team["outsider"]), team)
    assert response.status_code == 403 and "@acme" in response.json()["detail"]
    assert Post.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("fields", "field"), [
    ({"state": "approved"}, "state"),
    ({"version": 7}, "version"),
    ({"author": 1}, "author"),
    ({"published_at": "2026-01-01T00:00:00Z"}, "published_at"),
    ({"scheduled_at": "2020-01-01T09:00:00+00:00"}, "scheduled_at"),   # the past
    ({"scheduled_at": "2030-01-01T09:00:00"}, "scheduled_at"),         # no offset
    ({"accounts": [999999]}, "accounts"),
    ({"accounts": []}, "accounts"),
    ({"text": "   "}, "text"),
    ({"time_zone": "Mars/Olympus"}, "time_zone"),
    ({"colour": "red"}, "colour"),
])
def test_bad_or_read_only_fields_on_create_are_400s_naming_the_field(team, api_for, fields, field):
    response = create(api_for(team["author"]), team, **fields)
    assert response.status_code == 400 and field in response.json(), response.json()
    assert Post.objects.count() == 0


@pytest.mark.django_db
def test_a_body_that_is_not_json_is_refused_on_create(team, api_for):
    response = api_for(team["author"]).post(POSTS, {"text": "x"}, format="multipart")
    assert response.status_code == 415
    assert Post.objects.count() == 0


@pytest.mark.django_db
def test_the_api_checks_csrf_for_a_signed_in_browser_session(team):
    client = sign_in(Client(enforce_csrf_checks=True), team["author"])
    body = {"text": "From the browser", "accounts": [team["mastodon"].pk]}
    assert client.post(POSTS, body, content_type="application/json").status_code == 403
    assert Post.objects.count() == 0
    client.get("/strategy/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(POSTS, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201, response.content
    assert Post.objects.get().text == "From the browser"


# --- four eyes ------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_four_eyes_through_the_api(team, api_for):
    post = draft(team)
    author, approver = api_for(team["author"]), api_for(team["approver"])
    assert approver.post(url(post, "approve"), {"version": 1}, format="json").status_code == 400  # a draft
    response = author.post(url(post, "submit"))
    assert response.status_code == 200 and response.json()["state"] == "in_review"

    refused = author.post(url(post, "approve"), {"version": 1}, format="json")
    assert refused.status_code == 403 and "four eyes" in refused.json()["detail"]
    assert fresh(post).state == Post.State.IN_REVIEW and not post.approvals.exists()

    stale = approver.post(url(post, "approve"), {"version": 5}, format="json")
    assert stale.status_code == 400 and "version" in stale.json()
    missing = approver.post(url(post, "approve"), {}, format="json")
    assert missing.status_code == 400 and "version" in missing.json()

    response = approver.post(url(post, "approve"), {"version": 1}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "approved"
    assert [(a["approver"]["username"], a["outdated"]) for a in body["approvals"]] == [("carl", False)]


@pytest.mark.django_db
def test_someone_without_the_approve_right_is_refused(team, api_for):
    post = in_review(team)
    response = api_for(team["specialist"]).post(url(post, "approve"), {"version": post.version}, format="json")
    assert response.status_code == 403 and "approve" in response.json()["detail"]
    assert fresh(post).state == Post.State.IN_REVIEW


@pytest.mark.django_db
def test_a_sensitive_post_needs_a_specialist_as_well(team, api_for):
    post = in_review(team, sensitive=True)
    approver = api_for(team["approver"])
    first = approver.post(url(post, "approve"), {"version": post.version}, format="json").json()
    assert first["state"] == "in_review" and first["is_sensitive"] is True
    assert any("specialist" in need for need in first["approvals_needed"])
    # A second approver with the right is not enough: the second approval is the specialist team's.
    second = api_for(team["publisher"]).post(url(post, "approve"), {"version": post.version}, format="json")
    assert second.status_code == 200 and second.json()["state"] == "in_review"
    third = api_for(team["specialist"]).post(url(post, "approve"), {"version": post.version}, format="json")
    assert third.status_code == 200 and third.json()["state"] == "approved"


@pytest.mark.django_db
def test_return_with_a_reason_and_the_review_thread(team, api_for):
    post = in_review(team)
    approver = api_for(team["approver"])
    no_reason = approver.post(url(post, "return"), {"reason": "  "}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    response = approver.post(url(post, "return"), {"reason": "Add the opening hours for Sunday."}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "draft"
    assert response.json()["review_reason"] == "Add the opening hours for Sunday."

    author = api_for(team["author"])
    assert author.post(url(post, "comments"), {"text": ""}, format="json").status_code == 400
    added = author.post(url(post, "comments"), {"text": "Done, <b>see</b> the new text."}, format="json")
    assert added.status_code == 201 and added.json()["author"]["username"] == "marta"
    thread = author.get(url(post, "comments")).json()
    assert [(c["kind"], c["text"]) for c in thread] == [
        ("returned", "Add the opening hours for Sunday."), ("comment", "Done, <b>see</b> the new text.")]
    assert api_for(team["outsider"]).post(url(post, "comments"), {"text": "hi"}, format="json").status_code == 404


@pytest.mark.django_db
def test_cancel_publish_now_and_retry_check_rights_and_state(team, api_for):
    post = approved(team)
    assert api_for(team["author"]).post(url(post, "publish-now")).status_code == 403
    assert api_for(team["publisher"]).post(url(post, "retry")).status_code == 400  # not failed
    assert fresh(post).state == Post.State.APPROVED
    assert api_for(team["specialist"]).post(url(post, "cancel"), {}, format="json").status_code == 403
    response = api_for(team["author"]).post(url(post, "cancel"), {"reason": "Old news"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    again = api_for(team["author"]).post(url(post, "cancel"), {}, format="json")
    assert again.status_code == 400 and "state" in again.json()


# --- field-level rules on PATCH -----------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize(("change", "field"), [
    ({"state": "published"}, "state"),
    ({"approvals": [{"approver": 1, "version": 1}]}, "approvals"),
    ({"targets": [{"platform_id": "109999", "url": "https://example.social/@acme/109999"}]}, "targets"),
    ({"platform_id": "109999"}, "platform_id"),
    ({"text": "Sneaky new text", "state": "approved"}, "state"),
    ({"author": 1}, "author"),
    ({"published_at": "2026-11-30T10:00:00Z"}, "published_at"),
    ({"sensitive_categories": []}, "sensitive_categories"),
])
def test_a_drafter_cannot_patch_what_the_portal_records(team, api_for, change, field):
    post = in_review(team)
    before = (post.text, post.state, post.version, list(post.targets.values_list("platform_id", "url")))
    response = api_for(team["author"]).patch(url(post), change, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json() and "Read-only" in str(response.json()[field])
    post = fresh(post)
    assert (post.text, post.state, post.version, list(post.targets.values_list("platform_id", "url"))) == before


@pytest.mark.django_db
def test_a_change_of_text_after_approval_sends_the_post_back_to_review(team, api_for):
    post = approved(team, scheduled_at=LATER)
    assert post.state == Post.State.SCHEDULED
    author = api_for(team["author"])
    stale = author.patch(url(post), {"text": "Changed", "version": post.version + 1}, format="json")
    assert stale.status_code == 400 and "version" in stale.json()
    assert fresh(post).text == "Our winter opening hours are online."

    response = author.patch(url(post), {"text": "Our winter opening hours, now with Sundays.",
                                        "version": post.version}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "in_review" and body["version"] == post.version + 1
    assert body["text"] == "Our winter opening hours, now with Sundays."
    assert [a["outdated"] for a in body["approvals"]] == [True]


@pytest.mark.django_db
def test_a_new_time_alone_keeps_the_approvals_and_rechecks_rights(team, api_for):
    post = approved(team)
    new_time = (LATER + timedelta(hours=3)).isoformat()
    assert api_for(team["specialist"]).patch(url(post), {"scheduled_at": new_time},
                                             format="json").status_code == 403
    response = api_for(team["approver"]).patch(url(post), {"scheduled_at": new_time}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "scheduled" and response.json()["version"] == post.version
    moved = api_for(team["approver"]).post(url(post, "reschedule"), {"scheduled_at": None}, format="json")
    assert moved.status_code == 200 and moved.json()["state"] == "approved"
    past = api_for(team["approver"]).post(url(post, "reschedule"), {"scheduled_at": "2020-01-01T00:00:00Z"},
                                          format="json")
    assert past.status_code == 400 and "scheduled_at" in past.json()


@pytest.mark.django_db
def test_labels_and_links_are_patched_and_bad_ones_name_the_field(team, api_for):
    post = draft(team)
    author = api_for(team["author"])
    response = author.patch(url(post), {"labels": ["winter", "hours"], "sensitive": True}, format="json")
    assert response.status_code == 200 and response.json()["labels"] == ["winter", "hours"]
    assert response.json()["sensitive"] is True
    too_many = author.patch(url(post), {"labels": [f"l{n}" for n in range(11)]}, format="json")
    assert too_many.status_code == 400 and "labels" in too_many.json()
    assert author.patch(url(post), {"campaign": 999999}, format="json").json().keys() == {"campaign"}
    assert fresh(post).labels == ["winter", "hours"]


# --- filters and the calendar -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_list_filters_and_a_bad_filter_value_names_the_parameter(team, api_for):
    on_mastodon = draft(team, accounts=[team["mastodon"]], scheduled_at=LATER)
    on_x = in_review(team, accounts=[team["x"]])
    api = api_for(team["approver"])

    def ids(**params):
        response = api.get(POSTS, params)
        assert response.status_code == 200, response.json()
        return [p["id"] for p in response.json()["results"]]

    assert ids(account=team["mastodon"].pk) == [on_mastodon.pk]
    assert ids(state="in_review") == [on_x.pk]
    assert ids(author=team["author"].pk) == [on_x.pk, on_mastodon.pk]
    assert ids(scheduled_from=(LATER - timedelta(hours=1)).isoformat()) == [on_mastodon.pk]
    assert ids(scheduled_to=(LATER - timedelta(hours=1)).isoformat()) == []
    for name, value in (("state", "bogus"), ("account", "abc"), ("scheduled_from", "yesterday"),
                        ("scheduled_to", "2026-12-01T10:00:00"), ("campaign", "1" * 30)):
        response = api.get(POSTS, {name: value})
        assert response.status_code == 400 and name in response.json(), (name, response.json())
    # A filter narrows lists only: a stray one on a detail URL does not hide the post.
    assert api.get(url(on_x), {"state": "draft"}).status_code == 200


@pytest.mark.django_db
def test_the_calendar_range_shows_compact_posts_and_refuses_bad_ranges(team, api_for):
    start = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    inside = draft(team, text="Inside the range " + "x" * 100, scheduled_at=start + timedelta(hours=2))
    draft(team, text="After the range", scheduled_at=start + timedelta(days=5))
    draft(team, text="No time yet")
    hidden = svc.post_create(actor=team["publisher"], text="Not for the outsider", accounts=[team["x"]],
                             scheduled_at=start + timedelta(hours=3))
    api = api_for(team["author"])
    response = api.get(f"{POSTS}calendar/", {"start": start.isoformat(), "end": (start + timedelta(days=2))
                                             .isoformat()})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [p["id"] for p in body] == [inside.pk, hidden.pk]  # the author may draft on X: they see its posts
    chip = body[0]
    assert set(chip) == {"id", "preview", "state", "scheduled_at", "time_zone", "accounts", "author"}
    assert chip["preview"].startswith("Inside the range") and len(chip["preview"]) <= 81
    assert {a["platform"] for a in chip["accounts"]} == {"mastodon", "x"} and chip["author"]["username"] == "marta"
    assert api_for(team["outsider"]).get(f"{POSTS}calendar/", {"start": start.isoformat(), "end": (
        start + timedelta(days=2)).isoformat()}).json() == []
    # Dates are whole days in the caller's time zone.
    day = start.date()
    by_dates = api.get(f"{POSTS}calendar/", {"start": day.isoformat(), "end": (day + timedelta(days=10))
                                             .isoformat()}).json()
    assert len(by_dates) == 3
    assert [p["id"] for p in api.get(f"{POSTS}calendar/", {"start": day.isoformat(), "end": (
        day + timedelta(days=10)).isoformat(), "state": "draft", "account": team["mastodon"].pk}).json()] == [
        inside.pk, by_dates[2]["id"]]

    for params, field in (
        ({"end": "2026-12-31"}, "start"),
        ({"start": "2026-12-01"}, "end"),
        ({"start": "soon", "end": "2026-12-31"}, "start"),
        ({"start": "2026-12-01", "end": "2026-11-30"}, "end"),
        ({"start": "2026-12-01", "end": "2026-12-01"}, "end"),
        ({"start": "2026-12-01", "end": "2027-02-02"}, "end"),  # 63 days
        ({"start": "2026-12-01T00:00:00", "end": "2026-12-31"}, "start"),  # an instant needs its offset
        ({"start": "2026-02-30", "end": "2026-03-31"}, "start"),
        ({"start": "2026-12-01", "end": "9999-12-31T00:00:00+00:00"}, "end"),
    ):
        refused = api.get(f"{POSTS}calendar/", params)
        assert refused.status_code == 400 and field in refused.json(), (params, refused.json())
    assert api.get(f"{POSTS}calendar/", {"start": "2026-12-01", "end": "2027-02-01"}).status_code == 200  # 62


@pytest.mark.django_db
def test_the_list_runs_a_fixed_number_of_queries(team, api_for, django_assert_num_queries):
    def posts(n):
        for i in range(n):
            post = approved(team, text=f"Post number {i}", scheduled_at=LATER + timedelta(minutes=i))
            svc.post_comment(actor=team["approver"], post=post, text="Fine")

    posts(3)
    api = api_for(team["author"])
    api.get(POSTS)  # the caller's roles are cached on the (forced, shared) user object by the first request
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(POSTS).json()["results"]) == 3
    posts(17)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(api.get(POSTS).json()["results"]) == 20


# --- the publish-by-hand queue ----------------------------------------------------------------------------------

@pytest.fixture
def by_hand(team):
    """A LinkedIn account (no connector posts there) and a post for it whose time has come."""
    from tests.security.factories import SocialAccountFactory

    linkedin = SocialAccountFactory(platform="linkedin", handle="acme-company", display_name="Acme LinkedIn",
                                    sandbox=False)
    grant(team["admin"], linkedin, "draft", team["author"])
    grant(team["admin"], linkedin, "approve", team["approver"])
    grant(team["admin"], linkedin, "publish", team["publisher"])
    post = svc.post_create(actor=team["author"], text="We are hiring.", accounts=[linkedin], scheduled_at=LATER,
                           media=[(png(), "Our office")])
    svc.post_submit(actor=team["author"], post=post)
    svc.post_approve(actor=team["approver"], post=post)
    assert publishing.start_due(now=LATER + timedelta(minutes=1)) == 1
    target = PostTarget.objects.get(post=post)
    assert target.state == PostTarget.State.BY_HAND
    return {"account": linkedin, "post": post, "target": target}


@pytest.mark.django_db
def test_the_by_hand_queue_and_marking_a_post_published(team, by_hand, api_for):
    target, post = by_hand["target"], by_hand["post"]
    queue = api_for(team["publisher"]).get(f"{POSTS}by-hand/")
    assert queue.status_code == 200
    [item] = queue.json()
    assert item["id"] == target.pk and item["account"]["platform"] == "linkedin"
    assert item["post"]["text"] == "We are hiring." and item["post"]["media"][0]["alt_text"] == "Our office"
    assert api_for(team["author"]).get(f"{POSTS}by-hand/").json() == []  # no publish right
    assert api_for(team["outsider"]).get(f"{POSTS}by-hand/").json() == []

    mark = f"{POSTS}by-hand/{target.pk}/published/"
    good = {"url": "https://www.linkedin.com/feed/update/urn:li:activity:1/"}
    assert api_for(team["outsider"]).post(mark, good, format="json").status_code == 404
    assert api_for(team["author"]).post(mark, good, format="json").status_code == 403
    bad = api_for(team["publisher"]).post(mark, {"url": "javascript:alert(1)"}, format="json")
    assert bad.status_code == 400 and "url" in bad.json()
    assert PostTarget.objects.get(pk=target.pk).state == PostTarget.State.BY_HAND

    response = api_for(team["publisher"]).post(mark, good, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "published"
    target = PostTarget.objects.get(pk=target.pk)
    assert target.url == good["url"] and target.published_by_hand == team["publisher"]
    assert fresh(post).state == Post.State.PUBLISHED
    again = api_for(team["publisher"]).post(mark, good, format="json")
    assert again.status_code == 400 and "state" in again.json()
    assert api_for(team["publisher"]).get(f"{POSTS}by-hand/").json() == []
    assert api_for(team["publisher"]).post(f"{POSTS}by-hand/999999/published/", good,
                                           format="json").status_code == 404


# --- images ------------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_image_is_uploaded_with_its_alt_text(team, api_for):
    post = draft(team)
    response = api_for(team["author"]).post(url(post, "media"), {"file": png(), "alt_text": "A red square"},
                                            format="multipart")
    assert response.status_code == 201, response.json()
    [item] = response.json()["media"]
    assert item["alt_text"] == "A red square" and item["content_type"] == "image/png"
    assert (item["width"], item["height"]) == (40, 30)
    # The image is served by the portal to those who may see the post, never from a public media address.
    assert item["url"] == f"/strategy/posts/{post.pk}/media/{item['id']}/"
    from django.test import Client

    from tests.conftest import sign_in

    assert sign_in(Client(), team["approver"]).get(item["url"]).status_code == 200
    assert sign_in(Client(), team["outsider"]).get(item["url"]).status_code == 404
    removed = api_for(team["author"]).patch(url(post), {"remove_media": [item["id"]]}, format="json")
    assert removed.status_code == 200 and removed.json()["media"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(("upload", "alt", "field"), [
    (lambda: SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                content_type="image/svg+xml"), "Logo", "file"),
    (lambda: png("photo.jpg", "image/jpeg"), "A photo", "file"),  # a PNG that says it is a JPEG
    (lambda: SimpleUploadedFile("notes.png", b"just text", content_type="image/png"), "Notes", "file"),
    (lambda: SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + bytes(9 * 1024 * 1024), content_type="image/jpeg"),
     "Too big", "file"),
    (lambda: png(), "  ", "alt_text"),
    (lambda: None, "No file", "file"),
])
def test_a_bad_upload_is_a_400_naming_the_field_and_nothing_is_stored(team, api_for, upload, alt, field):
    post = draft(team)
    body = {"alt_text": alt}
    if upload() is not None:
        body["file"] = upload()
    response = api_for(team["author"]).post(url(post, "media"), body, format="multipart")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert PostMedia.objects.count() == 0 and fresh(post).version == post.version


@pytest.mark.django_db
def test_only_drafters_upload_images(team, api_for):
    post = draft(team)
    body = {"file": png(), "alt_text": "A red square"}
    assert api_for(team["outsider"]).post(url(post, "media"), body, format="multipart").status_code == 404
    assert api_for(team["executive"]).post(url(post, "media"), {"file": png(), "alt_text": "x"},
                                           format="multipart").status_code == 403
    assert PostMedia.objects.count() == 0


@pytest.mark.django_db
def test_a_time_in_the_year_9999_is_a_400_naming_the_field(team, api_for):
    api = api_for(team["author"])
    response = create(api, team, scheduled_at="9999-12-31T23:00:00-05:00")
    assert response.status_code == 400 and "scheduled_at" in response.json(), response.content
    post = draft(team)
    for call in (lambda: api.patch(url(post), {"scheduled_at": "9999-12-31T23:00:00-05:00"}, format="json"),
                 lambda: api.post(url(post, "reschedule"), {"scheduled_at": "9999-12-31T23:00:00-05:00"},
                                  format="json")):
        response = call()
        assert response.status_code == 400 and "scheduled_at" in response.json(), response.content
    assert fresh(post).scheduled_at is None
