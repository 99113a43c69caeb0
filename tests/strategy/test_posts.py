"""Posts through the one service every page and the API use: many draft, few publish, four eyes, a sensitive
post's second approval, a change after approval sends it back to review, the state machine, scheduling in the
author's time zone, and bad input refused with nothing half-saved."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from security.models import AuditEvent
from strategy.models import Post, PostMedia
from strategy.services import posts as svc
from tests.strategy.conftest import grant

LATER = timezone.now() + timedelta(days=2)


def png(name="photo.png", size=(40, 30), kind="PNG", content_type=None) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type or f"image/{kind.lower()}")


def draft(team, text="Our winter opening hours are online.", **kwargs) -> Post:
    kwargs.setdefault("accounts", team["accounts"])
    return svc.post_create(actor=team["author"], text=text, **kwargs)


def in_review(team, **kwargs) -> Post:
    post = draft(team, **kwargs)
    return svc.post_submit(actor=team["author"], post=post)


def fresh(post) -> Post:
    return Post.objects.get(pk=post.pk)


# --- drafting --------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_anyone_with_draft_on_every_target_drafts_and_the_post_is_on_record(team):
    post = draft(team, scheduled_at=LATER, labels=["winter", " winter ", "hours"])
    assert post.state == Post.State.DRAFT and post.author == team["author"]
    assert set(post.accounts.all()) == set(team["accounts"])
    assert post.labels == ["winter", "hours"]
    assert AuditEvent.objects.filter(action="strategy.post_created", target_id=str(post.pk)).exists()


@pytest.mark.django_db
def test_a_target_the_author_may_not_draft_on_is_refused_and_nothing_is_saved(team, make_member):
    from tests.security.factories import SocialAccountFactory

    closed = SocialAccountFactory(sandbox=True)
    with pytest.raises(PermissionDenied, match=str(closed)):
        draft(team, accounts=[*team["accounts"], closed])
    with pytest.raises(PermissionDenied):
        svc.post_create(actor=team["outsider"], text="Hello", accounts=team["accounts"])
    assert Post.objects.count() == 0


@pytest.mark.django_db
def test_bad_input_names_the_field(team):
    cases = [
        ({"text": "   "}, "text"),
        ({"accounts": []}, "accounts"),
        ({"scheduled_at": timezone.now() - timedelta(minutes=1)}, "scheduled_at"),
        ({"scheduled_at": datetime(2030, 1, 1, 9)}, "scheduled_at"),  # no time zone
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"labels": ["x" * 41]}, "labels"),
    ]
    for kwargs, field in cases:
        kwargs.setdefault("text", "Fine text")
        with pytest.raises(ValidationError) as refused:
            svc.post_create(actor=team["author"], accounts=kwargs.pop("accounts", team["accounts"]), **kwargs)
        assert field in refused.value.message_dict, (kwargs, refused.value.message_dict)
    assert Post.objects.count() == 0


@pytest.mark.django_db
def test_text_over_every_targets_limit_is_refused_over_one_is_a_draft_that_cannot_be_submitted(team):
    with pytest.raises(ValidationError) as refused:
        draft(team, text="a" * 501)  # over X's 280 and Mastodon's 500
    assert "text" in refused.value.message_dict and len(refused.value.message_dict["text"]) == 2
    post = draft(team, text="a" * 300)  # over X only: kept as a draft to shorten
    with pytest.raises(ValidationError) as refused:
        svc.post_submit(actor=team["author"], post=post)
    assert "X (Twitter) @acme takes" in str(refused.value.message_dict["text"]) and "Mastodon" not in str(
        refused.value.message_dict["text"])
    assert fresh(post).state == Post.State.DRAFT


@pytest.mark.django_db
def test_the_inbox_sensitive_rules_mark_a_post_sensitive(team):
    post = draft(team, text="We are aware of the lawsuit and will comment soon.")
    assert post.is_sensitive and post.sensitive_categories
    assert not draft(team, text="Happy Monday!").is_sensitive


# --- four eyes -----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_author_cannot_approve_their_own_post_even_with_the_approve_right(team):
    post = svc.post_create(actor=team["approver"], text="Approver's own post", accounts=team["accounts"])
    svc.post_submit(actor=team["approver"], post=post)
    with pytest.raises(PermissionDenied, match="four eyes"):
        svc.post_approve(actor=team["approver"], post=post)
    assert fresh(post).state == Post.State.IN_REVIEW and not post.approvals.exists()


@pytest.mark.django_db
def test_without_the_approve_right_on_every_target_approval_is_refused(team, make_member):
    post = in_review(team)
    half = make_member(username="half")
    grant(team["admin"], team["mastodon"], "approve", half)
    with pytest.raises(PermissionDenied, match=r"X \(Twitter\) @acme\.$"):
        svc.post_approve(actor=half, post=post)
    with pytest.raises(PermissionDenied):
        svc.post_approve(actor=team["author"], post=post)
    assert fresh(post).state == Post.State.IN_REVIEW


@pytest.mark.django_db
def test_an_approval_schedules_a_post_with_a_time_and_notifies_the_author(team):
    post = in_review(team, scheduled_at=LATER)
    svc.post_approve(actor=team["approver"], post=post)
    post = fresh(post)
    assert post.state == Post.State.SCHEDULED and post.approved_at is not None
    assert team["author"].notifications.filter(kind="post.approved").exists()
    unscheduled = in_review(team)
    svc.post_approve(actor=team["approver"], post=unscheduled)
    assert fresh(unscheduled).state == Post.State.APPROVED


@pytest.mark.django_db
def test_a_sensitive_post_needs_a_second_approval_from_a_specialist_or_an_executive(team):
    post = in_review(team, text="A statement on the data breach reported today.", scheduled_at=LATER)
    assert fresh(post).is_sensitive
    svc.post_approve(actor=team["approver"], post=post)
    assert fresh(post).state == Post.State.IN_REVIEW
    assert any("specialist" in n for n in svc.approvals_needed(fresh(post)))
    # Another ordinary approver does not make it: the second approval comes from the specialist team.
    svc.post_approve(actor=team["publisher"], post=post)
    assert fresh(post).state == Post.State.IN_REVIEW
    svc.post_approve(actor=team["specialist"], post=post)
    assert fresh(post).state == Post.State.SCHEDULED


@pytest.mark.django_db
def test_a_specialist_alone_does_not_approve_a_sensitive_post(team):
    post = in_review(team, text="Our comment on the lawsuit", sensitive=True)
    svc.post_approve(actor=team["executive"], post=post)  # an executive without the approve right: second approval
    assert fresh(post).state == Post.State.IN_REVIEW
    assert svc.approvals_needed(fresh(post)) == [
        "an approval from someone with the approve right on every account"]
    with pytest.raises(ValidationError, match="already approved"):
        svc.post_approve(actor=team["executive"], post=post)
    svc.post_approve(actor=team["approver"], post=post)
    assert fresh(post).state == Post.State.APPROVED


@pytest.mark.django_db
def test_a_specialist_may_not_approve_an_ordinary_post_without_the_right(team):
    post = in_review(team)
    with pytest.raises(PermissionDenied):
        svc.post_approve(actor=team["specialist"], post=post)


# --- changes after approval ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_change_to_an_approved_post_sends_it_back_to_review_with_its_approvals_outdated(team):
    post = in_review(team, scheduled_at=LATER)
    svc.post_approve(actor=team["approver"], post=post)
    assert fresh(post).state == Post.State.SCHEDULED
    svc.post_update(actor=team["author"], post=post, text="Our winter opening hours changed again.")
    post = fresh(post)
    assert post.state == Post.State.IN_REVIEW and post.version == 2
    approval = post.approvals.get()
    assert approval.version == 1  # outdated: approved version 1
    assert "outdated" in post.review_reason
    # The same approver may approve the new version.
    svc.post_approve(actor=team["approver"], post=post)
    assert fresh(post).state == Post.State.SCHEDULED


@pytest.mark.django_db
def test_moving_an_approved_post_keeps_its_approvals_and_rechecks_rights(team):
    post = in_review(team, scheduled_at=LATER)
    svc.post_approve(actor=team["approver"], post=post)
    moved = svc.post_reschedule(actor=team["approver"], post=post, scheduled_at=LATER + timedelta(hours=3))
    assert moved.state == Post.State.SCHEDULED and moved.version == 1
    assert fresh(post).scheduled_at == LATER + timedelta(hours=3)
    with pytest.raises(PermissionDenied):
        svc.post_reschedule(actor=team["specialist"], post=post, scheduled_at=LATER + timedelta(hours=5))
    with pytest.raises(ValidationError) as refused:
        svc.post_reschedule(actor=team["approver"], post=post, scheduled_at=timezone.now() - timedelta(hours=1))
    assert "scheduled_at" in refused.value.message_dict
    assert fresh(post).scheduled_at == LATER + timedelta(hours=3)


@pytest.mark.django_db
def test_a_stale_version_is_refused_instead_of_overwriting_someone_elses_change(team):
    post = draft(team)
    svc.post_update(actor=team["author"], post=post, text="First edit", expected_version=1)
    svc.post_submit(actor=team["author"], post=post)
    svc.post_update(actor=team["approver"], post=post, text="Reviewer's tweak")  # version 2
    with pytest.raises(ValidationError) as refused:
        svc.post_update(actor=team["author"], post=post, text="Author's late edit", expected_version=1)
    assert "version" in refused.value.message_dict
    with pytest.raises(ValidationError):
        svc.post_approve(actor=team["publisher"], post=post, version=1)
    assert fresh(post).text == "Reviewer's tweak"


# --- the state machine -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_return_cancel_and_the_states_that_refuse_a_transition(team):
    post = in_review(team)
    with pytest.raises(ValidationError) as refused:
        svc.post_return(actor=team["approver"], post=post, reason="  ")
    assert "reason" in refused.value.message_dict
    svc.post_return(actor=team["approver"], post=post, reason="Add the new address, please.")
    post = fresh(post)
    assert post.state == Post.State.DRAFT and post.review_reason == "Add the new address, please."
    assert post.comments.get().kind == "returned"
    assert team["author"].notifications.filter(kind="post.returned").exists()
    with pytest.raises(ValidationError):
        svc.post_approve(actor=team["approver"], post=post)  # a draft is not in review
    svc.post_cancel(actor=team["author"], post=post, reason="Not needed")
    post = fresh(post)
    assert post.state == Post.State.CANCELLED
    for call in (lambda: svc.post_submit(actor=team["author"], post=post),
                 lambda: svc.post_update(actor=team["author"], post=post, text="again"),
                 lambda: svc.post_cancel(actor=team["author"], post=post)):
        with pytest.raises(ValidationError):
            call()
    actions = list(AuditEvent.objects.filter(target_id=str(post.pk), action__startswith="strategy.post_")
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["strategy.post_created", "strategy.post_submitted", "strategy.post_returned",
                       "strategy.post_cancelled"]


@pytest.mark.django_db
def test_only_the_author_or_an_approver_cancels(team):
    post = in_review(team)
    with pytest.raises(PermissionDenied):
        svc.post_cancel(actor=team["specialist"], post=post)
    svc.post_cancel(actor=team["approver"], post=post)
    assert fresh(post).state == Post.State.CANCELLED


# --- publishing now --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_publish_now_needs_the_publish_right_and_an_approval(team, django_capture_on_commit_callbacks):
    post = in_review(team)
    with pytest.raises(PermissionDenied):
        svc.post_publish_now(actor=team["approver"], post=post)
    with pytest.raises(ValidationError, match="four eyes"):
        svc.post_publish_now(actor=team["publisher"], post=post)
    svc.post_approve(actor=team["approver"], post=post)
    with django_capture_on_commit_callbacks(execute=True):
        svc.post_publish_now(actor=team["publisher"], post=post)
    post = fresh(post)
    assert post.state == Post.State.PUBLISHED  # the test settings run the publish task at once
    assert {t.state for t in post.targets.all()} == {"published"}


@pytest.mark.django_db
def test_a_grant_that_allows_own_posts_lets_its_holder_publish_their_own_post(team, make_member,
                                                                             django_capture_on_commit_callbacks):
    solo = make_member(username="solo")
    for account in team["accounts"]:
        grant(team["admin"], account, "draft", solo)
    grant(team["admin"], team["mastodon"], "publish", solo, allows_own_posts=True)
    post = svc.post_create(actor=solo, text="Quick update", accounts=[team["mastodon"]])
    with django_capture_on_commit_callbacks(execute=True):
        svc.post_publish_now(actor=solo, post=post)
    assert fresh(post).state == Post.State.PUBLISHED
    event = AuditEvent.objects.get(action="strategy.post_publish_requested", target_id=str(post.pk))
    assert event.after["without_second_approval"] is True
    # Not for someone else's post, and not on an account whose grant does not allow it.
    other = svc.post_create(actor=team["author"], text="Someone else's", accounts=[team["mastodon"]])
    with pytest.raises(ValidationError):
        svc.post_publish_now(actor=solo, post=other)
    # Never a sensitive post: that one waits for the specialist team whoever publishes it.
    statement = svc.post_create(actor=solo, text="Our statement on the lawsuit", accounts=[team["mastodon"]])
    with pytest.raises(ValidationError, match="specialist"):
        svc.post_publish_now(actor=solo, post=statement)
    assert fresh(statement).state == Post.State.DRAFT


@pytest.mark.django_db
def test_allows_own_posts_is_only_for_publish_grants(team, make_member):
    someone = make_member(username="someone")
    with pytest.raises(ValidationError) as refused:
        grant(team["admin"], team["mastodon"], "draft", someone, allows_own_posts=True)
    assert "allows_own_posts" in refused.value.message_dict


# --- time zones ----------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_time_chosen_in_the_authors_zone_keeps_its_wall_clock_across_daylight_saving(team):
    madrid = ZoneInfo("Europe/Madrid")
    # 09:00 in Madrid on the Monday after the clocks go back (31 Oct 2027) is 08:00 UTC; before it, 07:00 UTC.
    before = datetime(2027, 10, 29, 9, 0, tzinfo=madrid)
    after = datetime(2027, 11, 1, 9, 0, tzinfo=madrid)
    post = draft(team, scheduled_at=before, time_zone="Europe/Madrid")
    assert fresh(post).scheduled_at == datetime(2027, 10, 29, 7, 0, tzinfo=ZoneInfo("UTC"))
    svc.post_reschedule(actor=team["author"], post=post, scheduled_at=after)
    post = fresh(post)
    assert post.scheduled_at == datetime(2027, 11, 1, 8, 0, tzinfo=ZoneInfo("UTC"))
    assert post.scheduled_at.astimezone(ZoneInfo(post.time_zone)).hour == 9


# --- media ---------------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_image_with_alt_text_is_stored_through_the_storage_api(team):
    post = draft(team, media=[(png(), "A red square, our new logo colour")])
    item = post.media.get()
    assert item.content_type == "image/png" and (item.width, item.height) == (40, 30)
    assert item.file.name.startswith("posts/") and "photo" not in item.file.name
    with item.file.open("rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.django_db
@pytest.mark.parametrize(("upload", "alt", "field", "says"), [
    (lambda: SimpleUploadedFile("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>",
                                content_type="image/svg+xml"), "Logo", "media", "SVG"),
    (lambda: png("photo.jpg"), "Photo", "media", "says it is"),  # a PNG that calls itself a JPEG
    (lambda: png(content_type="image/gif"), "Photo", "media", "says it is"),
    (lambda: SimpleUploadedFile("notes.png", b"just text, not an image", content_type="image/png"), "x", "media",
     "not a JPEG"),
    (lambda: png(), "   ", "alt_text", "alt text"),
    (lambda: SimpleUploadedFile("empty.png", b"", content_type="image/png"), "x", "media", "empty"),
])
def test_a_bad_image_is_refused_with_the_field_and_nothing_is_half_saved(team, upload, alt, field, says):
    with pytest.raises(ValidationError) as refused:
        draft(team, media=[(upload(), alt)])
    assert field in refused.value.message_dict and says in str(refused.value.message_dict[field])
    assert Post.objects.count() == 0 and PostMedia.objects.count() == 0


@pytest.mark.django_db
def test_a_50_mb_upload_is_refused_by_its_size_before_it_is_read(team):
    huge = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + bytes(50 * 1024 * 1024), content_type="image/jpeg")
    with pytest.raises(ValidationError) as refused:
        draft(team, media=[(huge, "Big")])
    assert "at most 8 MB" in str(refused.value.message_dict["media"])
    assert Post.objects.count() == 0


@pytest.mark.django_db
def test_a_change_of_media_after_approval_sends_the_post_back_to_review(team):
    post = in_review(team, media=[(png(), "Logo")])
    svc.post_approve(actor=team["approver"], post=post)
    svc.post_update(actor=team["author"], post=post, remove_media=[post.media.get().pk])
    assert fresh(post).state == Post.State.IN_REVIEW and not fresh(post).media.exists()


@pytest.mark.django_db
def test_the_channel_page_and_the_api_show_a_grant_that_allows_own_posts(team, make_member, client_for, api_for):
    from django.urls import reverse

    solo = make_member(username="solo2")
    granted = grant(team["admin"], team["x"], "publish", solo, allows_own_posts=True)
    listed = api_for(team["admin"]).get(f"/api/grants/{granted.pk}/")
    assert listed.status_code == 200 and listed.json()["allows_own_posts"] is True
    page = client_for(team["admin"]).get(reverse("security:account-detail", args=[team["x"].pk]))
    assert page.status_code == 200 and b'data-testid="allows-own-posts"' in page.content
    other = client_for(team["admin"]).get(reverse("security:account-detail", args=[team["mastodon"].pk]))
    assert b'data-testid="allows-own-posts"' not in other.content


@pytest.mark.django_db
def test_visibility_is_checked_and_a_change_after_approval_is_a_change_of_content(team):
    with pytest.raises(ValidationError) as refused:
        draft(team, visibility="secret")
    assert "visibility" in refused.value.message_dict
    post = in_review(team, visibility="unlisted")
    assert fresh(post).visibility == "unlisted"
    svc.post_approve(actor=team["approver"], post=post)
    svc.post_update(actor=team["author"], post=post, visibility="public")
    assert fresh(post).state == Post.State.IN_REVIEW and fresh(post).visibility == "public"


@pytest.mark.django_db
def test_two_people_editing_the_same_draft_do_not_overwrite_each_other(team):
    post = draft(team)
    svc.post_update(actor=team["approver"], post=post, text="Carl's wording", expected_version=1)
    with pytest.raises(ValidationError) as refused:
        svc.post_update(actor=team["author"], post=post, text="Marta's wording", expected_version=1)
    assert "version" in refused.value.message_dict
    assert fresh(post).text == "Carl's wording" and fresh(post).state == Post.State.DRAFT
    # A new time alone is not a new version: the calendar's moves do not make open editors stale.
    svc.post_reschedule(actor=team["author"], post=post, scheduled_at=LATER)
    assert fresh(post).version == 2


# --- found in review ---------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_someone_who_changed_the_text_never_approves_it(team):
    post = in_review(team)
    svc.post_update(actor=team["approver"], post=post, text="Carl's own words now")
    with pytest.raises(PermissionDenied, match="four eyes"):
        svc.post_approve(actor=team["approver"], post=post)
    assert not svc.can_approve(team["approver"], fresh(post))
    svc.post_approve(actor=team["publisher"], post=post)  # someone who wrote none of it
    assert fresh(post).state == Post.State.APPROVED


@pytest.mark.django_db
def test_only_the_author_or_the_specialist_team_takes_the_sensitive_mark_off(team):
    post = in_review(team, sensitive=True)
    with pytest.raises(PermissionDenied, match="sensitive mark"):
        svc.post_update(actor=team["approver"], post=post, sensitive=False)
    assert fresh(post).marked_sensitive
    svc.post_update(actor=team["specialist"], post=post, sensitive=False)
    assert not fresh(post).marked_sensitive


@pytest.mark.django_db
def test_a_colleague_who_did_not_write_a_draft_does_not_submit_it(team):
    post = draft(team)
    with pytest.raises(PermissionDenied):
        svc.post_submit(actor=team["approver"], post=post)
    assert fresh(post).state == Post.State.DRAFT


@pytest.mark.django_db
def test_nothing_too_long_for_a_target_goes_to_review_or_is_approved(team):
    post = in_review(team)
    with pytest.raises(ValidationError) as refused:
        svc.post_update(actor=team["author"], post=post, text="a" * 300)  # over X's 280 only
    assert "X (Twitter) @acme" in str(refused.value.message_dict["text"])
    assert fresh(post).text != "a" * 300


@pytest.mark.django_db
def test_a_time_more_than_two_years_ahead_is_refused(team):
    with pytest.raises(ValidationError) as refused:
        draft(team, scheduled_at=datetime(9999, 12, 31, 23, 0, tzinfo=ZoneInfo("America/New_York")))
    assert "two years" in str(refused.value.message_dict["scheduled_at"])


@pytest.mark.django_db
def test_someone_with_approve_only_moves_an_approved_post(team, make_member):
    mover = make_member(username="mover")
    for account in team["accounts"]:
        grant(team["admin"], account, "approve", mover)
    post = in_review(team, scheduled_at=LATER)
    svc.post_approve(actor=team["approver"], post=post)
    svc.post_reschedule(actor=mover, post=post, scheduled_at=LATER + timedelta(hours=2))
    assert fresh(post).scheduled_at == LATER + timedelta(hours=2) and fresh(post).state == Post.State.SCHEDULED


@pytest.mark.django_db
def test_a_move_made_on_an_older_version_is_refused(team):
    post = draft(team, scheduled_at=LATER)
    svc.post_update(actor=team["author"], post=post, text="Second wording")  # version 2
    with pytest.raises(ValidationError) as refused:
        svc.post_reschedule(actor=team["author"], post=post, scheduled_at=LATER + timedelta(hours=1),
                            expected_version=1)
    assert "version" in refused.value.message_dict and fresh(post).scheduled_at == LATER
